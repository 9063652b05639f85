"""Milliseconds of the R1 penalty's gradient with respect to the discriminator's weights under jax.jit, with
keras's Conv2D and with kgan's GradientPenaltyConv2D, next to one plain backward of D.

    python benchmarks/r1_gradient.py [--image-size 64] [--channels 3] [--classes 30] [--batch 64] [--repeats 3]
        [--conditional] [--finite-difference 0.1,0.01,0.001]

The discriminator is built as `kgan train` builds it (width 64, float32, training mode) and copied with keras's
own layers (kgan.networks.plain); both copies hold the same weights. Each variant is jitted, run once, then
timed --repeats times (median); the two R1 gradients are checked to agree. `--conditional` adds the gradient
with GradientPenaltyConv2D computed inside a `jax.lax.cond` whose predicate is true, as one program with the
penalty's schedule inside computes it (slow: tens of seconds a run at 64 px). `--finite-difference` also
measures how far the first-order estimate of R1's gradient, central differences of D's weight gradient along
the input gradient (steps as fractions of the input gradient's RMS), lands from the exact one.
"""

import argparse
import functools
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

from kgan.devices import prefer_xla_cpu_convolutions  # noqa: E402

prefer_xla_cpu_convolutions("jax")  # before JAX starts its backend, as kgan train does

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax_conv_gradients import median_ms  # noqa: E402

from kgan.networks import build_discriminator  # noqa: E402
from kgan.networks.plain import plain_keras_model  # noqa: E402


def flat(arrays):
    return np.concatenate([np.ravel(np.asarray(array, np.float64)) for array in arrays])


def relative_distance(estimate, exact):
    return float(np.linalg.norm(flat(estimate) - flat(exact)) / np.linalg.norm(flat(exact)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--classes", type=int, default=30, help="0 for an unconditional discriminator")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--conditional", action="store_true", help="also time the penalty inside lax.cond")
    parser.add_argument("--finite-difference", default="", help="comma-separated steps, e.g. 0.1,0.01,0.001")
    options = parser.parse_args()
    size, classes = options.image_size, options.classes
    discriminator = build_discriminator(size, options.channels, num_classes=classes)
    plain = plain_keras_model(discriminator)
    rng = np.random.default_rng(0)
    images = jnp.asarray(rng.uniform(-1, 1, (options.batch, size, size, options.channels)), "float32")
    labels = jnp.asarray(rng.integers(0, max(classes, 1), (options.batch, 1)), "int32")
    weights = [variable.value for variable in discriminator.trainable_variables]

    def logit_sum(model, trainable, x):
        fixed = [variable.value for variable in model.non_trainable_variables]
        inputs = [x, labels] if classes else x
        return jnp.sum(model.stateless_call(trainable, fixed, inputs, training=True)[0])

    def r1(model, conditional=False):
        def penalty(trainable):
            slopes = jax.grad(lambda x: logit_sum(model, trainable, x))(images)
            return jnp.mean(jnp.sum(jnp.square(slopes), axis=(1, 2, 3))) / 2

        def scheduled(trainable, due):
            return jax.lax.cond(due, penalty, lambda trainable: jnp.zeros(()), trainable)

        if conditional:
            return functools.partial(jax.jit(jax.grad(scheduled)), due=jnp.array(True))
        return jax.jit(jax.grad(penalty))

    print(f"jax {jax.__version__}, {size} px, {options.channels} channels, {classes} classes, batch "
          f"{options.batch}; median ms of {options.repeats}")  # fmt: skip
    print("| gradient | ms |\n| --- | ---: |")
    backward = jax.jit(jax.grad(lambda trainable: logit_sum(discriminator, trainable, images)))
    print(f"| D's weights, one backward | {median_ms(backward, (weights,), options.repeats):.0f} |", flush=True)
    gradients = {}
    for name, model in (("keras's Conv2D", plain), ("GradientPenaltyConv2D", discriminator)):
        function = r1(model)
        gradients[name] = function(weights)
        print(f"| R1, {name} | {median_ms(function, (weights,), options.repeats):.0f} |", flush=True)
    if options.conditional:
        function = r1(discriminator, conditional=True)
        gradients["GradientPenaltyConv2D, inside lax.cond"] = function(weights)
        milliseconds = median_ms(function, (weights,), options.repeats)
        print(f"| R1, GradientPenaltyConv2D, inside lax.cond | {milliseconds:.0f} |")
    exact = gradients.pop("keras's Conv2D")
    for name, gradient in gradients.items():
        distance = relative_distance(gradient, exact)
        print(f"relative distance of R1's gradient with {name} from keras's Conv2D's: {distance:.1e}")
    for step in [float(value) for value in options.finite_difference.split(",") if value]:
        slopes = jax.grad(lambda x: logit_sum(plain, weights, x))(images)
        epsilon = step / jnp.sqrt(jnp.mean(jnp.square(slopes)))
        difference = jax.grad(
            lambda trainable: logit_sum(plain, trainable, images + epsilon * slopes)
            - logit_sum(plain, trainable, images - epsilon * slopes)
        )(weights)
        estimate = [value / (2 * epsilon * options.batch) for value in difference]
        distance = relative_distance(estimate, exact)
        print(f"finite differences, step {step:g} of the slope's RMS: relative distance {distance:.2f}")


if __name__ == "__main__":
    main()
