"""Trains the tiny TensorFlow run in tests/data/tiny_run, which tests/test_export.py exports on either backend.

It keeps only what `kgan export onnx` reads: config.json and generator.keras (a few KB).
Run once from the repository root: `.venv/bin/python tests/data/make_tiny_run.py`.
"""

import os
import shutil
import tempfile
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"  # the point of the fixture: trained on TensorFlow

from kgan.config import TrainConfig  # noqa: E402
from kgan.training.run import start_run  # noqa: E402

TINY_RUN = Path(__file__).parent / "tiny_run"
# 200 steps, so that the batch-norm statistics are real and images and labels matter
# well above the export's 1e-4 tolerance (after 2 steps the images are ~1e-5).
CONFIG = TrainConfig(
    dataset="digits", image_size=16, width=1, latent_dim=4, conditional=True,
    batch_size=16, steps_per_epoch=200, epochs=1,
)  # fmt: skip


def main():
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "run"
        start_run(CONFIG, run_dir, verbose=0)
        TINY_RUN.mkdir(exist_ok=True)
        for name in ("config.json", "generator.keras"):
            shutil.copyfile(run_dir / name, TINY_RUN / name)
            print(f"wrote {TINY_RUN / name} ({(TINY_RUN / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
