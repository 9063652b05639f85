"""StreamPyDataset: a SampleStream's batches under `fit()`, fresh samples every epoch, endless with steps_per_epoch."""

import keras
import numpy as np

from kgan.adapters.keras_dataset import StreamPyDataset
from kgan.runtime import SampleStream
from tests.conftest import ROOT
from tests.helpers import real_arrays

MODEL = ROOT / "tests" / "runtime" / "data" / "conditional.onnx"  # 8 x 8 x 1, three classes


def test_batches_are_the_streams_and_each_epoch_moves_on():
    stream = SampleStream(MODEL, seed=1)
    dataset = StreamPyDataset(stream, batch_size=16, num_samples=40)
    assert dataset.num_batches == 3
    for index, (start, stop) in enumerate([(0, 16), (16, 32), (32, 40)]):
        for got, want in zip(dataset[index], stream.take(start, stop)):
            np.testing.assert_array_equal(got, want)
    dataset.on_epoch_end()
    np.testing.assert_array_equal(dataset[0][0], stream.take(40, 56)[0])
    assert StreamPyDataset(stream, batch_size=16).num_batches is None


def test_fit_trains_on_a_mixed_stream_with_workers():
    stream = SampleStream(MODEL, real=real_arrays(30, "float32"), synthetic_fraction=0.5, dtype="float32", seed=2)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(3, "softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(StreamPyDataset(stream, 8, num_samples=32, workers=2), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    endless = model.fit(StreamPyDataset(stream, 8), steps_per_epoch=3, epochs=2, shuffle=False, verbose=0)
    assert len(endless.history["loss"]) == 2
