"""Atomic writes keep ordinary permissions and leave nothing behind on failure."""

import os
import tempfile
from pathlib import Path

import pytest

from kgan import fileio


def test_atomic_file_has_umask_permissions(tmp_path):
    fileio.write_text(tmp_path / "a.txt", "hello")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask
    assert [path.name for path in tmp_path.iterdir()] == ["a.txt"]


def test_failed_atomic_write_keeps_the_old_file(tmp_path):
    fileio.write_text(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError):
        with fileio.atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert (tmp_path / "a.txt").read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["a.txt"]


def test_staged_directory_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with fileio.staged_directory(target) as staging:
            (staging / "new.txt").write_text("new")
            raise RuntimeError("crash")
    assert [path.name for path in target.iterdir()] == ["old.txt"]
    with fileio.staged_directory(target) as staging:
        (staging / "new.txt").write_text("new")
    assert [path.name for path in target.iterdir()] == ["new.txt"]
    assert [path.name for path in tmp_path.iterdir()] == ["out"]


def test_stale_temporaries_of_a_killed_writer_are_removed_and_nothing_else(tmp_path):
    fileio.write_text(tmp_path / "last.npz", "the last good checkpoint")
    killed = [fileio.atomic_path(tmp_path / "last.npz", suffix=".npz"), fileio.atomic_path(tmp_path / "history.csv")]
    for writer in killed:  # entered and never left, as when the process dies mid-write
        writer.__enter__().write_text("half")
    others = [".hidden.tmp", "notes.tmp", ".last.npz.tmp", "mine.txt"]
    for name in others:
        (tmp_path / name).write_text("keep")
    (tmp_path / "sub").mkdir()
    assert len(list(tmp_path.iterdir())) == 1 + len(killed) + len(others) + 1

    fileio.remove_stale_temporaries(tmp_path)

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["last.npz", "sub", *others])
    assert (tmp_path / "last.npz").read_text() == "the last good checkpoint"
    fileio.remove_stale_temporaries(tmp_path / "absent")  # a folder that is not there is fine


def test_stale_staging_folders_of_the_same_folder_are_removed_and_nothing_else(tmp_path):
    target = tmp_path / "out"
    stale = [Path(tempfile.mkdtemp(prefix=".out.", suffix=".partial", dir=tmp_path)) for _ in range(2)]
    (stale[0] / "0_cat").mkdir()
    (stale[0] / "0_cat" / "0.png").write_bytes(b"half")
    others = [".out.keep", ".outer.abcdefgh.partial", ".out.abcdefgh.partial.old", ".out.abcdefg.partial",
              "out.abcdefgh.partial", ".out.abcdefgh.aside", ".ou.abcdefgh.partial"]  # fmt: skip
    for name in others:
        (tmp_path / name).mkdir()
    (tmp_path / ".out.filefile.partial").write_text("a file, not a staging folder")
    (tmp_path / ".out.linklink.partial").symlink_to(tmp_path / ".out.keep")

    fileio.remove_stale_staging(target)

    assert not any(folder.exists() for folder in stale)
    expected = sorted([*others, ".out.filefile.partial", ".out.linklink.partial"])
    assert sorted(path.name for path in tmp_path.iterdir()) == expected
    fileio.remove_stale_staging(tmp_path / "absent" / "out")  # a parent that is not there is fine


def test_a_staging_folder_in_use_is_not_stale(tmp_path):
    target = tmp_path / "out"
    with fileio.staged_directory(target) as staging:
        (staging / "file.txt").write_text("being written")

        fileio.remove_stale_staging(target)

        assert (staging / "file.txt").read_text() == "being written"
    assert [path.name for path in tmp_path.iterdir()] == ["out"]
    assert (target / "file.txt").read_text() == "being written"


# Run in a child process that a test kills: stages NEW into argv[1] (which holds OLD), and hangs at the worst moment
# of the swap, after `out` got its new content (exchange) or lost its old one (two renames), announcing it.
SWAP_KILLED_HALFWAY = """
import os, shutil, sys, time
from kgan import fileio

out, mode = sys.argv[1], sys.argv[2]

def hang():
    print("halfway", flush=True)
    time.sleep(120)

if mode == "exchange":
    fileio.shutil.rmtree = lambda *args, **kwargs: hang()  # the swap is done; the old content awaits removal
else:
    fileio._exchange = lambda first, second: False  # as where renameat2 is missing
    real_replace = os.replace
    def replace_then_hang(source, target):
        real_replace(source, target)
        if str(target).endswith(".replaced"):
            hang()
    fileio.os.replace = replace_then_hang
with fileio.staged_directory(out) as staging:
    (staging / "content.txt").write_text("NEW")
"""


@pytest.mark.skipif(not hasattr(os, "fork") or fileio.fcntl is None, reason="needs POSIX processes and locks")
@pytest.mark.parametrize("mode, during", [("exchange", "NEW"), ("two-renames", None)])
def test_a_swap_killed_halfway_leaves_the_folder_whole_after_the_next_run(tmp_path, mode, during):
    import signal
    import subprocess
    import sys

    out = tmp_path / "out"
    out.mkdir()
    (out / "content.txt").write_text("OLD")
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", SWAP_KILLED_HALFWAY, str(out), mode], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(root)}, cwd=root,
    )  # fmt: skip
    try:
        assert child.stdout.readline().strip() == "halfway"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()

    # Killed: `out` holds the new content (one-step swap) or is missing (two renames), the old one hidden beside it.
    assert (out / "content.txt").read_text() == during if during else not out.exists()
    hidden = sorted(path for path in tmp_path.iterdir() if path.name.startswith(".out."))
    assert [(path / "content.txt").read_text() for path in hidden].count("OLD") == 1

    fileio.remove_stale_staging(out)  # what the next staged_directory for `out` does first

    assert (out / "content.txt").read_text() == (during or "OLD")
    assert [path.name for path in tmp_path.iterdir()] == ["out"]
