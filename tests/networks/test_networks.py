"""Generator and discriminator builders, and batch-norm calibration."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from kgan.config import SUPPORTED_IMAGE_SIZES
from kgan.errors import UsageError
from kgan.networks import UPSAMPLING_MODES, build_discriminator, build_generator
from kgan.networks.batch_norm import plain_keras_model
from kgan.networks.calibration import batch_norm_layers, calibrate_batch_norm
from kgan.networks.generator import pixel_shuffle


@pytest.mark.parametrize("image_size", SUPPORTED_IMAGE_SIZES)
def test_every_supported_size_builds(image_size):
    generator = build_generator(image_size, 3, latent_dim=4, width=2)
    discriminator = build_discriminator(image_size, 3, width=2)
    assert generator.output_shape == (None, image_size, image_size, 3)
    assert discriminator.input_shape == (None, image_size, image_size, 3)
    assert discriminator.output_shape == (None, 1)


def test_unsupported_size_and_channels_are_usage_errors():
    with pytest.raises(UsageError, match="not supported"):
        build_generator(30, 1)
    with pytest.raises(UsageError, match="channels"):
        build_discriminator(28, 2)


@pytest.mark.parametrize("upsampling", UPSAMPLING_MODES)
def test_upsampling_modes_give_images_in_tanh_range(upsampling):
    generator = build_generator(28, 1, latent_dim=8, num_classes=10, width=4, upsampling=upsampling)
    z = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    images = keras.ops.convert_to_numpy(generator([z, np.array([0, 5, 9], np.int32)]))
    assert images.shape == (3, 28, 28, 1)
    assert np.abs(images).max() <= 1.0


def test_dcgan_guidelines_hold():
    generator = build_generator(64, 3, width=8)
    discriminator = build_discriminator(64, 3, width=8)
    layers = generator.layers + discriminator.layers
    assert not any("Pooling" in type(layer).__name__ for layer in layers)
    assert generator.get_layer("image").get_config()["activation"] == "tanh"
    assert any(isinstance(layer, keras.layers.LeakyReLU) for layer in discriminator.layers)
    assert all(layer.strides == (2, 2) for layer in discriminator.layers if isinstance(layer, keras.layers.Conv2D))
    # the paper's 64x64 widths: 4x4x(8w) ... up to w at full size
    assert generator.get_layer("project").units == 4 * 4 * 64


def test_pixel_shuffle_matches_depth_to_space():
    inputs = keras.Input((2, 2, 4))
    shuffle = keras.Model(inputs, pixel_shuffle(inputs, 1, "test"))
    x = np.arange(16, dtype=np.float32).reshape(1, 2, 2, 4)
    # TF's depth_to_space (DCR): out[h*2+i, w*2+j] = in[h, w, i*2+j]
    expected = x.reshape(1, 2, 2, 2, 2).transpose(0, 1, 3, 2, 4).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(shuffle(x)), expected)


def test_conditional_discriminator_uses_the_label():
    discriminator = build_discriminator(16, 1, num_classes=3, width=4)
    projection = discriminator.get_layer("label_projection")
    projection.set_weights([np.random.default_rng(0).standard_normal(projection.get_weights()[0].shape)])
    images = np.random.default_rng(1).uniform(-1, 1, (2, 16, 16, 1)).astype(np.float32)
    first = discriminator([images, np.array([0, 0], np.int32)])
    second = discriminator([images, np.array([1, 2], np.int32)])
    assert not np.allclose(keras.ops.convert_to_numpy(first), keras.ops.convert_to_numpy(second))


def test_calibrated_batch_norm_holds_the_statistics_each_layer_receives():
    generator = build_generator(16, 1, latent_dim=8, num_classes=3, width=4)
    layers = batch_norm_layers(generator)
    z = np.random.default_rng(7).standard_normal((1024, 8)).astype(np.float32)
    inputs = [z, np.arange(1024, dtype=np.int32) % 3]

    def received():
        """Mean and variance of each layer's input on fresh samples, in inference mode."""
        for layer in layers:
            values = keras.ops.convert_to_numpy(keras.Model(generator.inputs, layer.input)(inputs, training=False))
            values = values.reshape(-1, values.shape[-1])
            yield layer, values.mean(axis=0), values.var(axis=0)

    assert len(layers) == 3
    for layer, _, variance in received():  # N(0, 0.02) weights: the initial 1s are far off
        assert not np.allclose(keras.ops.convert_to_numpy(layer.moving_variance), variance, rtol=0.5)
    calibrate_batch_norm(generator, latent_dim=8, num_classes=3, num_samples=2048, seed=0)
    for layer, mean, variance in received():
        np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.moving_variance), variance, rtol=0.1)
        np.testing.assert_array_less(abs(keras.ops.convert_to_numpy(layer.moving_mean) - mean), 0.1 * np.sqrt(variance))


def test_generator_keras_file_loads_without_kgan(tmp_path):
    generator = build_generator(16, 1, latent_dim=4, num_classes=2, width=2)
    plain_keras_model(generator).save(tmp_path / "generator.keras")  # as kgan saves it
    script = (
        "import keras, numpy as np, sys; "
        f"m = keras.saving.load_model({str(tmp_path / 'generator.keras')!r}); "
        "assert 'kgan' not in sys.modules; "
        "print(m([np.zeros((1, 4), 'float32'), np.zeros((1,), 'int32')]).shape)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "(1, 16, 16, 1)" in result.stdout
