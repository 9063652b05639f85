"""Tiny DCGANs for the keras-side tests (imports keras: never import it from tests/runtime)."""

import keras
import numpy as np
from keras import ops

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


def gradients(loss_fn, values):
    """d loss_fn(values) / d values, with the backend's own autodiff (no kgan code)."""
    if keras.config.backend() == "jax":
        import jax

        return [np.asarray(g) for g in jax.grad(loss_fn)([ops.convert_to_tensor(v) for v in values])]
    import tensorflow as tf

    tensors = [tf.convert_to_tensor(value) for value in values]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        loss = loss_fn(tensors)
    return [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, tensors)]  # embeddings: IndexedSlices
