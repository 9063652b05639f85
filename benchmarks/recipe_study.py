"""Training recipes compared at a fixed step budget, scored on a validation split (the test split unused).

    .venv/bin/python benchmarks/recipe_study.py aid-aerial-8500 --image-size 32 --steps 1500 \\
        --recipes default,hinge,spectral-norm,r1,diffaugment,ttur --train-seeds 0,1 --work-dir runs/recipes32
    .venv/bin/python benchmarks/recipe_study.py fashion-mnist-8k --image-size 64 --steps 3000 \\
        --recipes default,sn-hinge-diffaugment --work-dir runs/recipes-fashion64
    .venv/bin/python benchmarks/recipe_study.py aid-aerial-8500 --image-size 32 --steps 4 \\
        --recipes default,hinge --train-seeds 0 --classifier-epochs 1 --num-samples 300   # a quick check

Every recipe (a named set of `kgan train` options, RECIPES, or --recipe NAME=OPTIONS of your own) trains
once per --train-seeds value for the same number of steps on the training part of the cut that
evaluate_held_out.py --validation makes (all but the last 1/8 of every class, then all but the last 1/8 of
the rest), and `kgan evaluate` scores its last generator against the validation images: CAS (classifiers
trained on generated images only, next to the same trained on the real split), the augmentation gain at
k real images per class, and FID/KID/precision/recall in the reference classifier's feature space (that
classifier is trained once on the real split and cached, so every run is judged by the same one; so are the
accuracies of the classifiers trained on real images alone, so only the first run trains those).

Writes WORK/results.jsonl (one line per run, appended as each finishes, so an interrupted study resumes
where it stopped), WORK/grids.png (each recipe's last sample grid, side by side, seed 0) and prints the
table of means and standard deviations over the training seeds.
"""

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path

import numpy as np
from common import DATASETS, kgan, work_folder
from evaluate_held_out import write_splits
from PIL import Image, ImageDraw

# Every recipe but R1's own says --r1 0: they were measured before --r1 auto became the default, and
# "default" is whatever kgan train's defaults are when the study runs (docs/measurements.md names them per row).
RECIPES = {
    "default": "",
    "one-forward": "--generator-forwards 1 --r1 0",
    "two-forwards": "--generator-forwards 2 --r1 0",
    "hinge": "--loss hinge --r1 0",
    "spectral-norm": "--spectral-norm --r1 0",
    "r1": "--r1 1 --r1-every 16",
    "diffaugment": "--diffaugment translation,color,cutout --r1 0",
    "diffaugment-tc": "--diffaugment translation,cutout --r1 0",
    "ttur": "--lr 1e-4 --d-lr 4e-4 --r1 0",
    "sn-hinge": "--spectral-norm --loss hinge --r1 0",
    "sn-hinge-diffaugment": "--spectral-norm --loss hinge --diffaugment translation,color,cutout --r1 0",
    "r1-diffaugment": "--r1 1 --r1-every 16 --diffaugment translation,color,cutout",
    # SNGAN's Adam (beta_1 0, beta_2 0.9) with SAGAN's and BigGAN's two time-scales (1e-4 for G, 4e-4 for D)
    "sngan": "--spectral-norm --loss hinge --beta1 0 --beta2 0.9 --lr 1e-4 --d-lr 4e-4 --r1 0",
    # StyleGAN2-ADA's heuristic gamma = 0.0002 * size^2 / batch: 0.0032 at 32 px, 0.0128 at 64 px (batch 64),
    # what --r1 auto now gives
    "r1-heuristic-32": "--r1 0.0032 --r1-every 16",
    "r1-heuristic-64": "--r1 0.0128 --r1-every 16",
    # MSGAN's weight for category-conditional generation, on top of the defaults (one forward, --r1 auto)
    "mode-seeking": "--mode-seeking 1",
    # the label at every resolution of G (class-conditional batch norm), on top of the defaults
    "class-batch-norm": "--class-conditioning batch_norm",
}
RESULTS_FILE = "results.jsonl"


