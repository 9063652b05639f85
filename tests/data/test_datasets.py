"""Dataset sources and the batch feeder."""

import gzip
import socket

import numpy as np
import pytest
from PIL import Image

from kgan.config import SUPPORTED_IMAGE_SIZES, check_image_size
from kgan.data import load_dataset, sources
from kgan.data.idx import read_idx
from kgan.errors import UsageError


def write_idx(path, array):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    data = header + array.tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def test_supported_sizes_are_4_or_7_times_powers_of_two():
    assert SUPPORTED_IMAGE_SIZES == (16, 28, 32, 56, 64, 112, 128, 224, 256)
    for bad in (8, 30, 48, 512):
        with pytest.raises(UsageError, match="not supported"):
            check_image_size(bad)


def test_digits_works_offline_and_is_upsampled():
    dataset = load_dataset("digits")
    assert dataset.images.shape == (1797, 28, 28, 1)
    assert dataset.images.dtype == np.uint8 and dataset.images.max() == 255
    assert dataset.num_classes == 10 and dataset.labels.dtype == np.int64


def test_real_mnist_idx_folder(mnist8k):
    dataset = load_dataset(mnist8k)
    assert dataset.images.shape == (8000, 28, 28, 1)
    counts = np.bincount(dataset.labels)
    assert counts.tolist() == [773, 905, 834, 803, 788, 723, 756, 813, 787, 818]


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_folder_gzipped_or_not_resized_to_rgb(tmp_path, suffix):
    images = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", np.arange(20, dtype=np.uint8) % 4)
    dataset = load_dataset(tmp_path, image_size=32, channels=3)
    assert dataset.images.shape == (20, 32, 32, 3)
    assert dataset.labels.tolist() == (np.arange(20) % 4).tolist()


def test_truncated_idx_is_a_usage_error(tmp_path):
    images = np.zeros((5, 28, 28), np.uint8)
    write_idx(tmp_path / "images-idx3-ubyte", images)
    (tmp_path / "images-idx3-ubyte").write_bytes((tmp_path / "images-idx3-ubyte").read_bytes()[:-10])
    with pytest.raises(UsageError, match="truncated"):
        read_idx(tmp_path / "images-idx3-ubyte")


@pytest.mark.parametrize("keys", [("x_train", "y_train"), ("x", "y")])
def test_npz_with_either_key_pair(tmp_path, keys):
    images = np.random.default_rng(0).random((12, 16, 16)).astype(np.float32)  # floats in [0, 1]
    np.savez(tmp_path / "data.npz", **{keys[0]: images, keys[1]: np.arange(12) % 3})
    dataset = load_dataset(tmp_path / "data.npz")
    assert dataset.images.shape == (12, 16, 16, 1)
    np.testing.assert_array_equal(dataset.images[..., 0], np.rint(images * 255).astype(np.uint8))
    assert dataset.num_classes == 3


def test_npz_class_names_travel_with_the_data(tmp_path):
    names = np.array(["t-shirt-top", "trouser", "bag"])
    np.savez(tmp_path / "data.npz", x=np.zeros((6, 28, 28), np.uint8), y=np.arange(6) % 3, class_names=names)
    assert load_dataset(tmp_path / "data.npz").class_names == ["t-shirt-top", "trouser", "bag"]
    np.savez(tmp_path / "short.npz", x=np.zeros((6, 28, 28), np.uint8), y=np.arange(6) % 3, class_names=names[:2])
    with pytest.raises(UsageError, match="label 2 is out of range for 2 classes"):
        load_dataset(tmp_path / "short.npz")
    np.savez(tmp_path / "numbers.npz", x=np.zeros((6, 28, 28), np.uint8), y=np.arange(6) % 3, class_names=np.arange(3))
    with pytest.raises(UsageError, match="class_names must be a 1-D array of strings"):
        load_dataset(tmp_path / "numbers.npz")


