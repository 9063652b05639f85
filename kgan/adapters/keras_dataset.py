"""A SampleStream as a keras.utils.PyDataset: batches for `model.fit()` on any Keras backend."""

import keras

from kgan.runtime.stream import batch_bounds, num_batches


class StreamPyDataset(keras.utils.PyDataset):
    """Batches of a SampleStream for `fit()`.

    A finite dataset (`num_samples`) moves on to the stream's next `num_samples` samples
    after every epoch, so each epoch sees fresh synthetic images; an endless one
    (`num_samples=None`, with `fit(steps_per_epoch=...)`) reads the stream in order.

    Args:
        stream: a kgan.runtime.stream.SampleStream.
        batch_size: samples per batch.
        num_samples: samples per epoch; None for an endless dataset.
        **kwargs: keras.utils.PyDataset's `workers`, `use_multiprocessing`, `max_queue_size`.
    """

    def __init__(self, stream, batch_size, num_samples=None, **kwargs):
        super().__init__(**kwargs)
        self.stream, self.batch_size, self.num_samples = stream, batch_size, num_samples
        self.epoch = 0

    @property
    def num_batches(self):
        return num_batches(self.batch_size, self.num_samples)

    def __getitem__(self, index):
        start, stop = batch_bounds(index, self.batch_size, self.num_samples)
        offset = self.epoch * self.num_samples if self.num_samples is not None else 0
        return self.stream.take(offset + start, offset + stop)

    def on_epoch_end(self):
        self.epoch += 1
