"""Image folders (one subfolder per class) decoded on every core into uint8 arrays, cached on disk.

The first load checks that the array fits in memory, decodes the files on a pool of
threads with its progress on stderr, and caches the result (kgan.data.folder_cache); a
later load of the unchanged folder at the same size and channels reads the cache instead.
Threads rather than processes: they start at once and share the output array, and a
process pool would re-import the caller's main module (keras, seconds) or fork a
multithreaded TensorFlow or JAX process.
"""

import concurrent.futures
import os
import sys
import time
from pathlib import Path

import numpy as np

from kgan.config import check_image_size
from kgan.data import folder_cache
from kgan.errors import UsageError, first_line

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
DEFAULT_FOLDER_IMAGE_SIZE = 64
FILES_PER_TASK = 64  # a pool task: small enough for a smooth progress line, large enough to cost little to schedule
# Memory beyond the decoded array: per thread, a source image decoded, converted and cropped (up to 4 bytes a
# pixel each), and a fixed allowance for the rest of the process.
SOURCE_BYTES_PER_PIXEL = 12
MEMORY_ALLOWANCE = 256 << 20
TERMINAL_REDRAW_S = 0.2  # progress on a terminal: one line, redrawn at most this often
LOG_LINE_S = 30.0  # progress elsewhere (a log file): one line per this many seconds


