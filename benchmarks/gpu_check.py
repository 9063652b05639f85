"""GPU check: install, devices, tests, train throughput and MFU, export and generate, in one command.

    python benchmarks/gpu_check.py [--install] [--backends tensorflow,jax] [--steps N] [--peak-tflops X]
    python benchmarks/gpu_check.py --allow-cpu      # dry run of every stage on CPU, tiny settings

Stages (--stages picks among 2-5: devices, tests, throughput, export), each under its own heading,
then one markdown table of everything found and a verdict line:
1. --install: per backend a venv (--venv-dir, default /tmp/kgan-gpu-<backend>) with
   `pip install -c constraints.txt -e '.[gpu-<backend>]' pytest`, then onnxruntime swapped for
   onnxruntime-gpu (both install the `onnxruntime` module; see docs/devices.md). Without --install
   every backend runs in the current interpreter.
2. The GPUs (nvidia-smi), what each backend sees, and kgan.devices.resolve_precision("auto").
3. The GPU-relevant tests, per backend, all of them (no -x: one failure hides none of the others;
   tests/training/test_parallel.py skips, saying why, with fewer than 2 GPUs).
4. Train throughput per backend: each of --shapes (default 28x28x1 and 64x64x3, 10 classes),
   precision "auto", on 1 device and on all of them when more than one is visible, built as
   `kgan train` builds it, on random data; the first epoch (compilation) is dropped, images/s is
   the median of the other epochs. --batch-size is per device (the "all" variant trains a global
   batch of batch size x devices). MFU = images/s x train-step FLOPs per image / (devices x
   bfloat16 dense peak), the FLOPs counted from the built networks' convolutions and dense layers.
5. Export and generate, per backend: `kgan train` (digits, 1 epoch of 20 steps), `kgan export onnx`,
   `kgan generate` through onnxruntime's CUDA provider, and the provider onnxruntime really used.

Stages 2, 4 and 5 run benchmarks/gpu_check_worker.py (`python -m benchmarks.gpu_check_worker`) and
the kgan CLI, each check in its own process (the Keras backend is fixed at import), with
XLA_PYTHON_CLIENT_PREALLOCATE=false and TF_FORCE_GPU_ALLOW_GROWTH=true. --budget-s (default 450)
bounds stages 2-5, counted from the end of the install (whose time depends on the network and
pip's cache): once spent, no new check starts (a running one gets GRACE_S more before it is
stopped), and the table lists what was skipped. The aim (the issue): 35% of bfloat16 peak at
64x64 on an H100/H200-class GPU; the verdict line says whether it was met, or why it was not judged.
The exit code is 1 when a check failed or timed out.

--allow-cpu hides any GPU (CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS=cpu) and shrinks every stage
(batch 16, width 16, 2 steps, the fast half of the tests; stage 5 trains at the smallest of --shapes
with --batch-size and --width, 4 steps, and generates through the CPU provider) to check the code
paths on a machine without GPU.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax")
TESTS = ("tests/test_devices.py", "tests/training/test_parallel.py", "tests/export/test_onnx_export.py",
         "tests/runtime/test_generator.py")
DRY_RUN_TESTS = ("tests/test_devices.py", "tests/runtime/test_generator.py")  # seconds on CPU, the others a minute
STAGES = ("devices", "tests", "throughput", "export")  # stages 2-5
SHAPES = "28x1,64x3"  # (image size)x(channels), 10 classes each
NUM_CLASSES = 10
GRACE_S = 60  # what a check that started within the budget may run past it
MIN_TIMEOUT_S = 30
TARGET_MFU = 0.35  # the aim at 64x64 on an H100/H200-class GPU
TARGET_IMAGE_SIZE = 64
# Dense bfloat16 tensor-core TFLOPS per GPU, by nvidia-smi name; the first pattern that matches wins.
PEAK_TFLOPS = (
    (r"H200", 989),
    (r"H100.*PCIe", 756),
    (r"H100(?!.*NVL)", 989),  # SXM (e.g. "NVIDIA H100 80GB HBM3"); H100 NVL is not in the table
    (r"A100", 312),
    (r"L40S", 362),
    (r"\bL4\b", 121),
    (r"\bA10\b", 125),
    (r"RTX 4090", 165),
)
H100_CLASS = r"H100|H200"
WORKER = "benchmarks.gpu_check_worker"  # run with -m from ROOT
RESULT_PREFIX = "RESULT "  # gpu_check_worker's result line
CLI = "from cli.main import cli; cli()"
FAILED = ("FAILED", "timeout")  # the results that fail the check


def step_flops_per_image(generator_flops, discriminator_flops, generator_forwards=2):
    """FLOPs of one train step per image of the batch, from the forward FLOPs F_G and F_D per image.

    A backward pass costs about twice its forward (gradients of activations and of weights), so
    forward + backward is 3 forwards. kgan's step (kgan.gan.dcgan.DCGAN._gan_step):
    - D step: G forward on z (F_G), D forward + backward on the real and on the fake batch (6 F_D);
    - G step: G's backward (2 F_G) after a second forward on fresh z (F_G) with two generator forwards,
      or through the first with one; through D forward and its backward to the fake images (3 F_D:
      counted as a full backward, though D's weight gradients are not needed there).
    Total: (2 + generator_forwards) F_G + 9 F_D. Batch norm, the optimizers, the EMA of G and the losses
    are left out.

    Args:
        generator_flops, discriminator_flops: forward FLOPs per image (gpu_check_worker.forward_flops).
        generator_forwards: the run's --generator-forwards, 1 or 2.
    """
    return (2 + generator_forwards) * generator_flops + 9 * discriminator_flops


def peak_tflops(gpu_name, given=None):
    """(bfloat16 dense peak TFLOPS per device, or None when unknown; where it came from).

    Args:
        gpu_name: nvidia-smi's name of the GPU the check trains on; None when it trains on CPU.
        given: --peak-tflops, which wins over the table.
    """
    if given:
        return given, "--peak-tflops"
    if gpu_name is None:
        return None, "CPU; give --peak-tflops"
    for pattern, tflops in PEAK_TFLOPS:
        if re.search(pattern, gpu_name):
            return tflops, f"table, {gpu_name}"
    return None, f"{gpu_name} is not in the table; give --peak-tflops"


def model_flops_utilisation(images_per_second, flops_per_image, devices, peak_tflops_per_device):
    """The fraction of the devices' peak that the train step's FLOPs use."""
    return images_per_second * flops_per_image / (devices * peak_tflops_per_device * 1e12)


def held_to_the_aim(image_size, gpu_name):
    """Whether a throughput result is judged against TARGET_MFU: 64x64 on an H100/H200-class GPU."""
    return image_size == TARGET_IMAGE_SIZE and bool(re.search(H100_CLASS, gpu_name or ""))


def verdict(rows, aim_mfus):
    """The check's last line: which checks failed, and whether the MFU aim was met.

    Args:
        rows: the table's (stage, backend, check, result, detail) rows.
        aim_mfus: {"<backend> <check>": MFU} of the results held to the aim.
    """
    failed = [f"{backend} {name}" for _, backend, name, result, _ in rows if result in FAILED]
    checks = f"{len(failed)} check(s) failed ({', '.join(failed)})" if failed else "no check failed"
    aim = f"the {TARGET_MFU:.0%} MFU aim at {TARGET_IMAGE_SIZE}x{TARGET_IMAGE_SIZE}"
    if not aim_mfus:
        return f"Verdict: {checks}; {aim} not judged (no throughput of that size measured on an H100/H200-class GPU)"
    met = all(mfu >= TARGET_MFU for mfu in aim_mfus.values())
    measured = ", ".join(f"{name} {mfu:.1%}" for name, mfu in aim_mfus.items())
    return f"Verdict: {checks}; {aim} {'met' if met else 'NOT met'} ({measured})"


def parse_stages(text):
    """The STAGES named in a comma list, in STAGES' order; ValueError for other names or none."""
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = sorted(names - set(STAGES))
    if unknown or not names:
        raise ValueError(f"takes a comma list of {', '.join(STAGES)}, not {', '.join(unknown) or 'nothing'}")
    return tuple(stage for stage in STAGES if stage in names)


def parse_shapes(text):
    """((image size, channels), ...) of a comma list such as "28x1,64x3"; ValueError when malformed."""
    shapes = []
    for item in text.split(","):
        match = re.fullmatch(r"\s*(\d+)x([13])\s*", item)
        if not match:
            raise ValueError(f"{item.strip()!r} is not SIZExCHANNELS with 1 or 3 channels, e.g. 64x3")
        shapes.append((int(match.group(1)), int(match.group(2))))
    return tuple(shapes)


class Budget:
    """The wall-clock budget of stages 2-5: whether a new check may start, and how long it may run.

    Args:
        seconds: the budget, counted from start().
        clock: a monotonic clock in seconds.
    """

    def __init__(self, seconds, clock=time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.deadline = None
        self.skipped = []

    def start(self):
        self.deadline = self.clock() + self.seconds

    def remaining(self):
        return self.deadline - self.clock()

    def allows(self, name):
        """Whether check `name` may start; if not, it is listed in `skipped`."""
        if self.remaining() > 0:
            return True
        self.skipped.append(name)
        print(f"skipped (budget of {self.seconds:.0f} s spent): {name}", flush=True)
        return False

    def timeout(self):
        """Seconds a check starting now may run: the rest of the budget and GRACE_S, at least MIN_TIMEOUT_S."""
        return max(MIN_TIMEOUT_S, self.remaining() + GRACE_S)


class Check:
    """Runs the subprocesses of the check and gathers the rows of the final table."""

    def __init__(self, options, gpu_name=None):
        self.options = options
        self.gpu_name = gpu_name  # the first GPU's name, when the check runs on GPUs
        self.budget = Budget(options.budget_s)
        self.rows = []  # (stage, backend, check, result, detail)
        self.aim_mfus = {}  # see verdict()
        self.pythons = {backend: sys.executable for backend in options.backends}
        self.failed = set()  # backends whose install failed

    def row(self, stage, backend, check, result, detail=""):
        self.rows.append((stage, backend, check, result, detail))

    def env(self, backend):
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
                   XLA_PYTHON_CLIENT_PREALLOCATE="false", TF_FORCE_GPU_ALLOW_GROWTH="true")
        if self.options.allow_cpu:
            env.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
        return env

    def run(self, command, backend=None, timeout=None):
        """(exit code or "timeout", stdout and stderr together, seconds); the whole process group on timeout."""
        started = time.perf_counter()
        env = self.env(backend) if backend else dict(os.environ)
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=timeout or self.budget.timeout())
            code = process.returncode
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            code = "timeout"
        return code, output, time.perf_counter() - started

    def worker(self, backend, *args):
        """Runs a gpu_check_worker check; (its result, None) or (None, the error's last lines)."""
        code, output, seconds = self.run([self.pythons[backend], "-m", WORKER, *args], backend)
        results = [line[len(RESULT_PREFIX):] for line in output.splitlines() if line.startswith(RESULT_PREFIX)]
        if code == 0 and results:
            return json.loads(results[-1]), None
        return None, failure(code, output, seconds)

    def usable(self, backend, stage, name):
        """Whether a check may start: its backend installed (if asked to) and budget left."""
        if backend in self.failed:  # its install row says so
            return False
        if not self.budget.allows(f"{name} ({backend})"):
            self.row(stage, backend, name, "skipped", "budget spent")
            return False
        return True

