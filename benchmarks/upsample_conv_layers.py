"""Milliseconds of one resize-generator layer, forward and both gradients, in each way of computing it.

    KERAS_BACKEND=jax python benchmarks/upsample_conv_layers.py [--batch-size 64] [--repeats 5]

For each upsampling layer of kgan's default generators (64x64x3 and, with --upsampling resize, 28x28x1),
times one jit-compiled pass of the layer's output, its input gradient and its kernel gradient, three ways:
- upsampled: keras's UpSampling2D(2) then Conv2D(3x3), the convolution on the upsampled map;
- one: kgan.networks.upsampling.NearestUpsampleConv2D with the four phases as one 2x2 convolution over the
  padded input (one extra row and column of outputs, then sliced away);
- four: the same layer with four 2x2 convolutions, one per phase, each on its own window.
The layer picks "one" from kgan.networks.upsampling.ONE_CONVOLUTION_FROM px of input up, "four" below; this
script sets that threshold to force each. Medians of --repeats after two warm-up calls. TensorFlow runs
the pass under tf.function(jit_compile=True), as `kgan train` runs its step on AVX2 CPUs; JAX under
jax.jit with kgan's XLA flags (kgan.devices.prefer_xla_cpu_convolutions).
"""

import argparse
import os
import statistics
import time

from kgan.devices import prefer_xla_cpu_convolutions

prefer_xla_cpu_convolutions(os.environ.get("KERAS_BACKEND", "tensorflow"))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kgan.networks import upsampling  # noqa: E402

# (input side, input channels, output channels) of the default generators' upsampling layers.
LAYERS = {
    "64x64x3": ((4, 512, 512), (8, 512, 256), (16, 256, 128), (32, 128, 64)),
    "28x28x1, resize": ((7, 256, 128), (14, 128, 64)),
}
THRESHOLDS = {"one": 0, "four": 10**6}


def compiled_pass(layer, inputs):
    """A function running layer(inputs) forward and back (input and kernel gradients), compiled."""
    if keras.config.backend() == "jax":
        import jax

        def objective(weights, x):
            outputs, _ = layer.stateless_call(weights, [], x)
            return (outputs * outputs).sum()

        step = jax.jit(jax.value_and_grad(objective, argnums=(0, 1)))
        weights = [variable.value for variable in layer.trainable_variables]
        return lambda: jax.block_until_ready(step(weights, inputs))
    import tensorflow as tf

    x = tf.constant(inputs)

    @tf.function(jit_compile=True)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = layer(x)
            objective = tf.reduce_sum(outputs * outputs)
        return tape.gradient(objective, [x, *layer.trainable_variables])

    return lambda: [gradient.numpy() for gradient in step(x)]


def median_seconds(run, repeats):
    """Median seconds of `repeats` calls of `run`, after two warm-up calls."""
    run(), run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def milliseconds(layer, inputs, repeats):
    return 1000 * median_seconds(compiled_pass(layer, inputs), repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    chosen_from = upsampling.ONE_CONVOLUTION_FROM
    print(f"{keras.config.backend()}, batch {options.batch_size}, float32; ms per forward + both gradients "
          f"(median of {options.repeats}); the layer picks 'one' from {chosen_from} px of input")  # fmt: skip
    print("| generator | layer | upsampled | one | four | upsampled / fastest |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    rng = np.random.default_rng(0)
    for generator, layers in LAYERS.items():
        for side, channels, filters in layers:
            inputs = rng.standard_normal((options.batch_size, side, side, channels)).astype("float32")
            times = {}
            for name, threshold in THRESHOLDS.items():
                upsampling.ONE_CONVOLUTION_FROM = threshold  # read when the layer is called
                layer = upsampling.NearestUpsampleConv2D(filters, use_bias=False)
                layer.build(inputs.shape)
                times[name] = milliseconds(layer, inputs, options.repeats)
            plain = upsampling.plain_upsample_conv(layer)
            plain.build(inputs.shape)
            plain.set_weights(layer.get_weights())
            times = {"upsampled": milliseconds(plain, inputs, options.repeats), **times}
            print(f"| {generator} | {side}x{side}x{channels} to {2 * side}x{2 * side}x{filters} | "
                  f"{times['upsampled']:.0f} | {times['one']:.0f} | {times['four']:.0f} | "
                  f"{times['upsampled'] / min(times['one'], times['four']):.2f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
