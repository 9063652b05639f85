"""Seconds and peak memory of the EMA generator's batch-norm calibration, per image size.

    python benchmarks/batch_norm_calibration.py [--sizes 28,64,128] [--baseline-rev REV] [--repeats 3]

Calibrates kgan's default conditional generator (width 64, 10 classes; 1 channel at 28 px,
3 above) as a training run does after every epoch. With --baseline-rev, the same is timed
with kgan/networks/calibration.py as it was at that git revision (e.g. aa4d73d, the
layer-by-layer version), in the same process run, alternating. Each measurement runs in its
own process; peak memory is that process's maximum resident set.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import importlib.util, json, resource, sys, time
import keras
from kgan.networks import build_generator
size, source = int(sys.argv[1]), sys.argv[2]
spec = importlib.util.spec_from_file_location("calibration_under_test", source)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
generator = build_generator(size, 1 if size == 28 else 3, num_classes=10, width=64)
generator.trainable = False  # as the EMA generator
module.calibrate_batch_norm(generator, 100, 10, seed=0)  # warm-up
start = time.perf_counter()
module.calibrate_batch_norm(generator, 100, 10, seed=1)
seconds = time.perf_counter() - start
print(json.dumps([seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20]))
"""


def measure(size, source):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", WORKER, str(size), str(source)], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=False)  # fmt: skip
    if result.returncode != 0:
        sys.exit(f"{size} px with {source} failed: {result.stderr.strip().splitlines()[-1]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="28,64,128")
    parser.add_argument("--baseline-rev", default=None, help="also time calibration.py of this git revision")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp"), help="where the baseline's file is written")
    args = parser.parse_args()
    versions = {"current": ROOT / "kgan" / "networks" / "calibration.py"}
    if args.baseline_rev:
        baseline = args.work_dir / f"calibration_{args.baseline_rev}.py"
        baseline.write_text(subprocess.run(["git", "show", f"{args.baseline_rev}:kgan/networks/calibration.py"],
                                           cwd=ROOT, capture_output=True, text=True, check=True).stdout)  # fmt: skip
        versions[args.baseline_rev] = baseline
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    print(f"batch-norm calibration of the default conditional generator, 1,024 samples, {backend}; "
          f"median of {args.repeats} runs")
    print(f"{'size':>5} {'version':<10}{'seconds':>9}{'peak GB':>9}")
    for size in map(int, args.sizes.split(",")):
        figures = {name: [] for name in versions}
        for _ in range(args.repeats):
            for name, source in versions.items():
                figures[name].append(measure(size, source))
        for name, runs in figures.items():
            seconds = statistics.median(run[0] for run in runs)
            peak = statistics.median(run[1] for run in runs)
            print(f"{size:>5} {name:<10}{seconds:>9.2f}{peak:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
