"""Images/s of the DCGAN train step under fit(), per backend and jit setting.

    python benchmarks/train_throughput.py [--image-size 28] [--width 64] [--batch-size 128]

Each (backend, jit) variant runs in its own process (the backend is fixed at import),
trains the default conditional model on random images, discards the first epoch
(compilation) and keeps the rest. Variants alternate over --rounds rounds, so slow
drift of a shared machine hits them alike; the median is over all kept epochs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

WORKER = r"""
import json, sys, time, numpy as np, keras
from kgan.gan import DCGAN
from kgan.networks import build_discriminator, build_generator
args = json.loads(sys.argv[1])
size, width, batch, steps, epochs, jit = (args[k] for k in ("image_size", "width", "batch_size", "steps", "epochs", "jit"))
rng = np.random.default_rng(0)
images = rng.uniform(-1, 1, (batch * steps, size, size, 1)).astype("float32")
labels = (np.arange(batch * steps) % 10).astype("int32")
gan = DCGAN(build_generator(size, 1, num_classes=10, width=width), build_discriminator(size, 1, num_classes=10, width=width),
            latent_dim=100, num_classes=10)
gan.compile(jit_compile=jit)
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None): self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None): times.append(time.perf_counter() - self.start)
times = []
gan.fit(images, labels, batch_size=batch, epochs=epochs, shuffle=False, verbose=0, callbacks=[Clock()])
print(json.dumps([batch * steps / t for t in times[1:]]))
"""


def measure(backend, jit, options):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    payload = json.dumps({**options, "jit": jit})
    result = subprocess.run(
        [sys.executable, "-c", WORKER, payload], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return None, result.stderr.strip().splitlines()[-1]
    return json.loads(result.stdout.strip().splitlines()[-1]), None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, default=28)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed epoch")
    parser.add_argument("--epochs", type=int, default=6, help="epochs per variant (the first is dropped)")
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--rounds", type=int, default=3, help="times each variant runs, interleaved")
    options = parser.parse_args()
    settings = {k: getattr(options, k) for k in ("image_size", "width", "batch_size", "steps", "epochs")}
    print(f"DCGAN train step, conditional, {options.image_size}x{options.image_size}x1, width {options.width}, "
          f"batch {options.batch_size}; median images/s of {options.rounds} x {options.epochs - 1} epochs of {options.steps} steps")
    print(f"{'backend':<12}{'jit':<6}{'images/s':>10}{'min':>8}{'max':>8}")
    variants = [(backend, jit) for backend in options.backends.split(",") for jit in (False, True)]
    rates = {variant: [] for variant in variants}
    for _ in range(options.rounds):
        for variant in variants:
            measured, error = measure(*variant, settings)
            if error:
                sys.exit(f"{variant} failed: {error}")
            rates[variant] += measured
    for (backend, jit), values in rates.items():
        print(f"{backend:<12}{str(jit):<6}{statistics.median(values):>10.1f}{min(values):>8.1f}{max(values):>8.1f}")


if __name__ == "__main__":
    main()
