"""The DCGAN train step under fit(), its losses and augmentations, and training runs."""

import dataclasses

import keras
import numpy as np
import pytest

from kgan.config import TrainConfig
from kgan.errors import KganError
from kgan.models import DCGAN, build_discriminator, build_generator
from kgan.models.calibration import batch_norm_layers, calibrate_batch_norm
from kgan.training import losses
from kgan.training.checkpoint import load_checkpoint
from kgan.training.diffaugment import color, cutout, diff_augment, parse_policy, translation
from kgan.training.run import resume_run, start_run
from tests.conftest import TINY


def to_numpy(values):
    return [keras.ops.convert_to_numpy(value).copy() for value in values]


def tiny_dcgan(num_classes, **kwargs):
    return DCGAN(
        build_generator(16, 1, latent_dim=8, num_classes=num_classes, width=4),
        build_discriminator(16, 1, num_classes=num_classes, width=4),
        latent_dim=8, num_classes=num_classes, seed=1, **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize("num_classes", [0, 3])
def test_fit_updates_both_networks_both_optimizers_and_ema(num_classes):
    model = tiny_dcgan(num_classes, diffaugment=("color", "translation", "cutout"))
    model.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (64, 16, 16, 1)).astype(np.float32)
    labels = np.arange(64, dtype=np.int32) % 3
    before = {
        name: to_numpy(weights)
        for name, weights in [
            ("generator", model.generator.trainable_weights),
            ("discriminator", model.discriminator.trainable_weights),
            ("ema", model.ema_generator.trainable_weights + model.ema_generator.non_trainable_weights),
            ("seed", [model.seed_generator.state]),
        ]
    }
    history = model.fit(images, labels if num_classes else None, batch_size=16, epochs=2, verbose=0)
    after = {
        "generator": model.generator.trainable_weights,
        "discriminator": model.discriminator.trainable_weights,
        "ema": model.ema_generator.trainable_weights + model.ema_generator.non_trainable_weights,
        "seed": [model.seed_generator.state],
    }
    for name, old in before.items():
        changed = [not np.array_equal(a, b) for a, b in zip(old, to_numpy(after[name]))]
        assert all(changed), f"{name}: {changed}"
    assert int(model.g_optimizer.iterations) == 8
    assert int(model.d_optimizer.iterations) == 8
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v).all() for v in history.history.values())


def test_ema_is_an_average_not_a_copy():
    model = tiny_dcgan(0)
    model.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (160, 16, 16, 1)).astype(np.float32)
    model.fit(images, batch_size=16, epochs=1, verbose=0)
    kernel = model.generator.get_layer("project").kernel
    average = model.ema_generator.get_layer("project").kernel
    assert not np.allclose(keras.ops.convert_to_numpy(kernel), keras.ops.convert_to_numpy(average))
    assert model.sampling_generator is model.ema_generator
    assert tiny_dcgan(0, ema_decay=None).sampling_generator.name == "generator"


def test_losses_match_binary_cross_entropy():
    real = np.array([2.0, -1.0, 0.5], np.float32)
    fake = np.array([-3.0, 0.2], np.float32)

    def bce(target, logits):
        p = 1 / (1 + np.exp(-logits))
        return float(np.mean(-(target * np.log(p) + (1 - target) * np.log(1 - p))))

    expected = bce(0.9, real) + bce(0.0, fake)
    got = float(losses.discriminator_loss(real, fake, label_smoothing=0.1))
    assert got == pytest.approx(expected, rel=1e-5)
    assert float(losses.generator_loss(fake)) == pytest.approx(bce(1.0, fake), rel=1e-5)


def test_diffaugment_translation_shifts_with_zero_fill():
    images = np.arange(2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8, 1) + 1
    shifted = keras.ops.convert_to_numpy(translation(images, keras.random.SeedGenerator(0)))
    for original, moved in zip(images[..., 0], shifted[..., 0]):
        matches = [
            (dy, dx)
            for dy in range(-1, 2)
            for dx in range(-1, 2)
            if np.array_equal(moved, _shift(original, dy, dx))
        ]
        assert len(matches) == 1


def _shift(image, dy, dx):
    out = np.zeros_like(image)
    h, w = image.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def test_diffaugment_cutout_and_color():
    images = np.ones((4, 16, 16, 3), np.float32)
    cut = keras.ops.convert_to_numpy(cutout(images, keras.random.SeedGenerator(0)))
    zeroed = (cut == 0).all(axis=-1).sum(axis=(1, 2))
    assert ((zeroed > 0) & (zeroed <= 64)).all()  # at most an 8x8 square, clipped at borders
    coloured = keras.ops.convert_to_numpy(color(images, keras.random.SeedGenerator(0)))
    assert coloured.shape == images.shape and not np.allclose(coloured, images)
    assert parse_policy("cutout, color") == ("color", "cutout")
    with pytest.raises(ValueError, match="unknown DiffAugment"):
        parse_policy("colour")
    same = diff_augment(images, (), keras.random.SeedGenerator(0))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(same), images)


def checkpoint_arrays(run_dir):
    with np.load(run_dir / "checkpoints" / "last.npz") as archive:
        return {key: archive[key] for key in archive.files if key != "history"}


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
    monkeypatch.setattr("kgan.models.dcgan.generator_loss", lambda logits: keras.ops.mean(logits) * np.nan)
    with pytest.raises(KganError, match=r"diverged in epoch 2, batch 1: g_loss = nan.*checkpoint \(epoch 1\) is kept"):
        resume_run(run_dir, epochs=2, verbose=0)
    after = checkpoint_arrays(run_dir)
    assert int(after["epoch"]) == 1
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])
    assert not (run_dir / "samples" / "epoch_002.png").exists()


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
    for before, after in zip(saved, batch_norm_statistics(generator)):
        np.testing.assert_allclose(before, after, rtol=1e-5, atol=1e-7)


def test_runs_without_jit(tmp_path):
    """--no-jit: on JAX the step then runs eagerly on numpy batches."""
    result = start_run(TrainConfig(**{**TINY, "jit": False}), tmp_path / "run", verbose=0)
    assert np.isfinite(result.history[-1]["d_loss"])
