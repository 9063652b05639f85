"""Speed of `kgan generate` (onnxruntime) next to the Keras generator, and its cold start.

    KERAS_BACKEND=jax python benchmarks/generate_speed.py RUN_DIR MODEL.onnx [--images 4096]

For each batch size, interleaved over several repeats in one process: images/s of
kgan.runtime.OnnxGenerator.iter_batches (what `kgan generate` runs: latents, onnxruntime,
uint8 conversion) and of the run's generator.keras called through a jit-compiled
predict function on the same latents (float output, no conversion). Then the cold start
of the `kgan generate` command: process start until it exits after writing its first
(and only) image, median of several runs.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def time_onnxruntime(generator, n, batch_size):
    started = time.perf_counter()
    for _ in generator.iter_batches(n, seed=0, batch_size=batch_size):
        pass
    return n / (time.perf_counter() - started)


def time_keras(model, generator, n, batch_size):
    started = time.perf_counter()
    for start in range(0, n, batch_size):
        indices = np.arange(start, min(start + batch_size, n))
        z = generator.latents(indices, seed=0)
        inputs = [z, (indices % max(generator.num_classes, 1)).astype("int32")] if generator.conditional else z
        np.asarray(model.predict_on_batch(inputs))
    return n / (time.perf_counter() - started)


def cold_start(model_path, repeats):
    command = [shutil.which("kgan")] if shutil.which("kgan") else [sys.executable, "-c", "from cli.main import cli; cli()"]
    times = []
    for _ in range(repeats):
        out = Path(tempfile.mkdtemp()) / "one"
        started = time.perf_counter()
        subprocess.run([*command, "generate", str(model_path), "-n", "1", "--out", str(out)], check=True,
                       capture_output=True)
        times.append(time.perf_counter() - started)
        assert next(out.rglob("*.png"))
        shutil.rmtree(out.parent)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("model", type=Path)
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--batch-sizes", default="1,64,256")
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    import keras

    from kgan.formats import run_folder
    from kgan.runtime import OnnxGenerator

    generator = OnnxGenerator(options.model, provider="cpu")
    model = keras.saving.load_model(options.run_dir / run_folder.GENERATOR_FILE)
    model.compile(jit_compile=True)
    batch_sizes = [int(b) for b in options.batch_sizes.split(",")]
    rates = {(engine, b): [] for engine in ("onnxruntime", "keras") for b in batch_sizes}
    for b in batch_sizes:  # warm-up: compile each shape once
        time_keras(model, generator, b, b)
        time_onnxruntime(generator, b, b)
    for _ in range(options.repeats):
        for b in batch_sizes:
            n = min(options.images, 256 * b)
            rates["onnxruntime", b].append(time_onnxruntime(generator, n, b))
            rates["keras", b].append(time_keras(model, generator, n, b))
    print(f"generator {options.model} ({generator.image_shape}, {generator.num_classes} classes); "
          f"keras {keras.__version__} on {keras.config.backend()} (jit); median of {options.repeats}")
    print(f"{'batch':>6}{'onnxruntime img/s':>20}{'keras img/s':>14}{'ratio':>8}")
    for b in batch_sizes:
        ort, ks = statistics.median(rates["onnxruntime", b]), statistics.median(rates["keras", b])
        print(f"{b:>6}{ort:>20.0f}{ks:>14.0f}{ort / ks:>8.2f}")
    starts = cold_start(options.model, options.repeats)
    print(f"kgan generate cold start (process start to exit after writing 1 image): "
          f"median {statistics.median(starts):.2f} s (min {min(starts):.2f}, max {max(starts):.2f}, {len(starts)} runs)")


if __name__ == "__main__":
    main()
