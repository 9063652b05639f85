"""The most images/s the default train step can reach on this CPU: its generator's convolutions alone, layer by layer.

    python benchmarks/conv_ceiling.py [--image-size 28] [--upsampling auto] [--batch-size 64] [--repeats 5]
    KERAS_BACKEND=jax python benchmarks/conv_ceiling.py ...

Every convolution of kgan's default conditional generator and discriminator at --image-size is rebuilt alone and
timed jit-compiled, forward and both gradients (input and kernel), as benchmarks/upsample_conv_layers.py times a
layer; beside each, its FLOPs per batch (benchmarks.gpu_check_worker's count: 2 x multiply-adds, resize layers at
their nominal upsampled-map count) and the rate it ran at. Above them, one large float32 matrix product's rate: what
this CPU gives dense arithmetic. kgan's one-forward step runs each generator layer forward once and back once (both
gradients: the projection before the first one trains too), so even with everything else free the step cannot pass
batch / (the generator layers' summed seconds) images/s: the ceiling printed last. Compare it
with benchmarks/train_vs_pytorch.py's figures from the same machine (a PyTorch peer of the same network spends the
same FLOPs in these layers).
"""

import argparse
import os

from kgan.devices import prefer_xla_cpu_convolutions

prefer_xla_cpu_convolutions(os.environ.get("KERAS_BACKEND", "tensorflow"))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from gpu_check import step_flops_per_image  # noqa: E402
from gpu_check_worker import forward_flops  # noqa: E402
from upsample_conv_layers import median_seconds, milliseconds  # noqa: E402

from kgan.config import resolve_upsampling  # noqa: E402
from kgan.networks.discriminator import build_discriminator  # noqa: E402
from kgan.networks.generator import build_generator  # noqa: E402

NUM_CLASSES = 10
MATRIX_SIDE = 2048


def matrix_product_rate(repeats):
    """GFLOP/s of one jit-compiled MATRIX_SIDE-square float32 matrix product, median of `repeats`."""
    rng = np.random.default_rng(0)
    a, b = (keras.ops.convert_to_tensor(rng.standard_normal((MATRIX_SIDE, MATRIX_SIDE), dtype="float32")) for _ in "ab")
    if keras.config.backend() == "jax":
        import jax

        product = jax.jit(keras.ops.matmul)
        run = lambda: product(a, b).block_until_ready()  # noqa: E731
    else:
        import tensorflow as tf

        product = tf.function(keras.ops.matmul, jit_compile=True)
        run = lambda: product(a, b).numpy()  # noqa: E731
    return 2 * MATRIX_SIDE**3 / median_seconds(run, repeats) / 1e9


def convolutions(model):
    """(name, input shape without the batch, a fresh copy of the layer) of each convolution of `model`."""
    return [
        (layer.name, tuple(layer.input.shape[1:]), type(layer).from_config(layer.get_config()))
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, default=28)
    parser.add_argument("--channels", type=int, default=None, help="default: 1 up to 28 px, 3 above")
    parser.add_argument("--upsampling", default="auto")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    size, batch = options.image_size, options.batch_size
    channels = options.channels or (1 if size <= 28 else 3)
    upsampling = resolve_upsampling(options.upsampling, size)
    networks = {
        "generator": build_generator(size, channels, num_classes=NUM_CLASSES, upsampling=upsampling),
        "discriminator": build_discriminator(size, channels, num_classes=NUM_CLASSES),
    }
    step_gflop = batch * step_flops_per_image(*map(forward_flops, networks.values()), generator_forwards=1) / 1e9
    print(f"{keras.config.backend()}, float32, {size}x{size}x{channels}, upsampling {upsampling}, batch {batch}; "
          f"the one-forward step {step_gflop:.1f} GFLOP; ms per forward + both gradients, "
          f"median of {options.repeats}")  # fmt: skip
    print(f"one {MATRIX_SIDE}x{MATRIX_SIDE} matrix product: {matrix_product_rate(options.repeats):.0f} GFLOP/s")
    print("| network | layer | input | GFLOP (x3: forward and both gradients) | ms | GFLOP/s |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    rng = np.random.default_rng(0)
    generator_ms = 0.0
    for network, model in networks.items():
        for name, shape, layer in convolutions(model):
            inputs = rng.standard_normal((batch, *shape)).astype("float32")
            probe = keras.Sequential([keras.Input(shape), layer])
            gflop = 3 * batch * forward_flops(probe) / 1e9
            ms = milliseconds(layer, inputs, options.repeats)
            generator_ms += ms if network == "generator" else 0.0
            print(f"| {network} | {name} | {'x'.join(map(str, shape))} | {gflop:.2f} | {ms:.0f} | "
                  f"{gflop / ms * 1e3:.0f} |", flush=True)  # fmt: skip
    print(f"generator convolutions: {generator_ms:.0f} ms per step of {batch}; ceiling of the whole step: "
          f"{batch / generator_ms * 1e3:.0f} images/s")  # fmt: skip


if __name__ == "__main__":
    main()
