"""One `kgan train` across two processes on this machine, one CPU device each, joined on 127.0.0.1 (JAX's
coordinator, or TensorFlow's TF_CONFIG workers): both compute every step, only process 0 writes, the losses
follow a one-process run of the same global batch, and a run killed mid-epoch resumes on one process and on
two again."""

import json
import os
import re
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

from kgan.config import TrainConfig
from kgan.formats import run_folder
from kgan.training.run import resume_run, start_run
from tests.conftest import ROOT, train_arguments
from tests.helpers import checkpoint_arrays


def missing_support():
    """Why this backend cannot run two CPU processes as one, or None."""
    if keras.config.backend() != "jax":
        return None  # MultiWorkerMirroredStrategy reduces over gRPC on any TensorFlow 2
    import jax

    if jax.config.values.get("jax_cpu_collectives_implementation") is None:
        return "this JAX has no CPU collectives between processes (jax_cpu_collectives_implementation, gloo)"
    return None


pytestmark = [pytest.mark.processes, pytest.mark.skipif(missing_support() is not None, reason=str(missing_support()))]

SETTINGS = dict(dataset="digits", image_size=16, width=4, latent_dim=8, batch_size=16, steps_per_epoch=3,
                precision="float32", metric=None)  # fmt: skip
EPOCHS = 3
TIMEOUT = 300  # seconds per launch of the two processes; on 2 busy cores one took 10-60 s
# JAX computes the step on the global batch, as one process does; TensorFlow's workers draw their own noise and
# normalise their half of the batch (as the multi-device tests say, tests/training/test_parallel.py).
TOLERANCE = 1e-3 if keras.config.backend() == "jax" else 0.05
SUMMARY = re.compile(
    r"Trained (\d+) epochs (.*?): d_loss ([\d.]+), g_loss ([\d.]+), D\(x\) ([\d.]+), D\(G\(z\)\) ([\d.]+)"
)

# Runs `kgan train`, and with --die-mid-epoch 2 exits as under SIGKILL in the middle of epoch 2, after epoch 1's
# checkpoint (in every process: a job that is killed).
LAUNCHER = r"""
import os, sys
from cli.main import cli
if sys.argv[1] == "--die-mid-epoch":
    from kgan.training.callbacks import RunRecorder
    epoch = int(sys.argv[2])
    def die(recorder, batch, logs=None):
        if len(recorder.history) == epoch - 1 and batch == 1:
            os._exit(137)
    RunRecorder.on_train_batch_end = die
    del sys.argv[1:3]
cli(["train", *sys.argv[1:]])
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_environments():
    """The environment of each of the two processes: one CPU device each, joined on 127.0.0.1."""
    base = {name: value for name, value in os.environ.items() if name not in ("XLA_FLAGS", "TF_CONFIG")}
    base.update(PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    if keras.config.backend() == "jax":
        coordinator = f"127.0.0.1:{free_port()}"
        return [dict(base, JAX_COORDINATOR_ADDRESS=coordinator, JAX_NUM_PROCESSES="2", JAX_PROCESS_ID=str(index))
                for index in range(2)]  # fmt: skip
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    return [
        dict(base, TF_CONFIG=json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        for index in range(2)
    ]


def two_processes(arguments, folders):
    """Runs the launcher with `arguments` in two processes, process i in folders[i]; returns their
    (exit code, output)."""
    launches = [
        subprocess.Popen([sys.executable, "-c", LAUNCHER, *map(str, arguments)], cwd=folder, env=environment,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for folder, environment in zip(folders, process_environments())
    ]  # fmt: skip
    try:
        outputs = [launch.communicate(timeout=TIMEOUT)[0] for launch in launches]
    finally:
        for launch in launches:
            if launch.poll() is None:
                launch.kill()
                launch.wait()
    return [(launch.returncode, output) for launch, output in zip(launches, outputs)]


def summary(output):
    """(epochs, where, d_loss, g_loss, D(x), D(G(z))) of a process's summary line."""
    found = SUMMARY.search(output)
    assert found, output[-3000:]
    return found.group(1, 2), [float(value) for value in found.group(3, 4, 5, 6)]


def checkpointed_history(run_dir):
    with np.load(run_dir / run_folder.CHECKPOINT_FILE) as archive:
        return json.loads(str(archive["history"]))


def run_arguments(epochs, out):
    return [*train_arguments(SETTINGS), "--epochs", epochs, "--devices", "all", "--out", out]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A two-process run killed in epoch 2, resumed on this process for epoch 2, then on two for epoch 3;
    and a one-process run of the same three epochs."""
    root = tmp_path_factory.mktemp("processes")
    folders = [root / "process0", root / "process1"]
    for folder in folders:
        folder.mkdir()
    killed = two_processes(["--die-mid-epoch", 2, *run_arguments(EPOCHS, "run")], folders)
    run_dir = folders[0] / "run"
    after_kill = {
        "epoch": int(checkpoint_arrays(run_dir)["epoch"]) if (run_dir / run_folder.CHECKPOINT_FILE).exists() else None,
        "process1": sorted(path.name for path in folders[1].iterdir()),
        "samples": sorted(path.name for path in (run_dir / run_folder.SAMPLES_FOLDER).iterdir()),
    }
    one_process = resume_run(run_dir, verbose=0, epochs=2)
    resumed = two_processes(["--resume", "--epochs", EPOCHS, "--out", run_dir], folders)
    reference = start_run(TrainConfig(**SETTINGS, epochs=EPOCHS), root / "reference", verbose=0)
    return dict(killed=killed, after_kill=after_kill, one_process=one_process, resumed=resumed, run_dir=run_dir,
                reference=reference.history)  # fmt: skip


def test_both_processes_train_and_only_the_chief_writes(runs):
    for code, output in runs["killed"]:
        assert code == 137, output[-3000:]
    assert runs["after_kill"] == {"epoch": 1, "process1": [], "samples": ["epoch_001.png"]}
    for code, output in runs["resumed"]:
        assert code == 0, output[-3000:]
    (chief_epochs, chief_where), chief_losses = summary(runs["resumed"][0][1])
    (other_epochs, other_where), other_losses = summary(runs["resumed"][1][1])
    assert chief_epochs == other_epochs == str(EPOCHS)
    assert chief_where == f"into {runs['run_dir']}" and other_where == "as process 1 (process 0 wrote the run)"
    assert other_losses == chief_losses  # one global step, computed by both
    assert "on 2 devices in 2 processes" in runs["resumed"][0][1]
    assert "Samples:" not in runs["resumed"][1][1]


def test_a_killed_run_resumes_on_one_process_and_on_two(runs):
    assert runs["one_process"].devices == 1
    assert [row["epoch"] for row in runs["one_process"].history] == [1, 2]
    history = checkpointed_history(runs["run_dir"])
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert history[:2] == runs["one_process"].history
    assert (runs["run_dir"] / run_folder.GENERATOR_FILE).is_file()
    assert run_folder.sample_grid_path(runs["run_dir"], EPOCHS).is_file()
    assert "Resumed on " + keras.config.backend() + " (config.json" in runs["resumed"][0][1]


def test_losses_follow_a_one_process_run(runs):
    history = checkpointed_history(runs["run_dir"])
    for one, several in zip(runs["reference"], history, strict=True):
        for key in ("d_loss", "g_loss", "d_real", "d_fake"):
            assert several[key] == pytest.approx(one[key], rel=TOLERANCE), (one["epoch"], key)
