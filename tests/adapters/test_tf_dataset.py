"""stream_tf_dataset: the SampleStream's samples, in order, whatever the batching (TensorFlow only)."""

import numpy as np
import pytest

from kgan.runtime import SampleStream
from tests.conftest import ROOT

tf = pytest.importorskip("tensorflow", reason="tf.data needs TensorFlow (tox's tensorflow env has it)")
from kgan.adapters.tf_dataset import stream_tf_dataset  # noqa: E402

MODEL = ROOT / "tests" / "runtime" / "data" / "conditional.onnx"


def test_the_dataset_holds_the_streams_samples():
    stream = SampleStream(MODEL, class_counts=[1, 2, 3], seed=3)
    dataset = stream_tf_dataset(stream, batch_size=16, num_samples=40)
    assert int(dataset.cardinality()) == 3
    images = np.concatenate([batch[0].numpy() for batch in dataset])
    labels = np.concatenate([batch[1].numpy() for batch in dataset])
    expected_images, expected_labels = stream.take(0, 40)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    rebatched = next(iter(stream_tf_dataset(stream, 7, num_samples=40).unbatch().batch(40)))
    np.testing.assert_array_equal(rebatched[0].numpy(), expected_images)


def test_an_endless_dataset_and_a_later_start():
    stream = SampleStream(MODEL, dtype="float32", seed=3)
    dataset = stream_tf_dataset(stream, batch_size=4, start=100)
    assert int(dataset.cardinality()) == tf.data.INFINITE_CARDINALITY
    batches = list(dataset.take(3))
    np.testing.assert_array_equal(batches[2][0].numpy(), stream.take(108, 112)[0])
    assert batches[0][0].dtype == tf.float32
