"""Tiny DCGANs for the keras-side tests (imports keras: never import it from tests/runtime)."""

import keras

from kgan.gan import DCGAN
from kgan.networks import build_discriminator, build_generator


def to_numpy(values):
    return [keras.ops.convert_to_numpy(value).copy() for value in values]


def tiny_dcgan(num_classes, **kwargs):
    """A 16x16 grayscale DCGAN of width 4 and latent size 8 (seed 1); not compiled."""
    return DCGAN(
        build_generator(16, 1, latent_dim=8, num_classes=num_classes, width=4),
        build_discriminator(16, 1, num_classes=num_classes, width=4),
        latent_dim=8, num_classes=num_classes, seed=1, **kwargs,
    )  # fmt: skip
