"""A SampleStream as a torch.utils.data.IterableDataset whose batches are shared out among DataLoader workers."""

import itertools

import torch

from kgan.runtime.stream import batch_bounds, num_batches


class StreamIterableDataset(torch.utils.data.IterableDataset):
    """Whole batches of a SampleStream as torch tensors; use with `DataLoader(dataset, batch_size=None)`.

    Worker w of W yields batches w, w + W, w + 2W, ...; DataLoader hands them on in
    round-robin order, so any number of workers gives the same batches in the same order,
    none twice. Images come channels first (N, C, H, W), as torch's layers expect.

    Args:
        stream: a kgan.runtime.stream.SampleStream (it opens its own onnxruntime session in
            each worker process).
        batch_size: samples per batch.
        num_samples: samples per epoch; None for an endless dataset.
        channels_first: N, C, H, W images (torch's layout); False keeps N, H, W, C.
    """

    def __init__(self, stream, batch_size, num_samples=None, channels_first=True):
        super().__init__()
        self.stream, self.batch_size, self.num_samples = stream, batch_size, num_samples
        self.channels_first = channels_first
        self.epoch = 0

    def set_epoch(self, epoch):
        """Epoch e of a finite dataset reads samples [e * num_samples, (e + 1) * num_samples)."""
        self.epoch = epoch

    def __len__(self):
        count = num_batches(self.batch_size, self.num_samples)
        if count is None:
            raise TypeError("an endless StreamIterableDataset has no length")
        return count

    def __iter__(self):
        worker = torch.utils.data.get_worker_info()
        first, step = (0, 1) if worker is None else (worker.id, worker.num_workers)
        count = num_batches(self.batch_size, self.num_samples)
        batches = itertools.count(first, step) if count is None else range(first, count, step)
        offset = self.epoch * self.num_samples if self.num_samples is not None else 0
        for batch in batches:
            start, stop = batch_bounds(batch, self.batch_size, self.num_samples)
            images, labels = self.stream.take(offset + start, offset + stop)
            images = torch.from_numpy(images)
            if self.channels_first:
                images = images.permute(0, 3, 1, 2).contiguous()
            yield images, torch.from_numpy(labels)
