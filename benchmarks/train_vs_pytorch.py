"""Images/s of kgan's train step (TensorFlow and JAX, each precision) next to the same step in plain PyTorch.

    python benchmarks/train_vs_pytorch.py [--image-size 28] [--upsampling auto] [--batch-size 64] [--rounds 3]
        [--torch-python /work/torchvenv/bin/python] [--variants tf-auto,tf-auto+g1,torch-float32+contiguous,...]

A variant is SIDE-PRECISION[+OPTION...]: SIDE tf, jax (kgan on that backend; PRECISION auto, float32 or
bfloat16, as --precision) or torch (benchmarks/torch_peer.py; float32, or bfloat16 under autocast). Options:
g1 / g2, one or two generator forwards per step (kgan train --generator-forwards; default
--generator-forwards); for torch also contiguous (NCHW memory rather than channels_last) and compile
(torch.compile); for tf also xla and nojit (the step jit-compiled or a plain tf.function, kgan train --jit and
--no-jit; without either, what a run of more than kgan.devices.MIN_STEPS_FOR_CPU_XLA steps gets) and interN / intraN
(TensorFlow's inter-op and intra-op thread pools of N threads, TF_NUM_INTEROP_THREADS /
TF_NUM_INTRAOP_THREADS; by default TensorFlow sizes each to the machine's cores) and eigen (TF_ENABLE_ONEDNN_OPTS=0:
TensorFlow's own Eigen kernels in place of oneDNN's); for tf and jax also speN
(Keras's steps_per_execution: N steps per call of the compiled step, so fit()'s Python loop runs once per N)
kerasadam (keras.optimizers.Adam in place of kgan's FusedAdam, whose TensorFlow update is one kernel), upsampled
(the resize generator's 3x3 convolutions run on the upsampled map, keras's UpSampling2D then Conv2D, in place of
kgan's NearestUpsampleConv2D, which computes the same at the input's resolution; 64 px); for jax also
ynnconv (XLA:CPU's default of running the convolutions with YNNPACK, in place of the XLA kernels kgan asks for,
kgan.devices.prefer_xla_cpu_convolutions) and noynn (no YNNPACK fusion at all, matrix products too).
The default list is what a user of this CPU would pick from: kgan's defaults on both backends, and torch eager
float32 (contiguous and channels_last), torch.compile, pytorch/examples' one-forward step, and bfloat16 autocast
only where the CPU has bfloat16 units (/proc/cpuinfo flags).

Each variant runs in its own process: kgan's builds the default conditional model as `kgan train` does
(TrainConfig, prepare_data, build_model, fit on fit_inputs(batch_feeder)) from random images in a temporary .npz,
without the R1 penalty that `--r1 auto` adds from 32 px (the peer has none: the step is compared like for like);
torch's runs torch_peer.py (the same networks and step) under --torch-python, a separate environment, since
kgan never depends on torch. The first epoch (compilation, warm-up) is dropped; variants alternate over
--rounds rounds and the median is over all kept epochs. The table gives each variant's ratio to
--reference (torch eager float32 by default) and to the fastest torch variant measured.

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

from kgan.config import GENERATOR_FORWARDS, PRECISIONS, TrainConfig, resolve_upsampling
from kgan.devices import CPUINFO, cpu_bfloat16_flags

WORKER = r"""
import dataclasses, json, sys, time, keras
from kgan.config import TrainConfig
from kgan.devices import resolve_jit
from kgan.training.builder import batch_feeder, build_model, fit_inputs, prepare_data
args = json.loads(sys.argv[1])
if args["keras_adam"]:
    import kgan.training.builder
    kgan.training.builder.default_optimizer = lambda rate, beta_1, name, beta_2: keras.optimizers.Adam(
        rate, beta_1=beta_1, beta_2=beta_2, name=name)
if args["upsampled"]:
    import kgan.networks.generator
    from kgan.networks.upsampling import plain_upsample_conv
    fast = kgan.networks.generator.NearestUpsampleConv2D
    kgan.networks.generator.NearestUpsampleConv2D = lambda *a, **k: plain_upsample_conv(fast(*a, **k))
config = TrainConfig(dataset=args["dataset"], batch_size=args["batch_size"], precision=args["precision"],
                     upsampling=args["upsampling"],
                     steps_per_epoch=args["steps"], epochs=args["epochs"],
                     generator_forwards=args["generator_forwards"], jit=args["jit"], metric=None, r1=0.0)
