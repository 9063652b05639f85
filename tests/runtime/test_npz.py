import numpy as np
import pytest

from kgan.runtime import NpzStreamWriter


def test_streamed_arrays_read_back_with_numpy_load(tmp_path):
    images = np.arange(5 * 2 * 3 * 1, dtype=np.uint8).reshape(5, 2, 3, 1)
    labels = np.array([4, 3, 2, 1, 0], np.int64)
    path = tmp_path / "out.npz"

    with NpzStreamWriter(path) as npz:
        npz.begin("x", images.shape, np.uint8)
        npz.append(images[:2])
        npz.append(images[2:])
        npz.begin("y", labels.shape, np.int64)
        npz.append(labels)

    with np.load(path) as loaded:
        assert sorted(loaded.files) == ["x", "y"]
        np.testing.assert_array_equal(loaded["x"], images)
        np.testing.assert_array_equal(loaded["y"], labels)
        assert loaded["y"].dtype == np.int64


def test_chunk_must_match_the_announced_array(tmp_path):
    with NpzStreamWriter(tmp_path / "out.npz") as npz:
        npz.begin("x", (2, 3), np.uint8)
        with pytest.raises(ValueError, match="does not match"):
            npz.append(np.zeros((1, 3), np.float32))
        with pytest.raises(ValueError, match="does not match"):
            npz.append(np.zeros((1, 4), np.uint8))
        with pytest.raises(ValueError, match="3 rows passed the 2 announced"):
            npz.append(np.zeros((3, 3), np.uint8))
        npz.append(np.zeros((2, 3), np.uint8))


def test_missing_rows_are_an_error(tmp_path):
    npz = NpzStreamWriter(tmp_path / "out.npz")
    npz.begin("x", (2, 3), np.uint8)
    npz.append(np.zeros((1, 3), np.uint8))

    with pytest.raises(ValueError, match="1 rows short"):
        npz.close()
