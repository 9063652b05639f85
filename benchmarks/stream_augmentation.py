"""Does streaming synthetic digits into a classifier's batches help when it has 10 real images per class?

The data: ../shared/datasets/mnist-8k (override with $KGAN_MNIST8K). A conditional DCGAN is
trained with `kgan train` (defaults) on the first 7,000 digits and exported with
`kgan export onnx`, or given with --generator (it must not have seen the last 1,000).
The last 1,000 digits are the test set: neither the GAN nor any classifier sees them.

For each seed, 10 real digits per class are drawn from the first 7,000, and two classifiers
(kgan evaluate's reference network, same seed, same number of steps) train on:
- real only: the 100 real digits;
- streamed: batches from kgan.adapters.keras_dataset.StreamPyDataset over a
  kgan.runtime.SampleStream that mixes the same 100 digits with fresh synthetic ones
  (--synthetic-fraction of each batch), drawn on the fly: nothing is written to disk.
It prints both test accuracies per seed, their mean and standard deviation, and the gain.

    .venv/bin/python benchmarks/stream_augmentation.py                       # trains the GAN first (long on CPU)
    .venv/bin/python benchmarks/stream_augmentation.py --generator G.onnx    # a generator trained on the 7,000
    .venv/bin/python benchmarks/stream_augmentation.py --epochs 1 --steps-per-epoch 5 \\
        --classifier-epochs 1 --seeds 0                                      # a quick check that it runs

The synthetic fraction (0.9) was fixed before the first run, not tuned; the temperature is the
generator's own: the GAN trained here is exported at 1.3, the one chosen on digits held out of
the training split (docs/measurements.md).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from common import kgan
from evaluate_mnist import TRAIN_IMAGES, mnist_splits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kgan.config import TrainConfig  # noqa: E402  (after the path set-up above)

REAL_PER_CLASS = 10
VALIDATED_TEMPERATURE = 1.3  # docs/measurements.md, "Sampling temperature"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", type=Path, default=None,
                        help="A kgan .onnx generator trained on the first 7,000 digits (default: train one).")
    parser.add_argument("--epochs", type=int, default=TrainConfig().epochs,
                        help="GAN training epochs when training one (default: kgan train's, %(default)s).")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="GAN batches per epoch (default: a pass).")
    parser.add_argument("--synthetic-fraction", type=float, default=0.9,
                        help="Share of synthetic images in each batch (default 0.9).")
    parser.add_argument("--temperature", type=float, default=None,
                        help="Standard deviation of z (default: the generator's own).")
    parser.add_argument("--classifier-epochs", type=int, default=10,
                        help="Classifier steps, in passes over 7,000 images at batch 64, as kgan evaluate's "
                             "(default 10: 1,100 steps).")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="Seeds of the real draw, stream and classifier.")
    parser.add_argument("--work-dir", type=Path, default=None, help="Keep the GAN run here (default: temp).")
    args = parser.parse_args()

    with mnist_splits(args.work_dir, "kgan-stream-augmentation-") as (work, train_file, test_file):
        generator = args.generator
        if generator is None:
            steps = ["--steps-per-epoch", str(args.steps_per_epoch)] if args.steps_per_epoch else []
            seconds = kgan("train", "--dataset", train_file, "--epochs", args.epochs, *steps,
                           "--out", work / "run", "--overwrite")  # fmt: skip
            seconds += kgan("export", "onnx", work / "run", "-o", work / "generator.onnx", "--temperature",
                            VALIDATED_TEMPERATURE, "--overwrite")  # fmt: skip
            generator = work / "generator.onnx"
            print(f"GAN: {args.epochs} epoch(s) of kgan train's defaults on {TRAIN_IMAGES} digits, "
                  f"trained and exported in {seconds:.0f} s", flush=True)  # fmt: skip
        compare(generator, train_file, test_file, args)


def compare(generator_path, train_file, test_file, args):
    import numpy as np

    from kgan import imaging
    from kgan.adapters.keras_dataset import StreamPyDataset
    from kgan.evaluation.augmentation import per_class_subset
    from kgan.judge.classifier import Classifier, ClassifierSettings, compiled_classifier, train_classifier
    from kgan.runtime import OnnxGenerator, SampleStream

    settings = ClassifierSettings(epochs=args.classifier_epochs)
    steps = settings.steps(TRAIN_IMAGES)
    train, test = np.load(train_file), np.load(test_file)
    generator = OnnxGenerator(generator_path, provider="cpu")
    temperature = generator.temperature if args.temperature is None else args.temperature
    print(f"{REAL_PER_CLASS} real digits per class; classifiers train {steps} steps of {settings.batch_size}; "
          f"streamed batches are {args.synthetic_fraction:.0%} synthetic (temperature {temperature:g}); "
          f"test: the last {len(test['y'])} digits\n", flush=True)  # fmt: skip
    print(f"{'seed':>4}  {'real only':>15}  {'streamed':>15}  {'gain':>15}  seconds (real, streamed)")
    real_accuracies, streamed_accuracies = [], []
    for seed in parse_seeds(args.seeds):
        rows = per_class_subset(train["y"], REAL_PER_CLASS, seed)
        images, labels = train["x"][rows], train["y"][rows]

        started = time.perf_counter()
        real_only = train_classifier(images, labels, generator.num_classes, settings, steps, seed)
        real_seconds = time.perf_counter() - started

        started = time.perf_counter()
        stream = SampleStream(generator, real=(imaging.from_uint8(images), labels),
                              synthetic_fraction=args.synthetic_fraction, seed=seed,
                              temperature=temperature, dtype="float32", value_range=(-1.0, 1.0))  # fmt: skip
        model = compiled_classifier(images.shape[1:], generator.num_classes, settings, steps, seed)
        batches = StreamPyDataset(stream, settings.batch_size)
        model.fit(batches, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)
        streamed = Classifier(model)
        streamed_seconds = time.perf_counter() - started

        real_accuracies.append(real_only.accuracy(test["x"], test["y"]))
        streamed_accuracies.append(streamed.accuracy(test["x"], test["y"]))
        print(f"{seed:>4}  {real_accuracies[-1]:>15.3f}  {streamed_accuracies[-1]:>15.3f}  "
              f"{streamed_accuracies[-1] - real_accuracies[-1]:>+15.3f}  "
              f"{real_seconds:.0f}, {streamed_seconds:.0f}", flush=True)  # fmt: skip
    gains = [streamed - real for real, streamed in zip(real_accuracies, streamed_accuracies)]
    print(f"mean  {mean_std(real_accuracies):>15}  {mean_std(streamed_accuracies):>15}  {mean_std(gains, '+'):>15}")


def mean_std(values, sign=""):
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):{sign}.3f} ± {spread:.3f}"


def parse_seeds(text):
    return [int(seed) for seed in text.split(",")]


if __name__ == "__main__":
    main()
