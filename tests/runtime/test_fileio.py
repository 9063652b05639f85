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
