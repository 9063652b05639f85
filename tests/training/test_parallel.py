"""Data-parallel training on two devices: two GPUs, or without accelerators two CPU devices (XLA's forced
host devices; TensorFlow's logical CPUs). A host with one accelerator can make neither: the runs skip there."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from kgan.config import TrainConfig
from kgan.errors import UsageError
from kgan.training.cluster import ONE_PROCESS, Cluster, join_cluster
from kgan.training.parallel import check_batch_split, devices_that_fit, resolve_devices
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {**TINY, "epochs": 2, "steps_per_epoch": 3, "precision": "float32"}

# The device count is fixed when the backend starts, so the runs happen in a fresh process.
# It prints {"skip": reason} when it sees fewer than 2 devices of the kind kgan trains on.
SCRIPT = r"""
import json, os, sys
if os.environ["KERAS_BACKEND"] == "tensorflow":
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kgan.config import TrainConfig
from kgan.training.parallel import resolve_devices
from kgan.training.run import resume_run, start_run
visible = resolve_devices("all")
if len(visible) < 2:
    print(json.dumps({"skip": f"needs 2 devices, {os.environ['KERAS_BACKEND']} sees {visible}: kgan trains on "
                              "the accelerators when there are any, leaving this test's 2 CPU devices unused"}))
    sys.exit()
settings, out = json.loads(sys.argv[1]), sys.argv[2]
one = start_run(TrainConfig(**settings), f"{out}/one", verbose=0)
two = start_run(TrainConfig(**settings, devices=2), f"{out}/two", verbose=0)
resumed = resume_run(f"{out}/two", verbose=0, epochs=settings["epochs"] + 1)
report = {"devices": [one.devices, two.devices, resumed.devices], "one": one.history, "two": resumed.history}
if os.environ["KERAS_BACKEND"] == "tensorflow":  # replicas' gradients are summed: each must count once
    import numpy as np
    from kgan.gan.tensorflow_trainer import TensorFlowGANTrainer
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        weights = tf.Variable([1.0, -2.0])
    gradients = strategy.run(lambda: TensorFlowGANTrainer()._gradients(
        lambda: (tf.reduce_sum(tf.square(weights)), None), [weights])[0][0])
    report["summed_gradient"] = strategy.reduce("SUM", gradients, axis=None).numpy().tolist()
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def two_device_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("parallel")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(SETTINGS), str(out)], env=env,
                            capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if "skip" in report:
        pytest.skip(report["skip"])
    return out, report


def test_both_devices_compute_and_the_run_resumes(two_device_runs):
    out, report = two_device_runs
    assert report["devices"] == [1, 2, 2]
    assert [row["epoch"] for row in report["two"]] == [1, 2, 3]
    for name in ("generator.keras", "checkpoints/last.npz", "samples/epoch_003.png", "history.png"):
        assert (out / "two" / name).is_file(), name
    assert json.loads((out / "two" / "config.json").read_text())["train"]["devices"] == 2


def test_two_devices_follow_one_devices_losses(two_device_runs):
    _, report = two_device_runs
    # JAX computes the step on the global batch (same noise, same batch statistics): equal up to
    # summation order. TensorFlow's replicas draw their own noise and normalise their half-batch.
    tolerance = 1e-3 if keras.config.backend() == "jax" else 0.05
    for one, two in zip(report["one"], report["two"]):
        for key in ("d_loss", "g_loss", "d_real", "d_fake"):
            assert two[key] == pytest.approx(one[key], rel=tolerance), (one["epoch"], key)


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="tf.distribute sums replica gradients")
def test_tensorflow_replicas_gradients_sum_to_one_devices(two_device_runs):
    _, report = two_device_runs
    np.testing.assert_allclose(report["summed_gradient"], [2.0, -4.0], rtol=1e-6)  # d/dw sum(w^2), once


