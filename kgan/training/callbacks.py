"""Callbacks of a training run: divergence guard, the per-epoch run recorder and the TensorBoard loggers."""

import contextlib
import csv
import importlib.util
import io
import math
import threading
import time

import keras
import numpy as np

from kgan import fileio, imaging, plots
from kgan.errors import UsageError
from kgan.formats import run_folder
from kgan.networks.plain import plain_keras_model
from kgan.training.checkpoint import checkpoint_file, save_checkpoint

SAMPLE_COLUMNS = 10
UNCONDITIONAL_GRID = 8
SCORING_BATCH = 250
LOSS_LIMIT = 1e3
HISTORY_PANELS = (  # title, then (history column, label, colour) of each line
    ("Losses", (("d_loss", "discriminator", "tab:blue"), ("g_loss", "generator", "tab:orange"))),
    ("Discriminator's mean output",
     (("d_real", "D(x), real images", "tab:green"), ("d_fake", "D(G(z)), generated", "tab:purple"))),
)  # fmt: skip
HISTORY_SIZE = (7.0, 5.0)  # inches
MARKED_EPOCHS = 30  # up to this many epochs, each one is marked with a dot
TENSORBOARD_NEEDS = ("tensorflow", "tensorboard")


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN, infinite or above `limit`.

    It is safe for Keras's asynchronous callback dispatch (`async_safe`), where the backend
    allows it (JAX): batches are then checked on a worker thread, possibly out of order and
    a few steps behind, while the device goes on; `problem` names the earliest bad batch.
    """

    async_safe = True

    def __init__(self, limit=LOSS_LIMIT):
        super().__init__()
        self.limit = limit
        self.problem = None
        self._problem_batch = None
        self._lock = threading.Lock()

    def on_train_batch_end(self, batch, logs=None):
        for name in ("d_loss", "g_loss"):
            value = float((logs or {}).get(name, 0.0))
            if not math.isfinite(value) or abs(value) > self.limit:
                with self._lock:
                    if self._problem_batch is None or batch < self._problem_batch:
                        self._problem_batch = batch
                        self.problem = f"batch {batch + 1}: {name} = {value:.4g}"
                    self.model.stop_training = True
                return


class RunRecorder(keras.callbacks.Callback):
    """After each good epoch: calibrated EMA statistics, sample grid, generator.keras (and its
    snapshot every `keep_every` epochs), its score, checkpoint, generator_best.keras, history.csv,
    metric-NAME.jsonl and history.png.

    Args:
        run_dir: the run folder (a pathlib.Path).
        seed: seed of the fixed sample noise.
        images_per_epoch: images each network sees per epoch (for images/s).
        history: rows of earlier epochs (when resuming).
        guard: the DivergenceGuard; epochs it stopped are not recorded.
        on_first_checkpoint: called once, after the first checkpoint is written.
        keep_every: keep a copy of generator.keras after every this many epochs; None for none.
        scorer: a kgan.judge.epoch_score.EpochScorer that scores the generator; None for none.
        metric_every: score every this many epochs, and the last of the run.
        keep_best: keep the generator with the best score as generator_best.keras (needs `scorer`).
        writes: write the files; False in the processes of a run but its chief (kgan.training.cluster),
            which only keep the history and calibrate as the chief does, so that every process holds the same
            variables.
    """

    def __init__(self, run_dir, seed, images_per_epoch, history=(), guard=None, on_first_checkpoint=None,
                 keep_every=None, scorer=None, metric_every=1, keep_best=False, writes=True):  # fmt: skip
        super().__init__()
        self.run_dir = run_dir
        self.seed = seed
        self.images_per_epoch = images_per_epoch
        self.history = list(history)
        self.guard = guard
        self.on_first_checkpoint = on_first_checkpoint
        self.keep_every = keep_every
        self.scorer = scorer
        self.metric_every = metric_every
        self.keep_best = keep_best
        self.writes = writes
        self._best = None  # the bytes of generator_best.keras
        self._started = None

    def on_train_begin(self, logs=None):
        plots.require_matplotlib()  # history.png needs it: fail now, not after the first epoch
        checkpoint = self.run_dir / run_folder.CHECKPOINT_FILE
        if self.writes and self.keep_best and self.history and checkpoint.exists():
            # The checkpoint holds the best generator of its epochs; a run killed after its checkpoint
            # but before generator_best.keras was written gets that file back here.
            self._best = checkpoint_file(checkpoint, run_folder.BEST_GENERATOR_FILE)
            if self._best is not None:
                fileio.write_bytes(self.run_dir / run_folder.BEST_GENERATOR_FILE, self._best)

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
        # Every process builds the copy to save, not only the one that writes: under TensorFlow's multi-worker
        # strategy a new variable's initial value is broadcast to all workers, which must all take part.
        saved_generator = plain_keras_model(self.model.sampling_generator)
        if not self.writes:
            return
        imaging.save_png(run_folder.sample_grid_path(self.run_dir, epoch + 1), self.sample_grid())
        generator_file = self.run_dir / run_folder.GENERATOR_FILE
        with fileio.atomic_path(generator_file, suffix=".keras") as tmp:
            saved_generator.save(tmp)
        if self.keep_every and (epoch + 1) % self.keep_every == 0:
            fileio.write_bytes(run_folder.snapshot_path(self.run_dir, epoch + 1), generator_file.read_bytes())
        metric = self.scorer.metric if self.scorer is not None else None
        if metric is not None and ((epoch + 1) % self.metric_every == 0 or epoch + 1 == self.params["epochs"]):
            started = time.perf_counter()
            row[metric.name] = self.scorer.score(*self.scored_images())
            row["metric_seconds"] = round(time.perf_counter() - started, 3)
        best = best_epoch(self.history, metric) if metric is not None and self.keep_best else None
        new_best = best == epoch + 1
        if new_best:
            self._best = generator_file.read_bytes()
        kept = {run_folder.BEST_GENERATOR_FILE: self._best} if self._best is not None else None
        save_checkpoint(self.run_dir / run_folder.CHECKPOINT_FILE, self.model, epoch + 1, self.history, kept)
        if new_best:
            fileio.write_bytes(self.run_dir / run_folder.BEST_GENERATOR_FILE, self._best)
        fileio.write_text(self.run_dir / run_folder.HISTORY_FILE, history_csv(self.history))
        if metric is not None:
            scored = [row for row in self.history if metric.name in row]
            scores = [(row["epoch"], row[metric.name], row.get("metric_seconds")) for row in scored]
            run_folder.write_metric_log(self.run_dir, metric.name, metric.higher_is_better, self.scorer.num_images,
                                        scores, best)  # fmt: skip
        plots.write_png(
            self.run_dir / run_folder.HISTORY_PLOT_FILE,
            lambda figure: draw_history(figure, self.history, metric),
            HISTORY_SIZE,
        )
        if self.on_first_checkpoint is not None:
            self.on_first_checkpoint()
            self.on_first_checkpoint = None

    def scored_images(self):
        """(uint8 images, labels) of the sampling generator for the epoch's score: the same noise every epoch."""
        model, count = self.model, self.scorer.num_images
        rng = np.random.default_rng([self.seed, 1])
        z = rng.standard_normal((count, model.latent_dim)).astype(np.float32)
        labels = np.arange(count, dtype=np.int32) % model.num_classes if model.num_classes else np.full(count, -1)
        batches = [
            model.sampling_generator(model.generator_inputs(z[rows], labels[rows]), training=False)
            for rows in (slice(start, start + SCORING_BATCH) for start in range(0, count, SCORING_BATCH))
        ]
        return imaging.to_uint8(np.concatenate([keras.ops.convert_to_numpy(batch) for batch in batches])), labels

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