dataset, config = prepare_data(config)
config = dataclasses.replace(config, jit=resolve_jit(config.jit, config.precision))  # as a long run resolves it
model = build_model(config, dataset)
feeder = batch_feeder(config, dataset)
model.steps_per_execution = args["steps_per_execution"]
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
KGAN_SIDES = {"tf": "tensorflow", "jax": "jax"}
TORCH_PRECISIONS = ("float32", "bfloat16")
KGAN_OPTIONS, TORCH_OPTIONS = ("g1", "g2", "kerasadam", "upsampled"), ("g1", "g2", "contiguous", "compile")
# XLA:CPU's default fusions named as a setting of the user's, which kgan.devices leaves as it is.
YNNPACK_CONVOLUTIONS = "--xla_cpu_experimental_ynn_fusion_type=+individual_convolution"
# No YNNPACK fusion at all (matrix products too), the fusion emitters off as kgan has them.
NO_YNNPACK = "--xla_cpu_experimental_ynn_fusion_type= --xla_cpu_use_fusion_emitters=false"
JAX_XLA_FLAGS = {"ynnconv": YNNPACK_CONVOLUTIONS, "noynn": NO_YNNPACK}  # option: what it adds to $XLA_FLAGS
TF_OPTIONS, JAX_OPTIONS = ("xla", "nojit", "eigen"), tuple(JAX_XLA_FLAGS)  # and interN, intraN for tf
THREAD_POOLS = {"inter": "TF_NUM_INTEROP_THREADS", "intra": "TF_NUM_INTRAOP_THREADS"}
NUM_CLASSES = 10
VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile")


