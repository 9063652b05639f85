"""How long the judging classifier must train: its accuracy on held-out real images per training length.

    .venv/bin/python benchmarks/classifier_plateau.py aid-aerial-8500 --image-size 32 --epochs 5,10,20,40
    .venv/bin/python benchmarks/classifier_plateau.py aid-aerial-8500 --image-size 32 --epochs auto,10,40 --seeds 0,1
    .venv/bin/python benchmarks/classifier_plateau.py fashion-mnist-8k --image-size 64 --epochs 5,10,20 --seeds 0

`kgan evaluate` trains every classifier (the reference one whose features FID/KID/precision/recall use,
and those of CAS and the augmentation study) for `--classifier-epochs` passes over the real training
split. A classifier stopped while its accuracy on real images still rises makes every ratio against
it soft. This trains the classifier on the training part of evaluate_held_out.py's --validation cut,
once per epochs value and seed (each with its own cosine decay to zero, as `kgan evaluate` does),
and prints its accuracy on the validation images; the test split is never touched.

`auto` in --epochs runs `kgan evaluate --classifier-epochs auto`'s search on the training part alone (it
holds out its own 1/8 of each class) and trains the classifier for the number of passes it found, so
the table shows whether the search stops where the validation accuracy stops rising.
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from common import DATASETS, work_folder
from evaluate_held_out import write_splits


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", choices=("fashion-mnist-8k", "aid-aerial-8500", "mnist-8k"))
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--epochs", default="5,10,20,40", help="Comma list of --classifier-epochs values (or auto).")
    parser.add_argument("--seeds", default="0,1", help="Classifier seeds (default 0,1).")
    parser.add_argument("--work-dir", type=Path, default=None, help="Keep (or reuse) the splits here.")
    args = parser.parse_args()

    from kgan.data import ImageDataset
    from kgan.judge.classifier import AUTO_EPOCHS, ClassifierSettings, search_plateau, train_classifier

    with work_folder(args.work_dir, "kgan-plateau-") as work:
        if not ((work / "train.npz").exists() and (work / "validation.npz").exists()):
            write_splits(DATASETS / args.data, args.image_size, work, validation=True)
        train, validation = np.load(work / "train.npz"), np.load(work / "validation.npz")
        num_classes = len(train["class_names"])
        print(f"{args.data} at {args.image_size} px: {len(train['y'])} training, {len(validation['y'])} validation "
              f"images, {num_classes} classes\n")
        print("| classifier epochs | steps | validation accuracy (per seed) | median | seconds per run |")
        print("| ---: | ---: | --- | ---: | ---: |")
        for epochs in args.epochs.split(","):
            label = epochs
            if epochs == AUTO_EPOCHS:
                started = time.perf_counter()
                dataset = ImageDataset(train["x"], train["y"].astype(np.int64), list(train["class_names"]), args.data)
                found = search_plateau(dataset, ClassifierSettings())
                epochs, label = found["epochs"], f"auto: {found['epochs']}"
                tried = ", ".join(f"{length}: {value:.3f}" for length, value in found["held_out_accuracy"])
                seconds = time.perf_counter() - started
                print(f"search ({seconds:.0f} s), held-out accuracy by epochs: {tried}", flush=True)
            settings = ClassifierSettings(epochs=int(epochs))
            steps = settings.steps(len(train["y"]))
            accuracies, seconds = [], []
            for seed in (int(value) for value in args.seeds.split(",")):
                started = time.perf_counter()
                classifier = train_classifier(train["x"], train["y"], num_classes, settings, steps, seed)
                seconds.append(time.perf_counter() - started)
                accuracies.append(classifier.accuracy(validation["x"], validation["y"]))
            print(f"| {label} | {steps} | {', '.join(f'{value:.3f}' for value in accuracies)} | "
                  f"{statistics.median(accuracies):.3f} | {statistics.median(seconds):.0f} |", flush=True)


if __name__ == "__main__":
    main()