def failure(code, output, seconds):
    lines = [line for line in output.strip().splitlines() if line.strip()]
    tail = " | ".join(lines[-3:]) if lines else "no output"
    what = f"timed out after {seconds:.0f} s" if code == "timeout" else f"exit {code}"
    return f"{what}: {tail}"


def section(title):
    print(f"\n## {title}\n", flush=True)


def query_gpus():
    """nvidia-smi's (name, memory, compute capability) per GPU; [] without nvidia-smi or GPUs."""
    if not shutil.which("nvidia-smi"):
        return []
    for fields in ("name,memory.total,compute_cap", "name,memory.total"):
        try:
            result = subprocess.run(["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader"],
                                    capture_output=True, text=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            return []
        if result.returncode == 0:
            return [[part.strip() for part in line.split(",")] for line in result.stdout.splitlines() if line.strip()]
    return []


def venv_path(template, backend):
    return Path(template.format(backend=backend)) if "{backend}" in template else Path(template) / backend


def install(check):
    section("1. Install")
    constraints = ROOT / "constraints.txt"
    for backend in check.options.backends:
        venv = venv_path(check.options.venv_dir, backend)
        python = venv / "bin" / "python"
        pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [*pip, "install", "-q", *(["-c", str(constraints)] if constraints.exists() else []),
             "-e", f".[gpu-{backend}]", "pytest"],
            [*pip, "uninstall", "-y", "-q", "onnxruntime"],  # shares the onnxruntime module with onnxruntime-gpu
            [*pip, "install", "-q", "--force-reinstall", "--no-deps", "onnxruntime-gpu"],
        ]
        started = time.perf_counter()
        for command in steps:
            print("$", " ".join(command), flush=True)
            code, output, seconds = check.run(command, timeout=check.options.install_timeout_s)
            if code != 0:
                detail = failure(code, output, seconds)
                print(f"failed: {detail}", flush=True)
                check.failed.add(backend)
                check.row("1", backend, "install", "FAILED", f"{detail}; its other stages not run")
                break
        else:
            check.pythons[backend] = str(python)
            seconds = time.perf_counter() - started
            print(f"{backend}: {venv} ready in {seconds:.0f} s", flush=True)
            check.row("1", backend, "install", "ok", f"{venv}, {seconds:.0f} s")


