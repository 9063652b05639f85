"""Choosing the Keras backend for a command, before keras is first imported."""

import os
import sys

from kgan.errors import UsageError

BACKENDS = ("tensorflow", "jax")


def select_backend(backend):
    """Sets the Keras backend; it must happen before keras is first imported.

    Args:
        backend: "tensorflow" or "jax"; None keeps $KERAS_BACKEND (else keras's default, tensorflow).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if backend is None:
        return
    if "keras" in sys.modules:
        import keras

        if keras.config.backend() != backend:
            raise UsageError(
                f"keras is already loaded with the {keras.config.backend()} backend in this process; "
                f"run kgan in a new process or set KERAS_BACKEND={backend}"
            )
    os.environ["KERAS_BACKEND"] = backend
