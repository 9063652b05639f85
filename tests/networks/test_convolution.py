"""TapwiseGradientConv2D: keras's Conv2D, its kernel gradient summed tap by tap on JAX's CPU backend."""

import keras
import numpy as np
import pytest

from kgan.networks.blocks import dtype_policy
from kgan.networks.convolution import TapwiseGradientConv2D
from kgan.networks.plain import plain_keras_model

TOLERANCE = {"float32": 1e-4, "mixed_bfloat16": 3e-2}

# (input height, input width, kernel size, strides, padding): the generator's 3x3 convolutions, the
# discriminator's 4x4 stride-2 ones on even and odd sizes, and shapes no network uses.
GEOMETRIES = [
    (8, 8, 3, 1, "same"),
    (8, 8, 4, 2, "same"),
    (7, 7, 4, 2, "same"),
    (9, 6, 3, (2, 1), "same"),
    (9, 7, 3, 2, "valid"),
    (6, 6, 1, 1, "valid"),
]


def _layer_pair(policy, kernel_size, strides, padding, channels):
    """A TapwiseGradientConv2D and keras's Conv2D built alike under `policy`, with the same random weights."""
    options = dict(filters=5, kernel_size=kernel_size, strides=strides, padding=padding)
    with dtype_policy(policy):
        layers = [TapwiseGradientConv2D(**options), keras.layers.Conv2D(**options)]
    rng = np.random.default_rng(0)
    for layer in layers:
        layer.build((None, None, None, channels))
    weights = [rng.normal(size=weight.shape).astype("float32") for weight in layers[0].get_weights()]
    for layer in layers:
        layer.set_weights(weights)
    return layers


def _output_and_gradients(layer, x, upstream):
    """The layer's output and the gradients of sum(output * upstream) w.r.t. its input, kernel and bias."""
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(tf.cast(y, "float32") * upstream)
        grads = tape.gradient(loss, [x, layer.kernel.value, layer.bias.value])
        return keras.ops.convert_to_numpy(tf.cast(y, "float32")), [keras.ops.convert_to_numpy(g) for g in grads]
    import jax

    def loss(x, kernel, bias):
        y, _ = layer.stateless_call([kernel, bias], [], x)
        return (y.astype("float32") * upstream).sum(), y

    (_, y), grads = jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True)(x, layer.kernel.value, layer.bias.value)
    return np.asarray(y.astype("float32")), [np.asarray(g.astype("float32")) for g in grads]


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize(("height", "width", "kernel_size", "strides", "padding"), GEOMETRIES)
def test_output_and_gradients_are_keras_conv2d_ones(policy, height, width, kernel_size, strides, padding):
    channels = 3
    tapwise, reference = _layer_pair(policy, kernel_size, strides, padding, channels)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, height, width, channels)).astype("float32")
    upstream = rng.normal(size=reference.compute_output_shape(x.shape)).astype("float32")
    expected_output, expected_grads = _output_and_gradients(reference, x, upstream)
    output, grads = _output_and_gradients(tapwise, x, upstream)
    scale = max(1.0, float(np.abs(expected_output).max()))
    np.testing.assert_allclose(output, expected_output, atol=TOLERANCE[policy] * scale, rtol=TOLERANCE[policy])
    for name, actual, expected in zip(("input", "kernel", "bias"), grads, expected_grads):
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(actual, expected, atol=TOLERANCE[policy] * scale, rtol=TOLERANCE[policy],
                                   err_msg=f"gradient with respect to the {name}")  # fmt: skip


def test_takes_the_tapwise_path_only_on_jax_cpu(backend):
    layer, _ = _layer_pair("float32", 3, 1, "same", 2)
    assert layer._tapwise() == (backend == "jax")
    dilated = TapwiseGradientConv2D(2, 3, dilation_rate=2)
    dilated.build((None, 8, 8, 2))
    assert not dilated._tapwise()


def test_saves_as_keras_conv2d():
    inputs = keras.Input((6, 6, 2))
    model = keras.Model(inputs, TapwiseGradientConv2D(3, 3, padding="same", name="conv")(inputs))
    plain = plain_keras_model(model)
    assert type(plain.get_layer("conv")) is keras.layers.Conv2D
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(plain(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-6)