def test_npz_without_labels_is_unlabelled(tmp_path):
    np.savez(tmp_path / "data.npz", x=np.zeros((4, 32, 32, 3), np.uint8))
    dataset = load_dataset(tmp_path / "data.npz")
    assert dataset.labels is None and dataset.num_classes == 0


def test_npz_bad_values_and_keys(tmp_path):
    np.savez(tmp_path / "nan.npz", x=np.full((4, 16, 16), np.nan))
    with pytest.raises(UsageError, match="NaN"):
        load_dataset(tmp_path / "nan.npz")
    np.savez(tmp_path / "keys.npz", images=np.zeros((4, 16, 16)))
    with pytest.raises(UsageError, match="no x_train or x"):
        load_dataset(tmp_path / "keys.npz")


def make_image_folder(root, classes=("cat", "dog"), per_class=3, size=(40, 30), mode="RGB"):
    for index, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for number in range(per_class):
            colour = (index * 100, number * 50, 10) if mode == "RGB" else index * 100
            Image.new(mode, size, colour).save(root / name / f"{number}.png")
    return root


def test_image_folder_classes_from_subfolders(tmp_path):
    root = make_image_folder(tmp_path / "pets")
    dataset = load_dataset(root, image_size=16)
    assert dataset.images.shape == (6, 16, 16, 3)
    assert dataset.class_names == ["cat", "dog"]
    assert dataset.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert load_dataset(root, image_size=16, channels=1).images.shape == (6, 16, 16, 1)
    assert load_dataset(root).images.shape[1] == 64  # default size for image folders


def test_image_folder_grayscale_by_default_when_images_are(tmp_path):
    root = make_image_folder(tmp_path / "gray", mode="L")
    assert load_dataset(root, image_size=16).images.shape == (6, 16, 16, 1)


def test_corrupt_image_names_the_file(tmp_path):
    root = make_image_folder(tmp_path / "pets")
    (root / "dog" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UsageError, match="broken.png"):
        load_dataset(root, image_size=16)


