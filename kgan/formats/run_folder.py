"""The run folder that `kgan train` writes and export, evaluation and resume read (no keras).

RUN_DIR/
    config.json            how the run was made (kgan version, backend, options, data, networks)
    generator.keras        the sampling (EMA) generator after the last good epoch
    checkpoints/last.npz   the whole training state, for --resume
    history.csv            losses, D(x), D(G(z)), seconds and images/s per epoch
    history.png            the losses, D(x) and D(G(z)) of history.csv, drawn
    samples/epoch_NNN.png  fixed-noise grids, one row per class when conditional
    snapshots/generator_epoch_NNN.keras   with --keep-every N: generator.keras of every Nth epoch
    metric-NAME.jsonl      with a --metric (the default on labelled images): one JSON line per scored epoch
    generator_best.keras   with a --metric and --keep-best (the default on labelled images): the best-scored epoch's
    tensorboard/           with --tensorboard: train/ (Keras's scalars) and samples/ (the grids) event files
    <RUN_DIR name>.onnx    what `kgan export onnx` writes unless told another --output
"""

import dataclasses
import json
import re
from pathlib import Path

from kgan import fileio
from kgan.config import TrainConfig
from kgan.errors import UsageError, first_line

CONFIG_FILE = "config.json"
GENERATOR_FILE = "generator.keras"
BEST_GENERATOR_FILE = "generator_best.keras"
BEST = "best"  # the --epoch that names generator_best.keras
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


def metric_log_path(run_dir, metric):
    """RUN_DIR/metric-NAME.jsonl, the per-epoch scores of `kgan train --metric NAME`."""
    return Path(run_dir) / f"metric-{metric}.jsonl"


def write_metric_log(run_dir, metric, higher_is_better, num_images, scores, best_epoch):
    """Writes RUN_DIR/metric-NAME.jsonl: one JSON line per scored epoch, naming its grid and kept generator files.

    Args:
        run_dir: the run folder (file names in the lines are relative to it).
        metric: the metric's name.
        higher_is_better: its direction.
        num_images: generated images per score.
        scores: (epoch, value, seconds) of every scored epoch, in order.
        best_epoch: the epoch of generator_best.keras (its line says `"best": true`); None when none is kept.
    """
    lines = []
    for epoch, value, seconds in scores:
        snapshot = snapshot_path(run_dir, epoch)
        line = {
            "epoch": epoch,
            "metric": metric,
            "value": value,
            "higher_is_better": higher_is_better,
            "images": num_images,
            "seconds": seconds,
            "samples": sample_grid_path(run_dir, epoch).relative_to(run_dir).as_posix(),
            "snapshot": snapshot.relative_to(run_dir).as_posix() if snapshot.exists() else None,
            "best": epoch == best_epoch,
        }
        lines.append(json.dumps(line) + "\n")
    fileio.write_text(metric_log_path(run_dir, metric), "".join(lines))


def read_metric_log(run_dir, metric):
    """The lines of RUN_DIR/metric-NAME.jsonl as dicts ([] when absent)."""
    path = metric_log_path(run_dir, metric)
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.is_file() else []


def default_export_path(run_dir, epoch=None, members=1):
    """RUN_DIR/<RUN_DIR name>.onnx, where `kgan export onnx` writes by default.

    Args:
        run_dir: the run folder (the first one, for a mixture of several).
        epoch: None for the last generator, the exported snapshot's epoch (`<name>-epochNNN.onnx`) or
            BEST (`<name>-best.onnx`).
        members: how many runs the file mixes: `<name>-mixtureK.onnx` for K > 1.
    """
    run_dir = Path(run_dir)
    mixture = "" if members == 1 else f"-mixture{members}"
    if epoch is None:
        snapshot = ""
    elif epoch == BEST:
        snapshot = f"-{BEST}"
    else:
        snapshot = f"-epoch{epoch:03d}"
    return run_dir / f"{run_dir.resolve().name}{mixture}{snapshot}.onnx"


