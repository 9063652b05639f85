"""One DCGAN train step against gradients computed independently, on copies of the weights.

Pins the order of the alternating update (D on real and fake, then G against the updated
D), the losses with one-sided label smoothing, and the EMA formula with its warm-up, on
the active backend with jit on and off.
"""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from kgan.gan import DCGAN
from kgan.networks import build_discriminator, build_generator

LEARNING_RATE = 0.05
LABEL_SMOOTHING = 0.1
EMA_DECAY = 0.999
BATCH = 8
LATENT_DIM = 8


def snapshot(variables):
    return [keras.ops.convert_to_numpy(variable).copy() for variable in variables]


def ema_variables(model, trainable):
    """The EMA generator's variables that shadow the generator's trainable (or non-trainable) ones.

    The EMA copy is frozen as a whole, so its own trainable_variables is empty.
    """
    pairs = zip(model.ema_generator.weights, model.generator.weights)
    return [average for average, weight in pairs if weight.trainable == trainable]


def gradients(loss_fn, values):
    """d loss_fn(values) / d values, with the backend's own autodiff (no kgan code)."""
    if keras.config.backend() == "jax":
        import jax

        return [np.asarray(g) for g in jax.grad(loss_fn)([ops.convert_to_tensor(v) for v in values])]
    import tensorflow as tf

    tensors = [tf.convert_to_tensor(value) for value in values]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        loss = loss_fn(tensors)
    return [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, tensors)]  # embeddings: IndexedSlices


def expected_step(model, before, real, labels, z_discriminator, z_generator):
    """The weights after one step and its losses, from `before` (numpy copies) alone."""
    generator, discriminator = model.generator, model.discriminator
    conditional = labels is not None

    def generate(g_trainable, z):
        inputs = [z, labels] if conditional else z
        images, _ = generator.stateless_call(g_trainable, before["g_fixed"], inputs, training=True)
        return images

    def discriminate(d_trainable, images):
        inputs = [images, labels] if conditional else images
        logits, _ = discriminator.stateless_call(d_trainable, before["d_fixed"], inputs, training=True)
        return logits

    fake = ops.stop_gradient(generate(before["g"], z_discriminator))

    def d_loss(d_trainable):
        real_logits, fake_logits = discriminate(d_trainable, real), discriminate(d_trainable, fake)
        target = 1.0 - LABEL_SMOOTHING
        on_real = target * ops.softplus(-real_logits) + (1.0 - target) * ops.softplus(real_logits)
        return ops.mean(on_real) + ops.mean(ops.softplus(fake_logits))

    d_after = [w - LEARNING_RATE * g for w, g in zip(before["d"], gradients(d_loss, before["d"]))]

    def g_loss(g_trainable):
        return ops.mean(ops.softplus(-discriminate(d_after, generate(g_trainable, z_generator))))

    g_after = [w - LEARNING_RATE * g for w, g in zip(before["g"], gradients(g_loss, before["g"]))]
    step = 1  # the generator optimizer's iterations once it has applied this step
    decay = min(EMA_DECAY, (1 + step) / (10 + step))
    ema_after = [decay * average + (1 - decay) * weight for average, weight in zip(before["ema"], g_after)]
    losses = {
        "d_loss": float(ops.convert_to_numpy(d_loss(before["d"]))),
        "g_loss": float(ops.convert_to_numpy(g_loss(before["g"]))),
    }
    return {"d": d_after, "g": g_after, "ema": ema_after}, losses


@pytest.mark.parametrize("jit", [True, False], ids=["jit", "no-jit"])
@pytest.mark.parametrize("num_classes", [0, 3], ids=["unconditional", "conditional"])
def test_one_train_step_matches_independent_gradients(jit, num_classes):
    keras.utils.set_random_seed(0)
    model = DCGAN(
        build_generator(16, 1, latent_dim=LATENT_DIM, num_classes=num_classes, width=4),
        build_discriminator(16, 1, num_classes=num_classes, width=4),
        latent_dim=LATENT_DIM, num_classes=num_classes, ema_decay=EMA_DECAY,
        label_smoothing=LABEL_SMOOTHING, seed=1,
    )  # fmt: skip
    model.compile(
        g_optimizer=keras.optimizers.SGD(LEARNING_RATE),
        d_optimizer=keras.optimizers.SGD(LEARNING_RATE),
        jit_compile=jit,
    )
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (BATCH, 16, 16, 1)).astype(np.float32)
    labels = (np.arange(BATCH) % num_classes).astype(np.int32) if num_classes else None
    z_discriminator, z_generator = (rng.standard_normal((BATCH, LATENT_DIM)).astype(np.float32) for _ in range(2))
    draws = itertools.cycle([z_discriminator, z_generator])  # the step draws z for D's update, then for G's
    model._sample_latent = lambda batch_size: ops.convert_to_tensor(next(draws))
    # The EMA copy starts from other weights than the generator's, so that the average is visible.
    model.ema_generator.set_weights([w + 0.01 for w in model.ema_generator.get_weights()])
    before = {
        "g": snapshot(model.generator.trainable_variables),
        "g_fixed": snapshot(model.generator.non_trainable_variables),
        "d": snapshot(model.discriminator.trainable_variables),
        "d_fixed": snapshot(model.discriminator.non_trainable_variables),
        "ema": snapshot(ema_variables(model, trainable=True)),
    }
    assert len(before["ema"]) == len(before["g"])

    logs = model.train_on_batch(real, labels, return_dict=True)

    expected, losses = expected_step(model, before, real, labels, z_discriminator, z_generator)
    actual = {
        "d": snapshot(model.discriminator.trainable_variables),
        "g": snapshot(model.generator.trainable_variables),
        "ema": snapshot(ema_variables(model, trainable=True)),
    }
    for group in ("d", "g", "ema"):
        for index, (got, want) in enumerate(zip(actual[group], expected[group])):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=f"{group} variable {index}")
    for group in ("d", "g"):  # the step really moved the weights, so the comparison above means something
        moved = [not np.allclose(a, b) for a, b in zip(actual[group], before[group])]
        assert sum(moved) > len(moved) // 2, (group, moved)
    # Batch-norm statistics are copied into the EMA generator, not averaged.
    statistics = model.generator.non_trainable_variables
    assert statistics and len(ema_variables(model, trainable=False)) == len(statistics)
    for average, statistic in zip(ema_variables(model, trainable=False), statistics):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(average), keras.ops.convert_to_numpy(statistic))
    for name, value in losses.items():
        assert float(logs[name]) == pytest.approx(value, rel=1e-4), name
