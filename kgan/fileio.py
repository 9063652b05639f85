"""Atomic writes: a reader sees the old file or folder, or the new one, never half of one."""

import contextlib
import ctypes
import errno
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from kgan.errors import UsageError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so no staging folder is ever judged stale
    fcntl = None

# atomic_path's temporary names: "." + final name + "." + mkstemp's 8 random characters + ".tmp" + suffix
_TEMPORARY_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp(\.\w+)?")
# staged_directory's folder names, after "." + final name + ".": mkdtemp's 8 random characters + ".partial";
# replace_directory's name for the old folder while it swaps without an atomic exchange: the same with ".replaced"
_STAGING_SUFFIX = r"[a-z0-9_]{8}\.partial"
_REPLACED_SUFFIX = r"[a-z0-9_]{8}\.replaced"
# renameat2(2) on Linux: swaps two paths in one step
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


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


def check_output_folder(out, overwrite):
    """Raises UsageError unless folder `out` can be written whole: call it before any work.

    Args:
        out: the output folder; it may not exist yet.
        overwrite: whether an `out` that holds files may be replaced.
    """
    out = Path(out).absolute()
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder: choose another output folder")
    if is_nonempty_dir(out) and not overwrite:
        raise UsageError(
            f"{out} already exists and is not empty: use --overwrite to replace it, or choose another output folder"
        )
    check_creatable(out.parent, f"cannot create {out}")


def check_creatable(folder, failure, remedy=""):
    """Raises UsageError unless `folder` exists or can be made, writable.

    Args:
        folder: the folder that must be writable.
        failure: what cannot be done when it is not, e.g. "cannot create OUT": the message's start.
        remedy: what to do instead, the message's end (e.g. "; set X to another folder").
    """
    folder = Path(folder).absolute()
    nearest = next(path for path in (folder, *folder.parents) if path.exists())
    if not nearest.is_dir():
        raise UsageError(f"{failure}: {nearest} is a file, not a folder{remedy}")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise UsageError(f"{failure}: no permission to write in {nearest}{remedy}")


@contextlib.contextmanager
def staged_directory(path):
    """Yields a fresh staging folder beside `path`; on success it replaces `path` whole.

    Whatever was at `path` stays untouched until the new content is complete; on
    failure the staging folder is removed and `path` is as it was. The staging folder
    is locked (an advisory lock, see remove_stale_staging) until then. What a killed
    earlier call left beside `path` is cleaned up first (remove_stale_staging).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(path)
    staging, lock = _new_locked_staging(path)
    try:
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes it owner-only; the result is an ordinary folder
        yield staging
        replace_directory(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # after a swap, the old content
        if lock is not None:
            os.close(lock)


def remove_stale_staging(path):
    """Cleans up beside `path` after a staged_directory that was killed: `path` is then whole, old or new.

    Staging folders are removed. An old folder that replace_directory had moved aside
    (where it cannot swap in one step) comes back to `path` when `path` is missing (the
    kill fell between its two renames), and is removed otherwise. Only folders named as
    staged_directory names them for `path` are candidates, and only those whose lock
    nobody holds: a running staged_directory holds its folders' locks, and the system
    drops the locks of a process that dies, however it dies. Where folders cannot be
    locked (Windows; NFS) nothing is touched.

    Args:
        path: the final folder, as given to staged_directory.
    """
    path = Path(path)
    prefix = re.escape(f".{path.name}.")
    staging_name = re.compile(f"{prefix}(?:{_STAGING_SUFFIX}|{_REPLACED_SUFFIX})")
    try:
        candidates = sorted(entry for entry in path.parent.iterdir() if staging_name.fullmatch(entry.name))
    except OSError:  # no parent folder yet: nothing was staged there
        return
    for folder in candidates:
        if folder.is_symlink() or not folder.is_dir():
            continue
        lock = _try_lock(folder, wait=False)
        if lock is None:
            continue  # a live staged_directory's, or one that cannot be told
        try:
            if folder.name.endswith(".replaced") and not os.path.lexists(path):
                os.replace(folder, path)
            else:
                shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(lock)


def replace_directory(source, target):
    """Moves folder `source` onto `target`; what was at `target` ends up at `source`'s name.

    On Linux the two are swapped in one step (renameat2 RENAME_EXCHANGE), so `target`
    is never missing. Elsewhere the old folder is renamed aside (locked) and `source`
    renamed onto `target`: a kill between the two leaves `target` missing until the next
    staged_directory for it, or remove_stale_staging, puts the old one back.
    """
    source, target = Path(source), Path(target)
    if not target.exists():
        os.replace(source, target)
        return
    if _exchange(source, target):
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".replaced", dir=target.parent))
    old.rmdir()
    os.replace(target, old)
    lock = _try_lock(old, wait=False)
    try:
        os.replace(source, target)
    except BaseException:
        os.replace(old, target)
        raise
    finally:
        if lock is not None:
            os.close(lock)
    os.replace(old, source)


def _exchange(first, second):
    """Swaps two paths in one step; False where the system cannot (not Linux, an old kernel or filesystem)."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # a C library older than glibc 2.28
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


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
