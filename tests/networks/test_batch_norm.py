"""FusedBatchNormalization: keras's batch norm, trained through one fused kernel on TensorFlow."""

import keras
import numpy as np
import pytest

from kgan.networks import build_generator
from kgan.networks.batch_norm import FusedBatchNormalization, plain_keras_model
from kgan.networks.blocks import dtype_policy

TOLERANCE = {"float32": 1e-4, "mixed_bfloat16": 3e-2}


def _pair(policy, shape):
    """A fused layer and keras's own, built under `policy` with the same (non-trivial) weights."""
    with dtype_policy(policy):
        fused, plain = FusedBatchNormalization(momentum=0.9), keras.layers.BatchNormalization(momentum=0.9)
    rng = np.random.default_rng(0)
    for layer in (fused, plain):
        layer.build(shape)
    weights = [rng.normal(1, 0.3, shape[-1]), rng.normal(0, 0.3, shape[-1]), rng.normal(0, 1, shape[-1])]
    weights.append(rng.uniform(0.5, 2, shape[-1]))
    for layer in (fused, plain):
        layer.set_weights([w.astype("float32") for w in weights])
    return fused, plain


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


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_training_pass_matches_keras_batch_norm(policy):
    shape = (8, 5, 5, 6)
    fused, plain = _pair(policy, shape)
    rng = np.random.default_rng(1)
    x = rng.normal(0.5, 2.0, shape).astype("float32")
    upstream = rng.normal(size=shape).astype("float32")
    (y_fused, grads_fused), (y_plain, grads_plain) = _train_call(fused, x, upstream), _train_call(plain, x, upstream)
    tolerance = TOLERANCE[policy]
    assert keras.backend.standardize_dtype(y_fused.dtype) == keras.backend.standardize_dtype(y_plain.dtype)
    np.testing.assert_allclose(*(keras.ops.convert_to_numpy(y).astype("float32") for y in (y_fused, y_plain)),
                               atol=tolerance * 3)  # fmt: skip
    for fused_grad, plain_grad in zip(grads_fused, grads_plain):
        assert np.abs(plain_grad).max() > 0.1  # the comparison below means something
        np.testing.assert_allclose(fused_grad.astype("float32"), plain_grad.astype("float32"), atol=tolerance * 10)
    for statistic in ("moving_mean", "moving_variance"):  # keras keeps the biased batch variance
        np.testing.assert_allclose(*(keras.ops.convert_to_numpy(getattr(layer, statistic)) for layer in (fused, plain)),
                                   rtol=1e-3, atol=1e-4)  # fmt: skip


def test_inference_matches_keras_batch_norm():
    fused, plain = _pair("float32", (4, 3, 3, 5))
    x = np.random.default_rng(2).normal(size=(4, 3, 3, 5)).astype("float32")
    outputs = [keras.ops.convert_to_numpy(layer(x, training=False)) for layer in (fused, plain)]
    np.testing.assert_allclose(*outputs, atol=1e-6)


def test_tensorflow_trains_through_the_fused_kernel():
    if keras.config.backend() != "tensorflow":
        pytest.skip("the fused kernel is TensorFlow's; on other backends the layer runs keras's code")
    import tensorflow as tf

    fused, _ = _pair("mixed_bfloat16", (8, 4, 4, 3))
    graph = tf.function(lambda x: fused(x, training=True)).get_concrete_function(tf.TensorSpec((8, 4, 4, 3))).graph
    op_types = {op.type for op in graph.get_operations()}
    assert "FusedBatchNormV3" in op_types, sorted(op_types)
    assert "Mean" not in op_types  # keras's separate moments


def test_plain_keras_model_swaps_in_keras_layers_with_the_same_weights():
    generator = build_generator(16, 1, latent_dim=4, num_classes=2, width=2)
    assert any(isinstance(layer, FusedBatchNormalization) for layer in generator.layers)
    plain = plain_keras_model(generator)
    assert not any(isinstance(layer, FusedBatchNormalization) for layer in plain.layers)
    assert [layer.name for layer in plain.layers] == [layer.name for layer in generator.layers]
    inputs = [np.random.default_rng(3).normal(size=(3, 4)).astype("float32"), np.array([0, 1, 0], "int32")]
    outputs = [keras.ops.convert_to_numpy(model(inputs, training=False)) for model in (plain, generator)]
    np.testing.assert_allclose(*outputs, atol=1e-6)
    assert plain_keras_model(plain) is plain
