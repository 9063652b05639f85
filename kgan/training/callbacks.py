"""Callbacks of a training run: divergence guard and the per-epoch run recorder."""

import csv
import io
import math
import time

import keras
import numpy as np

from kgan import fileio, imaging
from kgan.formats import run_folder
from kgan.training.checkpoint import save_checkpoint

SAMPLE_COLUMNS = 10
UNCONDITIONAL_GRID = 8
LOSS_LIMIT = 1e3


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN, infinite or above `limit`."""

    def __init__(self, limit=LOSS_LIMIT):
        super().__init__()
        self.limit = limit
        self.problem = None

    def on_train_batch_end(self, batch, logs=None):
        for name in ("d_loss", "g_loss"):
            value = float((logs or {}).get(name, 0.0))
            if not math.isfinite(value) or abs(value) > self.limit:
                self.problem = f"batch {batch + 1}: {name} = {value:.4g}"
                self.model.stop_training = True
                return


class RunRecorder(keras.callbacks.Callback):
    """After each good epoch: calibrated EMA statistics, sample grid, generator.keras,
    checkpoint and history.csv.

    Args:
        run_dir: the run folder (a pathlib.Path).
        seed: seed of the fixed sample noise.
        images_per_epoch: images each network sees per epoch (for images/s).
        history: rows of earlier epochs (when resuming).
        guard: the DivergenceGuard; epochs it stopped are not recorded.
        on_first_checkpoint: called once, after the first checkpoint is written.
    """

    def __init__(self, run_dir, seed, images_per_epoch, history=(), guard=None, on_first_checkpoint=None):
        super().__init__()
        self.run_dir = run_dir
        self.seed = seed
        self.images_per_epoch = images_per_epoch
        self.history = list(history)
        self.guard = guard
        self.on_first_checkpoint = on_first_checkpoint
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self.guard is not None and self.guard.problem:
            return
        seconds = time.perf_counter() - self._started
        row = {"epoch": epoch + 1, **{key: float(value) for key, value in (logs or {}).items()}}
        row.update(seconds=round(seconds, 3), images_per_s=round(self.images_per_epoch / seconds, 1))
        self.history.append(row)
        self.model.calibrate_sampling_generator()
        imaging.save_png(run_folder.sample_grid_path(self.run_dir, epoch + 1), self.sample_grid())
        with fileio.atomic_path(self.run_dir / run_folder.GENERATOR_FILE, suffix=".keras") as tmp:
            self.model.sampling_generator.save(tmp)
        save_checkpoint(self.run_dir / run_folder.CHECKPOINT_FILE, self.model, epoch + 1, self.history)
        fileio.write_text(self.run_dir / run_folder.HISTORY_FILE, history_csv(self.history))
        if self.on_first_checkpoint is not None:
            self.on_first_checkpoint()
            self.on_first_checkpoint = None

    def sample_grid(self):
        """Fixed-noise samples: one row per class when conditional, else an 8 x 8 grid."""
        model = self.model
        if model.num_classes:
            rows, columns = model.num_classes, SAMPLE_COLUMNS
        else:
            rows = columns = UNCONDITIONAL_GRID
        rng = np.random.default_rng(self.seed)
        z = rng.standard_normal((rows * columns, model.latent_dim)).astype(np.float32)
        labels = np.repeat(np.arange(rows, dtype=np.int32), columns)
        images = model.sampling_generator(model.generator_inputs(z, labels), training=False)
        return imaging.make_grid(imaging.to_uint8(keras.ops.convert_to_numpy(images)), rows)


def history_csv(rows):
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
