"""FusedBatchNormalization: keras's batch norm, trained through one fused kernel on TensorFlow."""

import keras
import numpy as np
import pytest

from kgan.networks import build_generator
from kgan.networks.batch_norm import FusedBatchNormalization
from kgan.networks.blocks import dtype_policy
from kgan.networks.plain import KERAS_LAYERS_OF, plain_keras_model
from kgan.networks.upsampling import NearestUpsampleConv2D

MOMENTUM, EPSILON = 0.9, 1e-3
TOLERANCE = {"float32": 1e-4, "mixed_bfloat16": 3e-2}
IMAGE_AXES = (0, 1, 2)  # batch, height, width: one mean and variance per channel


def _layer(policy, shape):
    """A fused layer built under `policy`, with non-trivial gamma, beta, moving mean and moving variance."""
    with dtype_policy(policy):
        layer = FusedBatchNormalization(momentum=MOMENTUM, epsilon=EPSILON)
    layer.build(shape)
    rng = np.random.default_rng(0)
    channels = shape[-1]
    weights = [rng.normal(1, 0.3, channels), rng.normal(0, 0.3, channels), rng.normal(0, 1, channels),
               rng.uniform(0.5, 2, channels)]  # fmt: skip
    layer.set_weights([w.astype("float32") for w in weights])
    return layer


def numpy_training_pass(x, gamma, beta, upstream):
    """Batch norm in training mode, in float64: the output, the gradients of sum(output * upstream) with respect
    to x, gamma and beta, and the batch's mean and (biased) variance."""
    x, upstream = x.astype(np.float64), upstream.astype(np.float64)
    mean, variance = x.mean(axis=IMAGE_AXES), x.var(axis=IMAGE_AXES)
    inverse_std = 1 / np.sqrt(variance + EPSILON)
    normalized = (x - mean) * inverse_std
    grad_normalized = upstream * gamma
    grad_x = inverse_std * (
        grad_normalized
        - grad_normalized.mean(axis=IMAGE_AXES)
        - normalized * (grad_normalized * normalized).mean(axis=IMAGE_AXES)
    )
    grads = [grad_x, (upstream * normalized).sum(axis=IMAGE_AXES), upstream.sum(axis=IMAGE_AXES)]
    return gamma * normalized + beta, grads, mean, variance


def _train_call(layer, x, upstream):
    """The layer's training-mode output and the gradients of sum(output * upstream) w.r.t. input, gamma, beta."""
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(tf.cast(y, "float32") * upstream)
        grads = tape.gradient(loss, [x, layer.gamma.value, layer.beta.value])
        return y, [keras.ops.convert_to_numpy(g) for g in grads]
    import jax

    def loss(x, gamma, beta):
        statistics = [layer.moving_mean.value, layer.moving_variance.value]
        y, _ = layer.stateless_call([gamma, beta], statistics, x, training=True)
        return (y.astype("float32") * upstream).sum()

    grads = jax.grad(loss, argnums=(0, 1, 2))(x, layer.gamma.value, layer.beta.value)
    return layer(x, training=True), [np.asarray(g) for g in grads]


def as_float64(tensor):
    return keras.ops.convert_to_numpy(tensor).astype(np.float64)


@pytest.mark.parametrize(("policy", "compute_dtype"), [("float32", "float32"), ("mixed_bfloat16", "bfloat16")])
def test_training_pass_normalizes_by_the_batch_and_moves_the_averages(policy, compute_dtype):
    shape = (8, 5, 5, 6)
    layer = _layer(policy, shape)
    gamma, beta, moving_mean, moving_variance = (weight.astype(np.float64) for weight in layer.get_weights())
    rng = np.random.default_rng(1)
    x = rng.normal(0.5, 2.0, shape).astype("float32")
    upstream = rng.normal(size=shape).astype("float32")
    expected, expected_grads, batch_mean, batch_variance = numpy_training_pass(x, gamma, beta, upstream)

    y, grads = _train_call(layer, x, upstream)

    tolerance = TOLERANCE[policy]
    assert keras.backend.standardize_dtype(y.dtype) == compute_dtype
    np.testing.assert_allclose(as_float64(y), expected, atol=tolerance * 3)
    for grad, expected_grad in zip(grads, expected_grads):
        assert np.abs(expected_grad).max() > 0.1  # the comparison below means something
        np.testing.assert_allclose(grad.astype(np.float64), expected_grad, atol=tolerance * 10)
    moved = {  # keras keeps the batch's biased variance in the moving average
        "moving_mean": MOMENTUM * moving_mean + (1 - MOMENTUM) * batch_mean,
        "moving_variance": MOMENTUM * moving_variance + (1 - MOMENTUM) * batch_variance,
    }
    for name, expected_average in moved.items():
        np.testing.assert_allclose(as_float64(getattr(layer, name)), expected_average, rtol=1e-3, atol=1e-4)


def test_inference_normalizes_by_the_moving_averages():
    layer = _layer("float32", (4, 3, 3, 5))
    gamma, beta, moving_mean, moving_variance = layer.get_weights()
    x = np.random.default_rng(2).normal(size=(4, 3, 3, 5)).astype("float32")
    expected = gamma * (x - moving_mean) / np.sqrt(moving_variance + EPSILON) + beta
    np.testing.assert_allclose(as_float64(layer(x, training=False)), expected, atol=1e-5)


def test_tensorflow_trains_through_the_fused_kernel():
    if keras.config.backend() != "tensorflow":
        pytest.skip("the fused kernel is TensorFlow's; on other backends the layer runs keras's code")
    import tensorflow as tf

    fused = _layer("mixed_bfloat16", (8, 4, 4, 3))
    graph = tf.function(lambda x: fused(x, training=True)).get_concrete_function(tf.TensorSpec((8, 4, 4, 3))).graph
    op_types = {op.type for op in graph.get_operations()}
    assert "FusedBatchNormV3" in op_types, sorted(op_types)
    assert "Mean" not in op_types  # keras's separate moments


@pytest.mark.parametrize(
    "upsampling, kgan_layers",
    [("pixel_shuffle", {FusedBatchNormalization}), ("resize", {FusedBatchNormalization, NearestUpsampleConv2D})],
)
def test_plain_keras_model_swaps_in_keras_layers_with_the_same_weights(upsampling, kgan_layers):
    generator = build_generator(16, 1, latent_dim=4, num_classes=2, width=2, upsampling=upsampling)
    assert {type(layer) for layer in generator.layers} >= kgan_layers
    plain = plain_keras_model(generator)
    assert not any(type(layer) in KERAS_LAYERS_OF for layer in plain.layers)
    assert [layer.name for layer in plain.layers] == [layer.name for layer in generator.layers]
    inputs = [np.random.default_rng(3).normal(size=(3, 4)).astype("float32"), np.array([0, 1, 0], "int32")]
    outputs = [keras.ops.convert_to_numpy(model(inputs, training=False)) for model in (plain, generator)]
    np.testing.assert_allclose(*outputs, atol=1e-6)
    assert plain_keras_model(plain) is plain