def report_devices(check, gpus):
    section("2. Devices")
    for gpu in gpus:
        print("GPU:", ", ".join(gpu))
    if not gpus:
        print("GPU: none (nvidia-smi absent or lists none)")
    shown = "; ".join(", ".join(gpu) for gpu in gpus) or "none"
    hidden = " (hidden by --allow-cpu)" if gpus and check.options.allow_cpu else ""
    check.row("2", "-", "nvidia-smi", f"{len(gpus)} GPU(s)", shown + hidden)
    visible = {}
    for backend in check.options.backends:
        if not check.usable(backend, "2", "devices"):
            continue
        info, error = check.worker(backend, "devices")
        if error:
            print(f"{backend}: FAILED {error}", flush=True)
            check.row("2", backend, "devices", "FAILED", error)
            continue
        visible[backend] = len(info["devices"])
        print(f"{backend}: {info['version']}, keras {info['keras']}", flush=True)
        print(f"  sees: {info['sees']}")
        print(f"  kgan devices (--devices all): {info['devices']}")
        print(f"  resolve_precision('auto') = {info['precision']}, resolve_jit(None) = {info['jit']}")
        print(f"  onnxruntime: {info['onnxruntime']}", flush=True)
        check.row("2", backend, "devices", f"{len(info['devices'])} for --devices all",
                  f"{info['devices']}; {info['sees']}; precision auto = {info['precision']}; jit = {info['jit']}")
        check.row("2", backend, "onnxruntime", "CUDA" if "CUDAExecutionProvider" in info["onnxruntime"] else "no CUDA",
                  info["onnxruntime"])
    return visible


