"""Models rebuilt from keras's own layers, so what kgan saves loads with keras alone."""

import keras

from kgan.networks.batch_norm import FusedBatchNormalization
from kgan.networks.penalty_convolution import GradientPenaltyConv2D
from kgan.networks.upsampling import NearestUpsampleConv2D, plain_upsample_conv

# kgan's layers that only change how training computes, and how each one is rebuilt from keras's own
# layers, with the same config and weights.
KERAS_LAYERS_OF = {
    FusedBatchNormalization: lambda layer: keras.layers.BatchNormalization.from_config(layer.get_config()),
    NearestUpsampleConv2D: plain_upsample_conv,
    GradientPenaltyConv2D: lambda layer: keras.layers.Conv2D.from_config(layer.get_config()),
}


def plain_keras_layer(layer):
    """A new layer computing what `layer` computes, from keras's own layers in place of kgan's (a clone_function)."""
    rebuild = KERAS_LAYERS_OF.get(type(layer))
    return rebuild(layer) if rebuild else type(layer).from_config(layer.get_config())


def plain_keras_model(model):
    """`model` built from keras's own layers, with its weights: the model itself when it has none of kgan's."""
    if not any(type(layer) in KERAS_LAYERS_OF for layer in model.layers):
        return model
    copy = keras.models.clone_model(model, clone_function=plain_keras_layer)
    copy.set_weights(model.get_weights())
    return copy
