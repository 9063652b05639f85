"""Runs that stop where nobody planned: a failure inside a train step, a kill while the checkpoint
is written, and a run resumed on the other backend. Each must end where an uninterrupted run does."""

import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from kgan.config import TrainConfig
from kgan.formats import run_folder
from kgan.gan import DCGAN
from kgan.training.builder import build_model, prepare_data
from kgan.training.checkpoint import load_checkpoint, save_checkpoint
from kgan.training.run import resume_run, start_run
from tests.conftest import ROOT, TINY
from tests.helpers import checkpoint_arrays

CONFIG = TrainConfig(**{**TINY, "epochs": 3})
ONE_EPOCH = ROOT / "tests" / "fixtures" / "one_epoch"  # tests/fixtures/make_fixtures.py


def assert_same_state(expected_dir, actual_dir, rtol=1e-6, atol=1e-7):
    expected, actual = checkpoint_arrays(expected_dir), checkpoint_arrays(actual_dir)
    assert expected.keys() == actual.keys()
    for key in expected:
        np.testing.assert_allclose(actual[key], expected[key], rtol=rtol, atol=atol, err_msg=key)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("uninterrupted") / "run"
    start_run(CONFIG, run_dir, verbose=0)
    return run_dir


def test_failure_inside_a_step_mid_epoch_then_resume(uninterrupted, tmp_path, monkeypatch):
    calls = []
    make_train_function = DCGAN.make_train_function

    def failing_train_function(self, force=False):
        make_train_function(self, force)
        step = self.train_function

        def train_function(*args, **kwargs):
            calls.append(None)
            if len(calls) == TINY["steps_per_epoch"] + 1:  # the first step of epoch 2
                raise RuntimeError("simulated device failure inside the train step")
            return step(*args, **kwargs)

        self.train_function = train_function
        return train_function

    monkeypatch.setattr(DCGAN, "make_train_function", failing_train_function)
    run_dir = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulated device failure"):
        start_run(CONFIG, run_dir, verbose=0)
    monkeypatch.undo()
    assert int(checkpoint_arrays(run_dir)["epoch"]) == 1
    assert not run_folder.sample_grid_path(run_dir, 2).exists()

    result = resume_run(run_dir, verbose=0)

    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert_same_state(uninterrupted, run_dir)


KILLED_WHILE_CHECKPOINTING = """
import os, sys
import numpy as np
from kgan.config import TrainConfig
from kgan.training.run import start_run

savez = np.savez

def savez_then_die(path, **arrays):
    if int(arrays["epoch"]) == 2:  # half a file, then the process dies as under SIGKILL: no cleanup runs
        with open(path, "wb") as file:
            file.write(b"PK\\x03\\x04" + bytes(1000))
        os._exit(137)
    savez(path, **arrays)

np.savez = savez_then_die
start_run(TrainConfig(**{config}), sys.argv[1], verbose=0)
"""


def test_kill_while_the_checkpoint_is_written_then_resume(uninterrupted, tmp_path):
    run_dir = tmp_path / "run"
    script = KILLED_WHILE_CHECKPOINTING.replace("{config}", repr(CONFIG.to_dict()))
    environment = dict(os.environ, KERAS_BACKEND=keras.config.backend(), TF_CPP_MIN_LOG_LEVEL="3")
    killed = subprocess.run(
        [sys.executable, "-c", script, str(run_dir)], cwd=ROOT, env=environment, capture_output=True, timeout=300
    )
    assert killed.returncode == 137, killed.stderr.decode()[-2000:]
    checkpoints = run_dir / run_folder.CHECKPOINT_FILE.parent
    leftovers = [path.name for path in checkpoints.iterdir() if path.name != run_folder.CHECKPOINT_FILE.name]
    assert len(leftovers) == 1 and leftovers[0].startswith(".last.npz."), leftovers
    assert int(checkpoint_arrays(run_dir)["epoch"]) == 1  # the last good checkpoint is whole

    resume_run(run_dir, verbose=0)

    assert_same_state(uninterrupted, run_dir)
    assert sorted(path.name for path in checkpoints.iterdir()) == [run_folder.CHECKPOINT_FILE.name]


@pytest.mark.parametrize("trained_on", ["tensorflow", "jax"])
def test_resume_a_run_trained_on_either_backend(trained_on, tmp_path):
    """One epoch trained on `trained_on` (a committed fixture), the second on this backend.

    The backends draw different random numbers from the same seed, so the second epoch
    cannot follow the other backend's; what must hold is that every variable crosses
    over exactly and that the continuation is the same each time.
    """
    description = json.loads((ONE_EPOCH / trained_on / run_folder.CONFIG_FILE).read_text())
    assert description["backend"] == trained_on
    dataset, config = prepare_data(TrainConfig.from_dict(description["train"]))
    model = build_model(config, dataset)
    epoch, history = load_checkpoint(ONE_EPOCH / trained_on / run_folder.CHECKPOINT_FILE, model)
    assert epoch == 1 and len(history) == 1
    save_checkpoint(tmp_path / run_folder.CHECKPOINT_FILE, model, epoch, history)
    stored, reloaded = checkpoint_arrays(ONE_EPOCH / trained_on), checkpoint_arrays(tmp_path)
    assert reloaded.keys() == stored.keys()
    for key in stored:
        np.testing.assert_array_equal(reloaded[key], stored[key], err_msg=key)

    for copy in ("first", "second"):
        shutil.copytree(ONE_EPOCH / trained_on, tmp_path / copy)
        result = resume_run(tmp_path / copy, verbose=0, epochs=2)
        assert [row["epoch"] for row in result.history] == [1, 2]
        assert result.history[0] == history[0]
        assert np.isfinite([result.history[1][name] for name in ("d_loss", "g_loss")]).all()
    assert json.loads((tmp_path / "first" / run_folder.CONFIG_FILE).read_text())["backend"] == keras.config.backend()
    assert_same_state(tmp_path / "first", tmp_path / "second")
    moved = checkpoint_arrays(tmp_path / "first")["generator/1"]
    assert not np.allclose(moved, checkpoint_arrays(ONE_EPOCH / trained_on)["generator/1"])
