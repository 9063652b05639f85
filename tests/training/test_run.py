"""Training runs: same seed same run, resume, divergence, checkpoints, calibrated generator.keras."""

import dataclasses
import threading
import types

import keras
import numpy as np
import pytest

from kgan.config import TrainConfig
from kgan.data import load_dataset
from kgan.errors import KganError
from kgan.networks.calibration import batch_norm_layers, calibrate_batch_norm
from kgan.training.builder import describe, prepare_data
from kgan.training.callbacks import DivergenceGuard
from kgan.training.checkpoint import load_checkpoint
from kgan.training.run import resume_run, start_run
from tests.conftest import TINY
from tests.helpers import checkpoint_arrays
from tests.tiny_models import tiny_dcgan, to_numpy


def test_same_seed_same_run(tmp_path):
    config = TrainConfig(**TINY)
    start_run(config, tmp_path / "a", verbose=0)
    start_run(config, tmp_path / "b", verbose=0)
    first, second = checkpoint_arrays(tmp_path / "a"), checkpoint_arrays(tmp_path / "b")
    for key in first:
        np.testing.assert_allclose(first[key], second[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_interrupted_then_resumed_run_matches_uninterrupted(tmp_path):
    config = TrainConfig(**{**TINY, "epochs": 3, "diffaugment": "translation"})
    whole = start_run(config, tmp_path / "whole", verbose=0)
    start_run(dataclasses.replace(config, epochs=1), tmp_path / "parts", verbose=0)
    resumed = resume_run(tmp_path / "parts", epochs=3, verbose=0)
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3]
    uninterrupted, continued = checkpoint_arrays(tmp_path / "whole"), checkpoint_arrays(tmp_path / "parts")
    assert int(continued["epoch"]) == 3
    for key in uninterrupted:
        np.testing.assert_allclose(uninterrupted[key], continued[key], rtol=1e-6, atol=1e-7, err_msg=key)
    for a, b in zip(whole.history, resumed.history):
        assert a["d_loss"] == pytest.approx(b["d_loss"], rel=1e-4)


def test_divergence_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    start_run(TrainConfig(**TINY), run_dir, verbose=0)
    before = checkpoint_arrays(run_dir)
    monkeypatch.setattr("kgan.gan.dcgan.generator_loss", lambda logits: keras.ops.mean(logits) * np.nan)
    with pytest.raises(KganError, match=r"diverged in epoch 2, batch 1: g_loss = nan.*checkpoint \(epoch 1\) is kept"):
        resume_run(run_dir, epochs=2, verbose=0)
    after = checkpoint_arrays(run_dir)
    assert int(after["epoch"]) == 1
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])
    assert not (run_dir / "samples" / "epoch_002.png").exists()


def test_divergence_checks_run_off_the_training_thread_where_the_backend_allows(tmp_path, monkeypatch):
    threads = []
    check = DivergenceGuard.on_train_batch_end

    def recording_check(self, batch, logs=None):
        threads.append(threading.current_thread())
        check(self, batch, logs)

    monkeypatch.setattr(DivergenceGuard, "on_train_batch_end", recording_check)
    start_run(TrainConfig(**TINY), tmp_path / "run", verbose=0)
    off_main = [thread is not threading.main_thread() for thread in threads]
    # Keras dispatches batch callbacks asynchronously on JAX; TensorFlow's backend is not thread safe for it.
    assert len(off_main) == 2 and all(off_main) == (keras.config.backend() == "jax") and len(set(off_main)) == 1


def test_divergence_guard_names_the_earliest_bad_batch_whatever_the_order_checked():
    guard = DivergenceGuard(limit=10.0)
    guard.set_model(types.SimpleNamespace(stop_training=False))
    guard.on_train_batch_end(5, {"d_loss": 1.0, "g_loss": float("inf")})
    guard.on_train_batch_end(2, {"d_loss": 11.0, "g_loss": 1.0})
    guard.on_train_batch_end(4, {"d_loss": float("nan"), "g_loss": 1.0})
    assert guard.problem == "batch 3: d_loss = 11" and guard.model.stop_training


