"""Batch-norm statistics that match a generator's own weights ("precise BN").

The EMA generator averages the training generator's weights, but its batch-norm moving
statistics can only be copied from the training generator, whose activations differ.
`calibrate_batch_norm` measures each batch-norm layer's input over fresh samples, in
inference mode and in layer order, and stores those statistics.
"""

import keras
import numpy as np

CALIBRATION_SAMPLES = 1024
CALIBRATION_BATCH = 512


def calibrate_batch_norm(generator, latent_dim, num_classes=0, num_samples=CALIBRATION_SAMPLES, seed=0):
    """Sets every BatchNormalization layer's moving mean and variance to its input's statistics.

    Layers are calibrated first to last, each measured with the layers before it already
    calibrated, so that in inference mode every layer normalizes what it actually receives.

    Args:
        generator: a functional, channels-last generator (z, or [z, label] when conditional).
        latent_dim: size of z.
        num_classes: > 0 when the generator takes labels (drawn balanced).
        num_samples: samples measured per layer.
        seed: seed of the latent vectors.
    """
    layers = batch_norm_layers(generator)
    if not layers:
        return
    z = np.random.default_rng(seed).standard_normal((num_samples, latent_dim)).astype(np.float32)
    inputs = [z, np.arange(num_samples, dtype=np.int32) % num_classes] if num_classes else z
    for layer in layers:
        probe = keras.Model(generator.inputs, layer.input)
        mean, variance = _channel_moments(probe, inputs, num_samples)
        layer.moving_mean.assign(mean)
        layer.moving_variance.assign(variance)


def batch_norm_layers(model):
    """The model's BatchNormalization layers, first to last."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def _channel_moments(probe, inputs, num_samples):
    """Per-channel mean and (biased) variance of `probe`'s output, accumulated in float64."""
    total = total_squares = 0.0
    count = 0
    for start in range(0, num_samples, CALIBRATION_BATCH):
        rows = slice(start, start + CALIBRATION_BATCH)
        batch = [part[rows] for part in inputs] if isinstance(inputs, list) else inputs[rows]
        values = keras.ops.convert_to_numpy(probe(batch, training=False)).astype(np.float64)
        values = values.reshape(-1, values.shape[-1])
        total = total + values.sum(axis=0)
        total_squares = total_squares + np.square(values).sum(axis=0)
        count += len(values)
    mean = total / count
    return mean.astype(np.float32), np.maximum(total_squares / count - np.square(mean), 0.0).astype(np.float32)
