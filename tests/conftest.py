"""Fixtures shared by the training-side tests (they need keras; tests/runtime does not)."""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kgan.devices import prefer_xla_cpu_convolutions

# As kgan's commands do before JAX starts (kgan.devices): XLA reads $XLA_FLAGS once per process.
prefer_xla_cpu_convolutions(os.environ.get("KERAS_BACKEND"))

ROOT = Path(__file__).resolve().parents[1]
TINY_RUN = ROOT / "tests" / "fixtures" / "tiny_run"  # trained on TensorFlow by tests/fixtures/make_fixtures.py
MNIST_8K = Path(os.environ.get("KGAN_MNIST8K", ROOT.parent / "shared" / "datasets" / "mnist-8k"))

# Small enough for seconds per run on 2 CPU cores, on either backend. No epoch score (the default scores every
# epoch with a classifier trained first): the tests of --metric and of the defaults ask for it.
TINY = dict(dataset="digits", image_size=16, width=4, latent_dim=8, batch_size=16, steps_per_epoch=2, epochs=1,
            metric=None)


def train_arguments(options):
    """The `kgan train` arguments of TrainConfig options: `--name value` each, None spelled as --metric's none."""
    return [part for name, value in options.items()
            for part in (f"--{name.replace('_', '-')}", "none" if value is None else str(value))]  # fmt: skip


@pytest.fixture
def mnist8k():
    """The folder of 8,000 real MNIST digits in IDX format (../shared/datasets/mnist-8k)."""
    if not (MNIST_8K / "images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST digits not found at {MNIST_8K}; set KGAN_MNIST8K to the mnist-8k folder")
    return MNIST_8K


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def backend():
    import keras

    return keras.config.backend()
