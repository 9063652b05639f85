"""The run folder that `kgan train` writes and export, evaluation and resume read (no keras).

RUN_DIR/
    config.json            how the run was made (kgan version, backend, options, data, networks)
    generator.keras        the sampling (EMA) generator after the last good epoch
    checkpoints/last.npz   the whole training state, for --resume
    history.csv            losses, D(x), D(G(z)), seconds and images/s per epoch
    samples/epoch_NNN.png  fixed-noise grids, one row per class when conditional
"""

import json
from pathlib import Path

from kgan.config import TrainConfig
from kgan.errors import UsageError

CONFIG_FILE = "config.json"
GENERATOR_FILE = "generator.keras"
CHECKPOINT_FILE = Path("checkpoints") / "last.npz"
HISTORY_FILE = "history.csv"
SAMPLES_FOLDER = "samples"


def sample_grid_path(run_dir, epoch):
    """RUN_DIR/samples/epoch_NNN.png of a finished epoch (1-based)."""
    return Path(run_dir) / SAMPLES_FOLDER / f"epoch_{epoch:03d}.png"


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
    return [run_dir, run_dir / CHECKPOINT_FILE.parent, run_dir / SAMPLES_FOLDER]


def generator_path(run_dir):
    """RUN_DIR/generator.keras; raises UsageError when no epoch has finished yet."""
    path = Path(run_dir) / GENERATOR_FILE
    if not path.is_file():
        raise UsageError(f"{run_dir} has no {GENERATOR_FILE} yet: train at least one epoch first")
    return path
