"""The run folder's format: where each file lives, and one-line errors for folders that are not runs."""

import json

import pytest

from kgan.config import TrainConfig
from kgan.errors import UsageError
from kgan.formats import run_folder
from tests.conftest import TINY_RUN


def test_reads_a_run_folder():
    description = run_folder.read_description(TINY_RUN)
    assert description["train"]["dataset"] == "digits" and description["generator"]["latent_dim"] == 4
    assert run_folder.read_config(TINY_RUN) == TrainConfig.from_dict(description["train"])
    assert run_folder.generator_path(TINY_RUN) == TINY_RUN / "generator.keras"


def test_where_each_file_lives(tmp_path):
    assert run_folder.sample_grid_path(tmp_path, 7) == tmp_path / "samples" / "epoch_007.png"
    assert tmp_path / run_folder.CHECKPOINT_FILE == tmp_path / "checkpoints" / "last.npz"
    assert (run_folder.CONFIG_FILE, run_folder.HISTORY_FILE) == ("config.json", "history.csv")
    assert run_folder.HISTORY_PLOT_FILE == "history.png"
    assert run_folder.snapshot_path(tmp_path, 4) == tmp_path / "snapshots" / "generator_epoch_004.keras"
    assert run_folder.folders(tmp_path) == [
        tmp_path, tmp_path / "checkpoints", tmp_path / "samples", tmp_path / "snapshots"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "content, message",
    [(None, r"is not a kgan run folder \(no config.json\)"), ("{not json", r"config.json is not valid JSON")],
)
def test_a_folder_that_is_not_a_run(tmp_path, content, message):
    if content is not None:
        (tmp_path / "config.json").write_text(content)
    with pytest.raises(UsageError, match=message):
        run_folder.read_description(tmp_path)


def test_a_run_without_a_finished_epoch_has_no_generator(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"train": {}}))
    with pytest.raises(UsageError, match="has no generator.keras yet: train at least one epoch first"):
        run_folder.generator_path(tmp_path)


def test_a_missing_snapshot_names_the_kept_epochs(tmp_path):
    with pytest.raises(UsageError, match=r"generator snapshot of epoch 5: it kept none \(train with --keep-every N\)"):
        run_folder.generator_path(tmp_path, epoch=5)
    for epoch in (10, 4):
        run_folder.snapshot_path(tmp_path, epoch).parent.mkdir(exist_ok=True)
        run_folder.snapshot_path(tmp_path, epoch).write_bytes(b"")
    (tmp_path / "snapshots" / "generator_epoch_007.keras.tmp").write_bytes(b"")  # a half-written one
    assert run_folder.snapshot_epochs(tmp_path) == [4, 10]
    assert run_folder.generator_path(tmp_path, epoch=10) == tmp_path / "snapshots" / "generator_epoch_010.keras"
    with pytest.raises(UsageError, match="it kept epochs 4, 10"):
        run_folder.generator_path(tmp_path, epoch=5)
