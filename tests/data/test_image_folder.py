"""Image folders: decoded on a pool of threads with progress, cached on disk, checked against memory."""

import io
import os
import sys

import numpy as np
import pytest
from PIL import Image

from kgan.data import folder_cache, image_folder, load_dataset
from kgan.errors import UsageError

CLASSES = ("cat", "dog", "owl")
PER_CLASS = 5


def make_folder(root, mode="RGB", classes=CLASSES):
    """Random images of varied sizes (mostly not square), PNG and JPEG, PER_CLASS in each class subfolder."""
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for number in range(PER_CLASS):
            width, height = rng.integers(20, 60, 2)
            shape = (height, width) if mode == "L" else (height, width, 3)
            image = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))
            image.save(root / name / f"{number}.{'png' if number % 2 else 'jpg'}")
    return root


def reference_decode(root, mode, side):
    """One file after another in label order: what the thread pool must reproduce."""
    files = [path for folder in sorted(root.iterdir()) for path in sorted(folder.iterdir())]
    return np.stack([image_folder.read_image(path, mode, side) for path in files])


def count_decodes(monkeypatch):
    """Counts image_folder.read_image's calls from now on: {"files": N}."""
    calls = {"files": 0}
    read_image = image_folder.read_image

    def counting(*args):
        calls["files"] += 1
        return read_image(*args)

    monkeypatch.setattr(image_folder, "read_image", counting)
    return calls


def refuse_decoding(monkeypatch):
    def refuse(path, mode, side):
        raise AssertionError(f"{path} was decoded rather than read from the cache")

    monkeypatch.setattr(image_folder, "read_image", refuse)


@pytest.fixture
def small_tasks(monkeypatch):
    """Two files per pool task, so that a few files keep several threads busy."""
    monkeypatch.setattr(image_folder, "FILES_PER_TASK", 2)


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_threads_decode_what_one_file_after_another_does(tmp_path, small_tasks, mode):
    root = make_folder(tmp_path / "animals", mode)

    images, labels, class_names = image_folder.load_image_folder(root, image_size=16, workers=4)

    np.testing.assert_array_equal(images, reference_decode(root, mode, 16))
    assert images.shape == (15, 16, 16, 3 if mode == "RGB" else 1) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    assert class_names == list(CLASSES)


def test_the_second_load_reads_the_cache(tmp_path, monkeypatch, kgan_cache_dir):
    root = make_folder(tmp_path / "animals")
    first = load_dataset(root, image_size=16)
    refuse_decoding(monkeypatch)

    second = load_dataset(root, image_size=16)

    np.testing.assert_array_equal(second.images, first.images)
    np.testing.assert_array_equal(second.labels, first.labels)
    assert second.class_names == first.class_names == list(CLASSES)
    cached = sorted((kgan_cache_dir / "image-folders").iterdir())
    assert [path.name for path in cached] == [folder_cache.cache_file(root, 16, "RGB").name]  # no temporaries


def test_an_unlabelled_folder_round_trips_through_the_cache(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "animals", classes=["only"]) / "only"
    first = load_dataset(root, image_size=16)
    refuse_decoding(monkeypatch)

    second = load_dataset(root, image_size=16)

    assert first.labels is None and second.labels is None and second.class_names == []
    np.testing.assert_array_equal(second.images, first.images)


def touch(root):
    path = root / "cat" / "0.jpg"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def add(root):
    Image.new("RGB", (30, 30), (200, 10, 10)).save(root / "dog" / "extra.png")


def remove(root):
    (root / "owl" / "3.png").unlink()


def rename(root):
    (root / "owl" / "3.png").rename(root / "owl" / "9.png")


@pytest.mark.parametrize("change", [touch, add, remove, rename])
def test_a_changed_folder_is_decoded_again(tmp_path, monkeypatch, change):
    root = make_folder(tmp_path / "animals")
    load_dataset(root, image_size=16)
    change(root)
    decodes = count_decodes(monkeypatch)

    dataset = load_dataset(root, image_size=16)

    assert decodes["files"] == len(dataset) > 0
    np.testing.assert_array_equal(dataset.images, reference_decode(root, "RGB", 16))


def test_each_size_and_channels_has_its_own_cache(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "animals")
    load_dataset(root, image_size=16)
    decodes = count_decodes(monkeypatch)

    assert load_dataset(root, image_size=32).images.shape == (15, 32, 32, 3)
    assert load_dataset(root, image_size=16, channels=1).images.shape == (15, 16, 16, 1)
    assert decodes["files"] == 30
    refuse_decoding(monkeypatch)
    for image_size, channels in [(16, 3), (32, 3), (16, 1)]:
        assert load_dataset(root, image_size=image_size, channels=channels).images.shape[1] == image_size


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_a_pixel_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the images array: only the zip member's checksum tells
    path.write_bytes(bytes(data))


