"""A training run: dataset, models and `fit()`, recorded in a run folder.

RUN_DIR/
    config.json            how the run was made (kgan version, backend, options, data, networks)
    generator.keras        the sampling (EMA) generator after the last good epoch
    checkpoints/last.npz   the whole training state, for --resume
    history.csv            losses, D(x), D(G(z)), seconds and images/s per epoch
    samples/epoch_NNN.png  fixed-noise grids, one row per class when conditional
"""

import dataclasses
import json
import shutil
from pathlib import Path

import keras

import kgan
from kgan import fileio
from kgan.config import TrainConfig
from kgan.data import load_dataset
from kgan.data.batches import BatchFeeder
from kgan.errors import KganError, UsageError
from kgan.models import DCGAN, build_discriminator, build_generator
from kgan.models.blocks import dtype_policy
from kgan.training.callbacks import DivergenceGuard, RunRecorder
from kgan.training.checkpoint import load_checkpoint
from kgan.training.diffaugment import parse_policy
from kgan.training.optimizers import default_optimizer

CONFIG_FILE = "config.json"
CHECKPOINT = Path("checkpoints") / "last.npz"


@dataclasses.dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    epochs: int
    history: list


def start_run(config, run_dir, overwrite=False, verbose=1):
    """Trains a new run into `run_dir`.

    Args:
        config: a TrainConfig.
        run_dir: the run folder; must be absent or empty unless `overwrite`.
        overwrite: replace an existing run. The old one is kept until the new run's
            first checkpoint is written, and restored if the new run fails before.
        verbose: keras fit verbosity (1 progress bar, 2 a line per epoch, 0 silent).
    """
    run_dir = Path(run_dir)
    if fileio.is_nonempty_dir(run_dir) and not overwrite:
        raise UsageError(
            f"{run_dir} already holds a run: pass --overwrite to replace it, "
            "or --resume to continue it"
        )
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"{run_dir} exists and is not a folder")
    dataset, config = _prepare_data(config)
    backup = fileio.move_aside(run_dir) if run_dir.exists() else None
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        model = _build_model(config, dataset)
        fileio.write_text(run_dir / CONFIG_FILE, json.dumps(_describe(config, dataset), indent=2))
    except BaseException:
        _restore(run_dir, backup)
        raise
    return _fit(model, config, dataset, run_dir, 0, [], verbose, backup)


def resume_run(run_dir, epochs=None, verbose=1):
    """Continues the run in `run_dir` from its last checkpoint.

    Args:
        run_dir: a run folder written by start_run.
        epochs: new total number of epochs; None keeps the run's.
        verbose: keras fit verbosity.
    """
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if epochs is not None:
        config = dataclasses.replace(config, epochs=epochs)
    if not (run_dir / CHECKPOINT).exists():
        raise UsageError(f"{run_dir} has no checkpoint to resume from (no epoch finished); start it again")
    dataset, config = _prepare_data(config)
    model = _build_model(config, dataset)
    done, history = load_checkpoint(run_dir / CHECKPOINT, model)
    if done >= config.epochs:
        raise UsageError(
            f"{run_dir} has already trained {done} of {config.epochs} epochs: "
            f"pass --epochs N with N > {done} to train further"
        )
    fileio.write_text(run_dir / CONFIG_FILE, json.dumps(_describe(config, dataset), indent=2))
    return _fit(model, config, dataset, run_dir, done, history, verbose, None)


def read_run_config(run_dir):
    """The TrainConfig stored in a run folder."""
    return TrainConfig.from_dict(read_run_description(run_dir)["train"])


