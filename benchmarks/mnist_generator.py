"""The shipped MNIST generator: choose run length and temperature on held-out digits, refit, test.

1. Splits of ../shared/datasets/mnist-8k (override with $KGAN_MNIST8K): the first 6,000 digits
   train the GAN, the next 1,000 are the validation split, the last 1,000 (the test split of
   benchmarks/evaluate_mnist.py) are seen by nothing but the final figures.
2. `kgan train` with its defaults on the 6,000, `--epochs 40 --keep-every 10`, once per
   --train-seeds value (`kgan train --seed`; or the given --run folders).
3. Every kept snapshot of at least --min-epoch epochs, at every --temperatures value: CAS on the
   validation split (`kgan evaluate --metrics cas`, one draw of images and classifier per
   --validation-seeds value). The run length and temperature with the best mean over the runs
   are chosen. With --mixture, the mixture of the runs' generators (`kgan export onnx
   RUN_DIR...`) is scored too, and chosen if it beats that best mean.
4. The refit: `kgan train` with its defaults and the chosen run length on the first 7,000 digits
   (training and validation split, seed --refit-seed; a mixture: one run per --train-seeds value),
   exported with the chosen temperature (`kgan export onnx --temperature`): the file that ships.
5. `kgan evaluate` of that file, with its defaults, against the test split: CAS next to the same
   classifier trained on the 7,000 real digits.

    .venv/bin/python benchmarks/mnist_generator.py --work-dir runs/mnist-ship            # about 1 h on 2 cores
    .venv/bin/python benchmarks/mnist_generator.py --mixture --min-epoch 40 --temperatures 1.5 --work-dir W
    .venv/bin/python benchmarks/mnist_generator.py --epochs 2 --keep-every 1 --min-epoch 1 --train-seeds 0,1 \\
        --temperatures 1 --classifier-epochs 1 --seeds 0 --validation-seeds 0 --mixture   # a quick check
"""

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
from common import choose_on_validation, flags, kgan, test_cas, work_folder
from evaluate_mnist import MNIST_8K

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kgan.config import PRECISIONS  # noqa: E402  (after the path set-up above)
from kgan.data import load_dataset  # noqa: E402