def parse_variant(variant, default_forwards):
    """(side, precision, generator forwards, torch_peer flags, environment, jit, steps per execution) of a variant
    name; ValueError when malformed."""
    name, *options = variant.split("+")
    side, _, precision = name.partition("-")
    allowed = TORCH_OPTIONS if side == "torch" else KGAN_OPTIONS + (TF_OPTIONS if side == "tf" else JAX_OPTIONS)
    if side not in (*KGAN_SIDES, "torch") or precision not in (TORCH_PRECISIONS if side == "torch" else PRECISIONS):
        raise ValueError(f"{variant}: not tf-, jax- or torch-PRECISION")
    env, steps_per_execution = {}, 1
    for option in options:
        word, count = option.rstrip("0123456789"), option.lstrip("abcdefghijklmnopqrstuvwxyz")
        if side == "tf" and word in THREAD_POOLS and count.isdigit():
            env[THREAD_POOLS[word]] = count
        elif side == "tf" and option == "eigen":
            env["TF_ENABLE_ONEDNN_OPTS"] = "0"
        elif side == "jax" and option in JAX_XLA_FLAGS:
            env["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {JAX_XLA_FLAGS[option]}".strip()
        elif side != "torch" and word == "spe" and count.isdigit() and int(count) > 0:
            steps_per_execution = int(count)
        elif option not in allowed:
            counted = ", interN, intraN" * (side == "tf") + ", speN" * (side != "torch")
            raise ValueError(f"{variant}: options are {', '.join(allowed)}{counted}")
    forwards = [int(option[1]) for option in options if option in ("g1", "g2")]
    extra = [{"contiguous": "--memory-format=contiguous", "compile": "--compile"}[option]
             for option in options if option in ("contiguous", "compile")]  # fmt: skip
    jit = True if "xla" in options else False if "nojit" in options else None
    return side, precision, (forwards or [default_forwards])[-1], extra, env, jit, steps_per_execution


def default_variants(has_bfloat16_units):
    kgan_variants = ["tf-auto", "tf-auto+g1", "tf-auto+g2", "jax-auto"]
    torch_variants = ["torch-float32+contiguous", "torch-float32", "torch-float32+compile", "torch-float32+g1"]
    if has_bfloat16_units:
        torch_variants += ["torch-bfloat16", "torch-bfloat16+g1"]
    return kgan_variants + torch_variants


def run_json(command, env=None):
    """The last line `command` prints, as JSON; exits with its last error line when it fails."""
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        error = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        sys.exit(f"{' '.join(map(str, command[:3]))} ... failed: {error}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(variant, options, npz_path):
    """(resolved precision, images/s of each kept epoch) of one run of `variant`."""
    side, precision, forwards, extra, threads, jit, steps_per_execution = parse_variant(
        variant, options.generator_forwards
    )
    settings = dict(batch_size=options.batch_size, steps=options.steps, epochs=options.epochs,
                    generator_forwards=forwards)  # fmt: skip
    if side == "torch":
        flags = [f"--{key.replace('_', '-')}={value}" for key, value in settings.items()]
        command = [options.torch_python, TORCH_PEER, f"--image-size={options.image_size}",
                   f"--channels={channels(options.image_size)}", f"--precision={precision}",
                   f"--upsampling={options.upsampling}",
                   *flags, *extra]  # fmt: skip
        return f"{precision} (autocast)" if precision == "bfloat16" else precision, run_json(command)
    env = dict(os.environ, KERAS_BACKEND=KGAN_SIDES[side], TF_CPP_MIN_LOG_LEVEL="3", **threads)
    payload = json.dumps({**settings, "dataset": str(npz_path), "precision": precision, "jit": jit,
                          "upsampling": options.upsampling,
                          "steps_per_execution": steps_per_execution,
                          "keras_adam": "kerasadam" in variant.split("+"),
                          "upsampled": "upsampled" in variant.split("+")})  # fmt: skip
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


def cpu_model():
    """The CPU as /proc/cpuinfo names it (model name, family, model, its vector flags) and its bfloat16 flags."""
    try:
        text = Path(CPUINFO).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown CPU", []
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    vector_flags = [flag for flag in fields.get("flags", "").split() if flag in VECTOR_FLAGS]
    description = (f"{fields.get('model name', 'unknown CPU')} (family {fields.get('cpu family', '?')} model "
                   f"{fields.get('model', '?')}; {' '.join(vector_flags) or 'no AVX'})")  # fmt: skip
    return description, cpu_bfloat16_flags(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, choices=(28, 64), default=28, help="28: 1 channel, 64: 3")
    parser.add_argument("--upsampling", choices=("auto", "pixel_shuffle", "resize"), default="auto",
                        help="the generator's on both sides, as kgan train --upsampling (no transposed)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed epoch")
    parser.add_argument("--epochs", type=int, default=6, help="epochs per variant (the first is dropped)")
    parser.add_argument("--rounds", type=int, default=3, help="times each variant runs, interleaved")
    parser.add_argument("--torch-python", default="/work/torchvenv/bin/python", help="a Python that has torch")
    parser.add_argument("--variants", default=None, help="comma-separated (default: see above, by CPU)")
    parser.add_argument("--reference", default="torch-float32+contiguous", help="the variant ratios are to")
    parser.add_argument(
        "--generator-forwards",
        type=int,
        choices=GENERATOR_FORWARDS,
        default=TrainConfig().generator_forwards,
        help="generator forwards per step of variants without g1/g2 (default: kgan train's)",
    )
    options = parser.parse_args()
    if options.epochs < 2:
        parser.error("--epochs must be at least 2: the first is dropped")
    model, bfloat16_flags = cpu_model()
    variants = options.variants.split(",") if options.variants else default_variants(bool(bfloat16_flags))
    for variant in variants:
        try:
            parse_variant(variant, options.generator_forwards)
        except ValueError as error:
            parser.error(str(error))
    if not Path(options.torch_python).exists():
        print(f"note: {options.torch_python} not found, skipping the torch variants")
        options.torch_python = None
        variants = [variant for variant in variants if not variant.startswith("torch-")]
    if not variants:
        sys.exit("no variants left to run")
    size = options.image_size
    print(f"{versions(options.torch_python)}; {model}, {os.cpu_count()} CPUs, bfloat16 flags: "
          f"{', '.join(bfloat16_flags) or 'none'}")  # fmt: skip
    print(
        f"DCGAN train step, conditional, {size}x{size}x{channels(size)}, width 64, batch {options.batch_size}, "
        f"upsampling {resolve_upsampling(options.upsampling, size)}; "
        f"g1/g2: generator forwards per step (default {options.generator_forwards}); "
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
                print(f"  {variant}: {', '.join(f'{rate:.1f}' for rate in measured)} images/s", flush=True)
    medians = {variant: statistics.median(values) for variant, values in rates.items()}
    torch_medians = [median for variant, median in medians.items() if variant.startswith("torch-")]
    best_torch = max(torch_medians, default=None)
    reference = medians.get(options.reference)
    print(f"| variant | precision | images/s | min | max | vs {options.reference} | vs best torch |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for variant, values in rates.items():
        ratios = [f"{medians[variant] / peer:.2f}" if peer else "-" for peer in (reference, best_torch)]
        print(
            f"| {variant} | {precisions[variant]} | {medians[variant]:.1f} | {min(values):.1f} | {max(values):.1f} | "
            f"{' | '.join(ratios)} |"
        )


if __name__ == "__main__":
    main()
