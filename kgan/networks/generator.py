"""DCGAN generator: project z, then upsample x2 per stage with batch norm and ReLU, tanh out."""

import keras

from kgan.config import CLASS_CONDITIONINGS, UPSAMPLING_MODES
from kgan.networks.batch_norm import FusedBatchNormalization
from kgan.networks.blocks import (
    class_embedding,
    feature_channels,
    initializer,
    label_input,
    resolutions,
)
from kgan.networks.upsampling import NearestUpsampleConv2D

LABEL_EMBEDDING_DIM = 50


def build_generator(
    image_size,
    channels,
    latent_dim=100,
    num_classes=0,
    width=64,
    upsampling="pixel_shuffle",
    class_conditioning="input",
    name="generator",
):
    """Builds the generator, a functional model mapping z (and label) to images in [-1, 1].

    Args:
        image_size: output side, 4 or 7 times a power of two, 16 to 256.
        channels: 1 or 3.
        latent_dim: size of z.
        num_classes: > 0 makes it class-conditional (inputs `[z, label]`).
        width: feature maps at full resolution; doubled per halving, capped at 8x.
        upsampling: "pixel_shuffle" (conv then depth-to-space; the default: fast on
            XLA:CPU and free of checkerboard artefacts), "resize" (nearest x2 then conv)
            or "transposed" (the paper's strided transposed conv).
        class_conditioning: how a conditional generator hears the label: "input" (an embedding of it
            joins z) or "batch_norm" (that, and every batch norm's scale and offset also move by a
            learned amount per class, as the class-conditional batch norm of SNGAN's and StudioGAN's
            conditional generators).
    """
    if upsampling not in UPSAMPLING_MODES:
        raise ValueError(f"upsampling must be one of {UPSAMPLING_MODES}, not {upsampling!r}")
    if class_conditioning not in CLASS_CONDITIONINGS:
        raise ValueError(f"class_conditioning must be one of {CLASS_CONDITIONINGS}, not {class_conditioning!r}")
    sizes = resolutions(image_size, channels)
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs, hidden, label_of_norms = [z], z, None
    if num_classes:
        label = label_input()
        embedded = class_embedding(label, num_classes, LABEL_EMBEDDING_DIM, "label_embedding")
        inputs, hidden = [z, label], keras.layers.Concatenate(name="z_and_label")([z, embedded])
        if class_conditioning == "batch_norm":
            label_of_norms = label
    base, base_channels = sizes[0], feature_channels(image_size, sizes[0], width)
    hidden = keras.layers.Dense(
        base * base * base_channels, use_bias=False, kernel_initializer=initializer(), name="project"
    )(hidden)
    hidden = keras.layers.Reshape((base, base, base_channels), name="project_reshape")(hidden)
    hidden = _normalize_and_activate(hidden, f"{base}x{base}", label_of_norms, num_classes)
    for resolution in sizes[1:]:
        filters = feature_channels(image_size, resolution, width)
        hidden = _upsample(hidden, filters, upsampling, f"up_{resolution}x{resolution}")
        hidden = _normalize_and_activate(hidden, f"{resolution}x{resolution}", label_of_norms, num_classes)
    image = keras.layers.Conv2D(
        channels, 3, padding="same", kernel_initializer=initializer(), name="to_image"
    )(hidden)
    image = keras.layers.Activation("tanh", dtype="float32", name="image")(image)
    return keras.Model(inputs if num_classes else z, image, name=name)


def _normalize_and_activate(hidden, suffix, label=None, num_classes=0):
    hidden = FusedBatchNormalization(name=f"bn_{suffix}")(hidden)
    if label is not None:
        hidden = _class_affine(hidden, label, num_classes, suffix)
    return keras.layers.ReLU(name=f"relu_{suffix}")(hidden)


def _class_affine(hidden, label, num_classes, suffix):
    """hidden * (1 + scale[label]) + offset[label], both per channel and starting at 0.

    On top of the batch norm's shared scale and offset rather than in place of them, so the batch norm
    keeps its fused kernel (kgan.networks.batch_norm) and a new generator starts as the "input" one.
    """
    channels = hidden.shape[-1]
    per_class = []
    for part in ("scale", "offset"):
        value = keras.layers.Embedding(num_classes, channels, embeddings_initializer="zeros",
                                       name=f"bn_{suffix}_class_{part}")(label)  # fmt: skip
        per_class.append(keras.layers.Reshape((1, 1, channels), name=f"bn_{suffix}_class_{part}_map")(value))
    scale, offset = per_class
    scaled = keras.layers.Multiply(name=f"bn_{suffix}_class_scaled")([hidden, scale])
    return keras.layers.Add(name=f"bn_{suffix}_class_affine")([hidden, scaled, offset])


def _upsample(hidden, filters, mode, name):
    conv_options = dict(padding="same", use_bias=False, kernel_initializer=initializer())
    if mode == "transposed":
        return keras.layers.Conv2DTranspose(filters, 4, strides=2, name=name, **conv_options)(hidden)
    if mode == "resize":
        return NearestUpsampleConv2D(filters, name=name, **conv_options)(hidden)
    hidden = keras.layers.Conv2D(4 * filters, 3, name=name, **conv_options)(hidden)
    return pixel_shuffle(hidden, filters, name)


def pixel_shuffle(hidden, filters, name):
    """Pixel shuffle (block size 2, DCR order) from Reshape and Permute, so no custom layer."""
    height, width = hidden.shape[1], hidden.shape[2]
    hidden = keras.layers.Reshape((height, width, 2, 2, filters), name=f"{name}_split")(hidden)
    hidden = keras.layers.Permute((1, 3, 2, 4, 5), name=f"{name}_interleave")(hidden)
    return keras.layers.Reshape((2 * height, 2 * width, filters), name=f"{name}_shuffle")(hidden)
