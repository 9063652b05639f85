"""OptimizerPair: Keras's learning-rate callbacks and TensorBoard see both optimizers; its config chains to super.
FusedAdam: keras's Adam, updated in one kernel per variable."""

import importlib.util

import keras
import numpy as np
import pytest

from kgan.gan import FusedAdam, OptimizerPair, default_optimizer
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


def adam_steps(optimizer, gradients, start):
    """The variables after `optimizer` applies each of `gradients` (lists, one array per variable) in turn."""
    variables = [keras.Variable(value) for value in start]
    for step in gradients:
        optimizer.apply(step, variables)
    return to_numpy(variables)


def random_gradients(shapes):
    """Three steps' gradients, of scales 1, 1e-3 and 10."""
    rng = np.random.default_rng(0)
    return [[rng.normal(0, scale, shape).astype(np.float32) for shape in shapes] for scale in (1.0, 1e-3, 10.0)]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_fused_adam_steps_as_keras_adam(amsgrad):
    shapes = [(3, 3, 4, 8), (8,), (50, 7)]
    start = [np.random.default_rng(1).normal(0, 1, shape).astype(np.float32) for shape in shapes]
    gradients = random_gradients(shapes)
    ours = adam_steps(FusedAdam(3e-3, beta_1=0.5, amsgrad=amsgrad), gradients, start)
    reference = adam_steps(keras.optimizers.Adam(3e-3, beta_1=0.5, amsgrad=amsgrad), gradients, start)
    for fused, keras_own in zip(ours, reference):
        np.testing.assert_allclose(fused, keras_own, rtol=1e-5, atol=1e-7)
    assert isinstance(default_optimizer(), FusedAdam)


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="tf.IndexedSlices gradients are TensorFlow's")
def test_fused_adam_leaves_sparse_gradients_to_keras():
    """An embedding's gradient repeats a row per use in the batch; Keras's update of it is not the dense one
    (its first step passes the rate), and FusedAdam keeps Keras's, as the recipes were measured with it."""
    import tensorflow as tf

    start = [np.zeros((4, 3), np.float32)]
    rows = tf.constant([[1.0, -2.0, 0.5], [3.0, 1.0, -0.5], [0.2, 0.2, 0.2]])
    sparse = tf.IndexedSlices(rows, indices=tf.constant([1, 1, 3]), dense_shape=tf.constant([4, 3]))
    ours = adam_steps(FusedAdam(1e-2, beta_1=0.5), [[sparse], [sparse]], start)
    reference = adam_steps(keras.optimizers.Adam(1e-2, beta_1=0.5), [[sparse], [sparse]], start)
    np.testing.assert_allclose(ours[0], reference[0], rtol=1e-6)
    dense = adam_steps(FusedAdam(1e-2, beta_1=0.5), [[tf.convert_to_tensor(sparse)]] * 2, start)
    assert not np.allclose(ours[0], dense[0], atol=1e-4)


def test_a_conditional_dcgan_trains_with_fused_adam_as_with_keras_adam():
    def trained(optimizer_class):
        keras.utils.set_random_seed(0)
        model = tiny_dcgan(3)
        model.compile(g_optimizer=optimizer_class(2e-4, beta_1=0.5), d_optimizer=optimizer_class(4e-4, beta_1=0.5))
        model.fit(images(48), np.arange(48) % 3, batch_size=16, epochs=1, verbose=0, shuffle=False)
        return to_numpy(model.trainable_variables + model.optimizer.variables)

    for ours, keras_own in zip(trained(FusedAdam), trained(keras.optimizers.Adam), strict=True):
        np.testing.assert_allclose(ours, keras_own, rtol=1e-4, atol=1e-6)


def test_fused_adam_round_trips():
    optimizer = FusedAdam(3e-4, beta_1=0.5, amsgrad=True, name="g_adam")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(optimizer))
    assert type(restored) is FusedAdam and restored.get_config() == optimizer.get_config()