def parse_recipes(names, custom):
    """{name: [kgan train options]} of a comma list of RECIPES names, then the NAME=OPTIONS entries of --recipe."""
    recipes = {}
    for name in filter(None, names.split(",")):
        if name not in RECIPES:
            raise SystemExit(f"unknown recipe {name!r}: choose from {', '.join(RECIPES)} or use --recipe NAME=OPTIONS")
        recipes[name] = shlex.split(RECIPES[name])
    for entry in custom:
        name, _, options = entry.partition("=")
        recipes[name] = shlex.split(options)
    return recipes


def run_summary(report_file, recipe, seed, steps, seconds):
    """One results.jsonl line from a kgan evaluate report.json."""
    metrics = json.loads(report_file.read_text())["metrics"]
    line = {"recipe": recipe, "train_seed": seed, "steps": steps, "train_seconds": round(seconds, 1)}
    if "cas" in metrics:
        line["cas"], line["cas_real"] = metrics["cas"]["generated"]["mean"], metrics["cas"]["real"]["mean"]
    for entry in metrics.get("augmentation", []):
        line[f"gain_k{entry['k']}"] = entry["gain"]["mean"]
    for name in ("fid", "precision", "recall"):
        if name in metrics:
            line[name] = metrics[name]["generated"]
    if "kid" in metrics:
        line["kid"] = metrics["kid"]["generated"]["mean"]
    return line


