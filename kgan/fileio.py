"""Atomic writes: a reader sees the old file or folder, or the new one, never half of one."""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary path beside `path`; renames it onto `path` on success.

    Args:
        path: the final file path.
        suffix: ending the temporary name must keep (e.g. ".keras", which keras checks).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it owner-only; the result is an ordinary file
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_bytes(path, data):
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path, text):
    write_bytes(path, text.encode("utf-8"))


def is_nonempty_dir(path):
    path = Path(path)
    return path.is_dir() and any(path.iterdir())


@contextlib.contextmanager
def staged_directory(path):
    """Yields a fresh staging folder beside `path`; on success it replaces `path` whole.

    Whatever was at `path` stays untouched until the new content is complete; on
    failure the staging folder is removed and `path` is as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    staging.chmod(0o777 & ~_umask())  # mkdtemp makes it owner-only; the result is an ordinary folder
    try:
        yield staging
        replace_directory(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_directory(source, target):
    """Moves folder `source` onto `target`, removing what was at `target` only once it succeeded."""
    source, target = Path(source), Path(target)
    if not target.exists():
        os.replace(source, target)
        return
    old = move_aside(target)
    try:
        os.replace(source, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def move_aside(path):
    """Renames folder `path` to a fresh hidden name beside it and returns that name."""
    path = Path(path)
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".aside", dir=path.parent))
    aside.rmdir()
    os.replace(path, aside)
    return aside


def _umask():
    current = os.umask(0)
    os.umask(current)
    return current
