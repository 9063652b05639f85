"""The DCGAN model under fit(): both networks and optimizers move, the EMA averages, losses, DiffAugment, saving."""

import keras
import numpy as np
import pytest

from kgan import imaging
from kgan.gan import DCGAN, losses
from kgan.gan.diffaugment import color, cutout, diff_augment, parse_policy, translation
from kgan.networks import build_discriminator, build_generator
from tests.tiny_models import tiny_dcgan, to_numpy


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


def test_uint8_batches_train_exactly_as_their_scaled_floats():
    images = np.random.default_rng(0).integers(0, 256, (32, 16, 16, 1), dtype=np.uint8)
    labels = np.arange(32, dtype=np.int32) % 3
    weights = []
    for batch in (images, imaging.from_uint8(images)):
        keras.utils.set_random_seed(0)
        model = tiny_dcgan(3)
        model.compile()
        model.fit(batch, labels, batch_size=16, epochs=1, shuffle=False, verbose=0)
        weights.append(to_numpy(model.discriminator.trainable_weights + model.generator.trainable_weights))
    for from_uint8, from_float in zip(*weights):  # XLA may fuse the scaling into the step (last-bit differences)
        np.testing.assert_allclose(from_uint8, from_float, rtol=1e-5, atol=1e-8)


def test_ema_is_an_average_not_a_copy():
    model = tiny_dcgan(0)
    model.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (160, 16, 16, 1)).astype(np.float32)
    model.fit(images, batch_size=16, epochs=1, verbose=0)
    kernel = model.generator.get_layer("project").kernel
    average = model.ema_generator.get_layer("project").kernel
    assert not np.allclose(keras.ops.convert_to_numpy(kernel), keras.ops.convert_to_numpy(average))
    assert model.sampling_generator is model.ema_generator
    assert [type(layer) for layer in model.ema_generator.layers] == [type(layer) for layer in model.generator.layers]
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


def test_dcgan_config_and_keras_file_round_trip(tmp_path):
    model = DCGAN(
        build_generator(16, 1, latent_dim=4, num_classes=2, width=2),
        build_discriminator(16, 1, num_classes=2, width=2),
        latent_dim=4, num_classes=2, label_smoothing=0.1, diffaugment=("translation",), seed=5,
    )  # fmt: skip
    model.compile()
    clone = DCGAN.from_config(model.get_config())
    assert (clone.num_classes, clone.label_smoothing, clone.diffaugment, clone.seed) == (2, 0.1, ("translation",), 5)
    model.save(tmp_path / "dcgan.keras")
    loaded = keras.saving.load_model(tmp_path / "dcgan.keras")
    assert isinstance(loaded, DCGAN)
    for original, restored in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(original), keras.ops.convert_to_numpy(restored))
