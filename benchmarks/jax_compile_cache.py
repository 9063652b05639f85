"""Seconds of a short `kgan train --backend jax` in a new process: JAX's compilation cache off, empty, and filled.

    python benchmarks/jax_compile_cache.py [--rounds 3] [--steps 5] [--image-size 28] [-- more kgan train options]

Every round runs three commands one after another, each in a new process with its own KGAN_CACHE_DIR
(JAX_COMPILATION_CACHE_DIR unset, so kgan puts JAX's cache in $KGAN_CACHE_DIR/jax-programs): with the cache
off (JAX_ENABLE_COMPILATION_CACHE=false), with an empty cache (every program compiled, and written), and with
the cache the second one filled (programs loaded instead). Times are wall clock from the process's start to its
end, imports included; the script prints the median of each over the rounds and the size of the cache.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("off", "empty", "filled")


def train_seconds(cache_dir, out, options, cache_on):
    environment = {name: value for name, value in os.environ.items() if not name.startswith("JAX_COMPILATION")}
    environment.update(KGAN_CACHE_DIR=str(cache_dir), JAX_ENABLE_COMPILATION_CACHE="true" if cache_on else "false")
    command = [sys.executable, "-c", "from cli.main import cli; cli()", "train", "--backend", "jax", *options,
               "--out", str(out)]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=environment, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def folder_bytes(folder):
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5, help="--steps-per-epoch of the one-epoch run")
    parser.add_argument("--image-size", type=int, default=28)
    parser.add_argument("train_options", nargs="*", help="more kgan train options (after --)")
    options = parser.parse_args()
    train = ["--dataset", "digits", "--image-size", options.image_size, "--epochs", 1,
             "--steps-per-epoch", options.steps, *options.train_options]  # fmt: skip
    train = list(map(str, train))
    print("kgan train --backend jax " + " ".join(train), flush=True)
    seconds = {variant: [] for variant in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="kgan-compile-cache-") as work:
        for round_ in range(options.rounds):
            cache = Path(work) / f"cache-{round_}"
            for variant in VARIANTS:
                run = Path(work) / f"run-{round_}-{variant}"
                cache_dir = Path(work) / f"off-{round_}" if variant == "off" else cache
                seconds[variant].append(train_seconds(cache_dir, run, train, cache_on=variant != "off"))
                print(f"round {round_ + 1} cache {variant}: {seconds[variant][-1]:.1f} s", flush=True)
        size = folder_bytes(Path(work) / "cache-0" / "jax-programs") / 2**20
    medians = {variant: statistics.median(values) for variant, values in seconds.items()}
    print(f"median of {options.rounds}: cache off {medians['off']:.1f} s, empty {medians['empty']:.1f} s, "
          f"filled {medians['filled']:.1f} s ({medians['filled'] / medians['off']:.2f}x off); cache {size:.1f} MiB")


if __name__ == "__main__":
    main()