def test_checkpoint_restores_every_variable(tmp_path):
    run_dir = tmp_path / "run"
    start_run(TrainConfig(**{**TINY, "conditional": True}), run_dir, verbose=0)
    model = tiny_dcgan(10)
    model.compile()
    epoch, history = load_checkpoint(run_dir / "checkpoints" / "last.npz", model)
    assert epoch == 1 and len(history) == 1
    assert int(model.g_optimizer.iterations) == 2 and int(model.d_optimizer.iterations) == 2
    stored = checkpoint_arrays(run_dir)
    np.testing.assert_array_equal(stored["ema_generator/0"], keras.ops.convert_to_numpy(model.ema_generator.weights[0]))


def batch_norm_statistics(generator):
    return to_numpy([v for layer in batch_norm_layers(generator) for v in (layer.moving_mean, layer.moving_variance)])


def test_saved_generator_has_batch_norm_statistics_of_its_own_weights(tmp_path):
    start_run(TrainConfig(**{**TINY, "conditional": True}), tmp_path / "run", verbose=0)
    generator = keras.saving.load_model(tmp_path / "run" / "generator.keras", compile=False)
    saved = batch_norm_statistics(generator)
    model = tiny_dcgan(10)
    model.compile()
    load_checkpoint(tmp_path / "run" / "checkpoints" / "last.npz", model)
    assert not any(np.allclose(a, b) for a, b in zip(saved, batch_norm_statistics(model.generator)))
    calibrate_batch_norm(generator, latent_dim=8, num_classes=10, seed=TrainConfig().seed)
    # Training calibrated kgan's own layers, generator.keras holds keras's: float32 rounds them apart by up to
    # 8e-5 relative on AVX-512 CPUs, while the statistics of the training weights differ by about 1 relative.
    for before, after in zip(saved, batch_norm_statistics(generator)):
        np.testing.assert_allclose(before, after, rtol=1e-3, atol=1e-7)


@pytest.mark.parametrize("upsampling", ["pixel_shuffle", "resize"])
@pytest.mark.parametrize("ema", [True, False])
def test_saved_generator_holds_keras_layers_only(tmp_path, ema, upsampling):
    """The sampling generator, EMA copy or trained one, samples with kgan's layers (fused batch norm, the resize
    generator's NearestUpsampleConv2D): saved as keras's own."""
    config = TrainConfig(**{**TINY, "ema": ema, "keep_every": 1, "upsampling": upsampling})
    start_run(config, tmp_path / "run", verbose=0)
    for path in (tmp_path / "run" / "generator.keras", tmp_path / "run" / "snapshots" / "generator_epoch_001.keras"):
        generator = keras.saving.load_model(path, compile=False)
        assert batch_norm_layers(generator)
        assert {type(layer).__module__.split(".")[0] for layer in generator._flatten_layers()} == {"keras"}


def test_runs_without_jit(tmp_path):
    """--no-jit: on JAX the step then runs eagerly on numpy batches."""
    result = start_run(TrainConfig(**{**TINY, "jit": False}), tmp_path / "run", verbose=0)
    assert np.isfinite(result.history[-1]["d_loss"])


@pytest.mark.parametrize("image_size, upsampling, r1", [(28, "pixel_shuffle", 0.0), (64, "resize", 0.0128)])
def test_a_run_resolves_auto_upsampling_and_r1_by_image_size_and_records_them(image_size, upsampling, r1):
    _, config = prepare_data(TrainConfig(dataset="digits", image_size=image_size))
    assert (config.upsampling, config.r1) == (upsampling, pytest.approx(r1))
    recorded = describe(config, load_dataset("digits", image_size))["train"]
    assert (recorded["upsampling"], recorded["r1"]) == (upsampling, pytest.approx(r1))
