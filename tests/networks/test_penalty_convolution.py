"""GradientPenaltyConv2D: keras's Conv2D, whose second derivatives JAX takes through convolutions of its own kinds."""

import re

import keras
import numpy as np
import pytest

from kgan.networks import build_discriminator
from kgan.networks.blocks import dtype_policy
from kgan.networks.penalty_convolution import GradientPenaltyConv2D
from kgan.networks.plain import KERAS_LAYERS_OF, plain_keras_model

SHAPE = (3, 8, 8, 2)
TOLERANCE = {"float32": 1e-5, "mixed_bfloat16": 3e-2}


def _layer_pair(policy, strides, padding):
    """A GradientPenaltyConv2D with a bias and keras's Conv2D with the same config and weights, built under
    `policy`."""
    with dtype_policy(policy):
        layer = GradientPenaltyConv2D(4, 4 if strides == 2 else 3, strides=strides, padding=padding)
        layer.build(SHAPE)
        rng = np.random.default_rng(0)
        layer.set_weights([rng.normal(0, 0.3, weight.shape).astype("float32") for weight in layer.weights])
        keras_layer = keras.layers.Conv2D.from_config(layer.get_config())
        keras_layer.build(SHAPE)
        keras_layer.set_weights(layer.get_weights())
    return layer, keras_layer


def _penalty_and_gradients(layer, images, upstream):
    """sum ||d sum(leaky_relu(layer(x)) * upstream) / d x||^2 (R1's shape on one layer) and its gradients with
    respect to the layer's kernel and bias."""
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        images = tf.constant(images)
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(images)
                total = tf.reduce_sum(tf.nn.leaky_relu(tf.cast(layer(images), "float32"), 0.2) * upstream)
            penalty = tf.reduce_sum(tf.square(tf.cast(inner.gradient(total, images), "float32")))
        gradients = outer.gradient(penalty, layer.trainable_variables)
        return float(penalty), [keras.ops.convert_to_numpy(gradient) for gradient in gradients]
    import jax

    def penalty(weights):
        def total(x):
            outputs, _ = layer.stateless_call(weights, [], x)
            return jax.numpy.sum(jax.nn.leaky_relu(outputs.astype("float32"), 0.2) * upstream)

        return jax.numpy.sum(jax.numpy.square(jax.grad(total)(images).astype("float32")))

    value, gradients = jax.value_and_grad(penalty)([weight.value for weight in layer.trainable_variables])
    return float(value), [np.asarray(gradient) for gradient in gradients]


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize(("strides", "padding"), [(2, "same"), (1, "valid")], ids=["strided", "valid"])
def test_outputs_and_the_penalty_gradient_match_keras_conv2d(policy, strides, padding):
    layer, keras_layer = _layer_pair(policy, strides, padding)
    rng = np.random.default_rng(1)
    images = rng.normal(size=SHAPE).astype("float32")
    upstream = rng.normal(size=keras_layer.compute_output_shape(SHAPE)).astype("float32")
    tolerance = TOLERANCE[policy]

    outputs = [keras.ops.convert_to_numpy(keras.ops.cast(each(images), "float32")) for each in (layer, keras_layer)]
    np.testing.assert_allclose(*outputs, rtol=tolerance, atol=tolerance)
    (penalty, gradients), (keras_penalty, keras_gradients) = (
        _penalty_and_gradients(each, images, upstream) for each in (layer, keras_layer)
    )

    assert penalty == pytest.approx(keras_penalty, rel=tolerance)
    scale = np.abs(keras_gradients[0]).max()
    assert scale > 0.1  # the penalty depends on the kernel, so the comparison below means something
    for gradient, keras_gradient in zip(gradients, keras_gradients, strict=True):  # kernel, then bias (zero)
        np.testing.assert_allclose(gradient, keras_gradient, atol=tolerance * 10 * scale)


@pytest.mark.parametrize("spectral_norm", [False, True], ids=["batch-norm", "spectral-norm"])
def test_the_discriminator_convolves_with_it_and_saves_keras_layers(spectral_norm):
    discriminator = build_discriminator(16, 3, num_classes=2, width=2, spectral_norm=spectral_norm)
    convolutions = [getattr(layer, "layer", layer) for layer in discriminator.layers if "down_" in layer.name]
    assert convolutions and all(type(layer) is GradientPenaltyConv2D for layer in convolutions)
    if spectral_norm:
        return  # the wrapped layers load with kgan's SpectralNormalization, so with kgan
    plain = plain_keras_model(discriminator)
    assert not any(type(layer) in KERAS_LAYERS_OF for layer in plain.layers)
    rng = np.random.default_rng(2)
    inputs = [rng.uniform(-1, 1, (3, 16, 16, 3)).astype("float32"), np.array([0, 1, 0], "int32")]
    outputs = [keras.ops.convert_to_numpy(model(inputs, training=False)) for model in (plain, discriminator)]
    np.testing.assert_allclose(*outputs, atol=1e-6)


def _convolution_kinds(function, *arguments):
    """The convolutions of jax.jit(function)'s program, by layout, stride, dilations and reversal (not padding)."""
    import jax

    program = jax.jit(function).lower(*arguments).as_text()
    pattern = r"convolution\(.*?dim_numbers = (.*?), window = \{stride = (\[.*?\]), pad = \[.*?\]\], (lhs_dilate.*?)\}"
    return {match.groups() for match in re.finditer(pattern, program)}


@pytest.mark.skipif(keras.config.backend() != "jax", reason="on TensorFlow the layer is keras's own Conv2D")
@pytest.mark.parametrize("layer_class", [GradientPenaltyConv2D, keras.layers.Conv2D])
def test_jax_differentiates_the_input_gradient_with_the_first_gradients_convolutions(layer_class):
    # keras's Conv2D is there to show the check can fail: JAX's own rule for the penalty's gradient adds the
    # kernel gradient of an input-dilated convolution, which XLA:CPU ran ten times slower than all the others.
    import jax

    layer = layer_class(4, 4, strides=2, padding="same")
    layer.build(SHAPE)
    weights = [weight.value for weight in layer.trainable_variables]
    images, upstream = np.ones(SHAPE, "float32"), np.ones((3, 4, 4, 4), "float32")

    def total(weights, x):
        return jax.numpy.sum(jax.nn.leaky_relu(layer.stateless_call(weights, [], x)[0], 0.2) * upstream)

    def penalty(weights):
        return jax.numpy.sum(jax.numpy.square(jax.grad(total, argnums=1)(weights, images)))

    first = _convolution_kinds(jax.grad(total, argnums=(0, 1)), weights, images)
    second = _convolution_kinds(jax.grad(penalty), weights)
    assert len(first) == 3, first  # forward, input gradient, kernel gradient
    assert (second <= first) == (layer_class is GradientPenaltyConv2D), second - first
