"""Atomic writes keep ordinary permissions and leave nothing behind on failure."""

import os

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
