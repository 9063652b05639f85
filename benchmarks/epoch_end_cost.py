"""What a run does after every epoch, part by part, and how many samples batch-norm calibration needs.

    python benchmarks/epoch_end_cost.py RUN_DIR [--repeats 3] [--calibration-samples 1024,512,256,128]

Loads the last checkpoint of a trained run (kgan train's RUN_DIR, left untouched: the work happens in a
copy) and times, median of --repeats, each part of kgan.training.callbacks.RunRecorder's end of epoch:
the EMA generator's batch-norm calibration, the sample grid, generator.keras, the checkpoint, history.png,
and the epoch score of the run's metric (or kid). Then, for every --calibration-samples count and two
seeds, it calibrates the EMA generator with that many samples and reports the largest change of any
batch-norm statistic against a 1,024-sample calibration of seed 0 (means in units of the layer's
standard deviation, variances as |log ratio|) and the epoch score of the result. A count whose changes
stay within those of 1,024 samples with another seed, and whose score does too, calibrates as well.
"""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from kgan.formats import run_folder
from kgan.judge.epoch_score import EpochScorer
from kgan.networks.calibration import CALIBRATION_SAMPLES, batch_norm_layers, calibrate_batch_norm
from kgan.networks.plain import plain_keras_model
from kgan.plots import write_png
from kgan.training.builder import build_model, prepare_data
from kgan.training.callbacks import HISTORY_SIZE, RunRecorder, draw_history
from kgan.training.checkpoint import load_checkpoint, save_checkpoint


def median_seconds(job, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        job()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def statistics_of(generator):
    return [(keras.ops.convert_to_numpy(layer.moving_mean.value).copy(),
             keras.ops.convert_to_numpy(layer.moving_variance.value).copy())
            for layer in batch_norm_layers(generator)]  # fmt: skip


def largest_changes(measured, reference):
    """(max |mean - mean_ref| / sd_ref, max |log var - log var_ref|) over every layer and channel."""
    means = max(float(np.max(np.abs(mean - ref_mean) / np.sqrt(ref_var + 1e-5)))
                for (mean, _), (ref_mean, ref_var) in zip(measured, reference))  # fmt: skip
    variances = max(float(np.max(np.abs(np.log(var + 1e-5) - np.log(ref_var + 1e-5))))
                    for (_, var), (_, ref_var) in zip(measured, reference))  # fmt: skip
    return means, variances


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calibration-samples", default="1024,512,256,128")
    args = parser.parse_args()

    config = run_folder.read_config(args.run_dir)
    dataset, config = prepare_data(config)
    model = build_model(config, dataset)
    _, history = load_checkpoint(args.run_dir / run_folder.CHECKPOINT_FILE, model)
    metric = config.metric or "kid"
    scorer = EpochScorer(dataset, metric)
    with tempfile.TemporaryDirectory(prefix="kgan-epoch-end-") as work:
        work = Path(work)
        recorder = RunRecorder(work, config.seed, 1, history, scorer=scorer)
        recorder.set_model(model)
        parts = {
            "calibration": model.calibrate_sampling_generator,
            "sample grid": recorder.sample_grid,
            "generator.keras": lambda: plain_keras_model(model.sampling_generator).save(work / "generator.keras"),
            "checkpoint": lambda: save_checkpoint(work / "last.npz", model, len(history), history),
            "history.png": lambda: write_png(work / "history.png",
                                             lambda figure: draw_history(figure, history), HISTORY_SIZE),
            f"score ({metric}, {scorer.num_images} images)": lambda: scorer.score(*recorder.scored_images()),
        }  # fmt: skip
        print(f"{args.run_dir}: {config.image_size} px, {config.channels} channel(s), width {config.width}, "
              f"{config.precision}; median of {args.repeats}\n")  # fmt: skip
        print("| part | seconds |\n| --- | ---: |")
        for name, job in parts.items():
            print(f"| {name} | {median_seconds(job, args.repeats):.2f} |")
        shutil.rmtree(work, ignore_errors=True)

    generator = model.sampling_generator
    calibrate_batch_norm(generator, model.latent_dim, model.num_classes, CALIBRATION_SAMPLES, seed=0)
    reference = statistics_of(generator)
    print(f"\n| samples | seed | seconds | max mean change (sd) | max log-variance change | {metric} |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for count in map(int, args.calibration_samples.split(",")):
        for seed in (0, 1):
            started = time.perf_counter()
            calibrate_batch_norm(generator, model.latent_dim, model.num_classes, count, seed=seed)
            seconds = time.perf_counter() - started
            means, variances = largest_changes(statistics_of(generator), reference)
            score = scorer.score(*recorder.scored_images())
            print(f"| {count} | {seed} | {seconds:.2f} | {means:.4f} | {variances:.4f} | {score:.4g} |")


if __name__ == "__main__":
    main()
