"""Atomic writes: a reader sees the old file or folder, or the new one, never half of one."""

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

# atomic_path's temporary names: "." + final name + "." + mkstemp's 8 random characters + ".tmp" + suffix
_TEMPORARY_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp(\.\w+)?")


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


def remove_stale_temporaries(folder):
    """Removes what atomic_path left in `folder` (not below it) when a process was killed mid-write.

    Only names of atomic_path's own pattern are touched. Call it only where no other
    process may be writing at the same time.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.is_file() and _TEMPORARY_NAME.fullmatch(path.name):
            path.unlink()


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
