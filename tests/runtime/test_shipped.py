"""The generators in exported/ load in the bare runtime and say what their model cards say."""

import re

import numpy as np
import pytest

from kgan.runtime import OnnxGenerator
from tests.conftest import ROOT

SHIPPED = sorted((ROOT / "exported").glob("*.onnx"))


@pytest.mark.parametrize("model", SHIPPED, ids=[path.name for path in SHIPPED])
def test_a_shipped_generator_matches_its_model_card(model):
    card = model.with_suffix(".md").read_text()
    generator = OnnxGenerator(model, provider="cpu")
    recorded = re.search(r"\| sampling temperature \| ([0-9.]+) ", card)
    assert recorded, f"{model.with_suffix('.md').name} states no sampling temperature"
    assert generator.temperature == float(recorded[1])
    members = re.search(r"\| generators \| ([0-9]+) ", card)
    assert members, f"{model.with_suffix('.md').name} states no number of generators"
    assert generator.members == int(members[1])
    images, labels = generator.generate(2 * generator.num_classes, seed=0)
    assert images.shape[1:] == generator.image_shape and images.dtype == np.uint8
    assert len({image.tobytes() for image in images}) == len(images)
    assert labels.tolist() == list(range(generator.num_classes)) * 2
