"""DCGAN discriminator: strided convs with batch norm and LeakyReLU, one logit out."""

import keras

from kgan.networks.batch_norm import FusedBatchNormalization
from kgan.networks.blocks import (
    LEAKY_SLOPE,
    class_embedding,
    feature_channels,
    initializer,
    label_input,
    resolutions,
)


def build_discriminator(image_size, channels, num_classes=0, width=64, name="discriminator"):
    """Builds the discriminator, a functional model mapping images (and label) to logits.

    Args:
        image_size: input side, 4 or 7 times a power of two, 16 to 256.
        channels: 1 or 3.
        num_classes: > 0 makes it class-conditional through a projection
            (Miyato & Koyama, 2018): logit = w.h + embed(label).h.
        width: feature maps after the first stride-2 conv; doubled per stage, capped at 8x.
    """
    sizes = resolutions(image_size, channels)
    image = keras.Input(shape=(image_size, image_size, channels), name="image")
    hidden = image
    for stage, resolution in enumerate(reversed(sizes[:-1])):
        filters = feature_channels(image_size, 2 * resolution, width)
        hidden = keras.layers.Conv2D(
            filters, 4, strides=2, padding="same", kernel_initializer=initializer(),
            use_bias=stage == 0, name=f"down_{resolution}x{resolution}",
        )(hidden)  # fmt: skip
        if stage > 0:  # DCGAN: no batch norm on the discriminator's input layer
            hidden = FusedBatchNormalization(name=f"bn_{resolution}x{resolution}")(hidden)
        hidden = keras.layers.LeakyReLU(LEAKY_SLOPE, name=f"lrelu_{resolution}x{resolution}")(hidden)
    features = keras.layers.Flatten(name="features")(hidden)
    logit = keras.layers.Dense(1, kernel_initializer=initializer(), name="logit_unconditional")(features)
    inputs = [image]
    if num_classes:
        label = label_input()
        embedded = class_embedding(label, num_classes, features.shape[-1], "label_projection")
        projection = keras.layers.Dot(axes=1, name="projection")([embedded, features])
        logit = keras.layers.Add(name="logit_conditional")([logit, projection])
        inputs = [image, label]
    logit = keras.layers.Activation("linear", dtype="float32", name="logit")(logit)
    return keras.Model(inputs if num_classes else image, logit, name=name)
