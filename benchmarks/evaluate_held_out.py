"""Train on a split of a shared data set, then `kgan evaluate` against the held-out rest.

The data sets are the ones in ../shared/datasets (override the folder with $KGAN_DATASETS):
`fashion-mnist-8k` (grayscale, here at --image-size 64 by default) and `aid-aerial-8500`
(64x64 RGB aerial scenes, 30 classes; no licence: benchmarks only, never ship what it trains).
The last 1/8 of every class is the test split: neither the GAN nor any choice made here
sees it. The rest trains the GAN (`kgan train`, its defaults unless told otherwise, e.g.
`--diffaugment color,translation,cutout` or `--lr`) and every classifier of `kgan evaluate`,
which prints classifier-feature FID, KID, precision/recall/density/coverage next to the
real-vs-real floor, CAS next to the same classifier trained on the real split, and the
accuracy gained by adding generated images to k real images per class. With --validation the
test split is left out altogether and the same cut of the rest makes a validation split: the
figures that choose a setting (a learning rate, a run length) come from there.

    .venv/bin/python benchmarks/evaluate_held_out.py aid-aerial-8500 --work-dir runs/aerial
    .venv/bin/python benchmarks/evaluate_held_out.py aid-aerial-8500 --diffaugment color,translation,cutout \\
        --work-dir runs/aerial-diffaugment
    .venv/bin/python benchmarks/evaluate_held_out.py fashion-mnist-8k --image-size 64 --work-dir runs/fashion64
    .venv/bin/python benchmarks/evaluate_held_out.py aid-aerial-8500 --epochs 1 --steps-per-epoch 3 \\
        --num-samples 300 --classifier-epochs 1 --seeds 0 --k 10     # a quick check that it runs
    .venv/bin/python benchmarks/evaluate_held_out.py aid-aerial-8500 --validation --lr 1e-4 --epochs 8 \\
        --metrics cas,fid,kid,prdc --seeds 0 --classifier-epochs 5   # one learning rate, scored on validation
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from common import DATASETS, flags, kgan, work_folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kgan.config import PRECISIONS, TrainConfig  # noqa: E402  (after the path set-up above)
from kgan.data import load_dataset  # noqa: E402

TEST_FRACTION = 8  # the last 1/8 of every class


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", choices=("fashion-mnist-8k", "aid-aerial-8500", "mnist-8k"),
                        help="A folder of ../shared/datasets.")
    parser.add_argument("--image-size", type=int, default=64, help="Side the splits are written at (default 64).")
    parser.add_argument("--epochs", type=int, default=TrainConfig().epochs,
                        help="GAN training epochs (default: kgan train's, %(default)s).")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="GAN batches per epoch (default: a pass).")
    parser.add_argument("--diffaugment", default=None, help="kgan train's --diffaugment (default: none).")
    parser.add_argument("--precision", choices=PRECISIONS, default=None, help="kgan train's --precision (default: its)")
    parser.add_argument("--lr", type=float, default=None, help="kgan train's --lr (default: its)")
    parser.add_argument("--train-seed", type=int, default=None, help="kgan train's --seed (default: its)")
    parser.add_argument("--validation", action="store_true",
                        help="Evaluate against a validation split of the training images; the test split stays unused.")
    parser.add_argument("--run", type=Path, default=None,
                        help="Evaluate this RUN_DIR (trained on this script's training split) instead of training.")
    parser.add_argument("--epoch", default=None,
                        help="With --run: kgan evaluate's --epoch, a kept epoch or best (default: the last generator).")
    parser.add_argument("--num-samples", type=int, default=None, help="Generated images (default: as many as real).")
    parser.add_argument("--temperature", type=float, default=None, help="kgan evaluate's --temperature (default 1).")
    parser.add_argument("--classifier-epochs", type=int, default=10, help="Classifier training (default 10).")
    parser.add_argument("--seeds", default="0,1,2", help="Seeds of CAS and augmentation (default 0,1,2).")
    parser.add_argument("--k", default="10,100", help="Real images per class for augmentation (default 10,100).")
    parser.add_argument("--metrics", default=None, help="kgan evaluate's --metrics (default: all)")
    parser.add_argument("--work-dir", type=Path, default=None, help="Keep the run and report here (default: temp).")
    args = parser.parse_args()

    source = DATASETS / args.data
    if not source.is_dir():
        sys.exit(f"{args.data} not found at {source}; set KGAN_DATASETS to the folder that holds it")
    with work_folder(args.work_dir, f"kgan-evaluate-{args.data}-") as work:
        train_file, test_file, sizes = write_splits(source, args.image_size, work, args.validation)
        run = args.run
        if run is None:
            run = work / "run"
            train = flags({"--steps-per-epoch": args.steps_per_epoch, "--diffaugment": args.diffaugment,
                           "--lr": args.lr, "--precision": args.precision, "--seed": args.train_seed})  # fmt: skip
            seconds = kgan("train", "--dataset", train_file, "--epochs", args.epochs, *train,
                           "--out", run, "--overwrite")  # fmt: skip
            print(f"\n{args.data} at {args.image_size} px: {args.epochs} epoch(s) on {sizes[0]} images in "
                  f"{seconds:.0f} s; evaluated against the {sizes[1]} of {test_file.name}:\n", flush=True)  # fmt: skip
        else:
            print(f"{run}, evaluated against the {sizes[1]} held-out images of {test_file.name}:\n", flush=True)
        extra = flags({"--epoch": args.epoch, "--num-samples": args.num_samples, "--temperature": args.temperature,
                       "--metrics": args.metrics})
        seconds = kgan("evaluate", run, "--dataset", train_file, "--test-dataset", test_file, *extra,
                       "--classifier-epochs", args.classifier_epochs, "--seeds", args.seeds, "--k", args.k,
                       "--out", work / "report", "--overwrite")  # fmt: skip
        print(f"\nkgan evaluate took {seconds:.0f} s; report: {work / 'report'}"
              + ("" if args.work_dir else " (deleted: pass --work-dir to keep it)"))  # fmt: skip


def write_splits(source, image_size, work, validation=False):
    """Writes train.npz (all but the last 1/8 of every class) and test.npz (that 1/8), at image_size.

    With `validation`, the test split is dropped and the same cut of the rest writes train.npz and
    validation.npz instead. Returns the two paths and their sizes.
    """
    data = load_dataset(source, image_size=image_size)
    images, labels = data.images, data.labels
    held_out = last_of_every_class(labels, data.num_classes)
    if validation:
        images, labels = images[~held_out], labels[~held_out]
        held_out = last_of_every_class(labels, data.num_classes)
    names = np.array(data.class_names)
    paths = work / "train.npz", work / ("validation.npz" if validation else "test.npz")
    for path, rows in zip(paths, (~held_out, held_out)):
        np.savez(path, x=images[rows], y=labels[rows], class_names=names)
    return (*paths, (int((~held_out).sum()), int(held_out.sum())))


def last_of_every_class(labels, num_classes):
    """A mask of the last 1/TEST_FRACTION of every class's rows, in their order."""
    held_out = np.zeros(len(labels), bool)
    for label in range(num_classes):
        rows = np.flatnonzero(labels == label)
        held_out[rows[len(rows) - len(rows) // TEST_FRACTION:]] = True
    return held_out


if __name__ == "__main__":
    main()
