"""write_samples' writer threads: the same files whatever their number, and nothing left when one fails."""

import threading

import pytest

from kgan import imaging
from kgan.errors import KganError, UsageError
from kgan.runtime import OnnxGenerator, write_samples
from tests.helpers import file_tree, fill_the_disk_after, leftovers


def writer_threads():
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("kgan-writer")]


@pytest.mark.parametrize("batch_size", [7, 256])
def test_png_files_are_the_same_whatever_the_number_of_threads(conditional_model, tmp_path, batch_size):
    generator = OnnxGenerator(conditional_model)
    trees = {}
    for threads in (1, 2, 5):
        out = tmp_path / f"threads-{threads}"
        write_samples(generator, out, 50, seed=3, truncation=1.5, batch_size=batch_size, threads=threads)
        trees[threads] = file_tree(out)

    assert trees[2] == trees[1] and trees[5] == trees[1]
    # the serial writer wrote imaging.png_bytes of each image: so do the threads
    images, labels = generator.generate(50, seed=3, truncation=1.5)
    folders = ["0_cat", "1_dog", "2_hot_dog_bun"]
    expected = {f"{folders[label]}/{index:02d}.png": imaging.png_bytes(image)
                for index, (image, label) in enumerate(zip(images, labels))}  # fmt: skip
    assert {name: data for name, data in trees[1].items() if name != "manifest.csv"} == expected
    assert trees[1]["manifest.csv"].decode().splitlines()[1] == "0_cat/00.png,0,cat,3,0"


def test_npz_is_the_same_whatever_the_number_of_threads(rgb_model, tmp_path):
    generator = OnnxGenerator(rgb_model)
    for threads in (1, 4):
        write_samples(generator, tmp_path / f"threads-{threads}", 20, batch_size=3, format="npz", threads=threads)

    assert file_tree(tmp_path / "threads-1") == file_tree(tmp_path / "threads-4")


def test_a_failing_writer_thread_stops_the_run_and_leaves_nothing(conditional_model, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    fill_the_disk_after(monkeypatch, 10)

    with pytest.raises(KganError) as error:
        write_samples(OnnxGenerator(conditional_model), out, 60, batch_size=8, overwrite=True, threads=3)

    assert str(error.value) == f"could not write {out}: No space left on device"
    assert [path.name for path in out.iterdir()] == ["keep.txt"]
    assert not leftovers(out)
    assert not writer_threads()


def test_an_interrupted_run_leaves_nothing_and_no_thread(conditional_model, tmp_path):
    def interrupt_after_the_first_batch(count):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_samples(OnnxGenerator(conditional_model), tmp_path / "out", 40, batch_size=4, threads=2,
                      progress=interrupt_after_the_first_batch)  # fmt: skip

    assert not (tmp_path / "out").exists()
    assert not leftovers(tmp_path / "out")
    assert not writer_threads()


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_threads_must_be_a_positive_integer(conditional_model, tmp_path, threads):
    with pytest.raises(UsageError, match="threads must be a positive integer"):
        write_samples(OnnxGenerator(conditional_model), tmp_path / "out", 2, threads=threads)

    assert not (tmp_path / "out").exists()
