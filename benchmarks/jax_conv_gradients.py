"""Milliseconds of one DCGAN convolution's forward and gradients under jax.jit: XLA:CPU's convolution next to
the same arithmetic written as one matrix product per kernel tap.

    python benchmarks/jax_conv_gradients.py [--batch 64] [--size 16] [--channels 128,64] [--repeats 5] [--ynnpack]

Three layers of kgan's 64 px networks at batch 64: the generator's 3x3 convolution after its nearest-neighbour
upsampling (`--upsampling resize`, the default above 28 px: 2 x size, in -> out channels), its 4x4 stride-2
transposed convolution (`--upsampling transposed`: size -> 2 x size, in -> out) and the discriminator's 4x4
stride-2 convolution (2 x size -> size, out -> in).
Each is timed as keras.ops computes it on JAX and as a sum of per-tap products (`jnp.einsum` over shifted
slices; the transposed one as four output phases of 2x2 taps, no inserted zeros), for the forward and for the
forward with the gradient to the input, to the kernel and to both; medians of --repeats after one warm-up
call. The two formulations are checked to agree first. XLA:CPU runs the convolutions with its own kernels, as
kgan asks it to (kgan.devices.prefer_xla_cpu_convolutions), or with --ynnpack with YNNPACK's, its default in
jaxlib 0.10 (docs/measurements.md, "JAX's convolutions on a CPU").
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from kgan.devices import prefer_xla_cpu_convolutions  # noqa: E402


def transposed_by_taps(x, kernel):
    """keras.ops.conv_transpose(x, kernel, 2, padding="same") for a 4x4 kernel (kh, kw, out, in)."""
    batch, size = x.shape[0], x.shape[1]
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    flipped = kernel[::-1, ::-1]
    rows = []
    for row_phase in range(2):
        phases = []
        for column_phase in range(2):
            phases.append(sum(
                jnp.einsum("bhwi,oi->bhwo", padded[:, row_phase + u:row_phase + u + size,
                                                   column_phase + v:column_phase + v + size],
                           flipped[row_phase + 2 * u, column_phase + 2 * v])
                for u in range(2) for v in range(2)))  # fmt: skip
        rows.append(jnp.stack(phases, axis=3))
    return jnp.stack(rows, axis=2).reshape(batch, 2 * size, 2 * size, kernel.shape[2])


def convolution_by_taps(x, kernel, stride):
    """keras.ops.conv(x, kernel, stride, padding="same") for a square kernel (kh, kw, in, out), size divisible by
    the stride."""
    size, taps = x.shape[1], kernel.shape[0]
    before = (taps - stride) // 2
    padding = (before, taps - stride - before)
    padded = jnp.pad(x, ((0, 0), padding, padding, (0, 0)))
    return sum(jnp.einsum("bhwi,io->bhwo", padded[:, u:u + size:stride, v:v + size:stride], kernel[u, v])
               for u in range(taps) for v in range(taps))  # fmt: skip


def median_ms(function, arguments, repeats):
    jax.block_until_ready(function(*arguments))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        jax.block_until_ready(function(*arguments))
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=16, help="the transposed convolution's input size")
    parser.add_argument("--channels", default="128,64", help="IN,OUT of the transposed convolution")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ynnpack", action="store_true", help="XLA:CPU's default convolutions, YNNPACK's")
    options = parser.parse_args()
    if not options.ynnpack:
        prefer_xla_cpu_convolutions("jax")  # before JAX starts its backend
    wide, narrow = map(int, options.channels.split(","))
    rng = np.random.default_rng(0)
    small = jnp.asarray(rng.normal(size=(options.batch, options.size, options.size, wide)), "float32")
    large = jnp.asarray(rng.normal(size=(options.batch, 2 * options.size, 2 * options.size, narrow)), "float32")
    upsampled = jnp.repeat(jnp.repeat(small, 2, axis=1), 2, axis=2)
    resize_kernel = jnp.asarray(rng.normal(size=(3, 3, wide, narrow)) * 0.05, "float32")
    generator_kernel = jnp.asarray(rng.normal(size=(4, 4, narrow, wide)) * 0.05, "float32")
    discriminator_kernel = jnp.asarray(rng.normal(size=(4, 4, narrow, wide)) * 0.05, "float32")
    layers = {
        "generator, resize then 3x3": (upsampled, resize_kernel,
                                       lambda x, k: keras.ops.conv(x, k, 1, padding="same"),
                                       lambda x, k: convolution_by_taps(x, k, 1)),
        "generator, transposed": (small, generator_kernel,
                                  lambda x, k: keras.ops.conv_transpose(x, k, 2, padding="same"), transposed_by_taps),
        "discriminator, strided": (large, discriminator_kernel,
                                   lambda x, k: keras.ops.conv(x, k, 2, padding="same"),
                                   lambda x, k: convolution_by_taps(x, k, 2)),
    }  # fmt: skip
    library = "YNNPACK's" if options.ynnpack else "XLA's own"
    print(f"jax {jax.__version__}, batch {options.batch}, {library} convolutions; median ms of {options.repeats}")
    print("| layer | formulation | forward | + input gradient | + kernel gradient | + both |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for layer, (x, kernel, by_xla, by_taps) in layers.items():
        difference = float(jnp.max(jnp.abs(by_xla(x, kernel) - by_taps(x, kernel))))
        assert difference < 1e-3, f"{layer}: the formulations differ by {difference}"
        for name, function in (("XLA convolution", by_xla), ("products per tap", by_taps)):
            def loss(x, k):
                return jnp.sum(function(x, k) ** 2)
            timings = [median_ms(jax.jit(function), (x, kernel), options.repeats)]
            for wrt in (0, 1, (0, 1)):
                timings.append(median_ms(jax.jit(jax.grad(loss, argnums=wrt)), (x, kernel), options.repeats))
            print(f"| {layer} | {name} | " + " | ".join(f"{value:.0f}" for value in timings) + " |", flush=True)


if __name__ == "__main__":
    main()
