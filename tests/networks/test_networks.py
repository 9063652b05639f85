"""Generator and discriminator builders, the standard checks every network variant passes, batch-norm
calibration."""

import functools
import json
import subprocess
import sys
from typing import Callable, NamedTuple

import keras
import numpy as np
import onnxruntime
import pytest

from kgan.config import SUPPORTED_IMAGE_SIZES
from kgan.errors import UsageError
from kgan.export.onnx import FLOAT_TOLERANCE, _convert
from kgan.formats.onnx_contract import DEFAULT_OPSET
from kgan.networks import UPSAMPLING_MODES, build_discriminator, build_generator
from kgan.networks.calibration import batch_norm_layers, calibrate_batch_norm
from kgan.networks.generator import pixel_shuffle
from kgan.networks.mixture import build_mixture
from kgan.networks.plain import plain_keras_model

CLASSES = 3
BATCH_SIZE = 4


class NetworkVariant(NamedTuple):
    """A network option, as test_network_variant checks it."""

    build: Callable[[], keras.Model]
    output_shape: tuple  # of one example
    exported: bool  # a generator, which kgan export onnx converts


tiny_generator = functools.partial(build_generator, 16, 1, latent_dim=8, width=4)

# One entry per network option: test_network_variant then runs the standard checks on it.
NETWORK_VARIANTS = {
    **{f"{mode} generator": NetworkVariant(functools.partial(tiny_generator, upsampling=mode), (16, 16, 1), True)
       for mode in UPSAMPLING_MODES},
    "conditional RGB generator at 28 px": NetworkVariant(
        functools.partial(build_generator, 28, 3, latent_dim=8, num_classes=CLASSES, width=4), (28, 28, 3), True
    ),
    "generator with class-conditional batch norm": NetworkVariant(
        functools.partial(tiny_generator, num_classes=CLASSES, upsampling="resize", class_conditioning="batch_norm"),
        (16, 16, 1), True,
    ),
    "mixture of two conditional generators": NetworkVariant(
        lambda: build_mixture([tiny_generator(num_classes=CLASSES), tiny_generator(num_classes=CLASSES)]),
        (16, 16, 1), True,
    ),
    "discriminator": NetworkVariant(functools.partial(build_discriminator, 16, 1, width=4), (1,), False),
    "conditional RGB discriminator": NetworkVariant(
        functools.partial(build_discriminator, 16, 3, num_classes=CLASSES, width=4), (1,), False
    ),
    "spectrally normalised discriminator": NetworkVariant(
        functools.partial(build_discriminator, 16, 1, num_classes=CLASSES, width=4, spectral_norm=True), (1,), False
    ),
}  # fmt: skip


def example_inputs(model):
    """[a batch for each of the model's inputs]: labels 0, 1, 2, 0 and standard normal values elsewhere."""
    rng = np.random.default_rng(0)
    return [
        np.arange(BATCH_SIZE, dtype=np.int32) % CLASSES if "int" in tensor.dtype
        else rng.standard_normal((BATCH_SIZE, *tensor.shape[1:])).astype(np.float32)
        for tensor in model.inputs
    ]  # fmt: skip


def randomize_weights(model):
    """Weights far from the initial ones (moving variances positive), so that a weight lost on the way shows."""
    rng = np.random.default_rng(1)
    for variable in model.weights:
        if "moving_variance" in variable.path:
            variable.assign(rng.uniform(0.5, 2, variable.shape))
        else:
            variable.assign(rng.normal(0, 0.3, variable.shape))


def outputs_of(model, inputs):
    return keras.ops.convert_to_numpy(model(inputs if len(inputs) > 1 else inputs[0], training=False))


def as_json(config):
    return json.dumps(config, sort_keys=True)  # a tuple and a list of the same items alike


