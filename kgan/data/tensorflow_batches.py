"""A BatchFeeder's batches as one endless tf.data pipeline, what the TensorFlow backend trains on.

keras reads a PyDataset through tf.data.Dataset.from_generator and makes a new iterator every
epoch: on this project's CPU that stalled the first step of every other epoch by about 1.2 s,
and each step ran 10-20 ms slower than from a tf.data pipeline (docs/measurements.md). This
pipeline yields the feeder's batches in the feeder's order, epoch after epoch, from one iterator.
"""

import tensorflow as tf

LAST_EPOCH = 2**62  # endless: fit() stops after its epochs of steps_per_epoch batches


def endless_dataset(feeder, prefetch=2):
    """The batches of `feeder` from its initial epoch on, without end: use with fit(steps_per_epoch=...).

    Each epoch's permutation is drawn once (BatchFeeder.epoch_order) and each batch is gathered
    from the in-memory arrays by BatchFeeder.batch, so a resumed run sees the batches an
    uninterrupted one would.

    Args:
        feeder: a kgan.data.batches.BatchFeeder.
        prefetch: batches prepared ahead of the step.
    """
    rows_per_epoch = (feeder.steps_per_epoch, feeder.batch_size)

    def gather(rows):  # images, or images and labels, as a tuple either way
        batch = feeder.batch(rows)
        return batch if isinstance(batch, tuple) else (batch,)

    sample = gather(feeder.epoch_order(feeder.initial_epoch)[: feeder.batch_size])
    specs = [tf.TensorSpec(part.shape, tf.as_dtype(part.dtype)) for part in sample]

    def epoch_rows(epoch):
        return feeder.epoch_order(int(epoch)).reshape(rows_per_epoch)

    def draw_epoch(epoch):
        return tf.ensure_shape(tf.numpy_function(epoch_rows, [epoch], tf.int64, stateful=False), rows_per_epoch)

    def load(rows):
        loaded = tf.numpy_function(gather, [rows], [spec.dtype for spec in specs], stateful=False)
        loaded = [tf.ensure_shape(part, spec.shape) for part, spec in zip(loaded, specs)]
        return tuple(loaded) if len(loaded) > 1 else loaded[0]

    epochs = tf.data.Dataset.range(feeder.initial_epoch, LAST_EPOCH)
    return epochs.map(draw_epoch).unbatch().map(load).prefetch(prefetch)