def run_tests(check):
    section("3. Tests")
    wanted = DRY_RUN_TESTS if check.options.allow_cpu else TESTS
    files = [test for test in wanted if (ROOT / test).exists()]
    missing = [test for test in wanted if test not in files]
    if missing:
        print("missing, skipped:", ", ".join(missing))
    for backend in check.options.backends:
        if not files or not check.usable(backend, "3", "tests"):
            continue
        # Every test runs (no -x, which would hide the ones after a failure); -rfEs lists failures and skips' reasons.
        arguments = ["-q", "-rfEs", "-p", "no:cacheprovider", *files]
        print(f"{backend}: $ KERAS_BACKEND={backend} pytest {' '.join(arguments)}", flush=True)
        code, output, seconds = check.run([check.pythons[backend], "-m", "pytest", *arguments], backend)
        lines = [line for line in output.strip().splitlines() if line.strip()]
        summary = lines[-1] if lines else "no output"
        skipped = [line for line in lines if line.startswith("SKIPPED ")]
        print("\n".join(f"  {line}" for line in (lines[-25:] if code else [*skipped, summary])), flush=True)
        result = "ok" if code == 0 else ("timeout" if code == "timeout" else "FAILED")
        absent = f"; missing {', '.join(missing)}" if missing else ""
        check.row("3", backend, "tests", result, f"{summary} ({seconds:.0f} s){absent}")


