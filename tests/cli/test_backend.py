"""cli.backend: environment set before keras is imported."""

import os

from cli.backend import SHARED_GPU_MEMORY, share_gpu_memory


def test_gpu_memory_is_shared_unless_the_user_chose(monkeypatch):
    for name in SHARED_GPU_MEMORY:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "true")  # the user's choice stands
    share_gpu_memory()
    assert os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "true"
    assert os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
