"""Which per-epoch score ranks a run's generators the way CAS on held-out images does, and what it costs.

    .venv/bin/python benchmarks/epoch_score_ranking.py aid-aerial-8500 --image-size 32 --epochs 20 \\
        --steps-per-epoch 120 --work-dir runs/ranking32

Trains one run on the training part of evaluate_held_out.py's --validation cut with `--metric kid
--keep-every N` (its history gives the score's cost per epoch), then scores every kept generator two
ways:
- as `kgan train --metric NAME` does (kgan.judge.epoch_score: the run's own images, a classifier
  trained on them less a held-out reference, 1,000 generated images) with each ranking metric;
- by CAS on the validation images (`kgan evaluate --epoch N --metrics cas`), the measure users care
  about; the test split is never touched.
It prints each epoch's numbers and the Spearman rank correlation of every score with CAS (signed so
that 1 means "ranks the epochs exactly as CAS does"), and which epoch each would keep.
"""

import argparse
import csv
import statistics
from pathlib import Path

import numpy as np
from common import DATASETS, cas, kgan, work_folder
from evaluate_held_out import write_splits
from scipy.stats import spearmanr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", choices=("fashion-mnist-8k", "aid-aerial-8500", "mnist-8k"))
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps-per-epoch", type=int, default=120)
    parser.add_argument("--keep-every", type=int, default=1, help="Score the generator of every Nth epoch (default 1).")
    parser.add_argument("--train-options", default="", help="More kgan train options, e.g. \"--generator-forwards 1\".")
    parser.add_argument("--classifier-epochs", type=int, default=10, help="kgan evaluate's (default 10).")
    parser.add_argument("--work-dir", type=Path, default=None, help="Keep (and reuse) the run and reports here.")
    args = parser.parse_args()

    from kgan.data import ImageDataset
    from kgan.evaluation.sources import open_generator
    from kgan.formats.run_folder import read_metric_log
    from kgan.judge.epoch_score import SCORED_IMAGES, EpochScorer
    from kgan.metrics.registry import METRICS, RANKING

    with work_folder(args.work_dir, "kgan-ranking-") as work:
        train_file, validation_file = work / "train.npz", work / "validation.npz"
        if not (train_file.exists() and validation_file.exists()):
            write_splits(DATASETS / args.data, args.image_size, work, validation=True)
        run = work / "run"
        if not (run / "history.csv").exists():
            kgan("train", "--dataset", train_file, "--epochs", args.epochs, "--steps-per-epoch", args.steps_per_epoch,
                 "--metric", "kid", "--keep-every", args.keep_every, *args.train_options.split(),
                 "--out", run, "--overwrite")  # fmt: skip
        rows = {line["epoch"]: {} for line in read_metric_log(run, "kid") if line["snapshot"]}

        train = np.load(train_file)
        dataset = ImageDataset(train["x"], train["y"], list(train["class_names"]), "train")
        scorers = {name: EpochScorer(dataset, name) for name in RANKING}
        for epoch in sorted(rows):
            images, labels = open_generator(run, epoch).generate(SCORED_IMAGES, seed=0)
            rows[epoch].update({name: scorer.score(images, labels) for name, scorer in scorers.items()})
            report = work / f"cas-epoch{epoch:03d}"
            if not (report / "report.json").exists():
                kgan("evaluate", run, "--epoch", epoch, "--dataset", train_file, "--test-dataset", validation_file,
                     "--metrics", "cas", "--seeds", "0", "--classifier-epochs", args.classifier_epochs,
                     "--out", report, "--overwrite")  # fmt: skip
            rows[epoch]["cas"] = cas(report)["generated"]["mean"]

        epochs = sorted(rows)
        columns = ["cas", *RANKING]
        print(f"\n{args.data} at {args.image_size} px, {args.epochs} epochs of {args.steps_per_epoch} steps; "
              f"CAS on {len(np.load(validation_file)['y'])} validation images:\n")
        print("| epoch | " + " | ".join(columns) + " |")
        print("| ---: |" + " ---: |" * len(columns))
        for epoch in epochs:
            print(f"| {epoch} | " + " | ".join(f"{rows[epoch][name]:.4g}" for name in columns) + " |")
        print("\n| score | Spearman with CAS | epoch it keeps | CAS of that epoch |")
        print("| --- | ---: | ---: | ---: |")
        cas_values = [rows[epoch]["cas"] for epoch in epochs]
        for name in RANKING:
            metric = METRICS[name]
            values = [rows[epoch][name] for epoch in epochs]
            sign = 1 if metric.higher_is_better else -1
            kept = max(epochs, key=lambda epoch: sign * rows[epoch][name])
            print(f"| {name} | {spearmanr(cas_values, values).statistic * sign:.2f} | {kept} | "
                  f"{rows[kept]['cas']:.3f} |")
        best = max(epochs, key=lambda epoch: rows[epoch]["cas"])
        print(f"| (CAS itself) | 1.00 | {best} | {rows[best]['cas']:.3f} |")

        with (run / "history.csv").open() as file:
            history_rows = list(csv.DictReader(file))
        shares = [float(row["metric_seconds"]) / float(row["seconds"]) for row in history_rows[1:]]
        print(f"\nScoring cost (--metric kid, {SCORED_IMAGES} images): median {statistics.median(shares):.1%} of an "
              f"epoch's training time ({args.steps_per_epoch} steps), epochs 2-{len(history_rows)}.")


if __name__ == "__main__":
    main()
