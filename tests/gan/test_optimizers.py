"""OptimizerPair: Keras's learning-rate callbacks and TensorBoard see both optimizers; its config chains to super."""

import importlib.util

import keras
import numpy as np
import pytest

from kgan.gan import OptimizerPair
from tests.tiny_models import tiny_dcgan, to_numpy


def compiled_tiny_dcgan():
    """An unconditional tiny DCGAN whose optimizers have rates 2e-4 (g_adam) and 4e-4 (d_adam)."""
    model = tiny_dcgan(0)
    model.compile(
        g_optimizer=keras.optimizers.Adam(2e-4, name="g_adam"),
        d_optimizer=keras.optimizers.Adam(4e-4, name="d_adam"),
    )
    return model


def images(count=32):
    return np.random.default_rng(0).uniform(-1, 1, (count, 16, 16, 1)).astype(np.float32)


class WeightsPerEpoch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(to_numpy(self.model.trainable_variables))


def test_learning_rate_scheduler_sets_both_rates_and_the_step_uses_them():
    model = compiled_tiny_dcgan()
    seen = []

    def schedule(epoch, rate):
        seen.append(rate)
        return 0.0 if epoch == 1 else rate / 2

    recorder = WeightsPerEpoch()
    history = model.fit(
        images(), batch_size=16, epochs=2, verbose=0,
        callbacks=[keras.callbacks.LearningRateScheduler(schedule), recorder],
    )  # fmt: skip
    assert seen == pytest.approx([2e-4, 4e-4, 1e-4, 2e-4])  # each member's own rate, the ratio kept
    assert history.history["learning_rate_g_adam"] == pytest.approx([1e-4, 0.0])
    assert history.history["learning_rate_d_adam"] == pytest.approx([2e-4, 0.0])
    first, second = recorder.epochs
    assert not all(np.array_equal(a, b) for a, b in zip(to_numpy(tiny_dcgan(0).trainable_variables), first))
    for before, after in zip(first, second):  # a rate of 0 in the compiled step: nothing moves
        np.testing.assert_array_equal(before, after)


def test_reduce_on_plateau_and_iterations():
    model = compiled_tiny_dcgan()
    reduce = keras.callbacks.ReduceLROnPlateau(monitor="g_loss", mode="min", factor=0.5, patience=0, min_delta=1e9)
    model.fit(images(), batch_size=16, epochs=2, verbose=0, callbacks=[reduce])
    rates = [float(keras.ops.convert_to_numpy(o.learning_rate)) for o in model.optimizer.optimizers]
    assert rates == pytest.approx([1e-4, 2e-4])
    assert int(model.optimizer.iterations) == int(model.g_optimizer.iterations) == 4


def test_setting_the_pairs_rate_keeps_the_ratio():
    pair = compiled_tiny_dcgan().optimizer
    assert float(keras.ops.convert_to_numpy(pair.learning_rate)) == pytest.approx(2e-4)
    pair.learning_rate = 1e-3
    rates = [float(keras.ops.convert_to_numpy(o.learning_rate)) for o in pair.optimizers]
    assert rates == pytest.approx([1e-3, 2e-3])


def test_config_chains_to_super_and_round_trips():
    pair = compiled_tiny_dcgan().optimizer
    config = pair.get_config()
    base = keras.optimizers.Optimizer(learning_rate=0.0, name="optimizer_pair").get_config()
    assert set(base) <= set(config)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(pair))
    assert isinstance(restored, OptimizerPair) and restored.name == pair.name
    assert restored.generator_optimizer.get_config() == pair.generator_optimizer.get_config()
    assert restored.discriminator_optimizer.get_config() == pair.discriminator_optimizer.get_config()


@pytest.mark.skipif(
    keras.config.backend() != "tensorflow" or importlib.util.find_spec("tensorboard") is None,
    reason="Keras's TensorBoard callback writes through TensorFlow and needs tensorboard (tox's tensorflow env)",
)
def test_tensorboard_logs_each_optimizers_rate(tmp_path):
    import tensorflow as tf

    model = compiled_tiny_dcgan()
    model.fit(images(), batch_size=16, epochs=1, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    logged = {}
    for path in (tmp_path / "train").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                logged[value.tag] = float(tf.make_ndarray(value.tensor))
    assert logged["epoch_learning_rate_g_adam"] == pytest.approx(2e-4)
    assert logged["epoch_learning_rate_d_adam"] == pytest.approx(4e-4)
    assert {"epoch_d_loss", "epoch_g_loss"} <= set(logged)
