"""The run folder that `kgan train` writes and export, evaluation and resume read (no keras).

RUN_DIR/
    config.json            how the run was made (kgan version, backend, options, data, networks)
    generator.keras        the sampling (EMA) generator after the last good epoch
    checkpoints/last.npz   the whole training state, for --resume
    history.csv            losses, D(x), D(G(z)), seconds and images/s per epoch
    history.png            the losses, D(x) and D(G(z)) of history.csv, drawn
    samples/epoch_NNN.png  fixed-noise grids, one row per class when conditional
    snapshots/generator_epoch_NNN.keras   with --keep-every N: generator.keras of every Nth epoch
    tensorboard/           with --tensorboard: train/ (Keras's scalars) and samples/ (the grids) event files
"""

import json
import re
from pathlib import Path

from kgan.config import TrainConfig
from kgan.errors import UsageError

CONFIG_FILE = "config.json"
GENERATOR_FILE = "generator.keras"
CHECKPOINT_FILE = Path("checkpoints") / "last.npz"
HISTORY_FILE = "history.csv"
HISTORY_PLOT_FILE = "history.png"
SAMPLES_FOLDER = "samples"
SNAPSHOTS_FOLDER = "snapshots"
TENSORBOARD_FOLDER = "tensorboard"
TENSORBOARD_SAMPLES = "samples"  # the TensorBoard run, under TENSORBOARD_FOLDER, that holds the sample grids


def sample_grid_path(run_dir, epoch):
    """RUN_DIR/samples/epoch_NNN.png of a finished epoch (1-based)."""
    return Path(run_dir) / SAMPLES_FOLDER / f"epoch_{epoch:03d}.png"


_SNAPSHOT_NAME = re.compile(r"generator_epoch_(\d+)\.keras")


def snapshot_path(run_dir, epoch):
    """RUN_DIR/snapshots/generator_epoch_NNN.keras, the generator kept after a finished epoch (1-based)."""
    return Path(run_dir) / SNAPSHOTS_FOLDER / f"generator_epoch_{epoch:03d}.keras"


def read_description(run_dir):
    """The whole config.json of a run folder, as a dict.

    Raises:
        UsageError: when `run_dir` has no readable config.json.
    """
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise UsageError(f"{run_dir} is not a kgan run folder (no {CONFIG_FILE})")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not valid JSON: {error}") from error


def read_config(run_dir):
    """The TrainConfig stored in a run folder (config.json's "train" entry)."""
    return TrainConfig.from_dict(read_description(run_dir)["train"])


def folders(run_dir):
    """The run folder and its subfolders, where its files are written."""
    run_dir = Path(run_dir)
    return [run_dir, run_dir / CHECKPOINT_FILE.parent, run_dir / SAMPLES_FOLDER, run_dir / SNAPSHOTS_FOLDER]


def generator_path(run_dir, epoch=None):
    """RUN_DIR/generator.keras, or the snapshot of `epoch`; raises UsageError when it is not there.

    Args:
        run_dir: the run folder.
        epoch: None for the last generator, or an epoch (1-based) kept by --keep-every.
    """
    if epoch is None:
        path = Path(run_dir) / GENERATOR_FILE
        if not path.is_file():
            raise UsageError(f"{run_dir} has no {GENERATOR_FILE} yet: train at least one epoch first")
        return path
    path = snapshot_path(run_dir, epoch)
    if not path.is_file():
        kept = snapshot_epochs(run_dir)
        listed = f"it kept epochs {', '.join(map(str, kept))}" if kept else "it kept none (train with --keep-every N)"
        raise UsageError(f"{run_dir} has no generator snapshot of epoch {epoch}: {listed}")
    return path


def snapshot_epochs(run_dir):
    """The epochs whose generator RUN_DIR/snapshots holds, in order."""
    names = (path.name for path in (Path(run_dir) / SNAPSHOTS_FOLDER).glob("generator_epoch_*.keras"))
    return sorted(int(match[1]) for match in map(_SNAPSHOT_NAME.fullmatch, names) if match)
