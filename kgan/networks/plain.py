"""Models rebuilt from keras's own layers, so what kgan saves loads with keras alone."""

import keras

from kgan.networks.batch_norm import FusedBatchNormalization

# kgan's layers that only change how training computes, and the keras layer each one saves as.
KERAS_CLASS_OF = {
    FusedBatchNormalization: keras.layers.BatchNormalization,
}


def plain_keras_layer(layer):
    """A new layer with `layer`'s config, keras's own class in place of kgan's training-speed one (a clone_function)."""
    return KERAS_CLASS_OF.get(type(layer), type(layer)).from_config(layer.get_config())


def plain_keras_model(model):
    """`model` built from keras's own layers, with its weights: the model itself when it has none of kgan's."""
    if not any(type(layer) in KERAS_CLASS_OF for layer in model.layers):
        return model
    copy = keras.models.clone_model(model, clone_function=plain_keras_layer)
    copy.set_weights(model.get_weights())
    return copy
