"""Layer recipes shared by the generator and discriminator."""

import contextlib
import math

import keras

from kgan.config import base_resolution, check_channels, check_image_size

MAX_WIDTH_MULTIPLIER = 8
LEAKY_SLOPE = 0.2


def initializer():
    """DCGAN's N(0, 0.02) weight initialisation."""
    return keras.initializers.RandomNormal(stddev=0.02)


def resolutions(image_size, channels):
    """The square resolutions from the base (4 or 7) up to `image_size`, low to high."""
    check_image_size(image_size)
    check_channels(channels)
    base = base_resolution(image_size)
    return [base * 2**level for level in range(int(math.log2(image_size // base)) + 1)]


def feature_channels(image_size, resolution, width):
    """Feature maps at `resolution`: width at full size, doubling per halving, capped at 8x."""
    return width * min(image_size // resolution, MAX_WIDTH_MULTIPLIER)


def class_embedding(label, num_classes, dim, name, wrap=None):
    """A learned `dim`-d embedding of `label`; `wrap`, when given, wraps its layer (e.g. in spectral normalisation)."""
    layer = keras.layers.Embedding(num_classes, dim, embeddings_initializer=initializer(), name=name)
    return (wrap(layer) if wrap else layer)(label)


def label_input():
    """Class indices, one per sample."""
    return keras.Input(shape=(), dtype="int32", name="label")


@contextlib.contextmanager
def dtype_policy(name):
    """Builds layers under the global dtype policy `name`, then restores the caller's."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