def assert_same_outputs(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("variant", NETWORK_VARIANTS)
def test_network_variant(variant, tmp_path):
    """Each network: its output shape, a config round trip, a .keras round trip, and (for generators) an ONNX
    conversion that onnxruntime runs to the same images, all with the same outputs."""
    build, output_shape, exported = NETWORK_VARIANTS[variant]
    model = build()
    randomize_weights(model)
    inputs = example_inputs(model)
    outputs = outputs_of(model, inputs)
    assert outputs.shape == (BATCH_SIZE, *output_shape)
    assert np.ptp(outputs, axis=0).max() > 0.01  # each example its own output: the comparisons below mean something

    rebuilt = type(model).from_config(model.get_config())
    assert as_json(rebuilt.get_config()) == as_json(model.get_config())
    rebuilt.set_weights(model.get_weights())
    assert_same_outputs(outputs_of(rebuilt, inputs), outputs)

    model.save(tmp_path / "model.keras")
    assert_same_outputs(outputs_of(keras.saving.load_model(tmp_path / "model.keras"), inputs), outputs)

    if exported:
        assert np.abs(outputs).max() <= 1  # images in the contract's [-1, 1]
        session = onnxruntime.InferenceSession(
            _convert(model, DEFAULT_OPSET).SerializeToString(), providers=["CPUExecutionProvider"]
        )
        feeds = dict(zip([tensor.name for tensor in session.get_inputs()], inputs))
        np.testing.assert_allclose(session.run(None, feeds)[0], outputs, atol=FLOAT_TOLERANCE)


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


def test_class_conditional_batch_norm_scales_and_shifts_each_class_by_its_own_amounts():
    generator = build_generator(16, 1, latent_dim=8, num_classes=3, width=4, class_conditioning="batch_norm")
    assert {layer.name for layer in generator.layers} >= {"bn_4x4_class_scale", "bn_16x16_class_offset"}
    randomize_weights(generator)
    scale, offset = (generator.get_layer(f"bn_8x8_class_{part}").get_weights()[0] for part in ("scale", "offset"))
    z = np.random.default_rng(2).standard_normal((6, 8)).astype(np.float32)
    labels = np.array([0, 1, 2, 2, 1, 0], np.int32)
    normalized, affine = (keras.Model(generator.inputs, generator.get_layer(name).output)
                          for name in ("bn_8x8", "bn_8x8_class_affine"))  # fmt: skip
    normalized = keras.ops.convert_to_numpy(normalized([z, labels], training=False))
    expected = normalized * (1 + scale[labels, None, None, :]) + offset[labels, None, None, :]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(affine([z, labels], training=False)), expected,
                               rtol=1e-5, atol=1e-6)  # fmt: skip


def test_class_conditional_batch_norm_starts_as_the_label_at_the_input_only():
    weights_of = {}
    for conditioning in ("input", "batch_norm"):
        keras.utils.set_random_seed(3)
        generator = build_generator(16, 1, latent_dim=8, num_classes=3, width=4, class_conditioning=conditioning)
        weights_of[conditioning] = generator
    inputs = example_inputs(weights_of["input"])
    assert_same_outputs(outputs_of(weights_of["batch_norm"], inputs), outputs_of(weights_of["input"], inputs))
    assert len(weights_of["batch_norm"].weights) == len(weights_of["input"].weights) + 2 * 3  # 3 batch norms


def test_unconditional_generator_has_no_class_conditional_batch_norm():
    generator = build_generator(16, 1, latent_dim=8, width=4, class_conditioning="batch_norm")
    assert not any("class" in layer.name for layer in generator.layers)
    with pytest.raises(ValueError, match="class_conditioning must be one of"):
        build_generator(16, 1, latent_dim=8, num_classes=3, width=4, class_conditioning="concat")


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


@pytest.mark.parametrize("upsampling", ["pixel_shuffle", "resize"])  # the modes whose layers train as kgan's own
def test_generator_keras_file_loads_without_kgan(upsampling, tmp_path):
    generator = build_generator(16, 1, latent_dim=4, num_classes=2, width=2, upsampling=upsampling)
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
