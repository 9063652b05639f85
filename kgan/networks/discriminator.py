"""DCGAN discriminator: strided convs with batch norm (or spectral normalisation) and LeakyReLU, one logit out."""

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
from kgan.networks.penalty_convolution import GradientPenaltyConv2D


def build_discriminator(image_size, channels, num_classes=0, width=64, spectral_norm=False, name="discriminator"):
    """Builds the discriminator, a functional model mapping images (and label) to logits.

    Args:
        image_size: input side, 4 or 7 times a power of two, 16 to 256.
        channels: 1 or 3.
        num_classes: > 0 makes it class-conditional through a projection
            (Miyato & Koyama, 2018): logit = w.h + embed(label).h.
        width: feature maps after the first stride-2 conv; doubled per stage, capped at 8x.
        spectral_norm: spectrally normalise every weight (convolutions, the logit's dense layer and the
            projection's embedding) and leave out the batch norm, as SNGAN's discriminator (Miyato et al., 2018).
    """
    normalised = SpectralNormalization if spectral_norm else _unchanged
    sizes = resolutions(image_size, channels)
    image = keras.Input(shape=(image_size, image_size, channels), name="image")
    hidden = image
    for stage, resolution in enumerate(reversed(sizes[:-1])):
        filters = feature_channels(image_size, 2 * resolution, width)
        hidden = normalised(GradientPenaltyConv2D(
            filters, 4, strides=2, padding="same", kernel_initializer=initializer(),
            use_bias=stage == 0 or spectral_norm, name=f"down_{resolution}x{resolution}",
        ))(hidden)  # fmt: skip
        if stage > 0 and not spectral_norm:  # DCGAN: no batch norm on the discriminator's input layer
            hidden = FusedBatchNormalization(name=f"bn_{resolution}x{resolution}")(hidden)
        hidden = keras.layers.LeakyReLU(LEAKY_SLOPE, name=f"lrelu_{resolution}x{resolution}")(hidden)
    features = keras.layers.Flatten(name="features")(hidden)
    logit = normalised(keras.layers.Dense(1, kernel_initializer=initializer(), name="logit_unconditional"))(features)
    inputs = [image]
    if num_classes:
        label = label_input()
        embedded = class_embedding(label, num_classes, features.shape[-1], "label_projection", normalised)
        projection = keras.layers.Dot(axes=1, name="projection")([embedded, features])
        logit = keras.layers.Add(name="logit_conditional")([logit, projection])
        inputs = [image, label]
    logit = keras.layers.Activation("linear", dtype="float32", name="logit")(logit)
    return keras.Model(inputs if num_classes else image, logit, name=name)


def _unchanged(layer):
    return layer


@keras.saving.register_keras_serializable(package="kgan")
class SpectralNormalization(keras.layers.SpectralNormalization):
    """Spectral normalisation as Miyato et al. (2018) define it: the layer computes with W / sigma(W).

    sigma is the estimate of one power iteration from the stored vector u, which a training call
    updates; the gradient flows through sigma (u and v held constant), and the kernel variable keeps
    W. Keras's own wrapper instead writes W / sigma into the kernel variable on every training call,
    so its gradient skips sigma, and inside the JAX trainer's stateless gradient scope (which keeps
    only non-trainable updates) that write is dropped, giving other training on each backend.
    The estimate is computed in float32 under mixed precision (`autocast=False`); the wrapped layer
    computes in its own dtype policy.

    Args:
        layer: a Conv2D, Dense or Embedding layer (one with a `kernel` or `embeddings`).
        power_iterations: power iterations per call.
        **kwargs: keras.layers.Layer's arguments; the name defaults to the wrapped layer's, prefixed by "sn_".
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        kwargs.setdefault("name", f"sn_{layer.name}")
        kwargs.setdefault("autocast", False)
        super().__init__(layer, power_iterations=power_iterations, **kwargs)

    def call(self, inputs, training=False):
        vector_u, kernel = self.normalized_weights()
        if training:
            self.vector_u.assign(vector_u)
        mapping = [(weight, kernel if weight is self.kernel else weight.value) for weight in self.layer.weights]
        with keras.StatelessScope(state_mapping=mapping):  # the wrapped layer reads W / sigma as its kernel
            return self.layer(inputs)
