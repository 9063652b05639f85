"""One DCGAN train step against gradients computed independently, on copies of the weights.

Pins the order of the alternating update (D on real and fake, then G against the updated
D), the losses with one-sided label smoothing, and the EMA formula with its warm-up, on
the active backend with jit on and off; with two generator forwards per step (G's loss on
fresh z) and with one (G's loss on the very fake batch D trained on); over three steps,
the hinge loss with R1 every second D step (applied on the first and third, times two); and G's loss with
the mode-seeking term.
"""

import functools
import itertools
import re

import keras
import numpy as np
import pytest
from keras import ops

from kgan.gan import DCGAN
from kgan.networks import build_discriminator, build_generator
from tests.tiny_models import gradients, to_numpy

LEARNING_RATE = 0.05
LABEL_SMOOTHING = 0.1
EMA_DECAY = 0.999
BATCH = 8
LATENT_DIM = 8
R1_GAMMA = 50.0  # large enough that the penalty visibly moves D's weights at their N(0, 0.02) start
R1_EVERY = 2
MODE_SEEKING = 0.5


def ema_variables(model, trainable):
    """The EMA generator's variables that shadow the generator's trainable (or non-trainable) ones.

    The EMA copy is frozen as a whole, so its own trainable_variables is empty.
    """
    pairs = zip(model.ema_generator.weights, model.generator.weights)
    return [average for average, weight in pairs if weight.trainable == trainable]


def input_gradient(function, inputs):
    """d sum(function(inputs)) / d inputs with the backend's own autodiff, differentiable again (no kgan code)."""
    if keras.config.backend() == "jax":
        import jax

        return jax.grad(lambda x: jax.numpy.sum(function(x)))(ops.convert_to_tensor(inputs))
    import tensorflow as tf

    inputs = tf.convert_to_tensor(inputs)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs = function(inputs)
    return tape.gradient(outputs, inputs)


def adversarial_losses(model):
    """(D's loss, G's loss) on logits for the model's loss, written out here rather than taken from kgan."""
    if model.gan_loss == "hinge":
        return (lambda real, fake: ops.mean(ops.relu(1 - real)) + ops.mean(ops.relu(1 + fake))), (
            lambda fake: -ops.mean(fake)
        )
    target = 1.0 - model.label_smoothing

    def d_loss(real, fake):
        return ops.mean(target * ops.softplus(-real) + (1.0 - target) * ops.softplus(real)) + ops.mean(
            ops.softplus(fake)
        )

    return d_loss, lambda fake: ops.mean(ops.softplus(-fake))


def mode_seeking_term(images, z, labels):
    """MSGAN's 1 / (d(images) / d(z) + 1e-5), d the mean |difference| summed over the pairs of each sample and the
    next one of its label (of the batch, without labels), the pairs listed here in Python."""
    groups = [0] * len(z) if labels is None else labels.tolist()
    pairs = []
    for i in range(len(z)):
        following = [j for j in range(i + 1, len(z)) if groups[j] == groups[i]]
        pairs += [(i, following[0])] if following else []
    image_gaps = sum(ops.mean(ops.abs(images[i] - images[j])) for i, j in pairs)
    latent_gaps = sum(np.mean(np.abs(z[i] - z[j])) for i, j in pairs)
    return 1 / (image_gaps / latent_gaps + 1e-5)


