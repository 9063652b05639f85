"""StreamIterableDataset: DataLoader workers share the batches out, none twice, in the stream's order."""

import numpy as np
import pytest

from kgan.runtime import SampleStream
from tests.conftest import ROOT
from tests.helpers import real_arrays

torch = pytest.importorskip("torch", reason="torch is not a kgan dependency (tox's torch env installs it)")
from kgan.adapters.torch_dataset import StreamIterableDataset  # noqa: E402

MODEL = ROOT / "tests" / "runtime" / "data" / "conditional.onnx"


def read(dataset, workers):
    # a timeout, so that a worker stuck in an inherited onnxruntime session fails instead of hanging
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=workers, timeout=60 if workers else 0)
    return [(images.numpy(), labels.numpy()) for images, labels in loader]


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_give_the_same_batches_as_one_process(workers):
    stream = SampleStream(MODEL, real=real_arrays(20), synthetic_fraction=0.5, class_weights=[3, 1, 1], seed=4)
    dataset = StreamIterableDataset(stream, batch_size=8, num_samples=60)
    single, sharded = read(dataset, 0), read(dataset, workers)
    assert len(single) == len(sharded) == len(dataset) == 8
    for (images, labels), (other_images, other_labels) in zip(single, sharded):
        np.testing.assert_array_equal(images, other_images)
        np.testing.assert_array_equal(labels, other_labels)
    expected_images, expected_labels = stream.take(0, 60)
    np.testing.assert_array_equal(np.concatenate([i for i, _ in sharded]), expected_images.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(np.concatenate([l for _, l in sharded]), expected_labels)


def test_epochs_and_endless_streams():
    stream = SampleStream(MODEL, seed=5)
    dataset = StreamIterableDataset(stream, batch_size=10, num_samples=30, channels_first=False)
    dataset.set_epoch(2)
    np.testing.assert_array_equal(read(dataset, 0)[0][0], stream.take(60, 70)[0])
    endless = StreamIterableDataset(stream, batch_size=10)
    loader = iter(torch.utils.data.DataLoader(endless, batch_size=None, num_workers=2))
    batches = [next(loader) for _ in range(5)]
    np.testing.assert_array_equal(batches[4][0].numpy(), stream.take(40, 50)[0].transpose(0, 3, 1, 2))
    with pytest.raises(TypeError):
        len(endless)
