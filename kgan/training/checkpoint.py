"""Full training checkpoints: every variable of the DCGAN and its optimizers, as one .npz.

Variables are stored by group and position, so a checkpoint written under one backend
loads under the other.
"""

import json
import zipfile

import keras
import numpy as np

from kgan import fileio
from kgan.errors import UsageError, first_line


def _variable_groups(model):
    groups = {
        "generator": model.generator.weights,
        "discriminator": model.discriminator.weights,
        "g_optimizer": model.g_optimizer.variables,
        "d_optimizer": model.d_optimizer.variables,
        "seed_generator": [model.seed_generator.state],
    }
    if model.ema_generator is not None:
        groups["ema_generator"] = model.ema_generator.weights
    return groups


FILE_PREFIX = "file/"


def save_checkpoint(path, model, epoch, history, files=None):
    """Writes the model's whole training state after `epoch` epochs, atomically.

    Args:
        path: the .npz file.
        model: a compiled kgan DCGAN.
        epoch: completed epochs.
        history: list of per-epoch dicts (history.csv rows so far).
        files: {name: bytes} of files that must stay consistent with this state (the kept best
            generator); checkpoint_file reads them back.
    """
    arrays = {
        f"{group}/{index}": keras.ops.convert_to_numpy(variable)
        for group, variables in _variable_groups(model).items()
        for index, variable in enumerate(variables)
    }
    arrays["epoch"] = np.asarray(epoch)
    arrays["history"] = np.asarray(json.dumps(history))
    for name, content in (files or {}).items():
        arrays[FILE_PREFIX + name] = np.frombuffer(content, np.uint8)
    with fileio.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)


def load_checkpoint(path, model):
    """Restores the state saved by save_checkpoint into `model`; returns (epoch, history).

    Raises:
        UsageError: a damaged or foreign file, or one of another network than `model`; the model may then
            hold part of the checkpoint, the file is untouched.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = dict(archive)
        epoch, history = int(arrays["epoch"]), json.loads(str(arrays["history"]))
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise UsageError(
            f"cannot read checkpoint {path} ({type(error).__name__}: {first_line(error)}): it is damaged or not "
            "kgan's; restore it from a copy, or start the run again with --overwrite"
        ) from error
    for group, variables in _variable_groups(model).items():
        stored = sum(key.startswith(f"{group}/") for key in arrays)
        if stored != len(variables):
            raise UsageError(
                f"checkpoint {path} does not match the model ({group}: {stored} arrays, "
                f"model has {len(variables)}); was config.json edited?"
            )
        for index, variable in enumerate(variables):
            value = arrays[f"{group}/{index}"]
            if tuple(value.shape) != tuple(variable.shape):
                raise UsageError(
                    f"checkpoint {path}: {variable.path} has shape {value.shape}, expected {variable.shape}"
                )
            variable.assign(value)
    return epoch, history


def checkpoint_file(path, name):
    """The bytes of a file saved in the checkpoint with save_checkpoint(files=...), or None when it holds none."""
    with np.load(path, allow_pickle=False) as archive:
        key = FILE_PREFIX + name
        return archive[key].tobytes() if key in archive.files else None
