"""The TensorFlow half of FusedBatchNormalization: its training pass through FusedBatchNormV3."""

import tensorflow as tf

MIN_EPSILON = 1.001e-5  # tf.nn.fused_batch_norm raises smaller epsilons to this


def fused_training_call(layer, inputs):
    """Normalizes channels-last `inputs` by their batch moments and updates the layer's moving statistics.

    Args:
        layer: a built keras BatchNormalization layer with center and scale.
        inputs: a rank-4 channels-last tensor in the layer's compute dtype.
    """
    outputs, mean, unbiased_variance = tf.compat.v1.nn.fused_batch_norm(
        inputs,
        tf.cast(layer.gamma, "float32"),
        tf.cast(layer.beta, "float32"),
        epsilon=layer.epsilon,
        is_training=True,
    )
    count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], "float32")
    variance = unbiased_variance * (count - 1.0) / count  # keras keeps the biased variance
    for statistic, value in ((layer.moving_mean, mean), (layer.moving_variance, variance)):
        statistic.assign(statistic * layer.momentum + value * (1.0 - layer.momentum))
    return tf.cast(outputs, layer.compute_dtype)
