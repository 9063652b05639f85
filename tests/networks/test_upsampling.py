"""NearestUpsampleConv2D: the resize generator's upsampling and convolution, computed at the input's resolution."""

import keras
import numpy as np
import pytest

from kgan.networks.upsampling import ONE_CONVOLUTION_FROM, NearestUpsampleConv2D, plain_upsample_conv

# One side below ONE_CONVOLUTION_FROM (four 2x2 convolutions), one at or above it (one shared convolution).
SIDES = (3, ONE_CONVOLUTION_FROM)


def layer_pair(side, channels=5, filters=4, use_bias=True):
    """(NearestUpsampleConv2D with random weights, keras's UpSampling2D then Conv2D with the same weights), built."""
    fast = NearestUpsampleConv2D(filters, use_bias=use_bias, name="up")
    fast.build((None, side, side + 1, channels))
    rng = np.random.default_rng(side)
    fast.set_weights([rng.normal(size=weight.shape).astype("float32") for weight in fast.get_weights()])
    plain = plain_upsample_conv(fast)
    plain.build((None, side, side + 1, channels))
    plain.set_weights(fast.get_weights())
    return fast, plain


def inputs_of(side, channels=5):
    return np.random.default_rng(10 + side).normal(size=(2, side, side + 1, channels)).astype("float32")


@pytest.mark.parametrize("side", SIDES)
def test_it_computes_the_upsampled_convolution(side):
    fast, plain = layer_pair(side)
    x = inputs_of(side)
    expected = keras.ops.convert_to_numpy(plain(x))
    assert expected.shape == (2, 2 * side, 2 * side + 2, 4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fast(x)), expected, rtol=1e-5, atol=1e-5)
    assert fast.compute_output_shape((None, side, side + 1, 5)) == (None, 2 * side, 2 * side + 2, 4)


def input_and_kernel_gradients(layer, x, weight):
    """d sum(weight * layer(x)) / d (x, kernel), on the current backend."""
    if keras.config.backend() == "jax":
        import jax

        def objective(kernel, inputs):
            outputs, _ = layer.stateless_call([kernel, *[v.value for v in layer.trainable_variables[1:]]], [], inputs)
            return (outputs * weight).sum()

        kernel_gradient, input_gradient = jax.grad(objective, argnums=(0, 1))(layer.trainable_variables[0].value, x)
        return np.asarray(input_gradient), np.asarray(kernel_gradient)
    import tensorflow as tf

    inputs = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        objective = tf.reduce_sum(layer(inputs) * weight)
    input_gradient, kernel_gradient = tape.gradient(objective, [inputs, layer.trainable_variables[0]])
    return input_gradient.numpy(), kernel_gradient.numpy()


@pytest.mark.parametrize("side", SIDES)
def test_its_gradients_are_the_upsampled_convolutions(side):
    fast, plain = layer_pair(side)
    x = inputs_of(side)
    weight = np.random.default_rng(3).normal(size=(2, 2 * side, 2 * side + 2, 4)).astype("float32")
    pairs = zip(input_and_kernel_gradients(fast, x, weight), input_and_kernel_gradients(plain, x, weight))
    for actual, expected in pairs:
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)


def test_bfloat16_stays_within_bfloat16_rounding_of_float32():
    side = ONE_CONVOLUTION_FROM
    fast, _ = layer_pair(side)
    mixed = NearestUpsampleConv2D.from_config({**fast.get_config(), "dtype": "mixed_bfloat16"})
    mixed.build((None, side, side + 1, 5))
    mixed.set_weights(fast.get_weights())
    x = inputs_of(side)
    exact = keras.ops.convert_to_numpy(fast(x))
    rounded = keras.ops.convert_to_numpy(keras.ops.cast(mixed(x), "float32"))
    assert np.abs(rounded - exact).max() <= 0.03 * np.abs(exact).max()  # a few bfloat16 steps (2^-8) of the range


def test_config_fixes_what_the_computation_assumes():
    layer = NearestUpsampleConv2D(4, kernel_size=5, strides=2, padding="valid", use_bias=False, name="up")
    assert (layer.kernel_size, layer.strides, layer.padding) == ((3, 3), (1, 1), "same")
    config = layer.get_config()
    assert "kernel_size" not in config and not config["use_bias"]
    assert NearestUpsampleConv2D.from_config(config).get_config() == config


def test_the_plain_form_holds_only_keras_layers():
    fast, plain = layer_pair(4)
    assert [type(layer) for layer in plain.layers] == [keras.layers.UpSampling2D, keras.layers.Conv2D]
    assert plain.name == fast.name

