"""Images/s of kgan's train step (TensorFlow and JAX, each precision) next to the same step in plain PyTorch.

    python benchmarks/train_vs_pytorch.py [--image-size 28] [--batch-size 64] [--rounds 3]
        [--torch-python /tmp/tv/bin/python] [--variants tf-auto,torch-float32,...]

Each variant runs in its own process: kgan's builds the default conditional model as `kgan train` does
(TrainConfig, prepare_data, build_model, fit on fit_inputs(batch_feeder)) from random images in a temporary .npz;
torch's runs benchmarks/torch_peer.py (the same networks and step, float32 or bfloat16 autocast) under
--torch-python, a separate environment, since kgan never depends on torch. The first epoch (compilation,
warm-up) is dropped; variants alternate over --rounds rounds and the median is over all kept epochs.

Run it on an otherwise idle machine: torch's OpenMP threads slow down far more than TensorFlow's or XLA's
thread pools when another process takes a core (2 threads on 2 shared cores ran the 28x28 step at 35-50
images/s, 1 thread at 165). OMP_NUM_THREADS, if set, reaches the torch process.
"""

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from kgan.config import PRECISIONS
from kgan.devices import BFLOAT16_CPU_FLAGS, CPUINFO, cpu_bfloat16_flags

WORKER = r"""
import json, sys, time, keras
from kgan.config import TrainConfig
from kgan.training.builder import batch_feeder, build_model, fit_inputs, prepare_data
args = json.loads(sys.argv[1])
config = TrainConfig(dataset=args["dataset"], batch_size=args["batch_size"], precision=args["precision"],
                     steps_per_epoch=args["steps"], epochs=args["epochs"])
dataset, config = prepare_data(config)
model = build_model(config, dataset)
feeder = batch_feeder(config, dataset)
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None): self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        float(logs["g_loss"])  # waits for the epoch's last step
        times.append(time.perf_counter() - self.start)
times = []
model.fit(**fit_inputs(feeder), epochs=config.epochs, shuffle=False, verbose=0, callbacks=[Clock()])
images = config.batch_size * config.steps_per_epoch
print(json.dumps({"precision": config.precision, "rates": [images / t for t in times[1:]]}))
"""
TORCH_PEER = Path(__file__).with_name("torch_peer.py")
KGAN_VARIANTS = {
    f"{short}-{precision}": (backend, precision)
    for short, backend in (("tf", "tensorflow"), ("jax", "jax"))
    for precision in PRECISIONS
}
TORCH_VARIANTS = {"torch-float32": "float32", "torch-bfloat16": "bfloat16"}
NUM_CLASSES = 10


def run_json(command, env=None):
    """The last line `command` prints, as JSON; exits with its last error line when it fails."""
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        error = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        sys.exit(f"{' '.join(map(str, command[:3]))} ... failed: {error}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(variant, options, npz_path):
    """(resolved precision, images/s of each kept epoch) of one run of `variant`."""
    settings = dict(batch_size=options.batch_size, steps=options.steps, epochs=options.epochs)
    if variant in TORCH_VARIANTS:
        precision = TORCH_VARIANTS[variant]
        flags = [f"--{key.replace('_', '-')}={value}" for key, value in settings.items()]
        command = [options.torch_python, TORCH_PEER, f"--image-size={options.image_size}",
                   f"--channels={channels(options.image_size)}", f"--precision={precision}", *flags]  # fmt: skip
        return f"{precision} (autocast)" if precision == "bfloat16" else precision, run_json(command)
    backend, precision = KGAN_VARIANTS[variant]
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    payload = json.dumps({**settings, "dataset": str(npz_path), "precision": precision})
    result = run_json([sys.executable, "-c", WORKER, payload], env=env)
    return result["precision"], result["rates"]


def channels(image_size):
    return 1 if image_size == 28 else 3


def write_dataset(path, options):
    """Random uint8 images and balanced labels in random order, as an .npz that kgan's --dataset reads."""
    rng = np.random.default_rng(0)
    n, size = options.batch_size * options.steps, options.image_size
    images = rng.integers(0, 256, (n, size, size, channels(size)), dtype=np.uint8)
    labels = rng.permutation(np.arange(n) % NUM_CLASSES)
    np.savez(path, x=images, y=labels, class_names=np.array([str(label) for label in range(NUM_CLASSES)]))


def versions(torch_python):
    distributions = importlib.metadata.packages_distributions()  # tensorflow may come as tensorflow-cpu
    found = {
        package: importlib.metadata.version(distributions[package][0]) if package in distributions else "absent"
        for package in ("keras", "tensorflow", "jax")
    }
    if torch_python:
        command = [torch_python, "-c", "import torch; print(torch.__version__)"]
        found["torch"] = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    return ", ".join(f"{package} {version}" for package, version in found.items())


def cpu_flags():
    try:
        present = cpu_bfloat16_flags(Path(CPUINFO).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        present = []
    return ", ".join(f"{flag} {'yes' if flag in present else 'no'}" for flag in BFLOAT16_CPU_FLAGS)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, choices=(28, 64), default=28, help="28: 1 channel, 64: 3")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed epoch")
    parser.add_argument("--epochs", type=int, default=6, help="epochs per variant (the first is dropped)")
    parser.add_argument("--rounds", type=int, default=3, help="times each variant runs, interleaved")
    parser.add_argument("--torch-python", default="/tmp/tv/bin/python", help="a Python that has torch")
    parser.add_argument("--variants", default=",".join([*KGAN_VARIANTS, *TORCH_VARIANTS]), help="comma-separated")
    options = parser.parse_args()
    if options.epochs < 2:
        parser.error("--epochs must be at least 2: the first is dropped")
    variants, known = options.variants.split(","), [*KGAN_VARIANTS, *TORCH_VARIANTS]
    unknown = [variant for variant in variants if variant not in known]
    if unknown:
        parser.error(f"unknown variants {', '.join(unknown)}: choose from {', '.join(known)}")
    if not Path(options.torch_python).exists():
        print(f"note: {options.torch_python} not found, skipping the torch variants")
        options.torch_python = None
        variants = [variant for variant in variants if variant not in TORCH_VARIANTS]
    if not variants:
        sys.exit("no variants left to run")
    size = options.image_size
    print(f"{versions(options.torch_python)}; {os.cpu_count()} CPUs, {cpu_flags()}")
    print(
        f"DCGAN train step, conditional, {size}x{size}x{channels(size)}, width 64, batch {options.batch_size}; "
        f"median images/s of {options.rounds} x {options.epochs - 1} epochs of {options.steps} steps\n"
    )
    rates, precisions = {variant: [] for variant in variants}, {}
    with tempfile.TemporaryDirectory() as folder:
        npz_path = Path(folder) / "random.npz"
        write_dataset(npz_path, options)
        for _ in range(options.rounds):
            for variant in variants:
                precisions[variant], measured = measure(variant, options, npz_path)
                rates[variant] += measured
    medians = {variant: statistics.median(values) for variant, values in rates.items()}
    print("| variant | precision | images/s | min | max | vs torch fp32 | vs torch bf16 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for variant, values in rates.items():
        ratios = [f"{medians[variant] / medians[peer]:.2f}" if peer in medians else "-" for peer in TORCH_VARIANTS]
        print(
            f"| {variant} | {precisions[variant]} | {medians[variant]:.1f} | {min(values):.1f} | {max(values):.1f} | "
            f"{' | '.join(ratios)} |"
        )


if __name__ == "__main__":
    main()