def test_plain_resume_goes_on_with_the_runs_backend_and_devices(two_device_runs, tmp_path):
    """`kgan train --resume --out RUN` of a `--devices 2` run, $KERAS_BACKEND naming the other backend: it
    resumes on the run's backend, on 2 devices where there are 2 (JAX's forced host devices), else on 1."""
    out, _ = two_device_runs
    shutil.copytree(out / "two", tmp_path / "run")
    backend = keras.config.backend()
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", PYTHONPATH=str(ROOT),
               KERAS_BACKEND="jax" if backend == "tensorflow" else "tensorflow")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", "from cli.main import cli; cli()", "train", "--resume", "--epochs",
                             str(SETTINGS["epochs"] + 2), "--out", str(tmp_path / "run")],
                            env=env, capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    if backend == "jax":  # TensorFlow's logical CPU devices exist only where the process makes them
        expected = "and 2 devices (config.json: 2)."
    else:
        expected = "and 1 device (config.json: 2, more than this machine has)."
    assert f"Resumed on {backend} (config.json; it last trained on {backend}) {expected}" in result.stdout
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["devices"] == 2


def test_two_device_run_exports(two_device_runs, tmp_path):
    from kgan.export import export_onnx

    out, _ = two_device_runs
    assert export_onnx(out / "two", tmp_path / "two.onnx").path.is_file()


def test_more_devices_than_visible_is_a_usage_error():
    visible = len(resolve_devices("all"))
    with pytest.raises(UsageError, match=f"--devices {visible + 1} asks for more than the {visible} device"):
        resolve_devices(visible + 1)


def test_the_batch_must_split_evenly():
    check_batch_split(16, ["cpu:0", "cpu:1"])
    with pytest.raises(UsageError, match="batch size 15 does not split evenly over 2 devices: use a multiple of 2"):
        check_batch_split(15, ["cpu:0", "cpu:1"])
    with pytest.raises(UsageError, match="devices must be an integer >= 1, not 0"):
        TrainConfig(devices=0)


def test_a_resumed_run_takes_the_devices_it_can():
    visible = len(resolve_devices("all"))
    assert devices_that_fit(visible, 16) == visible
    assert devices_that_fit("all", 16) == "all"
    assert devices_that_fit(visible + 1, 16) == max(n for n in range(1, visible + 1) if 16 % n == 0)
    assert devices_that_fit(1, 16, Cluster(index=0, count=2)) == "all"


def test_one_process_unless_told_otherwise(monkeypatch):
    for name in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID", "TF_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert join_cluster() == ONE_PROCESS and ONE_PROCESS.is_chief and ONE_PROCESS.count == 1
    if keras.config.backend() == "jax":
        assert join_cluster(num_processes=1) == ONE_PROCESS
        monkeypatch.setenv("JAX_NUM_PROCESSES", "two")
        with pytest.raises(UsageError, match="JAX_NUM_PROCESSES is 'two', not an integer"):
            join_cluster()
        with pytest.raises(UsageError, match="process id 2 is not one of 0 to 1"):
            join_cluster("127.0.0.1:1", 2, 2)
    else:
        with pytest.raises(UsageError, match="--coordinator, --num-processes set up JAX's processes; TensorFlow's"):
            join_cluster("127.0.0.1:1", 2)
        monkeypatch.setenv("TF_CONFIG", "{not json")
        with pytest.raises(UsageError, match="TF_CONFIG is not a cluster description"):
            join_cluster()
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["127.0.0.1:1"]}}))
        assert join_cluster() == ONE_PROCESS


def test_a_run_of_several_processes_trains_on_all_their_devices():
    cluster = Cluster(index=0, count=2)
    visible = len(resolve_devices("all"))
    assert len(resolve_devices("all", cluster)) == visible
    with pytest.raises(UsageError, match="a run of 2 processes trains on all .* use --devices all"):
        resolve_devices(visible + 1 if visible == 1 else 1, cluster)