def load_image_folder(folder, channels=None, image_size=None, workers=None):
    """Decodes an image folder, or reads it from the cache when it has not changed since.

    Each image's centre square is resized to `image_size` (Lanczos).

    Args:
        folder: a Path whose subfolders are the classes (sorted by name), or which holds
            unlabelled images itself.
        channels: 1 or 3; None: the first image's (1 when it is grayscale, else 3).
        image_size: side length; None: DEFAULT_FOLDER_IMAGE_SIZE.
        workers: decoding threads; None: one per available core.

    Returns:
        uint8 images N x side x side x channels, int64 labels (None when unlabelled) and the class names.
    """
    groups = _class_groups(folder)
    files = [path for _, paths in groups for path in paths]
    sample_mode, sample_pixels = _first_image(files[0])
    mode = {1: "L", 3: "RGB"}.get(channels) or sample_mode
    side = check_image_size(image_size or DEFAULT_FOLDER_IMAGE_SIZE)
    shape = (len(files), side, side, 1 if mode == "L" else 3)
    workers = min(workers or available_cores(), -(-len(files) // FILES_PER_TASK))
    check_memory(folder, shape, workers * sample_pixels * SOURCE_BYTES_PER_PIXEL + MEMORY_ALLOWANCE)
    what = f"{len(files):,} images of {folder} ({'x'.join(map(str, shape[1:]))})"

    cache_path = folder_cache.cache_file(folder, side, mode)
    key = folder_cache.folder_key(folder, files, side, mode, _decoding())
    cached = folder_cache.read(cache_path, key, shape)
    if cached is not None:
        _say(f"Read {what} from the cache {cache_path}")
        return cached

    started = time.perf_counter()
    threads = f"{workers} thread{'s' if workers > 1 else ''}"
    images = _decode_all(files, mode, side, shape, workers, f"Decoding {what} on {threads}")
    labelled = groups[0][0] is not None
    counts = [len(paths) for _, paths in groups]
    labels = np.repeat(np.arange(len(groups), dtype=np.int64), counts) if labelled else None
    class_names = [name for name, _ in groups] if labelled else []
    done = f"Decoded {len(files):,} images in {time.perf_counter() - started:.1f} s"
    try:
        folder_cache.write(cache_path, key, images, labels, class_names)
        _say(f"{done}; cached in {cache_path}")
    except OSError as error:
        _say(f"{done}; not cached in {cache_path} ({first_line(error)})")
    return images, labels, class_names


def read_image(path, mode, side):
    """Reads one image, crops its centre square and resizes it to side x side x channels (Lanczos)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image = image.convert(mode)
            width, height = image.size
            crop = min(width, height)
            left, top = (width - crop) // 2, (height - crop) // 2
            image = image.crop((left, top, left + crop, top + crop))
            array = np.asarray(image.resize((side, side), Image.Resampling.LANCZOS))
    except Exception as error:
        raise _unreadable(path, error) from error
    return array[..., None] if array.ndim == 2 else array


def available_cores():
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def available_memory():
    """Bytes of memory a new allocation can have (MemAvailable, else free pages), or None when unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(folder, shape, overhead):
    """Raises a UsageError when uint8 images of `shape`, plus `overhead` bytes, will not fit in available memory."""
    needed = int(np.prod(shape, dtype=np.int64)) + overhead
    available = available_memory()
    if available is not None and needed > available:
        raise UsageError(
            f"{folder}: {shape[0]:,} images at {'x'.join(map(str, shape[1:]))} need about {needed / 2**30:.1f} GiB "
            f"of memory, {available / 2**30:.1f} GiB is available; use a smaller --image-size, --channels 1 "
            "or fewer images"
        )


def _class_groups(folder):
    """[(class name, its image files)] in label order; [(None, files)] when `folder` has no class subfolders."""
    class_folders = sorted(
        path for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".")
    )  # fmt: skip
    groups = [(name.name, _image_files(name)) for name in class_folders] or [(None, _image_files(folder))]
    groups = [(name, files) for name, files in groups if files]
    if not groups:
        raise UsageError(
            f"{folder} holds no PNG/JPEG images (nor IDX files); put images in one subfolder per class"
        )
    return groups


def _image_files(folder):
    with os.scandir(folder) as entries:  # DirEntry.is_file needs no stat call; folder_key makes the one needed
        return sorted(
            Path(entry.path) for entry in entries
            if entry.is_file() and os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES
        )  # fmt: skip


def _first_image(path):
    """The pillow mode ("L" or "RGB") a folder is read in by default, from its first image, and that image's pixels."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            mode = "L" if image.mode in ("1", "L", "LA", "I", "I;16") else "RGB"
            return mode, image.width * image.height
    except Exception as error:
        raise _unreadable(path, error) from error


def _decoding():
    import PIL

    return f"centre square, Lanczos, Pillow {PIL.__version__}"


def _decode_all(files, mode, side, shape, workers, title):
    """Decodes `files` into one uint8 array of `shape` on `workers` threads, showing progress under `title`."""
    images = np.empty(shape, np.uint8)
    progress = _Progress(len(files), title)
    pool = concurrent.futures.ThreadPoolExecutor(workers)
    try:
        tasks = [
            pool.submit(_decode_into, images, start, files[start : start + FILES_PER_TASK], mode, side)
            for start in range(0, len(files), FILES_PER_TASK)
        ]
        for task in concurrent.futures.as_completed(tasks):
            progress.advance(task.result())
    finally:
        pool.shutdown(cancel_futures=True)  # on a bad file or Ctrl-C, the queued tasks never start
        progress.close()
    return images


def _decode_into(images, start, paths, mode, side):
    for offset, path in enumerate(paths):
        images[start + offset] = read_image(path, mode, side)
    return len(paths)


class _Progress:
    """Decoded/total on stderr: one line redrawn on a terminal; elsewhere (a log file) the title, then a line
    every LOG_LINE_S.

    Args:
        total: the count of images to decode.
        title: what is being decoded.
    """

    def __init__(self, total, title):
        self.total, self.title, self.done = total, title, 0
        self.terminal = sys.stderr.isatty()
        self.interval = TERMINAL_REDRAW_S if self.terminal else LOG_LINE_S
        self.shown_at = time.perf_counter()
        if self.terminal:
            self._show()
        else:
            _say(title)

    def advance(self, count):
        self.done += count
        if time.perf_counter() - self.shown_at >= self.interval:
            self._show()

    def close(self):
        if self.terminal:
            self._show()
            sys.stderr.write("\n")

    def _show(self):
        counts = f"{self.done:,}/{self.total:,}"
        if self.terminal:
            sys.stderr.write(f"\r{self.title}: {counts}")
            sys.stderr.flush()
        else:
            _say(f"  {counts} decoded")
        self.shown_at = time.perf_counter()


def _say(line):
    print(line, file=sys.stderr, flush=True)


def _unreadable(path, error):
    return UsageError(f"cannot read image {path} ({first_line(error)}); remove or replace it")
