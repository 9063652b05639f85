"""Generated images on disk: PNG files in one folder per class, or one .npz; plus manifest.csv."""

import contextlib
import csv
import os
import re
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


def write_samples(
    generator,
    out,
    n,
    labels=None,
    seed=0,
    truncation=None,
    temperature=1.0,
    batch_size=256,
    format="png",
    overwrite=False,
    progress=None,
):
    """Generates `n` images into folder `out`, which appears whole or not at all.

    png: `out/<class folder>/<index>.png` (`out/<index>.png` when unconditional).
    npz: `out/samples.npz` with `x` (uint8 [n, H, W, C]) and `y` (int64 [n]).
    Both: `out/manifest.csv` with columns file, label, class_name, seed, index.
    Memory stays flat: images are written batch by batch.

    Args:
        generator: an OnnxGenerator.
        out: the output folder.
        n, labels, seed, truncation, temperature, batch_size: as for `OnnxGenerator.iter_batches`.
        format: "png" or "npz".
        overwrite: replace `out` when it already holds files.
        progress: optional callable, given the image count of each finished batch.
    """
    if format not in FORMATS:
        raise UsageError(f"format must be png or npz, not {format!r}")
    batches = generator.iter_batches(n, labels, seed, truncation, temperature, batch_size)
    out = Path(out).absolute()
    _check_destination(out, overwrite)
    open_sink = _png_sink if format == "png" else _npz_sink
    try:
        with (
            fileio.staged_directory(out) as staging,
            open(staging / MANIFEST, "w", newline="", encoding="utf-8") as manifest_file,
            open_sink(staging, n, generator) as write_batch,
        ):
            manifest = csv.writer(manifest_file)
            manifest.writerow(MANIFEST_COLUMNS)
            start = 0
            for images, batch_labels in batches:
                indices = range(start, start + len(images))
                files = write_batch(indices, images, batch_labels)
                for file, label, index in zip(files, batch_labels, indices):
                    manifest.writerow((file, *_label_columns(generator, int(label)), seed, index))
                start += len(images)
                if progress is not None:
                    progress(len(images))
    except OSError as error:
        raise KganError(f"could not write {out}: {error.strerror or error}") from error


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
def _png_sink(folder, n, generator):
    """Yields write_batch(indices, images, labels) -> file names, one PNG per image."""
    class_folders = class_folder_names(generator.num_classes, generator.class_names)
    for class_folder in class_folders:
        (folder / class_folder).mkdir()
    width = len(str(n - 1))

    def write_batch(indices, images, labels):
        files = []
        for index, image, label in zip(indices, images, labels):
            file = f"{index:0{width}d}.png"
            if class_folders:
                file = f"{class_folders[label]}/{file}"
            (folder / file).write_bytes(imaging.png_bytes(image))
            files.append(file)
        return files

    yield write_batch


@contextlib.contextmanager
def _npz_sink(folder, n, generator):
    """Yields write_batch(indices, images, labels) -> file names, streaming into one .npz."""
    labels = []
    with NpzStreamWriter(folder / NPZ_FILE) as npz:
        npz.begin("x", (n, *generator.image_shape), np.uint8)

        def write_batch(indices, images, batch_labels):
            npz.append(images)
            labels.append(batch_labels)
            return [NPZ_FILE] * len(images)

        yield write_batch
        npz.begin("y", (n,), np.int64)
        npz.append(np.concatenate(labels))


def _label_columns(generator, label):
    """The manifest's label and class_name cells (both empty when unconditional)."""
    if label < 0:
        return "", ""
    return label, generator.class_names[label] if generator.class_names else ""


def _filesystem_safe(name):
    safe = re.sub(r"[^\w.-]+", "_", name).strip("._")
    return safe[:MAX_FOLDER_NAME]


def _check_destination(out, overwrite):
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder: choose another output folder")
    if fileio.is_nonempty_dir(out) and not overwrite:
        raise UsageError(
            f"{out} already exists and is not empty: use --overwrite to replace it, or choose another output folder"
        )
    nearest = next(folder for folder in out.parents if folder.exists())
    if not nearest.is_dir():
        raise UsageError(f"cannot create {out}: {nearest} is a file, not a folder")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise UsageError(f"cannot create {out}: no permission to write in {nearest}")
