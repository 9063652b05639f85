"""The generators that ship in exported/ load in the bare runtime and say what their model cards say.

The shipped set is the list below, not whatever lies in the folder: a user's own exports
(or a test's) never turn into shipped files by landing there.
"""

import re
import shutil
import subprocess

import numpy as np
import pytest

from kgan.runtime import OnnxGenerator
from tests.conftest import ROOT

EXPORTED = ROOT / "exported"
SHIPPED = ("fashion-mnist-cdcgan.onnx", "mnist8k-cdcgan.onnx")


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_generator_matches_its_model_card(name):
    model = EXPORTED / name
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


def test_the_shipped_list_is_what_git_tracks():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files of exported/ cannot be listed")
    listed = subprocess.run(
        ["git", "ls-files", "--", "exported/*.onnx"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(path.removeprefix("exported/") for path in listed) == sorted(SHIPPED)
