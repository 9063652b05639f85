"""Images/s of the batch feeder alone: can it keep a fast accelerator busy?

    python benchmarks/feeder_throughput.py [--batch-size 256] [--images 20000] [--repeats 5]

Times `BatchFeeder` (kgan.data.batches) handing out one epoch of shuffled batches from
in-memory uint8 images, as `kgan train` feeds `fit()` (uint8, scaled on the device inside
the step) and as it did before (float32 in [-1, 1], scaled on the host), at 28x28x1, 64x64x3
and 128x128x3, and through the tf.data pipeline that `kgan train` reads on TensorFlow
(kgan.data.tensorflow_batches, uint8; when TensorFlow is installed). Median of --repeats
epochs. Compare with the step's own rate: a GPU step 100x faster than this CPU's (~580
images/s at 28 px, ~70 at 64 px) needs ~58,000 and ~7,000 images/s.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kgan.data.batches import BatchFeeder  # noqa: E402  (after the path set-up above)
from kgan.data.sources import ImageDataset  # noqa: E402

SHAPES = ((28, 1), (64, 3), (128, 3))


def epoch_rate(feeder, batches):
    """Images/s of reading one epoch's worth of `feeder`'s batches from the iterator `batches`."""
    started = time.perf_counter()
    for _ in range(feeder.num_batches):
        next(batches)
    return feeder.num_batches * feeder.batch_size / (time.perf_counter() - started)


def feeder_epoch_rate(feeder):
    feeder.on_epoch_begin()
    return epoch_rate(feeder, (feeder[index] for index in range(feeder.num_batches)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"BatchFeeder, {args.images} images in memory, batch {args.batch_size}, conditional; "
          f"median images/s of {args.repeats} epochs")
    try:
        from kgan.data.tensorflow_batches import endless_dataset
    except ImportError:
        endless_dataset = None
    print(f"{'shape':<12}{'uint8':>12}{'float32':>12}{'tf.data uint8':>16}")
    for size, channels in SHAPES:
        images = rng.integers(0, 256, (args.images, size, size, channels), dtype=np.uint8)
        dataset = ImageDataset(images, rng.integers(0, 10, args.images), [str(i) for i in range(10)], "random")
        rates = {}
        for as_uint8 in (True, False):
            feeder = BatchFeeder(dataset, args.batch_size, seed=0, conditional=True, as_uint8=as_uint8)
            rates[as_uint8] = statistics.median(feeder_epoch_rate(feeder) for _ in range(args.repeats))
        pipeline = "not installed"
        if endless_dataset is not None:
            feeder = BatchFeeder(dataset, args.batch_size, seed=0, conditional=True, as_uint8=True)
            batches = iter(endless_dataset(feeder))
            next(batches)  # builds the pipeline
            pipeline = f"{statistics.median(epoch_rate(feeder, batches) for _ in range(args.repeats)):,.0f}"
        shape = f"{size}x{size}x{channels}"
        print(f"{shape:<12}{rates[True]:>12,.0f}{rates[False]:>12,.0f}{pipeline:>16}", flush=True)


if __name__ == "__main__":
    main()
