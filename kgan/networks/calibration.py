"""Batch-norm statistics that match a generator's own weights ("precise BN").

The EMA generator averages the training generator's weights, but its batch-norm moving
statistics can only be copied from the training generator, whose activations differ.
`calibrate_batch_norm` measures every batch-norm layer's input over fresh samples and
stores those statistics.
"""

import keras
import numpy as np
from keras import ops

# 512 samples moved the statistics of a 64 px generator no more than another seed of 1,024 did, at 45% of the
# time (benchmarks/epoch_end_cost.py; docs/measurements.md, "Batch-norm calibration").
CALIBRATION_SAMPLES = 512
CALIBRATION_PIXELS = 512 * 28 * 28  # per forward pass: batches of 512 at 28 px, 98 at 64 px, 32 at 128 px and more
MIN_CALIBRATION_BATCH = 32


def calibrate_batch_norm(
    generator, latent_dim, num_classes=0, num_samples=CALIBRATION_SAMPLES, seed=0, batch_size=None
):
    """Sets every BatchNormalization layer's moving mean and variance to its input's statistics.

    One forward pass per batch in training mode, as torch.optim.swa_utils.update_bn: each
    layer normalizes with the batch's own statistics, as in training, and the moments of
    every layer's input are summed on the device, so the cost is a forward pass over
    `num_samples`, whatever the depth, in memory bounded by the batch.

    Args:
        generator: a functional, channels-last generator (z, or [z, label] when conditional).
        latent_dim: size of z.
        num_classes: > 0 when the generator takes labels (drawn balanced).
        num_samples: samples measured.
        seed: seed of the latent vectors.
        batch_size: samples per forward pass; None: CALIBRATION_PIXELS worth, at least MIN_CALIBRATION_BATCH.
    """
    layers = batch_norm_layers(generator)
    if not layers:
        return
    if batch_size is None:
        height, width = generator.output_shape[1:3]
        batch_size = max(MIN_CALIBRATION_BATCH, CALIBRATION_PIXELS // (height * width))
    z = np.random.default_rng(seed).standard_normal((num_samples, latent_dim)).astype(np.float32)
    inputs = [z, np.arange(num_samples, dtype=np.int32) % num_classes] if num_classes else z
    settings = [(layer.momentum, layer.trainable) for layer in layers]
    sums = [[0.0, 0.0] for _ in layers]  # per layer: sum of batch means and of batch E[x^2], weighted by rows
    try:
        for layer in layers:
            layer.momentum = 0.0  # a training-mode call then leaves exactly the batch's moments
            layer.trainable = True  # a frozen batch-norm layer (the EMA generator's) ignores training=True
        for start in range(0, num_samples, batch_size):
            rows = slice(start, start + batch_size)
            batch = [part[rows] for part in inputs] if num_classes else inputs[rows]
            weight = min(batch_size, num_samples - start)
            generator(batch, training=True)
            for total, layer in zip(sums, layers):
                mean, variance = layer.moving_mean.value, layer.moving_variance.value
                total[0] = total[0] + weight * mean
                total[1] = total[1] + weight * (variance + ops.square(mean))
    finally:
        for layer, (momentum, trainable) in zip(layers, settings):
            layer.momentum, layer.trainable = momentum, trainable
    for (mean_sum, square_sum), layer in zip(sums, layers):
        mean = mean_sum / num_samples
        layer.moving_mean.assign(mean)
        layer.moving_variance.assign(ops.maximum(square_sum / num_samples - ops.square(mean), 0.0))


def batch_norm_layers(model):
    """The model's BatchNormalization layers, first to last."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
