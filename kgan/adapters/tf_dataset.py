"""A SampleStream as a tf.data.Dataset."""

import tensorflow as tf

from kgan.runtime.stream import batch_bounds, num_batches


def stream_tf_dataset(stream, batch_size, num_samples=None, start=0):
    """A tf.data.Dataset of (images, labels) batches read from `stream` in order.

    Args:
        stream: a kgan.runtime.stream.SampleStream.
        batch_size: samples per batch (the last batch of a finite dataset may be short).
        num_samples: samples in the dataset; None for an endless one.
        start: index of the first sample (e.g. epoch * num_samples for fresh samples per epoch).
    """
    count = num_batches(batch_size, num_samples)

    def batches():
        index = 0
        while count is None or index < count:
            first, stop = batch_bounds(index, batch_size, num_samples)
            yield stream.take(start + first, start + stop)
            index += 1

    image_dtype = tf.uint8 if stream.dtype == "uint8" else tf.float32
    signature = (
        tf.TensorSpec((None, *stream.image_shape), image_dtype),
        tf.TensorSpec((None,), tf.int64),
    )
    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    if count is None:
        return dataset.repeat()  # the generator never ends; repeat() only makes the cardinality say so
    return dataset.apply(tf.data.experimental.assert_cardinality(count))
