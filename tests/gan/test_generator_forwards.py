"""The generator_forwards option end to end: DCGAN's config and .keras file, and `kgan train --generator-forwards`.

The steps themselves are pinned in tests/gan/test_train_step.py.
"""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from cli.main import cli
from kgan.gan import DCGAN
from tests.conftest import ROOT, TINY, train_arguments
from tests.tiny_models import tiny_dcgan

# d (sum of G(x)^2) / d W for G(x) = x W with x = [1, 1] and W = [1, -2]: 2 G(x) x = [-2, -2]. Each of two
# replicas computes it; their sum must count it once.
REPLICAS_SCRIPT = """
import json
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from kgan.gan.tensorflow_trainer import TensorFlowGANTrainer
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
trainer = TensorFlowGANTrainer()
with strategy.scope():
    dense = keras.layers.Dense(1, use_bias=False, kernel_initializer=keras.initializers.Constant([[1.0], [-2.0]]))
    trainer.generator = keras.Sequential([keras.Input((2,)), dense])
def replica_gradient():
    images, pullback = trainer._generator_forward_with_pullback(tf.constant([[1.0, 1.0]]))
    return pullback(lambda fake: (tf.reduce_sum(tf.square(fake)), None))[0][0]
summed = strategy.reduce("SUM", strategy.run(replica_gradient), axis=None)
print(json.dumps(summed.numpy().ravel().tolist()))
"""


def test_generator_forwards_round_trips_through_config_and_keras_file(tmp_path):
    model = tiny_dcgan(2, generator_forwards=1)
    model.compile()
    assert model.get_config()["generator_forwards"] == 1
    assert DCGAN.from_config(model.get_config()).generator_forwards == 1
    model.save(tmp_path / "dcgan.keras")
    assert keras.saving.load_model(tmp_path / "dcgan.keras").generator_forwards == 1
    assert tiny_dcgan(2).generator_forwards == 2  # the default: the two-forward step


def test_generator_forwards_other_than_1_or_2_is_refused():
    with pytest.raises(ValueError, match="generator_forwards must be one of"):
        tiny_dcgan(0, generator_forwards=3)


@pytest.mark.parametrize("forwards", [2, 1])
def test_train_records_the_generator_forwards_and_keeps_them_on_resume(runner, tmp_path, backend, forwards):
    """2 is not the default of kgan train (1 is): a plain resume must still keep it."""
    run_dir = tmp_path / "run"
    args = train_arguments(TINY)
    result = runner.invoke(
        cli, ["train", *args, "--generator-forwards", str(forwards), "--backend", backend, "--out", str(run_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "Trained 1 epochs" in result.output
    assert json.loads((run_dir / "config.json").read_text())["train"]["generator_forwards"] == forwards

    other = str(3 - forwards)
    result = runner.invoke(cli, ["train", "--resume", "--generator-forwards", other, "--out", str(run_dir)])
    assert result.exit_code == 2 and "--generator-forwards cannot change on --resume" in result.output
    result = runner.invoke(cli, ["train", "--resume", "--epochs", "2", "--out", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert json.loads((run_dir / "config.json").read_text())["train"]["generator_forwards"] == forwards


def test_train_refuses_other_generator_forwards(runner, tmp_path):
    result = runner.invoke(cli, ["train", "--generator-forwards", "3", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "--generator-forwards" in result.output
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="tf.distribute sums replica gradients")
def test_tensorflow_replicas_pullback_gradients_sum_to_one_devices():
    result = subprocess.run([sys.executable, "-c", REPLICAS_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_allclose(json.loads(result.stdout.strip().splitlines()[-1]), [-2.0, -2.0], rtol=1e-6)