class TensorBoardSamples(keras.callbacks.Callback):
    """Logs each recorded epoch's sample grid (RUN_DIR/samples/epoch_NNN.png) to TensorBoard as an image.

    The image's step is Keras's epoch index (0-based), as for the scalars of keras.callbacks.TensorBoard.
    Put it after the RunRecorder: an epoch the recorder did not record (diverged) logs nothing.

    Args:
        run_dir: the run folder.
        log_dir: the TensorBoard run folder to write the events to.
    """

    def __init__(self, run_dir, log_dir):
        super().__init__()
        self.run_dir = run_dir
        self.log_dir = log_dir
        self._writer = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(str(self.log_dir))

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf
        from PIL import Image

        path = run_folder.sample_grid_path(self.run_dir, epoch + 1)
        if not path.exists():
            return
        with Image.open(path) as picture:
            grid = np.asarray(picture)
        with self._writer.as_default():
            tf.summary.image("samples", grid.reshape(1, grid.shape[0], grid.shape[1], -1), step=epoch)
        self._writer.flush()

    def on_train_end(self, logs=None):
        self._writer.close()


def check_tensorboard():
    """Raises UsageError unless tensorflow and tensorboard, which --tensorboard writes through, are installed."""
    missing = [name for name in TENSORBOARD_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"--tensorboard writes through TensorFlow's summaries, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed here: "
            f"pip install {' '.join(missing)}, or train without --tensorboard"
        )


