"""Atomic writes: a reader sees the old file or folder, or the new one, never half of one."""

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so no staging folder is ever judged stale
    fcntl = None

# atomic_path's temporary names: "." + final name + "." + mkstemp's 8 random characters + ".tmp" + suffix
_TEMPORARY_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp(\.\w+)?")
# staged_directory's folder names, after "." + final name + ".": mkdtemp's 8 random characters + ".partial"
_STAGING_SUFFIX = r"[a-z0-9_]{8}\.partial"


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
    failure the staging folder is removed and `path` is as it was. The staging folder
    is locked (an advisory lock, see remove_stale_staging) until then.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging, lock = _new_locked_staging(path)
    try:
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes it owner-only; the result is an ordinary folder
        yield staging
        replace_directory(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if lock is not None:
            os.close(lock)


def remove_stale_staging(path):
    """Removes the staging folders of `path` that staged_directory left behind in a killed process.

    Only folders beside `path` named as staged_directory names them for `path` are
    candidates, and only those whose lock nobody holds are removed: a running
    staged_directory holds its folder's lock, and the system drops the locks of a process
    that dies, however it dies. Where folders cannot be locked (Windows; NFS) none is removed.

    Args:
        path: the final folder, as given to staged_directory.
    """
    path = Path(path)
    staging_name = re.compile(re.escape(f".{path.name}.") + _STAGING_SUFFIX)
    try:
        candidates = [entry for entry in path.parent.iterdir() if staging_name.fullmatch(entry.name)]
    except OSError:  # no parent folder yet: nothing was staged there
        return
    for folder in candidates:
        if folder.is_symlink() or not folder.is_dir():
            continue
        lock = _try_lock(folder, wait=False)
        if lock is None:
            continue  # a live staged_directory's, or one that cannot be told
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(lock)


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


def _new_locked_staging(path):
    """A fresh staging folder beside `path` and the descriptor holding its lock (None where locks fail).

    A remove_stale_staging elsewhere may take the folder in the instant before it is locked:
    then another one is made.
    """
    while True:
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
        lock = _try_lock(staging, wait=True)
        if lock is None:
            if staging.is_dir():  # locks fail here: the folder stays unlocked, and is never judged stale
                return staging, None
        elif os.fstat(lock).st_nlink > 0:
            return staging, lock
        else:
            os.close(lock)


def _try_lock(folder, wait):
    """An open descriptor of `folder` holding its exclusive advisory lock, or None when it cannot be had.

    Args:
        folder: the folder to lock.
        wait: wait for a lock held elsewhere, rather than give up at once.
    """
    if fcntl is None:
        return None
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return None
    return descriptor


def _umask():
    current = os.umask(0)
    os.umask(current)
    return current
