"""Fashion-MNIST at 28x28: train, choose the sampling temperature on held-out training images, test on the test set.

1. Splits: the 60,000 official training images (`--dataset fashion_mnist`: keras's cache or
   Debian's `apt-get install dataset-fashion-mnist`): the first 55,000 train the GAN, the
   last 5,000 are the validation split. The test split is ../shared/datasets/fashion-mnist-8k
   (the first 8,000 official test images; override with $KGAN_FASHION8K): neither the GAN
   nor any choice here sees it.
2. `kgan train` with its defaults on the 55,000 (or --run RUN, trained on them).
3. `kgan export onnx`, then for each --temperatures value `kgan evaluate --metrics cas`
   against the validation split; the best CAS picks the temperature, recorded in the
   exported file (`kgan export onnx --temperature`).
4. `kgan evaluate` of that file, at its own temperature, against the test split: CAS next
   to the same classifier trained on the 55,000 real images, and their ratio.

    .venv/bin/python benchmarks/evaluate_fashion.py --work-dir runs/fashion            # trains first: hours on CPU
    .venv/bin/python benchmarks/evaluate_fashion.py --run RUN --work-dir runs/fashion  # about 20 min on 2 cores
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from common import choose_on_validation, flags, kgan, test_cas, work_folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kgan.config import PRECISIONS  # noqa: E402  (after the path set-up above)
from kgan.data import load_dataset  # noqa: E402

FASHION_8K = Path(os.environ.get("KGAN_FASHION8K", ROOT.parent / "shared" / "datasets" / "fashion-mnist-8k"))
TRAIN_IMAGES = 55_000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="GAN training epochs (default 20, the shipped file's).")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="kgan train's --precision (default: its; the shipped file trained in float32)")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="GAN batches per epoch (default: a pass).")
    parser.add_argument("--run", type=Path, default=None, help="Use this RUN_DIR, trained on the 55,000.")
    parser.add_argument("--temperatures", default="1,1.15,1.3", help="Temperatures to choose among.")
    parser.add_argument("--classifier-epochs", type=int, default=2,
                        help="Passes of every classifier over 55,000 images (default 2: 1,720 steps).")
    parser.add_argument("--seeds", default="0,1,2", help="Seeds of the test-set CAS (default 0,1,2).")
    parser.add_argument("--work-dir", type=Path, default=None, help="Keep runs, files and reports here.")
    args = parser.parse_args()

    if not (FASHION_8K / "images-idx3-ubyte.gz").exists():
        sys.exit(f"Fashion-MNIST test images not found at {FASHION_8K}; set KGAN_FASHION8K to fashion-mnist-8k")
    with work_folder(args.work_dir, "kgan-evaluate-fashion-") as work:
        train, validation, test = write_splits(work)
        run = args.run
        if run is None:
            run = work / "run"
            options = flags({"--steps-per-epoch": args.steps_per_epoch, "--precision": args.precision})
            seconds = kgan("train", "--dataset", train, "--epochs", args.epochs, *options,
                           "--out", run, "--overwrite")  # fmt: skip
            print(f"\ntrained {args.epochs} epoch(s) on {TRAIN_IMAGES} images in {seconds:.0f} s\n", flush=True)
        temperatures = [float(value) for value in args.temperatures.split(",")]
        (_, best), _ = choose_on_validation([run], [None], temperatures, train, validation, work,
                                            args.classifier_epochs)  # fmt: skip
        model = work / "fashion-mnist-cdcgan.onnx"
        kgan("export", "onnx", run, "-o", model, "--temperature", best, "--overwrite")
        test_cas(model, train, test, args.seeds, args.classifier_epochs, work / "test")
        print(f"temperature {best:g}; files in {work}" + ("" if args.work_dir else " (deleted)"))


def write_splits(work):
    """train.npz (first 55,000 training images), validation.npz (the other 5,000), test.npz (fashion-mnist-8k)."""
    official = load_dataset("fashion_mnist")
    names = np.array(official.class_names)
    paths = work / "train.npz", work / "validation.npz", work / "test.npz"
    for path, rows in zip(paths[:2], (slice(None, TRAIN_IMAGES), slice(TRAIN_IMAGES, None))):
        np.savez(path, x=official.images[rows], y=official.labels[rows], class_names=names)
    test = load_dataset(FASHION_8K)
    np.savez(paths[2], x=test.images, y=test.labels, class_names=names)
    return paths


if __name__ == "__main__":
    main()
