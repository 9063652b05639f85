"""The batch feeder of a training run: a keras PyDataset over in-memory uint8 images.

It needs neither tf.data nor TensorFlow, so the JAX backend runs without TensorFlow,
and slicing a uint8 array costs microseconds against a step of milliseconds. On
TensorFlow, `kgan train` reads the same batches through kgan.data.tensorflow_batches.
"""

import keras
import numpy as np

from kgan import imaging


def epoch_steps(num_images, batch_size, steps_per_epoch=None):
    """Batches per epoch: `steps_per_epoch`, or for None one pass over `num_images`, less a last partial batch."""
    return steps_per_epoch or num_images // batch_size


class BatchFeeder(keras.utils.PyDataset):
    """Shuffled batches of images scaled to [-1, 1], or left uint8 (and int32 labels when conditional).

    Epoch e visits the data in the order of a permutation seeded by (seed, e), continued
    into the next permutation when `steps_per_epoch` asks for more than one pass, so a
    resumed run sees exactly the batches an uninterrupted one would. Incomplete batches
    are dropped. In a run of several processes each one's feeder yields its `share` of every
    batch, rows [i * B / n, (i + 1) * B / n) of share (i, n), and gathers only those images.

    Args:
        dataset: a kgan.data.ImageDataset.
        batch_size: images per batch.
        seed: seed of the shuffling.
        steps_per_epoch: batches per epoch; None for one pass over the data.
        conditional: whether to yield (images, labels).
        initial_epoch: the epoch the first batch belongs to (for resuming).
        as_uint8: yield the uint8 images unscaled, a quarter of float32's bytes to move to the
            device; the model scales them (kgan's DCGAN does, inside its step).
        share: (this process's index, the number of processes); `batch_size` must split evenly.
    """

    def __init__(
        self, dataset, batch_size, seed, steps_per_epoch=None, conditional=False, initial_epoch=0, as_uint8=False,
        share=(0, 1),
    ):  # fmt: skip
        super().__init__(workers=1, use_multiprocessing=False)
        if len(dataset) < batch_size:
            raise ValueError(f"batch size {batch_size} is larger than the dataset ({len(dataset)} images)")
        index, count = share
        if batch_size % count or not 0 <= index < count:
            raise ValueError(f"share {index} of {count} does not split a batch of {batch_size} evenly")
        self._share = slice(index * batch_size // count, (index + 1) * batch_size // count)
        self.images = dataset.images
        self.labels = dataset.labels.astype(np.int32) if conditional else None
        self.batch_size = batch_size
        self.as_uint8 = as_uint8
        self.seed = seed
        self.steps_per_epoch = epoch_steps(len(dataset), batch_size, steps_per_epoch)
        self.initial_epoch = initial_epoch
        self._next_epoch = initial_epoch
        self._order = self.epoch_order(initial_epoch)  # keras may peek at a batch before the first epoch

    @property
    def num_batches(self):
        return self.steps_per_epoch

    def on_epoch_begin(self):
        # Keras may fetch an epoch's batches out of order (its JAX path does), so the
        # epoch's permutation is fixed here, before any of them is read.
        self._order = self.epoch_order(self._next_epoch)
        self._next_epoch += 1

    def __getitem__(self, index):
        return self.batch(self._order[index * self.batch_size : (index + 1) * self.batch_size])

    def batch(self, rows):
        """This process's share of the batch of the images at indices `rows`: images, or (images, labels)
        when conditional."""
        rows = rows[self._share]
        images = self.images[rows] if self.as_uint8 else imaging.from_uint8(self.images[rows])
        return images if self.labels is None else (images, self.labels[rows])

    def epoch_order(self, epoch):
        """Indices of every image this epoch visits, in order."""
        needed = self.steps_per_epoch * self.batch_size
        passes = -(-needed // len(self.images))
        rng = np.random.default_rng([self.seed, epoch])
        return np.concatenate([rng.permutation(len(self.images)) for _ in range(passes)])[:needed]
