"""Full training checkpoints: every variable of the DCGAN and its optimizers, as one .npz.

Variables are stored by group and position, so a checkpoint written under one backend
loads under the other.
"""

import json

import keras
import numpy as np

from kgan import fileio
from kgan.errors import KganError


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


def save_checkpoint(path, model, epoch, history):
    """Writes the model's whole training state after `epoch` epochs, atomically.

    Args:
        path: the .npz file.
        model: a compiled kgan DCGAN.
        epoch: completed epochs.
        history: list of per-epoch dicts (history.csv rows so far).
    """
    arrays = {
        f"{group}/{index}": keras.ops.convert_to_numpy(variable)
        for group, variables in _variable_groups(model).items()
        for index, variable in enumerate(variables)
    }
    arrays["epoch"] = np.asarray(epoch)
    arrays["history"] = np.asarray(json.dumps(history))
    with fileio.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)


def load_checkpoint(path, model):
    """Restores the state saved by save_checkpoint into `model`; returns (epoch, history)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = dict(archive)
    except (OSError, ValueError) as error:
        raise KganError(f"cannot read checkpoint {path}: {error}") from error
    for group, variables in _variable_groups(model).items():
        stored = sum(key.startswith(f"{group}/") for key in arrays)
        if stored != len(variables):
            raise KganError(
                f"checkpoint {path} does not match the model ({group}: {stored} arrays, "
                f"model has {len(variables)}); was config.json edited?"
            )
        for index, variable in enumerate(variables):
            value = arrays[f"{group}/{index}"]
            if tuple(value.shape) != tuple(variable.shape):
                raise KganError(
                    f"checkpoint {path}: {variable.path} has shape {value.shape}, expected {variable.shape}"
                )
            variable.assign(value)
    return int(arrays["epoch"]), json.loads(str(arrays["history"]))
