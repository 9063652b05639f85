"""Choosing the Keras backend for a command, before keras is first imported."""

import os
import sys

from kgan.cache import cache_root
from kgan.devices import prefer_xla_cpu_convolutions
from kgan.errors import UsageError

BACKENDS = ("tensorflow", "jax")


# onnxruntime and a Keras backend share the GPU in `kgan evaluate`: allocate device memory as needed rather than
# JAX's default 75% up front (TensorFlow's default is all of it).
SHARED_GPU_MEMORY = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


def share_gpu_memory():
    """Makes both backends take GPU memory as they need it, unless the user's environment says otherwise;
    before keras is first imported."""
    for name, value in SHARED_GPU_MEMORY.items():
        os.environ.setdefault(name, value)


def cache_compiled_programs():
    """Keeps JAX's compiled programs in kgan's cache folder, unless $JAX_COMPILATION_CACHE_DIR names another; before
    jax is first imported.

    A command that compiles what an earlier one did (a resume, the same settings again, evaluate's classifier on
    the same data) then loads the programs instead of compiling them. JAX caches only programs that took at least
    $JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS (1 s by default) to compile.
    """
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(cache_root() / "jax-programs"))


def select_backend(backend):
    """Sets the Keras backend, and on JAX XLA:CPU's convolution kernels; it must happen before keras is first imported.

    Args:
        backend: "tensorflow" or "jax"; None keeps $KERAS_BACKEND (else keras's default, tensorflow).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cache_compiled_programs()
    if backend is None:
        chosen = os.environ.get("KERAS_BACKEND")
        if chosen is not None and chosen not in BACKENDS:
            raise UsageError(
                f"KERAS_BACKEND is {chosen!r}, a backend kgan does not support: "
                f"set it to {' or '.join(BACKENDS)}, unset it, or pass --backend"
            )
        prefer_xla_cpu_convolutions(chosen)
        return
    if "keras" in sys.modules:
        import keras

        if keras.config.backend() != backend:
            raise UsageError(
                f"keras is already loaded with the {keras.config.backend()} backend in this process; "
                f"run kgan in a new process or set KERAS_BACKEND={backend}"
            )
    os.environ["KERAS_BACKEND"] = backend
    prefer_xla_cpu_convolutions(backend)
