"""cli.backend: environment set before keras is imported."""

import os
import subprocess
import sys

import pytest

from cli.backend import SHARED_GPU_MEMORY, cache_compiled_programs, share_gpu_memory
from kgan import devices
from tests.conftest import ROOT, TINY, train_arguments


def test_gpu_memory_is_shared_unless_the_user_chose(monkeypatch):
    for name in SHARED_GPU_MEMORY:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "true")  # the user's choice stands
    share_gpu_memory()
    assert os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "true"
    assert os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


def test_compiled_programs_are_cached_in_kgans_cache_unless_the_user_chose(monkeypatch, tmp_path):
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    cache_compiled_programs()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "jax-programs")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/elsewhere")
    cache_compiled_programs()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == "/elsewhere"


@pytest.mark.parametrize("backend, asked", [("jax", True), ("tensorflow", False)])
def test_choosing_jax_asks_xla_cpu_for_its_own_convolutions(backend, asked):
    """In a fresh process, as `kgan train --backend B` starts (kgan.devices.prefer_xla_cpu_convolutions); TensorFlow's
    XLA, which reads $XLA_FLAGS too, never sees the flag."""
    script = f"import os, cli.backend; cli.backend.select_backend({backend!r}); print(os.environ.get('XLA_FLAGS'))"
    environment = {name: value for name, value in os.environ.items() if name not in ("XLA_FLAGS", "KERAS_BACKEND")}
    result = subprocess.run([sys.executable, "-c", script], env=dict(environment, PYTHONPATH=str(ROOT)),
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    asked = asked and devices.jaxlib_knows_the_convolution_flags()  # no jaxlib in tox's tensorflow env
    expected = " ".join(devices.XLA_CPU_CONVOLUTION_FLAGS) if asked else "None"
    assert result.stdout.strip() == expected


# Two `kgan train` runs of the same settings in one fresh process, counting JAX's persistent-cache events.
SECOND_RUN_LOADS = r"""
import sys
from cli.backend import select_backend
from cli.main import cli
select_backend("jax")  # as `kgan train --backend jax` does, before jax is imported
import jax
events = []
jax.monitoring.register_event_listener(lambda event, **kwargs: events.append(event))
arguments = ["train", "--backend", "jax", *sys.argv[2:]]
cli([*arguments, "--out", sys.argv[1] + "/first"], standalone_mode=False)
first = len(events)
cli([*arguments, "--out", sys.argv[1] + "/second"], standalone_mode=False)
print("hits", events[first:].count("/jax/compilation_cache/cache_hits"))
"""


def test_a_second_jax_run_loads_the_programs_the_first_compiled(tmp_path, backend):
    if backend != "jax":
        pytest.skip("JAX's compilation cache: run with the jax backend")
    environment = {name: value for name, value in os.environ.items() if not name.startswith("JAX_COMPILATION")}
    environment.update(KGAN_CACHE_DIR=str(tmp_path / "cache"), JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                       PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu", KERAS_BACKEND="jax")  # fmt: skip
    script = [sys.executable, "-c", SECOND_RUN_LOADS, str(tmp_path)]
    result = subprocess.run(script + train_arguments(TINY), env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert any((tmp_path / "cache" / "jax-programs").iterdir())
    assert int(result.stdout.split("hits")[-1]) > 0, result.stdout
