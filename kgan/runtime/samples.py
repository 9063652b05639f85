"""Generated images on disk: PNG files in one folder per class, or one .npz; plus manifest.csv."""

import collections
import contextlib
import csv
import functools
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from kgan import fileio, imaging
from kgan.errors import KganError, UsageError
from kgan.runtime.npz import NpzStreamWriter

FORMATS = ("png", "npz")
MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("file", "label", "class_name", "seed", "index")
NPZ_FILE = "samples.npz"
MAX_FOLDER_NAME = 64
MAX_THREADS = 8
# Batches the writer threads may still be writing while onnxruntime makes the next: one
# overlaps them (measured: two write no faster on 2 cores), and memory stays flat.
BATCHES_IN_FLIGHT = 1
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)  # O_BINARY: Windows only


def write_samples(
    generator,
    out,
    n,
    labels=None,
    seed=0,
    truncation=None,
    temperature=None,
    batch_size=256,
    format="png",
    overwrite=False,
    progress=None,
    threads=None,
):
    """Generates `n` images into folder `out`, which appears whole or not at all.

    png: `out/<class folder>/<index>.png` (`out/<index>.png` when unconditional).
    npz: `out/samples.npz` with `x` (uint8 [n, H, W, C]) and `y` (int64 [n]).
    Both: `out/manifest.csv` with columns file, label, class_name, seed, index.
    Writer threads encode and write a batch while onnxruntime makes the next; the files
    are the same whatever their number. Memory stays flat: while onnxruntime makes a batch,
    at most BATCHES_IN_FLIGHT earlier ones wait for their files. Staging folders that a
    killed run left for `out` are removed first (see fileio.remove_stale_staging).

    Args:
        generator: an OnnxGenerator.
        out: the output folder.
        n, labels, seed, truncation, temperature, batch_size: as for `OnnxGenerator.iter_batches`.
        format: "png" or "npz".
        overwrite: replace `out` when it already holds files.
        progress: optional callable, given the image count of each finished batch.
        threads: threads encoding and writing PNG files (npz is written by one, in order);
            default `default_threads()`.
    """
    if format not in FORMATS:
        raise UsageError(f"format must be png or npz, not {format!r}")
    threads = default_threads() if threads is None else threads
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise UsageError(f"threads must be a positive integer, not {threads!r}")
    batches = generator.iter_batches(n, labels, seed, truncation, temperature, batch_size)
    out = Path(out).absolute()
    fileio.check_output_folder(out, overwrite)
    open_sink = functools.partial(_png_sink, threads=threads) if format == "png" else _npz_sink
    try:
        with (
            fileio.staged_directory(out) as staging,
            open(staging / MANIFEST, "w", newline="", encoding="utf-8") as manifest_file,
            open_sink(staging, n, generator) as write_batch,
        ):
            manifest = csv.writer(manifest_file)
            manifest.writerow(MANIFEST_COLUMNS)
            in_flight = collections.deque()
            start = 0
            for images, batch_labels in batches:
                indices = range(start, start + len(images))
                files, tasks = write_batch(indices, images, batch_labels)
                in_flight.append((tasks, len(images)))
                manifest.writerows(
                    (file, *_label_columns(generator, label), seed, index)
                    for file, label, index in zip(files, batch_labels.tolist(), indices)
                )
                start += len(images)
                while len(in_flight) > BATCHES_IN_FLIGHT:
                    _wait_for_batch(*in_flight.popleft(), progress)
            while in_flight:
                _wait_for_batch(*in_flight.popleft(), progress)
    except OSError as error:
        raise KganError(f"could not write {out}: {error.strerror or error}") from error


def default_threads():
    """write_samples' default number of writer threads: one per CPU core, at most MAX_THREADS."""
    return min(os.cpu_count() or 1, MAX_THREADS)


def class_folder_names(num_classes, class_names=()):
    """Folder names per class, `<index>_<name>` or `<index>`, sorting in class order.

    A class is unnamed when it has no name or its name is its index (as MNIST's digits).

    The index is zero-padded so that tools sorting folder names alphabetically (e.g.
    keras.utils.image_dataset_from_directory) number the classes as the generator does.

    Args:
        num_classes: number of classes (0 gives no folders).
        class_names: names of the classes, or empty when unnamed.
    """
    width = len(str(max(num_classes - 1, 0)))
    folders = []
    for index in range(num_classes):
        name = _filesystem_safe(class_names[index]) if class_names else ""
        name = "" if name == str(index) else name
        folders.append(f"{index:0{width}d}_{name}" if name else f"{index:0{width}d}")
    return folders


@contextlib.contextmanager
def _png_sink(folder, n, generator, threads):
    """Yields write_batch(indices, images, labels) -> (file names, tasks writing one PNG per image)."""
    class_folders = class_folder_names(generator.num_classes, generator.class_names)
    for class_folder in class_folders:
        (folder / class_folder).mkdir()
    width = len(str(n - 1))

    with _writer_threads(threads) as pool:

        def write_batch(indices, images, labels):
            files = [f"{index:0{width}d}.png" for index in indices]
            if class_folders:
                files = [f"{class_folders[label]}/{file}" for file, label in zip(files, labels)]
            share = -(-len(files) // threads)  # each thread one share of the batch
            tasks = [
                pool.submit(_write_pngs, folder, files[start : start + share], images[start : start + share])
                for start in range(0, len(files), share)
            ]
            return files, tasks

        yield write_batch


@contextlib.contextmanager
def _npz_sink(folder, n, generator):
    """Yields write_batch(indices, images, labels) -> (file names, task), streaming into one .npz.

    One thread appends the batches, in the order they come.
    """
    labels = []
    with NpzStreamWriter(folder / NPZ_FILE) as npz:
        npz.begin("x", (n, *generator.image_shape), np.uint8)
        with _writer_threads(1) as pool:

            def write_batch(indices, images, batch_labels):
                labels.append(batch_labels)
                return [NPZ_FILE] * len(images), [pool.submit(npz.append, images)]

            yield write_batch
        npz.begin("y", (n,), np.int64)
        npz.append(np.concatenate(labels))


@contextlib.contextmanager
def _writer_threads(threads):
    """Yields a thread pool; on leaving, its queued tasks are dropped and its running ones awaited.

    So a failure leaves no thread writing into a staging folder about to be removed.
    """
    pool = ThreadPoolExecutor(threads, thread_name_prefix="kgan-writer")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _write_pngs(folder, files, images):
    """Writes one PNG file per image, through plain os calls: with pathlib's buffered files the
    writer threads wait for each other's GIL (measured: two threads no faster than one)."""
    for file, image in zip(files, images):
        data = memoryview(imaging.png_bytes(image))
        descriptor = os.open(os.path.join(folder, file), _NEW_FILE_FLAGS, 0o666)
        try:
            while data:
                data = data[os.write(descriptor, data) :]
        finally:
            os.close(descriptor)


def _wait_for_batch(tasks, count, progress):
    """Waits for a batch's writer tasks, raising the first one's error; then reports its `count` images."""
    for task in tasks:
        task.result()
    if progress is not None:
        progress(count)


def _label_columns(generator, label):
    """The manifest's label and class_name cells (both empty when unconditional)."""
    if label < 0:
        return "", ""
    return label, generator.class_names[label] if generator.class_names else ""


def _filesystem_safe(name):
    safe = re.sub(r"[^\w.-]+", "_", name).strip("._")
    return safe[:MAX_FOLDER_NAME]
