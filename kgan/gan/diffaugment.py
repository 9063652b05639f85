"""DiffAugment (Zhao et al., 2020): differentiable augmentations applied to real and fake images.

Written with keras.ops and keras.random only, so one implementation serves TensorFlow and JAX.
Images are N x H x W x C in [-1, 1].
"""

import keras
from keras import ops

POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def parse_policy(text):
    """Parses "color,translation,cutout" (any subset, in any order) into a tuple."""
    policy = tuple(part.strip() for part in (text or "").split(",") if part.strip())
    unknown = sorted(set(policy) - set(POLICIES))
    if unknown:
        raise ValueError(f"unknown DiffAugment policy {', '.join(unknown)}: choose from {', '.join(POLICIES)}")
    return tuple(name for name in POLICIES if name in policy)


def diff_augment(images, policy, seed_generator):
    """Applies each augmentation of `policy` with fresh random draws per image.

    Args:
        images: N x H x W x C tensor.
        policy: tuple from parse_policy.
        seed_generator: a keras.random.SeedGenerator, advanced by each draw.
    """
    for name in policy:
        images = _AUGMENTATIONS[name](images, seed_generator)
    return images


def _uniform(images, shape, seed_generator, low=0.0, high=1.0):
    return keras.random.uniform(shape, low, high, dtype=images.dtype, seed=seed_generator)


def color(images, seed_generator):
    """Random brightness, saturation and contrast, as in the DiffAugment reference code."""
    batch = ops.shape(images)[0]
    shape = (batch, 1, 1, 1)
    images = images + (_uniform(images, shape, seed_generator) - 0.5)
    mean = ops.mean(images, axis=3, keepdims=True)
    images = (images - mean) * _uniform(images, shape, seed_generator, 0.0, 2.0) + mean
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return (images - mean) * _uniform(images, shape, seed_generator, 0.5, 1.5) + mean


def translation(images, seed_generator):
    """Shifts each image by up to 1/8 of its size, filling with zeros (built from shift matrices)."""
    batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    rows = _shift_matrices(images, batch, height, seed_generator)
    cols = _shift_matrices(images, batch, width, seed_generator)
    images = ops.einsum("bij,bjwc->biwc", rows, images)
    return ops.einsum("bkw,bhwc->bhkc", cols, images)


def _shift_matrices(images, batch, size, seed_generator):
    """Per-image size x size matrices S with S[i, j] = 1 where j = i - shift."""
    limit = int(size * TRANSLATION_RATIO + 0.5)
    shift = keras.random.randint((batch, 1, 1), -limit, limit + 1, seed=seed_generator)
    index = ops.arange(size, dtype="int32")
    target = ops.expand_dims(ops.expand_dims(index, 0), 2) - ops.cast(shift, "int32")
    return ops.cast(ops.equal(ops.reshape(index, (1, 1, size)), target), images.dtype)


def cutout(images, seed_generator):
    """Zeroes a square of half the image side per image, centred at a random place."""
    batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    cut_h, cut_w = int(height * CUTOUT_RATIO + 0.5), int(width * CUTOUT_RATIO + 0.5)
    top = keras.random.randint((batch, 1, 1, 1), 0, height + (1 - cut_h % 2), seed=seed_generator)
    left = keras.random.randint((batch, 1, 1, 1), 0, width + (1 - cut_w % 2), seed=seed_generator)
    rows = ops.reshape(ops.arange(height, dtype="int32"), (1, height, 1, 1))
    cols = ops.reshape(ops.arange(width, dtype="int32"), (1, 1, width, 1))
    inside_rows = ops.logical_and(rows >= top - cut_h // 2, rows < top - cut_h // 2 + cut_h)
    inside_cols = ops.logical_and(cols >= left - cut_w // 2, cols < left - cut_w // 2 + cut_w)
    keep = ops.logical_not(ops.logical_and(inside_rows, inside_cols))
    return images * ops.cast(keep, images.dtype)


_AUGMENTATIONS = {"color": color, "translation": translation, "cutout": cutout}
