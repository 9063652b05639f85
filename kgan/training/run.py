"""A training run: build the model, `fit()` it, record each epoch in the run folder; resume it.

The folder's layout is kgan.formats.run_folder; what goes into the model is kgan.training.builder.
In a run of several processes (kgan.training.cluster) every process trains, and only the chief writes.
"""

import dataclasses
import shutil
import sys
from pathlib import Path

from kgan import fileio
from kgan.errors import KganError, UsageError
from kgan.formats import run_folder
from kgan.judge.epoch_score import EpochScorer
from kgan.training.builder import batch_feeder, build_model, describe, fit_inputs, prepare_data
from kgan.training.callbacks import DivergenceGuard, RunRecorder, best_epoch, tensorboard_callbacks
from kgan.training.checkpoint import load_checkpoint
from kgan.training.cluster import ONE_PROCESS
from kgan.training.parallel import check_batch_split, data_parallel, devices_that_fit, replica_count, resolve_devices


@dataclasses.dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    epochs: int
    history: list
    precision: str  # the compute dtype it trained in, "float32" or "bfloat16"
    devices: int  # how many devices trained it
    best_epoch: int | None = None  # the epoch of generator_best.keras, with --keep-best
    jit_compiled: bool = False  # whether XLA compiled the step


def start_run(config, run_dir, overwrite=False, verbose=1, cluster=ONE_PROCESS):
    """Trains a new run into `run_dir`.

    Args:
        config: a TrainConfig.
        run_dir: the run folder; must be absent or empty unless `overwrite`.
        overwrite: replace an existing run. The old one is kept until the new run's
            first checkpoint is written, and restored if the new run fails before.
        verbose: keras fit verbosity (1 progress bar, 2 a line per epoch, 0 silent).
        cluster: the kgan.training.cluster.Cluster this process trains in; only its chief touches `run_dir`.
    """
    run_dir = Path(run_dir)
    if not cluster.is_chief:
        dataset, config = prepare_data(config)
        devices = _devices(config, cluster)
        with data_parallel(devices, cluster):
            model = build_model(config, dataset)
            return _fit(model, config, dataset, run_dir, 0, [], verbose, None, None, cluster)
    if fileio.is_nonempty_dir(run_dir) and not overwrite:
        raise UsageError(
            f"{run_dir} already holds a run: pass --overwrite to replace it, "
            "or --resume to continue it"
        )
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"{run_dir} exists and is not a folder")
    dataset, config = prepare_data(config)
    devices = _devices(config, cluster)
    scorer = _epoch_scorer(config, dataset, verbose)
    backup = fileio.move_aside(run_dir) if run_dir.exists() else None
    with data_parallel(devices, cluster):
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            model = build_model(config, dataset)
            _write_description(run_dir, config, dataset)
        except BaseException:
            _restore(run_dir, backup)
            raise
        return _fit(model, config, dataset, run_dir, 0, [], verbose, backup, scorer, cluster)


def resume_run(run_dir, verbose=1, cluster=ONE_PROCESS, **changes):
    """Continues the run in `run_dir` from its last checkpoint, on any number of processes.

    Args:
        run_dir: a run folder written by start_run; with several processes, every one of them reads it.
        verbose: keras fit verbosity.
        cluster: the kgan.training.cluster.Cluster this process trains in; only its chief writes.
        **changes: options a resumed run may change (kgan.config.CHANGEABLE_ON_RESUME):
            `epochs`, the new total number of epochs, `jit`, `precision`, `devices`, `tensorboard` and
            `keep_every`. Without `devices` it trains on config.json's devices, or on as many as this
            machine has when it has fewer (parallel.devices_that_fit).
    """
    run_dir = Path(run_dir)
    config = run_folder.read_config(run_dir).resumed_with(**changes)
    checkpoint = run_dir / run_folder.CHECKPOINT_FILE
    if not checkpoint.exists():
        raise UsageError(f"{run_dir} has no checkpoint to resume from (no epoch finished); start it again")
    dataset, config = prepare_data(config)
    devices = _devices(config, cluster, fit_machine="devices" not in changes)
    scorer = _epoch_scorer(config, dataset, verbose) if cluster.is_chief else None
    with data_parallel(devices, cluster):
        model = build_model(config, dataset)
        done, history = load_checkpoint(checkpoint, model)
        if done >= config.epochs:
            raise UsageError(
                f"{run_dir} has already trained {done} of {config.epochs} epochs: "
                f"pass --epochs N with N > {done} to train further"
            )
        if cluster.is_chief:
            for folder in run_folder.folders(run_dir):  # a run killed while writing leaves temporary files
                fileio.remove_stale_temporaries(folder)
            _write_description(run_dir, config, dataset)
        return _fit(model, config, dataset, run_dir, done, history, verbose, None, scorer, cluster)


def _devices(config, cluster, fit_machine=False):
    """The devices of a run; `fit_machine`: fewer than config.devices where the machine has fewer."""
    wanted = devices_that_fit(config.devices, config.batch_size, cluster) if fit_machine else config.devices
    devices = resolve_devices(wanted, cluster)
    check_batch_split(config.batch_size, devices)
    return devices


def _epoch_scorer(config, dataset, verbose):
    """The EpochScorer of a resolved config's metric (see prepare_data), its classifier trained (or loaded from
    the cache) before the first epoch, saying so on stderr unless `verbose` is 0; None without a metric."""
    if config.metric is None:
        return None
    return EpochScorer(dataset, config.metric, progress=_say if verbose else None)


def _say(message):
    print(message, file=sys.stderr, flush=True)


def _write_description(run_dir, config, dataset):
    run_folder.write_description(run_dir, describe(config, dataset))


def _fit(model, config, dataset, run_dir, initial_epoch, history, verbose, backup, scorer, cluster):
    feeder = batch_feeder(config, dataset, initial_epoch, cluster)
    guard = DivergenceGuard()
    recorder = RunRecorder(
        run_dir, config.seed, feeder.steps_per_epoch * config.batch_size, history, guard,
        on_first_checkpoint=(lambda: shutil.rmtree(backup, ignore_errors=True)) if backup else None,
        keep_every=config.keep_every, scorer=scorer, metric_every=config.metric_every, keep_best=config.keep_best,
        writes=cluster.is_chief,
    )  # fmt: skip
    loggers = tensorboard_callbacks(run_dir) if config.tensorboard and cluster.is_chief else []
    try:
        model.fit(
            **fit_inputs(feeder),
            epochs=config.epochs,
            initial_epoch=initial_epoch,
            shuffle=False,  # the feeder shuffles by (seed, epoch); keras would reorder batches with `random`
            callbacks=[guard, recorder, *loggers],
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
    best = best_epoch(recorder.history, scorer.metric) if scorer is not None and config.keep_best else None
    return RunResult(run_dir, config.epochs, recorder.history, config.precision, replica_count(model), best,
                     bool(model.jit_compile))


def _restore(run_dir, backup):
    if backup is None:
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    backup.rename(run_dir)
