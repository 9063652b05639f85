"""Images/s of the DCGAN train step under fit(), per backend and jit setting.

    python benchmarks/train_throughput.py [--image-size 28] [--width 64] [--batch-size 128]

Each (backend, jit) variant runs in its own process (the backend is fixed at import),
trains the default conditional model on random images, discards the first epoch
(compilation), and reports the median of the following epochs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

WORKER = r"""
import json, sys, time, numpy as np, keras
from kgan.models import DCGAN, build_discriminator, build_generator
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
    options = parser.parse_args()
    settings = {k: getattr(options, k) for k in ("image_size", "width", "batch_size", "steps", "epochs")}
    print(f"DCGAN train step, conditional, {options.image_size}x{options.image_size}x1, width {options.width}, "
          f"batch {options.batch_size}; median images/s over {options.epochs - 1} epochs of {options.steps} steps")
    print(f"{'backend':<12}{'jit':<6}{'images/s':>10}{'min':>8}{'max':>8}")
    for backend in options.backends.split(","):
        for jit in (False, True):
            started = time.perf_counter()
            rates, error = measure(backend, jit, settings)
            if error:
                print(f"{backend:<12}{str(jit):<6}  failed: {error}")
                continue
            print(f"{backend:<12}{str(jit):<6}{statistics.median(rates):>10.1f}{min(rates):>8.1f}{max(rates):>8.1f}"
                  f"   ({time.perf_counter() - started:.0f} s with start-up)")


if __name__ == "__main__":
    main()
