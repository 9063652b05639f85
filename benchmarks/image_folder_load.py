"""Seconds to load an image folder: the first load (no cache) on every core and on one thread, and the cached load.

    python benchmarks/image_folder_load.py [--dataset PATH] [--image-size 64] [--repeats 5]

Each repeat times, interleaved, kgan.data.image_folder.load_image_folder on --dataset
(default ../shared/datasets/aid-aerial-8500, or $KGAN_DATASETS/aid-aerial-8500):

- the first load, no cache: one decoding thread per core (kgan's default), then one thread;
- the decoding alone, one file after another and on all cores as threads and as processes
  (fork): the measurement behind kgan's choice of threads;
- the second load, from the cache.

A warm-up load runs first, so the files are in the system's page cache: disk reads are not
measured. The cache lives in a temporary folder, deleted at the end. Medians of --repeats.
"""

import argparse
import concurrent.futures
import contextlib
import io
import itertools
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import DATASETS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kgan.data import image_folder  # noqa: E402  (after the path set-up above)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def decode_chunk(paths, mode, side):
    return np.stack([image_folder.read_image(path, mode, side) for path in paths])


def decode_on(pool, files, mode, side):
    """Decodes `files` on a new `pool` (shut down after), FILES_PER_TASK files a task as load_image_folder does."""
    size = image_folder.FILES_PER_TASK
    chunks = [files[start : start + size] for start in range(0, len(files), size)]
    with pool:
        return np.concatenate(list(pool.map(decode_chunk, chunks, itertools.repeat(mode), itertools.repeat(side))))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DATASETS / "aid-aerial-8500",
                        help="An image folder, one subfolder per class.")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not args.dataset.is_dir():
        sys.exit(f"{args.dataset} not found: pass --dataset PATH, or set KGAN_DATASETS to the folder that holds "
                 "aid-aerial-8500")
    cores = image_folder.available_cores()
    files = sorted(path for path in args.dataset.glob("*/*") if path.suffix.lower() in image_folder.IMAGE_SUFFIXES)
    with tempfile.TemporaryDirectory(prefix="kgan-image-folder-cache-") as cache:
        os.environ["KGAN_CACHE_DIR"] = cache

        def load(workers=None):
            with contextlib.redirect_stderr(io.StringIO()):  # the progress lines
                return image_folder.load_image_folder(args.dataset, image_size=args.image_size, workers=workers)

        def first_load(workers=None):
            shutil.rmtree(Path(cache) / "image-folders", ignore_errors=True)
            return load(workers)

        images = first_load()[0]  # the warm-up
        mode = "L" if images.shape[-1] == 1 else "RGB"
        fork = multiprocessing.get_context("fork")
        variants = {
            f"first load, {cores} threads (default)": first_load,
            "first load, 1 thread": lambda: first_load(workers=1),
            "decoding alone, one file after another": lambda: decode_chunk(files, mode, args.image_size),
            f"decoding alone, {cores} threads": lambda: decode_on(
                concurrent.futures.ThreadPoolExecutor(cores), files, mode, args.image_size),
            f"decoding alone, {cores} processes (fork)": lambda: decode_on(
                concurrent.futures.ProcessPoolExecutor(cores, mp_context=fork), files, mode, args.image_size),
            "second load, from the cache": load,
        }  # fmt: skip
        seconds = {name: [] for name in variants}
        for _ in range(args.repeats):
            for name, run in variants.items():
                started = time.perf_counter()
                run()
                seconds[name].append(time.perf_counter() - started)
    print(f"{args.dataset}: {len(images):,} images at {'x'.join(map(str, images.shape[1:]))}; {cpu_model()}, "
          f"{cores} cores; load average {os.getloadavg()[0]:.1f}; medians of {args.repeats}")
    print(f"| {'variant':<42} | median s | range s | images/s |")
    print(f"| {'-' * 42} | ---: | --- | ---: |")
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"| {name:<42} | {median:.2f} | {min(times):.2f}-{max(times):.2f} | {len(images) / median:,.0f} |")


if __name__ == "__main__":
    main()