def expected_step(model, before, real, labels, z_discriminator, z_generator, step=1, r1_weight=0.0):
    """The weights after one step and its losses, from `before` (numpy copies) alone.

    G's loss is D's, once updated, on the generator's output for `z_generator`: for the one-forward step
    z_generator is None and that output is the fake batch D trained on (G's output for z_discriminator).
    Batch-norm statistics of the generator move once per forward: once, or twice on two forwards.
    `step` is the generator optimizer's iterations once it has applied this step (the EMA's warm-up);
    D's loss carries r1_weight * E||d D(x) / d x||^2 on the real batch.
    """
    generator, discriminator = model.generator, model.discriminator
    conditional = labels is not None

    def generate(g_trainable, z, g_fixed=before["g_fixed"]):
        inputs = [z, labels] if conditional else z
        return generator.stateless_call(g_trainable, g_fixed, inputs, training=True)  # images, statistics

    def discriminate(d_trainable, images):
        inputs = [images, labels] if conditional else images
        logits, _ = discriminator.stateless_call(d_trainable, before["d_fixed"], inputs, training=True)
        return logits

    fake, statistics = generate(before["g"], z_discriminator)
    fake = ops.stop_gradient(fake)
    if z_generator is None:
        z_generator = z_discriminator
    else:
        statistics = generate(before["g"], z_generator, statistics)[1]

    adversarial_d_loss, adversarial_g_loss = adversarial_losses(model)

    def d_loss(d_trainable):
        return adversarial_d_loss(discriminate(d_trainable, real), discriminate(d_trainable, fake))

    def d_objective(d_trainable):
        if not r1_weight:
            return d_loss(d_trainable)
        slopes = input_gradient(lambda images: discriminate(d_trainable, images), real)
        return d_loss(d_trainable) + r1_weight * ops.mean(ops.sum(ops.square(slopes), axis=(1, 2, 3)))

    d_after = [w - LEARNING_RATE * g for w, g in zip(before["d"], gradients(d_objective, before["d"]))]

    def g_loss(g_trainable):
        return adversarial_g_loss(discriminate(d_after, generate(g_trainable, z_generator)[0]))

    def g_objective(g_trainable):
        if not model.mode_seeking:
            return g_loss(g_trainable)
        images = generate(g_trainable, z_generator)[0]
        return g_loss(g_trainable) + model.mode_seeking * mode_seeking_term(images, z_generator, labels)

    g_after = [w - LEARNING_RATE * g for w, g in zip(before["g"], gradients(g_objective, before["g"]))]
    decay = min(EMA_DECAY, (1 + step) / (10 + step))
    ema_after = [decay * average + (1 - decay) * weight for average, weight in zip(before["ema"], g_after)]
    losses = {
        "d_loss": float(ops.convert_to_numpy(d_loss(before["d"]))),
        "g_loss": float(ops.convert_to_numpy(g_loss(before["g"]))),
    }
    g_fixed_after = [ops.convert_to_numpy(statistic) for statistic in statistics]
    return {"d": d_after, "g": g_after, "ema": ema_after, "g_fixed": g_fixed_after}, losses


def pinned_model(num_classes, jit, **options):
    """A tiny DCGAN trained by SGD whose z draws come from a fixed pair, and a batch to train it on.

    Returns:
        (model, real, labels, z_discriminator, z_generator, drawn): the step draws z for D's update, then for
        G's (two forwards); `drawn` lists the draws' batch sizes.
    """
    keras.utils.set_random_seed(0)
    model = DCGAN(
        build_generator(16, 1, latent_dim=LATENT_DIM, num_classes=num_classes, width=4),
        build_discriminator(16, 1, num_classes=num_classes, width=4),
        latent_dim=LATENT_DIM, num_classes=num_classes, ema_decay=EMA_DECAY, seed=1, **options,
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
    draws = itertools.cycle([z_discriminator, z_generator])
    drawn = []

    def sample_latent(batch_size):
        drawn.append(batch_size)
        return ops.convert_to_tensor(next(draws))

    model._sample_latent = sample_latent
    # The EMA copy starts from other weights than the generator's, so that the average is visible.
    model.ema_generator.set_weights([w + 0.01 for w in model.ema_generator.get_weights()])
    return model, real, labels, z_discriminator, z_generator, drawn


def state_before(model):
    before = {
        "g": to_numpy(model.generator.trainable_variables),
        "g_fixed": to_numpy(model.generator.non_trainable_variables),
        "d": to_numpy(model.discriminator.trainable_variables),
        "d_fixed": to_numpy(model.discriminator.non_trainable_variables),
        "ema": to_numpy(ema_variables(model, trainable=True)),
    }
    assert len(before["ema"]) == len(before["g"])
    return before


def assert_step_as_expected(model, before, logs, expected, losses):
    """The model's weights after a step are `expected`, the step moved them, and it logged `losses`."""
    actual = {
        "d": to_numpy(model.discriminator.trainable_variables),
        "g": to_numpy(model.generator.trainable_variables),
        "ema": to_numpy(ema_variables(model, trainable=True)),
        "g_fixed": to_numpy(model.generator.non_trainable_variables),
    }
    for group in ("d", "g", "ema", "g_fixed"):
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
        assert float(logs[name]) == pytest.approx(value, rel=1e-4, abs=1e-6), name  # hinge: G's loss near 0


@pytest.mark.parametrize("generator_forwards", [2, 1], ids=["two-forward", "one-forward"])
@pytest.mark.parametrize("jit", [True, False], ids=["jit", "no-jit"])
@pytest.mark.parametrize("num_classes", [0, 3], ids=["unconditional", "conditional"])
def test_one_train_step_matches_independent_gradients(jit, num_classes, generator_forwards):
    model, real, labels, z_discriminator, z_generator, drawn = pinned_model(
        num_classes, jit, label_smoothing=LABEL_SMOOTHING, generator_forwards=generator_forwards
    )
    before = state_before(model)

    logs = model.train_on_batch(real, labels, return_dict=True)

    assert len(drawn) == generator_forwards  # one draw of z per generator forward
    expected, losses = expected_step(
        model, before, real, labels, z_discriminator, z_generator if generator_forwards == 2 else None
    )
    assert_step_as_expected(model, before, logs, expected, losses)


@pytest.mark.parametrize("jit", [True, False], ids=["jit", "no-jit"])
def test_hinge_steps_with_lazy_r1_match_independent_gradients(jit):
    model, real, labels, z_discriminator, z_generator, _ = pinned_model(
        3, jit, gan_loss="hinge", r1_gamma=R1_GAMMA, r1_every=R1_EVERY
    )
    for step, due in ((1, True), (2, False), (3, True)):
        before = state_before(model)
        model.reset_metrics()  # the logged losses are then this step's alone

        logs = model.train_on_batch(real, labels, return_dict=True)

        penalty = R1_EVERY * R1_GAMMA / 2
        expected, losses = expected_step(
            model, before, real, labels, z_discriminator, z_generator, step, penalty if due else 0.0
        )
        assert_step_as_expected(model, before, logs, expected, losses)
        # The schedule the other way round gives other weights: the penalty is not lost in the tolerance.
        otherwise, _ = expected_step(
            model, before, real, labels, z_discriminator, z_generator, step, 0.0 if due else penalty
        )
        d_after = to_numpy(model.discriminator.trainable_variables)
        assert not all(np.allclose(a, b, rtol=1e-3) for a, b in zip(d_after, otherwise["d"])), step


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="tf.IndexedSlices are TensorFlow's")
def test_the_embedding_gradient_through_r1_keeps_a_shape_xla_can_compile():
    # Through the penalty's cond the embedding's IndexedSlices lose their constant dense_shape, and Keras's Adam
    # densifies them with it: XLA failed to compile that at 64 px ("must be a compile-time constant").
    import tensorflow as tf

    model, real, labels, *_ = pinned_model(3, True, r1_gamma=R1_GAMMA, r1_every=R1_EVERY)
    real, labels = tf.constant(real), tf.constant(labels)
    variables = model.discriminator.trainable_variables
    shapes = {}

    @tf.function
    def differentiate(step):
        gradients, _ = model._gradients(lambda: (model._r1_penalty(real, labels, step), None), variables)
        for gradient, variable in zip(gradients, variables):
            if isinstance(gradient, tf.IndexedSlices):
                shapes[variable.path] = (tf.get_static_value(gradient.dense_shape), tuple(variable.shape))
        return gradients

    differentiate(tf.constant(0))
    assert shapes, "no embedding gradient: the discriminator has no class embedding to check"
    for path, (static, wanted) in shapes.items():
        assert static is not None and tuple(static) == wanted, path