def read_results(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def table(results, recipes):
    """Markdown rows: per recipe, the mean ± std over training seeds of every measured column."""
    columns = [key for key in ("cas", "cas_real", "gain_k10", "gain_k100", "fid", "kid", "precision", "recall",
                               "train_seconds") if any(key in line for line in results)]  # fmt: skip
    rows = [f"| recipe | seeds | {' | '.join(columns)} |", "| --- | ---: |" + " ---: |" * len(columns)]
    for recipe in recipes:
        lines = [line for line in results if line["recipe"] == recipe]
        if not lines:
            continue
        cells = []
        for column in columns:
            values = [line[column] for line in lines if column in line]
            spread = f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else ""
            cells.append(f"{statistics.mean(values):.3f}{spread}" if values else "-")
        rows.append(f"| {recipe} | {len(lines)} | {' | '.join(cells)} |")
    return "\n".join(rows)


def side_by_side(grids, out, keep=1.0):
    """The sample grids, left to right, each under its recipe's name, as one image.

    Args:
        grids: (recipe, sample grid path) pairs.
        out: the image file to write (PNG or JPEG by its suffix).
        keep: the share of each grid's height to show, from the top (rows are classes).
    """
    pictures = []
    for name, path in grids:
        picture = Image.open(path).convert("RGB")
        pictures.append((name, picture.crop((0, 0, picture.width, round(picture.height * keep)))))
    margin = 14
    width = sum(picture.width for _, picture in pictures) + margin * (len(pictures) - 1)
    height = max(picture.height for _, picture in pictures) + margin
    canvas = Image.new("RGB", (width, height), "white")
    draw, left = ImageDraw.Draw(canvas), 0
    for name, picture in pictures:
        draw.text((left + 2, 1), name, fill="black")
        canvas.paste(picture, (left, margin))
        left += picture.width + margin
    canvas.save(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", choices=("fashion-mnist-8k", "aid-aerial-8500", "mnist-8k"))
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--steps", type=int, required=True, help="Training steps of every run (the fixed budget).")
    parser.add_argument("--steps-per-epoch", type=int, default=None,
                        help="Steps between sample grids and checkpoints (default: --steps / 10).")
    parser.add_argument("--recipes", default="default", help=f"Comma list among {', '.join(RECIPES)}.")
    parser.add_argument("--recipe", action="append", default=[], metavar="NAME=OPTIONS",
                        help="A recipe of your own, e.g. lr1e-4=\"--lr 1e-4\" (repeatable).")
    parser.add_argument("--train-seeds", default="0,1", help="kgan train --seed values (default 0,1).")
    parser.add_argument("--train-options", type=shlex.split, default=[],
                        help="More kgan train options for every run, e.g. \"--precision float32\".")
    parser.add_argument("--num-samples", type=int, default=None, help="Generated images (default: as many as real).")
    parser.add_argument("--classifier-epochs", type=int, default=10, help="kgan evaluate's (default 10).")
    parser.add_argument("--seeds", default="0,1", help="kgan evaluate's --seeds (default 0,1).")
    parser.add_argument("--k", default="10", help="kgan evaluate's --k (default 10).")
    parser.add_argument("--metrics", default="cas,augment,fid,kid,prdc", help="kgan evaluate's --metrics.")
    parser.add_argument("--grid-rows", type=int, default=None,
                        help="Classes (rows) of each grid shown in grids.png (default: all).")
    parser.add_argument("--work-dir", type=Path, default=None, help="Keep runs, reports and results here.")
    args = parser.parse_args()

    recipes = parse_recipes(args.recipes, args.recipe)
    seeds = [int(seed) for seed in args.train_seeds.split(",")]
    per_epoch = args.steps_per_epoch or max(1, args.steps // 10)
    if args.steps % per_epoch:
        sys.exit(f"--steps {args.steps} is not a whole number of epochs of {per_epoch} steps")
    source = DATASETS / args.data
    if not source.is_dir():
        sys.exit(f"{args.data} not found at {source}; set KGAN_DATASETS to the folder that holds it")
    with work_folder(args.work_dir, f"kgan-recipes-{args.data}-") as work:
        train_file, validation_file = work / "train.npz", work / "validation.npz"
        if not (train_file.exists() and validation_file.exists()):
            write_splits(source, args.image_size, work, validation=True)
        results_path = work / RESULTS_FILE
        done = {(line["recipe"], line["train_seed"], line["steps"]) for line in read_results(results_path)}
        for seed in seeds:
            for recipe, options in recipes.items():
                if (recipe, seed, args.steps) in done:
                    continue
                run = work / f"{recipe}-seed{seed}"
                seconds = kgan("train", "--dataset", train_file, "--epochs", args.steps // per_epoch,
                               "--steps-per-epoch", per_epoch, "--seed", seed, *options, *args.train_options,
                               "--out", run, "--overwrite")  # fmt: skip
                report = work / f"report-{recipe}-seed{seed}"
                extra = ["--num-samples", args.num_samples] if args.num_samples else []
                kgan("evaluate", run, "--dataset", train_file, "--test-dataset", validation_file, *extra,
                     "--metrics", args.metrics, "--classifier-epochs", args.classifier_epochs, "--seeds", args.seeds,
                     "--k", args.k, "--out", report, "--overwrite")  # fmt: skip
                line = run_summary(report / "report.json", recipe, seed, args.steps, seconds)
                with results_path.open("a") as file:
                    file.write(json.dumps(line) + "\n")
        results = [line for line in read_results(results_path) if line["steps"] == args.steps]
        print(f"\n{args.data} at {args.image_size} px, {args.steps} steps per run, scored on "
              f"{np.load(validation_file)['y'].size} validation images:\n")  # fmt: skip
        print(table(results, recipes))
        last = args.steps // per_epoch
        grids = [(recipe, work / f"{recipe}-seed{seeds[0]}" / "samples" / f"epoch_{last:03d}.png")
                 for recipe in recipes]  # fmt: skip
        classes = len(np.load(validation_file)["class_names"])
        keep = min(args.grid_rows or classes, classes) / classes
        side_by_side([(name, path) for name, path in grids if path.exists()], work / "grids.png", keep)
        print(f"\nGrids: {work / 'grids.png'}; every run: {results_path}")


if __name__ == "__main__":
    main()