def test_missing_and_empty_datasets(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no PNG/JPEG"):
        load_dataset(tmp_path / "empty")


def refuse_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_downloadable_dataset_offline_fails_clearly(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty cache, so keras must download
    monkeypatch.setattr(sources, "SYSTEM_DATASETS", tmp_path / "no-system-datasets")
    refuse_network(monkeypatch)
    with pytest.raises(UsageError, match=r"offline, apt-get install dataset-fashion-mnist \(Debian\), or pass a"):
        load_dataset("fashion_mnist")


def write_official_idx_files(folder, train_images, train_labels):
    """The four files of an official (Fashion-)MNIST release, as Debian installs them; the test split is all 0."""
    folder.mkdir(parents=True)
    files = {
        "train-images-idx3-ubyte.gz": train_images,
        "train-labels-idx1-ubyte.gz": train_labels,
        "t10k-images-idx3-ubyte.gz": np.zeros((3, 28, 28), np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.zeros(3, np.uint8),
    }
    for name, array in files.items():
        write_idx(folder / name, array)


def test_a_named_dataset_loads_offline_from_the_system_copy(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(1, 256, (20, 28, 28), dtype=np.uint8), np.arange(20, dtype=np.uint8) % 10
    write_official_idx_files(tmp_path / "system" / "fashion-mnist", images, labels)
    monkeypatch.setattr(sources, "SYSTEM_DATASETS", tmp_path / "system")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    refuse_network(monkeypatch)

    dataset = load_dataset("fashion_mnist")

    np.testing.assert_array_equal(dataset.images[..., 0], images)  # the training split, not t10k
    np.testing.assert_array_equal(dataset.labels, labels)
    assert dataset.class_names[0] == "t-shirt-top" and dataset.class_names[9] == "ankle-boot"


def test_keras_cache_comes_before_the_system_copy(monkeypatch, tmp_path):
    write_official_idx_files(tmp_path / "system" / "mnist", np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8))
    monkeypatch.setattr(sources, "SYSTEM_DATASETS", tmp_path / "system")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    (tmp_path / "keras" / "datasets" / "mnist.npz").write_bytes(b"keras's cached copy")
    cached = np.full((4, 28, 28, 1), 7, np.uint8), np.arange(4, dtype=np.int64), sources.DIGIT_NAMES
    monkeypatch.setattr(sources, "_load_keras_dataset", lambda name: cached)

    assert len(load_dataset("mnist")) == 4


def test_feeder_order_depends_on_seed_and_epoch_only():
    from kgan.data.batches import BatchFeeder

    dataset = load_dataset("digits", image_size=16)
    feeder = BatchFeeder(dataset, batch_size=64, seed=3, conditional=True)
    assert feeder.num_batches == len(dataset) // 64  # incomplete batch dropped
    feeder.on_epoch_begin()
    images, labels = feeder[1]
    assert images.shape == (64, 16, 16, 1) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1 and labels.dtype == np.int32
    resumed = BatchFeeder(dataset, batch_size=64, seed=3, conditional=True, initial_epoch=1)
    resumed.on_epoch_begin()
    feeder.on_epoch_begin()
    np.testing.assert_array_equal(resumed[2][0], feeder[2][0])
    assert not np.array_equal(BatchFeeder(dataset, 64, seed=4).epoch_order(0), feeder.epoch_order(0))


def test_feeder_steps_beyond_one_pass():
    from kgan.data.batches import BatchFeeder

    dataset = load_dataset("digits", image_size=16)
    feeder = BatchFeeder(dataset, batch_size=100, seed=0, steps_per_epoch=40)
    order = feeder.epoch_order(0)
    assert len(order) == 4000
    assert sorted(order[: len(dataset)]) == list(range(len(dataset)))  # whole passes first


def test_each_process_feeds_its_share_of_every_batch():
    from kgan.data.batches import BatchFeeder

    dataset = load_dataset("digits", image_size=16)
    whole = BatchFeeder(dataset, batch_size=6, seed=1, conditional=True)
    shares = [BatchFeeder(dataset, batch_size=6, seed=1, conditional=True, share=(index, 3)) for index in range(3)]
    for feeder in [whole, *shares]:
        feeder.on_epoch_begin()
    images, labels = whole[4]
    np.testing.assert_array_equal(np.concatenate([share[4][0] for share in shares]), images)
    np.testing.assert_array_equal(np.concatenate([share[4][1] for share in shares]), labels)
    assert shares[1][4][0].shape == (2, 16, 16, 1)
    with pytest.raises(ValueError, match="share 0 of 4 does not split a batch of 6 evenly"):
        BatchFeeder(dataset, batch_size=6, seed=1, share=(0, 4))


@pytest.mark.parametrize("conditional", [True, False])
def test_tensorflow_pipeline_yields_the_feeders_batches_epoch_after_epoch(conditional):
    pytest.importorskip("tensorflow")
    from kgan.data.batches import BatchFeeder
    from kgan.data.tensorflow_batches import endless_dataset

    def parts(batch):
        return batch if conditional else (batch,)

    dataset = load_dataset("digits", image_size=16)
    feeder = BatchFeeder(dataset, batch_size=64, seed=3, conditional=conditional, initial_epoch=2, as_uint8=True)
    steps = feeder.steps_per_epoch
    received = [parts(batch) for batch in endless_dataset(feeder).take(3 * steps).as_numpy_iterator()]
    expected = []
    for _ in range(3):  # epochs 2, 3 and 4, as fit() would read them from a resumed feeder
        feeder.on_epoch_begin()
        expected += [parts(feeder[step]) for step in range(steps)]
    assert len(received) == len(expected)
    for want, have in zip(expected, received):
        for want_part, have_part in zip(want, have, strict=True):
            assert have_part.dtype == want_part.dtype and have_part.shape == want_part.shape
            np.testing.assert_array_equal(have_part, want_part)
