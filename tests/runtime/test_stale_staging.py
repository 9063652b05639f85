"""A killed `kgan generate` leaves its staging folder; the next run for the same --out removes it.

A staging folder that a running generate is still writing is left alone: each run holds an
advisory lock on its staging folder, which the system drops when the process dies.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

MODEL = Path(__file__).parent / "data" / "stream_rgb.onnx"
GENERATE = "from cli.main import cli; cli()"
STARTUP_TIMEOUT_S = 60


def staging_folders(out):
    return sorted(out.parent.glob(f".{out.name}.*.partial"))


def start_endless_generate(out):
    """A `kgan generate` subprocess that runs until killed, once its staging folder holds a PNG file."""
    process = subprocess.Popen(
        [sys.executable, "-c", GENERATE, "generate", str(MODEL), "-n", "10000000", "--out", str(out), "--threads", "1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not any(next(folder.rglob("*.png"), None) for folder in staging_folders(out)):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"generate did not start writing: {process.communicate()[1].decode()[-2000:]}")
        time.sleep(0.05)
    return process


@pytest.mark.skipif(sys.platform == "win32", reason="staging folders are locked with flock (POSIX)")
def test_the_next_run_removes_a_killed_runs_staging_and_spares_a_running_one(kgan, conditional_model, tmp_path):
    out = tmp_path / "out"
    unrelated = [".out.keep", ".other.abcdefgh.partial", ".out.abcdefgh.partial.old", ".out.abcdefgh.aside"]
    for name in unrelated:
        (tmp_path / name).mkdir()
    running = start_endless_generate(out)
    try:
        (running_staging,) = staging_folders(out)

        result = kgan("generate", conditional_model, "-n", 3, "--out", out)

        assert result.exit_code == 0, result.output
        assert running.poll() is None
        assert staging_folders(out) == [running_staging]  # still being written: left alone
        running.send_signal(signal.SIGKILL)
        running.wait(timeout=30)
        assert running_staging.is_dir()  # what a killed run leaves

        result = kgan("generate", conditional_model, "-n", 3, "--out", out, "--overwrite")

        assert result.exit_code == 0, result.output
        assert not staging_folders(out)
        assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["out", *unrelated])
        assert sorted(path.name for path in out.iterdir()) == ["0_cat", "1_dog", "2_hot_dog_bun", "manifest.csv"]
    finally:
        running.kill()
        running.wait(timeout=30)
        running.stderr.close()