@dataclasses.dataclass(frozen=True)
class RunDescription:
    """A run's config.json, read and checked: how the run was made.

    Attributes:
        document: the JSON object as the file holds it (recorded verbatim in exported files).
        train: the run's TrainConfig.
        generator: keyword arguments of kgan.networks.build_generator.
        discriminator: keyword arguments of kgan.networks.build_discriminator.
        image_shape: (H, W, C) of the training images.
        num_classes: classes of a conditional run; 0 when unconditional.
        class_names: the classes' names, in label order ([] when unconditional).
        backend: the Keras backend the run last trained on.
    """

    document: dict
    train: TrainConfig
    generator: dict
    discriminator: dict
    image_shape: tuple
    num_classes: int
    class_names: list
    backend: str

    @property
    def latent_dim(self):
        return int(self.generator["latent_dim"])


def make_description(kgan_version, backend, config, num_images, class_names, image_shape, generator, discriminator):
    """The content of config.json, as `kgan train` writes it.

    Args:
        kgan_version: the version of kgan that trains.
        backend: the Keras backend it trains on.
        config: the resolved TrainConfig.
        num_images: the training images.
        class_names: the classes' names (empty when unconditional).
        image_shape: (H, W, C) of the training images.
        generator: the generator's build_generator arguments.
        discriminator: the discriminator's build_discriminator arguments.
    """
    return {
        "kgan_version": kgan_version,
        "backend": backend,
        "train": config.to_dict(),
        "data": {
            "num_images": num_images,
            "num_classes": generator["num_classes"],
            "class_names": list(class_names),
            "image_shape": list(image_shape),
        },
        "generator": generator,
        "discriminator": discriminator,
    }


def write_description(run_dir, description):
    """Writes config.json (the dict of make_description) atomically."""
    fileio.write_text(Path(run_dir) / CONFIG_FILE, json.dumps(description, indent=2))


def read_description(run_dir):
    """The RunDescription of a run folder's config.json.

    Raises:
        UsageError: when `run_dir` has no config.json, or one that is not JSON or lacks what kgan train writes.
    """
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise UsageError(f"{run_dir} is not a kgan run folder (no {CONFIG_FILE})")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not valid JSON ({first_line(error)}): restore it from a copy or train anew") \
            from error
    except OSError as error:
        raise UsageError(f"cannot read {path} ({first_line(error)})") from error
    try:
        data, generator = document["data"], document["generator"]
        return RunDescription(
            document=document,
            train=TrainConfig.from_dict(document["train"]),
            generator=dict(generator),
            discriminator=dict(document["discriminator"]),
            image_shape=tuple(int(size) for size in data["image_shape"]),
            num_classes=int(generator["num_classes"]),
            class_names=[str(name) for name in data.get("class_names") or ()],
            backend=str(document.get("backend", "tensorflow")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UsageError(
            f"{path} lacks what kgan train writes ({type(error).__name__}: {first_line(error)}): "
            "restore it from a copy or train anew"
        ) from error
    except UsageError as error:
        raise UsageError(f"{path}: {error}") from error


def read_config(run_dir):
    """The TrainConfig stored in a run folder (config.json's "train" entry)."""
    return read_description(run_dir).train


def folders(run_dir):
    """The run folder and its subfolders, where its files are written."""
    run_dir = Path(run_dir)
    return [run_dir, run_dir / CHECKPOINT_FILE.parent, run_dir / SAMPLES_FOLDER, run_dir / SNAPSHOTS_FOLDER]


def best_and_last_scores(run_dir):
    """(the best line, the last line) of the run's metric-NAME.jsonl when it keeps generator_best.keras, else None."""
    config = read_config(run_dir)
    if config.metric is None or not config.keep_best:
        return None
    lines = read_metric_log(run_dir, config.metric)
    best = [line for line in lines if line.get("best")]
    return (best[-1], lines[-1]) if best else None


def generator_path(run_dir, epoch=None):
    """RUN_DIR/generator.keras, generator_best.keras or the snapshot of `epoch`; raises UsageError when it is not
    there.

    Args:
        run_dir: the run folder.
        epoch: None for the last generator, BEST for the best one (kept by --keep-best), or an epoch
            (1-based) kept by --keep-every.
    """
    if epoch is None:
        path = Path(run_dir) / GENERATOR_FILE
        if not path.is_file():
            raise UsageError(f"{run_dir} has no {GENERATOR_FILE} yet: train at least one epoch first")
        return path
    if epoch == BEST:
        path = Path(run_dir) / BEST_GENERATOR_FILE
        if not path.is_file():
            raise UsageError(
                f"{run_dir} has no {BEST_GENERATOR_FILE}: it keeps one when trained on labelled images without "
                "--metric none or --no-keep-best"
            )
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