def _step_program(model, due, real, labels):
    """The operations of the jit-compiled train step with the R1 penalty (`due`) or without, one per line."""
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        step = tf.function(lambda data: model._train_step_with_r1_due(due, data), jit_compile=True)
        graph = step.get_concrete_function((tf.constant(real), tf.constant(labels))).graph
        return "\n".join(operation.type for operation in graph.get_operations())
    import jax

    state = tuple(
        [variable.value for variable in variables]
        for variables in (model.trainable_variables, model.non_trainable_variables, model.optimizer.variables,
                          model.metrics_variables)
    )  # fmt: skip
    step = functools.partial(model._train_step_with_r1_due, due)
    return str(jax.make_jaxpr(step)(state, (real, labels)))


def test_lazy_r1_compiles_into_a_program_per_case_without_a_conditional():
    # XLA:CPU computes convolutions inside a conditional tens of times slower than outside one (jax-ml/jax#12868).
    model, real, labels, *_ = pinned_model(3, True, r1_gamma=R1_GAMMA, r1_every=R1_EVERY)
    programs = {due: _step_program(model, due, real, labels) for due in (True, False)}
    assert not any(re.search(r"\bcond\[|^(Stateless)?If$", program, re.MULTILINE) for program in programs.values())
    assert len(programs[True]) > len(programs[False])  # the penalty's double backward is in one of them only


@pytest.mark.parametrize("generator_forwards", [2, 1], ids=["two-forward", "one-forward"])
@pytest.mark.parametrize("num_classes", [0, 3], ids=["unconditional", "conditional"])
def test_a_step_with_the_mode_seeking_term_matches_independent_gradients(num_classes, generator_forwards):
    model, real, labels, z_discriminator, z_generator, _ = pinned_model(
        num_classes, True, generator_forwards=generator_forwards, mode_seeking=MODE_SEEKING
    )
    before = state_before(model)

    logs = model.train_on_batch(real, labels, return_dict=True)

    z_generator = z_generator if generator_forwards == 2 else None
    expected, losses = expected_step(model, before, real, labels, z_discriminator, z_generator)
    assert_step_as_expected(model, before, logs, expected, losses)  # the logged g_loss leaves the term out
    model.mode_seeking = 0.0
    without, _ = expected_step(model, before, real, labels, z_discriminator, z_generator)
    g_after = to_numpy(model.generator.trainable_variables)
    assert not all(np.allclose(a, b, rtol=1e-3) for a, b in zip(g_after, without["g"]))