def throughput(check, visible, peak):
    section("4. Train throughput")
    options = check.options
    tflops, source = peak
    print(f"batch {options.batch_size} per device, width {options.width}, {options.epochs} epochs of {options.steps} "
          f"steps (the first dropped), precision auto; peak bfloat16 per device: "
          f"{f'{tflops} TFLOPS' if tflops else 'unknown'} ({source})", flush=True)
    work_dir = tempfile.mkdtemp(prefix="kgan-gpu-check-")
    try:
        for backend in options.backends:
            device_counts = [1, "all"] if visible.get(backend, 1) > 1 else [1]
            for size, channels in options.shapes:
                for devices in device_counts:
                    label = f"train {size}x{size}x{channels}, devices {devices}"
                    if not check.usable(backend, "4", label):
                        continue
                    settings = dict(image_size=size, channels=channels, num_classes=NUM_CLASSES, devices=devices,
                                    batch_size=options.batch_size, width=options.width, steps=options.steps,
                                    epochs=options.epochs, work_dir=work_dir)
                    result, error = check.worker(backend, "throughput", json.dumps(settings))
                    if error:
                        print(f"{backend} {label}: FAILED {error}", flush=True)
                        check.row("4", backend, label, "FAILED", error)
                        continue
                    report_throughput(check, backend, label, size, result, tflops)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def report_throughput(check, backend, label, size, result, tflops):
    rate = statistics.median(result["rates"])
    flops = step_flops_per_image(result["generator_flops"], result["discriminator_flops"], result["generator_forwards"])
    achieved = rate * flops / result["devices"] / 1e12  # TFLOPS per device
    if tflops:
        mfu = model_flops_utilisation(rate, flops, result["devices"], tflops)
        aim = ""
        if held_to_the_aim(size, check.gpu_name):
            check.aim_mfus[f"{backend} {label}"] = mfu
            aim = f", {'meets' if mfu >= TARGET_MFU else 'below'} the {TARGET_MFU:.0%} aim"
        mfu_text = f"MFU {mfu:.1%}{aim}"
    else:
        mfu_text = "MFU unknown"
    detail = (f"{result['devices']} device(s), batch {result['batch_size']}, {result['precision']}, "
              f"jit {result['jit']}; F_G {result['generator_flops'] / 1e9:.3f} + F_D "
              f"{result['discriminator_flops'] / 1e9:.3f} GFLOP/image, step {flops / 1e9:.2f} GFLOP/image; "
              f"{achieved:.2f} TFLOPS/device; range {min(result['rates']):.0f}-{max(result['rates']):.0f}; "
              f"first epoch {result['first_epoch_s']:.1f} s")
    print(f"{backend} {label}: {rate:,.0f} images/s, {mfu_text}\n  {detail}", flush=True)
    check.row("4", backend, label, f"{rate:,.0f} images/s, {mfu_text}", detail)


def export_and_generate(check):
    section("5. Export and generate")
    options = check.options
    provider = "cpu" if options.allow_cpu else "cuda"
    smallest = min(size for size, _ in options.shapes)
    tiny = ["--image-size", str(smallest), "--batch-size", str(options.batch_size), "--width", str(options.width)]
    tiny = tiny if options.allow_cpu else []
    work_dir = Path(tempfile.mkdtemp(prefix="kgan-gpu-check-"))
    try:
        for backend in options.backends:
            python, run_dir, onnx = check.pythons[backend], work_dir / f"run-{backend}", work_dir / f"{backend}.onnx"
            commands = [
                ("train", [python, "-c", CLI, "train", "--backend", backend, "--dataset", "digits", "--epochs", "1",
                           "--steps-per-epoch", str(options.export_steps), *tiny, "--out", str(run_dir)]),
                ("export", [python, "-c", CLI, "export", "onnx", str(run_dir), "--backend", backend,
                            "--output", str(onnx)]),
                ("generate", [python, "-c", CLI, "generate", str(onnx), "--num-images", str(options.num_images),
                              "--provider", provider, "--out", str(work_dir / f"samples-{backend}")]),
            ]
            for step, command in commands:
                if not check.usable(backend, "5", f"kgan {step}"):
                    break
                print(f"{backend}: $ kgan {' '.join(command[3:])}", flush=True)
                code, output, seconds = check.run(command, backend)
                if code != 0:
                    detail = failure(code, output, seconds)
                    print(f"  FAILED {detail}", flush=True)
                    check.row("5", backend, step, "FAILED", detail)
                    break
                lines = [line for line in output.strip().splitlines() if line.strip()]
                last = lines[-1] if lines else ""
                print(f"  {last} ({seconds:.0f} s)", flush=True)
                if step == "generate":
                    rate = re.search(r"([\d.]+) images/s", last)
                    check.row("5", backend, f"kgan generate --provider {provider}",
                              f"{float(rate.group(1)):,.0f} images/s" if rate else "ok",
                              f"{options.num_images} PNG images, {seconds:.0f} s with start-up: {last}")
                else:
                    check.row("5", backend, f"kgan {step}", "ok", f"{seconds:.0f} s")
            else:
                if not check.usable(backend, "5", "OnnxGenerator provider"):
                    continue
                result, error = check.worker(backend, "provider", str(onnx), provider, str(options.num_images))
                if error:
                    print(f"  provider: FAILED {error}", flush=True)
                    check.row("5", backend, f'OnnxGenerator(provider="{provider}")', "FAILED", error)
                    continue
                print(f"  OnnxGenerator(provider={provider!r}).provider = {result['provider']}; "
                      f"{result['rate']:,.0f} images/s in memory", flush=True)
                check.row("5", backend, f'OnnxGenerator(provider="{provider}")', result["provider"],
                          f"{result['rate']:,.0f} images/s in memory (generate(), batch 256, no files)")
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def print_table(check, started):
    section("Summary")
    print(f"wall clock {time.perf_counter() - started:.0f} s; skipped for the budget: "
          f"{', '.join(check.budget.skipped) or 'nothing'}\n")
    print("| stage | backend | check | result | detail |")
    print("| --- | --- | --- | --- | --- |")
    for row in check.rows:
        print("| " + " | ".join(str(cell).replace("|", "/") for cell in row) + " |")
    print(f"\n{verdict(check.rows, check.aim_mfus)}", flush=True)


