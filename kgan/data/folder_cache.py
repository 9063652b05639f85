"""Decoded image folders cached on disk: `$KGAN_CACHE_DIR/image-folders/` (default `~/.cache/kgan`).

One `.npz` per folder, image size and channels holds the uint8 images, the labels, the
class names and the key they were decoded under: a digest of the cache format, the
decoding (crop, resampling, Pillow's version), the image size and channels, and every
file's path, size and modification time. A file whose key is not the folder's current
one is never read; the next decode replaces it, so each folder keeps one file per size.
"""

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np

from kgan import fileio
from kgan.cache import cache_root

FORMAT = "kgan-image-folder-cache-1"  # change it when the file's layout changes, to retire old files
SUBFOLDER = "image-folders"
FREE_SPACE_MARGIN = 1 << 30  # bytes a cache write must leave free on its disk


def cache_file(folder, side, mode):
    """Where the decoded `folder` at `side` x `side` in pillow `mode` ("L" or "RGB") is cached."""
    folder = Path(folder).resolve()
    readable = re.sub(r"[^\w.-]", "_", folder.name) or "root"
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    return cache_root() / SUBFOLDER / f"{readable}-{digest}-{side}px-{mode}.npz"


def folder_key(folder, files, side, mode, decoding):
    """Hex digest of everything the decoded array depends on.

    Args:
        folder: the image folder.
        files: its image files, in decoding order.
        side: the images' side after decoding.
        mode: pillow mode they are converted to, "L" or "RGB".
        decoding: description of the crop and resampling, with the decoder's version.
    """
    entries = []
    for path in files:
        stat = path.stat()
        entries.append([path.relative_to(folder).as_posix(), stat.st_size, stat.st_mtime_ns])
    description = {"format": FORMAT, "decoding": decoding, "side": side, "mode": mode, "files": entries}
    return hashlib.sha256(json.dumps(description).encode()).hexdigest()


def read(path, key, shape):
    """The cached (images, labels, class names) at `path` if they were decoded under `key`, else None.

    A missing, stale, truncated or otherwise damaged file reads as None (the zip
    members' checksums catch damaged bytes).

    Args:
        path: the cache file.
        key: the folder's current folder_key.
        shape: the images' expected shape, N x side x side x channels.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            if str(archive["key"]) != key:
                return None
            images, labels, class_names = archive["images"], archive["labels"], archive["class_names"].tolist()
    except Exception:  # a damaged file raises BadZipFile, ValueError, EOFError, KeyError, OSError, ...
        return None
    if images.dtype != np.uint8 or images.shape != tuple(shape):
        return None
    if not class_names:
        return images, None, []
    if labels.dtype != np.int64 or labels.shape != (len(images),):
        return None
    return images, labels, class_names


def write(path, key, images, labels, class_names):
    """Writes the decoded folder to `path` atomically (readers see the old file or the new one).

    Raises:
        OSError: the folder cannot be written, or the file would leave less than
            FREE_SPACE_MARGIN free on its disk.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(path.parent).free
    if free < images.nbytes + FREE_SPACE_MARGIN:
        raise OSError(f"{images.nbytes / 2**30:.1f} GiB would leave less than 1 GiB free ({free / 2**30:.1f} GiB)")
    labels = np.zeros(0, np.int64) if labels is None else labels
    with fileio.atomic_path(path) as temporary, open(temporary, "wb") as file:
        np.savez(file, key=np.array(key), images=images, labels=labels, class_names=np.array(class_names, str))
