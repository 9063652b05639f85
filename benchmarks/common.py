"""What the quality benchmarks share: running kgan in a subprocess, work folders, choosing on validation data."""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The shared data sets (mnist-8k, fashion-mnist-8k, aid-aerial-8500): never part of the project.
DATASETS = Path(os.environ.get("KGAN_DATASETS", ROOT.parent / "shared" / "datasets"))


def kgan(*arguments):
    """Runs the kgan command line in a new process (so each picks its own backend); returns its seconds."""
    started = time.perf_counter()
    command = [sys.executable, "-c", "from cli.main import cli; cli()", *map(str, arguments)]
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode:
        sys.exit(f"kgan {arguments[0]} failed with exit code {result.returncode}")
    return time.perf_counter() - started


def flags(options):
    """Command-line arguments for the options that are set: {"--seed": 3, "--precision": None} -> ["--seed", 3]."""
    return [item for name, value in options.items() if value is not None for item in (name, value)]


@contextlib.contextmanager
def work_folder(work_dir, prefix):
    """Yields `work_dir` (created if needed), or a temporary folder named `prefix`... deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as temporary:
        work = work_dir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        yield work


def cas(report_folder):
    """The CAS entry of a `kgan evaluate` report: {"generated": {"mean", "std"}, "real": {...}}."""
    return json.loads((Path(report_folder) / "report.json").read_text())["metrics"]["cas"]


def choose_on_validation(runs, epochs, temperatures, train_file, validation_file, work, classifier_epochs,
                         seeds="0"):
    """Picks the generator snapshot and sampling temperature with the best CAS on validation data.

    Every (epoch, temperature) pair is exported and scored by `kgan evaluate --metrics cas --seeds SEEDS`
    (the mean over the seeds, each drawing its own images) with classifiers trained on its images and
    tested on `validation_file`; the test split is never touched here.

    Args:
        runs: RUN_DIRs of `kgan train`: one, or several whose generators are exported as one mixture.
        epochs: snapshot epochs kept by `--keep-every`; None stands for the last generator.
        temperatures: sampling temperatures to try.
        train_file, validation_file: --dataset and --test-dataset of `kgan evaluate`.
        work: folder for the exported files and reports.
        classifier_epochs: `kgan evaluate --classifier-epochs`.
        seeds: `kgan evaluate --seeds`, e.g. "0,1,2".

    Returns:
        (epoch, temperature) of the best score, and {(epoch, temperature): validation CAS}.
    """
    scores = {}
    for epoch in epochs:
        name = "last" if epoch is None else f"epoch{epoch:03d}"
        model = work / f"validation-{name}.onnx"
        kgan("export", "onnx", *runs, "-o", model, "--overwrite", *(["--epoch", epoch] if epoch else []))
        for temperature in temperatures:
            report = work / f"validation-{name}-T{temperature:g}"
            kgan("evaluate", model, "--dataset", train_file, "--test-dataset", validation_file, "--metrics", "cas",
                 "--seeds", seeds, "--temperature", temperature, "--classifier-epochs", classifier_epochs,
                 "--out", report, "--overwrite")  # fmt: skip
            scores[epoch, temperature] = cas(report)["generated"]["mean"]
    print("\nvalidation CAS: " + ", ".join(
        f"{'last' if epoch is None else f'epoch {epoch}'} T={temperature:g}: {score:.4f}"
        for (epoch, temperature), score in scores.items()), flush=True)  # fmt: skip
    return max(scores, key=scores.get), scores


def test_cas(model, train_file, test_file, seeds, classifier_epochs, out, metrics="cas,fid,kid,prdc"):
    """`kgan evaluate` of `model` at its own temperature against the test split; prints CAS as a share of real's."""
    kgan("evaluate", model, "--dataset", train_file, "--test-dataset", test_file, "--metrics", metrics,
         "--seeds", seeds, "--classifier-epochs", classifier_epochs, "--out", out, "--overwrite")  # fmt: skip
    result = cas(out)
    generated, real = result["generated"], result["real"]
    print(f"\ntest CAS {generated['mean']:.4f} ± {generated['std']:.4f} vs real {real['mean']:.4f} ± "
          f"{real['std']:.4f}: {generated['mean'] / real['mean']:.1%} of real, "
          f"{100 * (real['mean'] - generated['mean']):.2f} points below", flush=True)  # fmt: skip
    return result