def parse_options(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--install", action="store_true", help="one venv per backend with its GPU extra")
    parser.add_argument("--venv-dir", default="/tmp/kgan-gpu-{backend}",
                        help="venv of each backend: a path with {backend}, or a folder to hold one per backend")
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--steps", type=int, help="steps per timed epoch (default 100; 2 with --allow-cpu)")
    parser.add_argument("--epochs", type=int,
                        help="epochs per variant, the first dropped (default 4; 2 with --allow-cpu)")
    parser.add_argument("--batch-size", type=int, help="images per device per step (default 256; 16 with --allow-cpu)")
    parser.add_argument("--width", type=int, help="networks' width (default kgan's 64; 16 with --allow-cpu)")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help=f"the stages to run after the install (default all: {','.join(STAGES)})")
    parser.add_argument("--shapes", default=SHAPES,
                        help=f"stage 4's images, SIZExCHANNELS comma list (default {SHAPES}; with --allow-cpu the "
                             "smallest size is stage 5's too)")
    parser.add_argument("--peak-tflops", type=float, help="bfloat16 dense peak per device (default: by GPU name)")
    parser.add_argument("--budget-s", type=float, default=450, help="seconds for stages 2-5 (default 450)")
    parser.add_argument("--install-timeout-s", type=float, default=900, help="limit of each pip command")
    parser.add_argument("--allow-cpu", action="store_true", help="dry run on CPU, tiny settings")
    options = parser.parse_args(argv)
    options.backends = [backend.strip() for backend in options.backends.split(",") if backend.strip()]
    unknown = [backend for backend in options.backends if backend not in BACKENDS]
    if unknown or not options.backends:
        parser.error(f"--backends takes a comma list of {', '.join(BACKENDS)}, not {unknown or 'nothing'}")
    for name, parse in (("stages", parse_stages), ("shapes", parse_shapes)):
        try:
            setattr(options, name, parse(getattr(options, name)))
        except ValueError as error:
            parser.error(f"--{name}: {error}")
    cpu = options.allow_cpu
    defaults = dict(steps=(2, 100), epochs=(2, 4), batch_size=(16, 256), width=(16, 64))
    for name, (on_cpu, on_gpu) in defaults.items():
        if getattr(options, name) is None:
            setattr(options, name, on_cpu if cpu else on_gpu)
    if options.epochs < 2:
        parser.error("--epochs must be at least 2: the first (compilation) is dropped")
    options.export_steps = 4 if cpu else 20
    options.num_images = 256 if cpu else 2000
    return options


def main():
    options = parse_options()
    started = time.perf_counter()
    gpus = query_gpus()
    if not gpus and not options.allow_cpu:
        sys.exit("no NVIDIA GPU found (nvidia-smi absent or lists none): pass --allow-cpu for a dry run on CPU")
    check = Check(options, gpu_name=None if options.allow_cpu else gpus[0][0])
    print(f"kgan GPU check{' (dry run on CPU)' if options.allow_cpu else ''}: backends {', '.join(options.backends)}, "
          f"{'venvs ' + options.venv_dir if options.install else 'interpreter ' + sys.executable}; "
          f"stages {', '.join(options.stages)}", flush=True)
    if options.install:
        install(check)
    check.budget.start()
    visible = report_devices(check, gpus) if "devices" in options.stages else {}
    if "tests" in options.stages:
        run_tests(check)
    if "throughput" in options.stages:
        throughput(check, visible, peak_tflops(check.gpu_name, options.peak_tflops))
    if "export" in options.stages:
        export_and_generate(check)
    print_table(check, started)
    if any(result in FAILED for _, _, _, result, _ in check.rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