def overwrite_with_junk(path):
    path.write_bytes(b"not an npz file")


@pytest.mark.parametrize("damage", [truncate, flip_a_pixel_byte, overwrite_with_junk])
def test_a_damaged_cache_file_is_decoded_again_and_rewritten(tmp_path, monkeypatch, damage):
    root = make_folder(tmp_path / "animals")
    first = load_dataset(root, image_size=16)
    damage(folder_cache.cache_file(root, 16, "RGB"))
    decodes = count_decodes(monkeypatch)

    np.testing.assert_array_equal(load_dataset(root, image_size=16).images, first.images)
    assert decodes["files"] == 15
    refuse_decoding(monkeypatch)
    np.testing.assert_array_equal(load_dataset(root, image_size=16).images, first.images)


def test_an_unwritable_cache_does_not_stop_the_load(tmp_path, monkeypatch, capsys):
    root = make_folder(tmp_path / "animals")
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path / "a-file"))

    assert len(load_dataset(root, image_size=16)) == 15
    assert "; not cached in " in capsys.readouterr().err


def test_a_bad_image_stops_the_pool_and_caches_nothing(tmp_path, small_tasks, kgan_cache_dir):
    root = make_folder(tmp_path / "animals")
    (root / "dog" / "broken.png").write_bytes(b"not a png")

    with pytest.raises(UsageError, match="broken.png"):
        image_folder.load_image_folder(root, image_size=16, workers=3)
    assert not (kgan_cache_dir / "image-folders").exists()


def test_too_little_memory_is_a_one_line_usage_error_before_decoding(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "animals")
    monkeypatch.setattr(image_folder, "available_memory", lambda: 100 << 20)
    refuse_decoding(monkeypatch)

    with pytest.raises(UsageError, match=r"15 images at 64x64x3 need about 0\.\d GiB of memory, 0\.1 GiB is") as error:
        load_dataset(root)
    assert len(str(error.value).splitlines()) == 1


def test_the_estimate_counts_every_pixel(monkeypatch):
    monkeypatch.setattr(image_folder, "available_memory", lambda: 10**9)
    image_folder.check_memory("folder", (1000, 100, 100, 3), overhead=10**9 - 30_000_000)
    with pytest.raises(UsageError, match="1,000 images at 100x100x3"):
        image_folder.check_memory("folder", (1000, 100, 100, 3), overhead=10**9 - 30_000_000 + 1)
    monkeypatch.setattr(image_folder, "available_memory", lambda: None)  # unknown: no check
    image_folder.check_memory("folder", (10**6, 256, 256, 3), overhead=0)


@pytest.mark.skipif(not os.path.exists("/proc/meminfo"), reason="reads /proc/meminfo")
def test_available_memory_reads_meminfo():
    assert 0 < image_folder.available_memory() < os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_progress_and_the_cache_are_reported_on_stderr(tmp_path, capsys):
    root = make_folder(tmp_path / "animals")

    load_dataset(root, image_size=16)
    first = capsys.readouterr().err.splitlines()
    load_dataset(root, image_size=16)
    second = capsys.readouterr().err.splitlines()

    assert first[0].startswith(f"Decoding 15 images of {root} (16x16x3) on ")
    assert first[-1].startswith("Decoded 15 images in ")
    assert first[-1].endswith(f"; cached in {folder_cache.cache_file(root, 16, 'RGB')}")
    assert second == [f"Read 15 images of {root} (16x16x3) from the cache {folder_cache.cache_file(root, 16, 'RGB')}"]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_is_one_redrawn_line(tmp_path, monkeypatch, small_tasks):
    root = make_folder(tmp_path / "animals")
    monkeypatch.setattr(image_folder, "TERMINAL_REDRAW_S", 0.0)
    monkeypatch.setattr(sys, "stderr", Terminal())

    image_folder.load_image_folder(root, image_size=16, workers=2)

    progress, done, _ = sys.stderr.getvalue().split("\n")
    redraws = progress.split("\r")[1:]
    assert redraws[0].endswith(": 0/15") and redraws[-1].endswith(": 15/15") and len(redraws) > 3
    assert done.startswith("Decoded 15 images in ")