def tensorboard_callbacks(run_dir):
    """Keras's TensorBoard callback (losses, D outputs, learning rates) and TensorBoardSamples, into
    RUN_DIR/tensorboard; put them after the RunRecorder.

    Args:
        run_dir: the run folder.

    Raises:
        UsageError: when tensorflow or tensorboard is not installed (see check_tensorboard).
    """
    check_tensorboard()
    if keras.config.backend() != "tensorflow":
        import tensorflow as tf

        with contextlib.suppress(RuntimeError):  # raised when TensorFlow already set up its devices
            tf.config.set_visible_devices([], "GPU")  # summaries need no GPU: leave its memory to the backend
    log_dir = run_dir / run_folder.TENSORBOARD_FOLDER
    return [
        keras.callbacks.TensorBoard(log_dir, write_graph=False),
        TensorBoardSamples(run_dir, log_dir / run_folder.TENSORBOARD_SAMPLES),
    ]


def draw_history(figure, rows, metric=None):
    """Draws the losses, the discriminator's mean outputs and the score per epoch, on panels sharing the epochs.

    Args:
        figure: the matplotlib Figure to draw on (see kgan.plots.render).
        rows: the history rows: epoch, d_loss, g_loss, d_real and d_fake (and the metric's column).
        metric: the kgan.metrics.registry.Metric of the score panel, its best epoch marked; None for none.
    """
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in rows]
    marker = "o" if len(rows) <= MARKED_EPOCHS else None
    panels = figure.subplots(len(HISTORY_PANELS) + (metric is not None), 1, sharex=True)
    for axes, (title, series) in zip(panels, HISTORY_PANELS):
        for key, label, colour in series:
            axes.plot(epochs, [row[key] for row in rows], label=label, color=colour, marker=marker, markersize=4)
        axes.set_title(title)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    outputs = panels[len(HISTORY_PANELS) - 1]
    outputs.axhline(0.5, color="0.6", linewidth=1, linestyle="--", zorder=1)
    outputs.set_ylim(0, 1)
    if metric is not None:
        scored = [row for row in rows if metric.name in row]
        axes = panels[-1]
        axes.plot([row["epoch"] for row in scored], [row[metric.name] for row in scored], color="tab:red",
                  marker=marker, markersize=4, label=metric.name)  # fmt: skip
        best = best_epoch(rows, metric)
        if best is not None:
            axes.axvline(best, color="0.6", linewidth=1, linestyle="--", zorder=1, label=f"best: epoch {best}")
        direction = "higher" if metric.higher_is_better else "lower"
        axes.set_title(f"Score of each epoch's generator ({direction} is better)")
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    panels[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    panels[-1].set_xlabel("epoch")


def best_epoch(rows, metric):
    """The epoch of the history rows with the best `metric` score (the earliest of equals); None when none has one.

    Args:
        rows: history rows.
        metric: a kgan.metrics.registry.Metric.
    """
    best = None
    for row in rows:
        if metric.name in row and (best is None or metric.better(row[metric.name], best[metric.name])):
            best = row
    return None if best is None else best["epoch"]


def history_csv(rows):
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