def read_run_description(run_dir):
    """The whole config.json of a run folder."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise UsageError(f"{run_dir} is not a kgan run folder (no {CONFIG_FILE})")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not valid JSON: {error}") from error


def resolve_jit(jit):
    """jit-compile unless told otherwise, except TensorFlow on CPU.

    In benchmarks/train_throughput.py, eager JAX ran the step at 0.8x of jitted JAX;
    TensorFlow on CPU ran plain tf.function within noise of XLA (medians 127 vs 137
    images/s, ranges 121-177 and 74-141), so it keeps tf.function. On GPUs both use
    XLA, untested here (no GPU was lent).
    """
    if jit is not None:
        return jit
    if keras.config.backend() == "jax":
        return True
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def _prepare_data(config):
    dataset = load_dataset(config.dataset, config.image_size, config.channels)
    has_labels = dataset.labels is not None
    conditional = has_labels if config.conditional is None else config.conditional
    if conditional and not has_labels:
        raise UsageError(f"dataset {config.dataset} has no labels: use --unconditional or a labelled dataset")
    if config.batch_size > len(dataset):
        raise UsageError(f"batch size {config.batch_size} is larger than the dataset ({len(dataset)} images)")
    parse_policy_or_usage_error(config.diffaugment)
    resolved = dataclasses.replace(
        config,
        image_size=dataset.images.shape[1],
        channels=dataset.images.shape[-1],
        conditional=conditional,
    )
    return dataset, resolved


def parse_policy_or_usage_error(text):
    try:
        return parse_policy(text)
    except ValueError as error:
        raise UsageError(str(error)) from error


def network_arguments(config, dataset):
    """Keyword arguments of build_generator and build_discriminator for a run."""
    num_classes = dataset.num_classes if config.conditional else 0
    shared = dict(image_size=config.image_size, channels=config.channels, num_classes=num_classes)
    generator = dict(shared, width=config.width, latent_dim=config.latent_dim, upsampling=config.upsampling)
    return generator, dict(shared, width=config.d_width or config.width)


def _build_model(config, dataset):
    keras.utils.set_random_seed(config.seed)
    generator_args, discriminator_args = network_arguments(config, dataset)
    with dtype_policy("mixed_bfloat16" if config.mixed_precision else "float32"):
        model = DCGAN(
            build_generator(**generator_args),
            build_discriminator(**discriminator_args),
            latent_dim=config.latent_dim,
            num_classes=generator_args["num_classes"],
            ema_decay=config.ema_decay if config.ema else None,
            label_smoothing=config.label_smoothing,
            diffaugment=parse_policy(config.diffaugment),
            seed=config.seed,
        )
    model.compile(
        g_optimizer=default_optimizer(config.lr, config.beta_1),
        d_optimizer=default_optimizer(config.lr, config.beta_1),
        jit_compile=resolve_jit(config.jit),
    )
    return model


def _describe(config, dataset):
    generator_args, discriminator_args = network_arguments(config, dataset)
    return {
        "kgan_version": kgan.__version__,
        "backend": keras.config.backend(),
        "train": config.to_dict(),
        "data": {
            "num_images": len(dataset),
            "num_classes": generator_args["num_classes"],
            "class_names": dataset.class_names if config.conditional else [],
            "image_shape": list(dataset.image_shape),
        },
        "generator": generator_args,
        "discriminator": discriminator_args,
    }


def _fit(model, config, dataset, run_dir, initial_epoch, history, verbose, backup):
    feeder = BatchFeeder(
        dataset, config.batch_size, config.seed, config.steps_per_epoch, config.conditional, initial_epoch
    )
    guard = DivergenceGuard()
    recorder = RunRecorder(
        run_dir, config.seed, feeder.steps_per_epoch * config.batch_size, history, guard,
        on_first_checkpoint=(lambda: shutil.rmtree(backup, ignore_errors=True)) if backup else None,
    )  # fmt: skip
    try:
        model.fit(
            feeder,
            epochs=config.epochs,
            initial_epoch=initial_epoch,
            shuffle=False,  # the feeder shuffles by (seed, epoch); keras would reorder batches with `random`
            callbacks=[guard, recorder],
            verbose=verbose,
        )
    except BaseException:
        if backup and backup.exists():
            _restore(run_dir, backup)
        raise
    if guard.problem:
        completed = recorder.history[-1]["epoch"] if recorder.history else 0
        if backup and backup.exists():
            _restore(run_dir, backup)
            kept = "the earlier run in it was restored"
        elif completed:
            kept = f"its last good checkpoint (epoch {completed}) is kept"
        else:
            kept = "no epoch finished, so there is no checkpoint"
        raise KganError(
            f"training diverged in epoch {len(recorder.history) + 1}, {guard.problem}; {run_dir}: {kept}. "
            "Try a lower --lr or --label-smoothing 0.1"
        )
    return RunResult(run_dir, config.epochs, recorder.history)


def _restore(run_dir, backup):
    if backup is None:
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    backup.rename(run_dir)
