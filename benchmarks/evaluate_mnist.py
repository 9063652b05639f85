"""How good is the default conditional DCGAN on real MNIST digits, and do its images help a classifier?

Trains the default model with `kgan train` on the first 7,000 of the 8,000 real digits in
../shared/datasets/mnist-8k (override with $KGAN_MNIST8K), then runs `kgan evaluate`
against the last 1,000 as the held-out test set and prints its table: classifier test
accuracy, classifier-feature FID, KID, IS, precision/recall and density/coverage next to
the real-vs-real floor, CAS next to the real-data accuracy, and the augmentation gain at
k = 10 and 100 real images per class.

    .venv/bin/python benchmarks/evaluate_mnist.py                   # the full benchmark (long on CPU)
    .venv/bin/python benchmarks/evaluate_mnist.py --epochs 1 --steps-per-epoch 5 \\
        --num-samples 500 --classifier-epochs 1 --seeds 0           # a quick check that it runs
"""

import argparse
import contextlib
import os
import sys
from pathlib import Path

import numpy as np
from common import kgan, work_folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kgan.config import PRECISIONS, TrainConfig  # noqa: E402  (after the path set-up above)
from kgan.data import load_dataset  # noqa: E402

MNIST_8K = Path(os.environ.get("KGAN_MNIST8K", ROOT.parent / "shared" / "datasets" / "mnist-8k"))
TRAIN_IMAGES = 7000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=TrainConfig().epochs,
                        help="GAN training epochs (default: kgan train's, %(default)s).")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="GAN batches per epoch (default: a pass).")
    parser.add_argument("--num-samples", type=int, default=None, help="Generated images (default: 7,000).")
    parser.add_argument("--classifier-epochs", type=int, default=10, help="Classifier training (default 10).")
    parser.add_argument("--temperature", type=float, default=1.3,
                        help="Standard deviation of the generated images' z (default 1.3: the best CAS on digits "
                             "held out of the training split; docs/measurements.md, Sampling temperature).")
    parser.add_argument("--seeds", default="0,1,2", help="Seeds of CAS and augmentation (default 0,1,2).")
    parser.add_argument("--k", default="10,100", help="Real images per class for augmentation (default 10,100).")
    parser.add_argument("--backend", choices=("tensorflow", "jax"), default=None)
    parser.add_argument("--precision", choices=PRECISIONS, default=None, help="kgan train's --precision (default: its)")
    parser.add_argument("--train-seed", type=int, default=None, help="kgan train's --seed (default: its)")
    parser.add_argument("--metrics", default=None, help="kgan evaluate's --metrics (default: all)")
    parser.add_argument("--work-dir", type=Path, default=None, help="Keep the run and report here (default: temp).")
    parser.add_argument("--run", type=Path, default=None,
                        help="Evaluate this RUN_DIR (trained on the same 7,000 digits) instead of training.")
    args = parser.parse_args()

    with mnist_splits(args.work_dir, "kgan-evaluate-mnist-") as (work, train_file, test_file):
        backend = ["--backend", args.backend] if args.backend else []
        steps = ["--steps-per-epoch", str(args.steps_per_epoch)] if args.steps_per_epoch else []
        samples = ["--num-samples", str(args.num_samples)] if args.num_samples else []
        recipe = [*(["--precision", args.precision] if args.precision else []),
                  *(["--seed", args.train_seed] if args.train_seed is not None else [])]  # fmt: skip
        metrics = ["--metrics", args.metrics] if args.metrics else []
        run = args.run
        if run is None:
            run = work / "run"
            train_seconds = kgan("train", "--dataset", train_file, "--epochs", args.epochs, *steps, *backend, *recipe,
                                 "--out", run, "--overwrite")  # fmt: skip
            print(f"\nDefault conditional DCGAN, {args.epochs} epoch(s) on {TRAIN_IMAGES} real MNIST digits "
                  f"({train_seconds:.0f} s); evaluated against the other {8000 - TRAIN_IMAGES}:\n",
                  flush=True)  # fmt: skip
        else:
            print(f"{run}, evaluated against the last {8000 - TRAIN_IMAGES} digits:\n", flush=True)
        evaluate_seconds = kgan("evaluate", run, "--dataset", train_file, "--test-dataset", test_file,
                                *samples, "--temperature", args.temperature, "--classifier-epochs",
                                args.classifier_epochs, "--seeds", args.seeds, "--k", args.k, *metrics, *backend,
                                "--out", work / "report", "--overwrite")  # fmt: skip
        print(f"\nkgan evaluate took {evaluate_seconds:.0f} s; report: {work / 'report'}"
              + ("" if args.work_dir else " (deleted: pass --work-dir to keep it)"))  # fmt: skip


@contextlib.contextmanager
def mnist_splits(work_dir, prefix):
    """Yields (work folder, train.npz, test.npz) in work_folder(work_dir, prefix)."""
    if not (MNIST_8K / "images-idx3-ubyte.gz").exists():
        sys.exit(f"real MNIST digits not found at {MNIST_8K}; set KGAN_MNIST8K to the mnist-8k folder")
    with work_folder(work_dir, prefix) as work:
        yield work, *write_splits(work)


def write_splits(work):
    """Writes the first 7,000 digits to train.npz and the last 1,000 to test.npz."""
    digits = load_dataset(MNIST_8K)
    paths = work / "train.npz", work / "test.npz"
    for path, rows in zip(paths, (slice(None, TRAIN_IMAGES), slice(TRAIN_IMAGES, None))):
        np.savez(path, x=digits.images[rows], y=digits.labels[rows])
    return paths


if __name__ == "__main__":
    main()
