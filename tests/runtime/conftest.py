from pathlib import Path

import pytest

from tests.helpers import run_kgan

DATA = Path(__file__).parent / "data"


@pytest.fixture
def conditional_model():
    """float32 output, latent 8, classes cat / dog / "hot dog/bun", 8 x 8 x 1."""
    return DATA / "conditional.onnx"


@pytest.fixture
def rgb_model():
    """Unconditional, float32 output, latent 6, 4 x 4 x 3."""
    return DATA / "unconditional_rgb.onnx"


@pytest.fixture
def uint8_model():
    """uint8 output, latent 4, two unnamed classes, 6 x 5 x 3."""
    return DATA / "uint8_unnamed.onnx"


@pytest.fixture
def no_metadata_model():
    """A valid generator graph without kgan.* metadata_props."""
    return DATA / "no_metadata.onnx"


@pytest.fixture
def kgan():
    """Runs the `kgan` command line in-process; returns click's Result."""
    return run_kgan
