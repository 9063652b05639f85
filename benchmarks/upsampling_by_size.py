"""Does each generator upsampling train at each image size? A short run per (size, mode), diversity of its samples.

For every --sizes value and every --modes value, trains kgan's default conditional model
(kgan train's recipe, only --upsampling changed) for --steps batches on the aerial scenes of
../shared/datasets/aid-aerial-8500 resized to that size (or --data), then prints what
tells a collapsed generator from a learning one: D's outputs on real and generated batches,
and the diversity of 100 samples (one z per sample, labels cycling through the classes):
the per-pixel standard deviation across samples, averaged over pixels, next to the same
figure for real images. A generator that ignores z and label has a diversity near 0. The
sample grids (first rows: the raw generator, then the EMA one) go to --out.

    .venv/bin/python benchmarks/upsampling_by_size.py --sizes 28,32,64 --steps 150 --out runs/upsampling
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from common import DATASETS, ROOT

AERIAL = DATASETS / "aid-aerial-8500"

WORKER = r"""
import json, sys, time
import numpy as np
from kgan import imaging
from kgan.config import TrainConfig
from kgan.training.builder import batch_feeder, build_model, prepare_data
args = json.loads(sys.argv[1])
steps = args["steps"] // 3
config = TrainConfig(dataset=args["data"], image_size=args["size"], upsampling=args["mode"],
                     steps_per_epoch=steps, epochs=3, diffaugment=args["diffaugment"])
dataset, config = prepare_data(config)
model = build_model(config, dataset)
started = time.perf_counter()
history = model.fit(batch_feeder(config, dataset), epochs=config.epochs, shuffle=False, verbose=0).history
seconds = time.perf_counter() - started
model.calibrate_sampling_generator()
rng = np.random.default_rng(1)
z = rng.normal(size=(100, config.latent_dim)).astype("float32")
labels = np.arange(100) % dataset.num_classes
result = {"d_real": float(history["d_real"][-1]), "d_fake": float(history["d_fake"][-1]), "seconds": seconds}
grids = []
for name, generator in (("raw", model.generator), ("ema", model.sampling_generator)):
    images = np.asarray(generator([z, labels], training=name == "raw"), dtype="float32")
    result[name] = float(images.std(axis=0).mean())
    grids.append(imaging.make_grid(imaging.to_uint8(images[:20]), rows=2))
real = dataset.images[np.random.default_rng(1).choice(len(dataset), 100, replace=False)]
result["real"] = float((real.astype("float32") / 127.5 - 1).std(axis=0).mean())
imaging.save_png(args["grid"], np.concatenate(grids))
print("RESULT " + json.dumps(result))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="28,32,64", help="Image sides (default 28,32,64).")
    parser.add_argument("--modes", default="pixel_shuffle,resize", help="--upsampling values to compare.")
    parser.add_argument("--steps", type=int, default=150, help="Training batches per run (default 150).")
    parser.add_argument("--diffaugment", default=None, help="kgan train's --diffaugment (default: none).")
    parser.add_argument("--data", default=str(AERIAL), help="A --dataset spec (default: aid-aerial-8500).")
    parser.add_argument("--out", type=Path, required=True, help="Folder for the sample grids.")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{'size':>4}  {'upsampling':<14} {'D(x)':>5} {'D(G(z))':>7} {'diversity raw':>13} {'EMA':>6} "
          f"{'real':>6} {'seconds':>7}", flush=True)  # fmt: skip
    for size in map(int, args.sizes.split(",")):
        for mode in args.modes.split(","):
            grid = args.out / f"{size}px-{mode}.png"
            options = {"data": args.data, "size": size, "mode": mode, "steps": args.steps,
                       "diffaugment": args.diffaugment, "grid": str(grid)}  # fmt: skip
            output = subprocess.run([sys.executable, "-c", WORKER, json.dumps(options)], cwd=ROOT,
                                    capture_output=True, text=True)  # fmt: skip
            lines = [line for line in output.stdout.splitlines() if line.startswith("RESULT ")]
            if output.returncode or not lines:
                sys.exit(f"{size} px {mode} failed:\n{output.stderr[-3000:]}")
            r = json.loads(lines[-1][len("RESULT "):])
            print(f"{size:>4}  {mode:<14} {r['d_real']:>5.2f} {r['d_fake']:>7.2f} {r['raw']:>13.3f} {r['ema']:>6.3f} "
                  f"{r['real']:>6.3f} {r['seconds']:>7.0f}", flush=True)  # fmt: skip
    print(f"grids: {args.out}")


if __name__ == "__main__":
    main()