SPLITS = {"train": slice(None, 6000), "validation": slice(6000, 7000), "test": slice(7000, None),
          "refit": slice(None, 7000)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40, help="GAN training epochs (default 40).")
    parser.add_argument("--keep-every", type=int, default=10, help="Snapshot every this many epochs (default 10).")
    parser.add_argument("--min-epoch", type=int, default=20, help="Shortest run length to consider (default 20).")
    parser.add_argument("--precision", choices=PRECISIONS, default=None, help="kgan train's --precision (default: its)")
    parser.add_argument("--train-seeds", default="0,1,2", help="kgan train --seed of each run (default 0,1,2).")
    parser.add_argument("--train-options", type=shlex.split, default=[],
                        help='More kgan train options for every run and the refit, e.g. "--batch-size 32".')
    parser.add_argument("--refit-seed", type=int, default=0, help="kgan train --seed of the refit (default 0).")
    parser.add_argument("--run", type=Path, action="append", default=None,
                        help="Use this RUN_DIR (trained on the first 6,000 digits) instead of training; repeatable.")
    parser.add_argument("--temperatures", default="1.3,1.5", help="Temperatures to choose among (default 1.3,1.5).")
    parser.add_argument("--mixture", action="store_true",
                        help="Also score the mixture of the runs' generators, and ship a mixture if it scores best.")
    parser.add_argument("--classifier-epochs", type=int, default=10, help="Classifier training (default 10).")
    parser.add_argument("--validation-seeds", default="0,1,2",
                        help="Seeds of the validation CAS, each its own draw of images (default 0,1,2).")
    parser.add_argument("--seeds", default="0,1,2", help="Seeds of the test-set CAS (default 0,1,2).")
    parser.add_argument("--work-dir", type=Path, default=None, help="Keep runs, files and reports here.")
    args = parser.parse_args()

    if not (MNIST_8K / "images-idx3-ubyte.gz").exists():
        sys.exit(f"real MNIST digits not found at {MNIST_8K}; set KGAN_MNIST8K to the mnist-8k folder")
    with work_folder(args.work_dir, "kgan-mnist-generator-") as work:
        train, validation, test, refit = write_splits(work)
        seeds = args.train_seeds.split(",")
        runs = args.run
        if runs is None:
            runs = [work / f"run-seed{seed}" for seed in seeds]
            for seed, run in zip(seeds, runs):
                train_gan(train, run, args.epochs, seed, args.precision, "--keep-every", args.keep_every,
                          *args.train_options)
        epochs = [epoch for epoch in range(args.keep_every, args.epochs + 1, args.keep_every)
                  if epoch >= args.min_epoch]
        temperatures = [float(value) for value in args.temperatures.split(",")]
        scores = {}
        for run in runs:
            run_work = work / f"validation-{run.name}"
            run_work.mkdir(exist_ok=True)
            _, run_scores = choose_on_validation([run], epochs, temperatures, train, validation, run_work,
                                                 args.classifier_epochs, args.validation_seeds)
            for choice, score in run_scores.items():
                scores.setdefault(choice, []).append(score)
        print("\nmean validation CAS over the runs: " + ", ".join(
            f"epoch {epoch} T={temperature:g}: {np.mean(values):.4f}"
            for (epoch, temperature), values in scores.items()), flush=True)  # fmt: skip
        choices = {(epoch, temperature, False): np.mean(values) for (epoch, temperature), values in scores.items()}
        if args.mixture:
            mixture_work = work / "validation-mixture"
            mixture_work.mkdir(exist_ok=True)
            _, mixture_scores = choose_on_validation(runs, epochs, temperatures, train, validation, mixture_work,
                                                     args.classifier_epochs, args.validation_seeds)
            choices.update({(epoch, temperature, True): score
                            for (epoch, temperature), score in mixture_scores.items()})  # fmt: skip
        epoch, temperature, mixture = max(choices, key=choices.get)
        kind = f"the mixture of {len(runs)} runs" if mixture else "one run"
        print(f"chosen on validation: {kind}, {epoch} epochs, T={temperature:g}\n", flush=True)

        refits = [(work / f"refit-seed{seed}", seed) for seed in seeds] if mixture else \
            [(work / "refit", args.refit_seed)]  # fmt: skip
        for refit_run, seed in refits:
            train_gan(refit, refit_run, epoch, seed, args.precision, *args.train_options)
        model = work / "mnist8k-cdcgan.onnx"
        kgan("export", "onnx", *(run for run, _ in refits), "-o", model, "--temperature", temperature, "--overwrite")
        test_cas(model, refit, test, args.seeds, args.classifier_epochs, work / "test")
        print(f"{kind}, {epoch} epochs, temperature {temperature:g}; files in {work}"
              + ("" if args.work_dir else " (deleted)"))  # fmt: skip


def train_gan(dataset, run, epochs, seed, precision, *options):
    """`kgan train` with its defaults (and `precision`, when not None, and `options`) on `dataset` into `run`."""
    seconds = kgan("train", "--dataset", dataset, "--epochs", epochs, "--seed", seed, *options,
                   *flags({"--precision": precision}), "--out", run, "--overwrite")  # fmt: skip
    print(f"\ntrained {epochs} epoch(s) on {dataset.name}, seed {seed}: {seconds:.0f} s\n", flush=True)


def write_splits(work):
    """train.npz, validation.npz, test.npz and refit.npz: digits 0-5,999, 6,000-6,999, 7,000-7,999 and
    0-6,999 of mnist-8k."""
    digits = load_dataset(MNIST_8K)
    paths = [work / f"{name}.npz" for name in SPLITS]
    for path, rows in zip(paths, SPLITS.values()):
        np.savez(path, x=digits.images[rows], y=digits.labels[rows])
    return paths


if __name__ == "__main__":
    main()
