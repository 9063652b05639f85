"""Throughput of `kgan generate`'s writing next to onnxruntime alone, for one .onnx generator.

    python benchmarks/generate_throughput.py MODEL.onnx [--images 4096] [--batch-size 256] [--dir DIR]

Interleaved over several repeats in one process, median of each:
- raw: images/s of the generator's onnxruntime session.run on latents computed beforehand
  (nothing converted, nothing written): the ceiling of `kgan generate`.
- png, npz: images/s of kgan.runtime.write_samples (what `kgan generate` runs: latents,
  onnxruntime, uint8 conversion, encoding, files and manifest.csv) into a fresh folder.
Then the ratio of png and npz to raw.

The outputs go to a temporary folder under DIR (default: the system's temporary folder) and
are deleted only at the end: creating files right after deleting many costs more on some file
systems (ext4 without a journal skips recently deleted inodes), which would bias later runs.
"""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def time_raw(generator, n, batch_size):
    """images/s of session.run alone, on latents and labels made beforehand."""
    feeds = []
    for start in range(0, n, batch_size):
        indices = range(start, min(start + batch_size, n))
        feed = {"z": generator.latents(indices, seed=0)}
        if generator.conditional:
            feed["label"] = np.arange(indices.start, indices.stop, dtype=np.int64) % generator.num_classes
        feeds.append(feed)
    started = time.perf_counter()
    for feed in feeds:
        generator._session.run(["image"], feed)  # the session alone: no uint8 conversion, nothing written
    return n / (time.perf_counter() - started)


def time_write(generator, out, n, batch_size, output_format, threads):
    from kgan.runtime import write_samples

    options = {} if threads is None else {"threads": threads}
    started = time.perf_counter()
    write_samples(generator, out, n, batch_size=batch_size, format=output_format, **options)
    return n / (time.perf_counter() - started)


def filesystem_type(folder):
    """The type of the file system holding `folder` (Linux's /proc/mounts), or "unknown"."""
    try:
        mounts = [line.split()[1:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    folder = Path(folder).resolve()
    matching = [(mount, kind) for mount, kind in mounts if folder.is_relative_to(mount)]
    return max(matching, key=lambda entry: len(entry[0]))[1] if matching else "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="where the outputs go (default: the system's temporary folder)")
    parser.add_argument("--threads", type=int, help="write_samples' threads (default: its own)")
    parser.add_argument("--provider", default="cpu", choices=["auto", "cpu", "cuda"])
    options = parser.parse_args()

    from kgan.runtime import OnnxGenerator

    generator = OnnxGenerator(options.model, provider=options.provider)
    n, batch_size = options.images, options.batch_size
    root = Path(tempfile.mkdtemp(prefix="kgan-throughput-", dir=options.dir))
    rates = {"raw": [], "png": [], "npz": []}
    try:
        time_raw(generator, batch_size, batch_size)  # warm-up: onnxruntime's first run allocates
        for output_format in ("png", "npz"):
            time_write(generator, root / f"warm-up-{output_format}", batch_size, batch_size, output_format,
                       options.threads)  # fmt: skip
        for repeat in range(options.repeats):
            rates["raw"].append(time_raw(generator, n, batch_size))
            for output_format in ("png", "npz"):
                out = root / f"{output_format}-{repeat}"
                rates[output_format].append(time_write(generator, out, n, batch_size, output_format, options.threads))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    shape = "x".join(str(size) for size in generator.image_shape)
    print(f"{options.model}: {shape}, {generator.num_classes} classes, {generator.provider}; {n} images, "
          f"batch {batch_size}, median of {options.repeats} interleaved runs")
    print(f"outputs in {root.parent} ({filesystem_type(root.parent)}); write_samples threads: "
          f"{options.threads or 'default'}")
    raw = statistics.median(rates["raw"])
    print(f"{'raw onnxruntime':<18}{raw:>9.0f} images/s")
    for output_format in ("png", "npz"):
        rate = statistics.median(rates[output_format])
        print(f"{output_format + ' write_samples':<18}{rate:>9.0f} images/s  {rate / raw:.2f} of raw")


if __name__ == "__main__":
    main()
