"""The run folder's format: where each file lives, and one-line errors for folders that are not runs."""

import json

import pytest

from kgan.config import TrainConfig
from kgan.errors import UsageError
from kgan.formats import run_folder
from tests.conftest import TINY_RUN


def test_reads_a_run_folder():
    description = run_folder.read_description(TINY_RUN)
    document = json.loads((TINY_RUN / "config.json").read_text())
    assert description.document == document
    assert description.train == TrainConfig.from_dict(document["train"]) == run_folder.read_config(TINY_RUN)
    assert description.train.dataset == "digits" and description.latent_dim == 4
    assert (description.image_shape, description.num_classes) == ((16, 16, 1), 10)
    assert description.class_names == [str(digit) for digit in range(10)]
    assert run_folder.generator_path(TINY_RUN) == TINY_RUN / "generator.keras"


def test_a_description_written_is_read_back(tmp_path):
    config = TrainConfig(dataset="digits", image_size=16)
    generator = {"image_size": 16, "channels": 1, "num_classes": 2, "width": 4, "latent_dim": 8}
    written = run_folder.make_description("9.9", "jax", config, 5, ["a", "b"], (16, 16, 1), generator, {"width": 4})
    run_folder.write_description(tmp_path, written)
    description = run_folder.read_description(tmp_path)
    assert description.train == config and description.generator == generator
    assert (description.backend, description.class_names, description.image_shape) == ("jax", ["a", "b"], (16, 16, 1))


def test_the_default_export_lands_in_the_run_folder(tmp_path):
    run_dir = tmp_path / "seed0"
    assert run_folder.default_export_path(run_dir) == run_dir / "seed0.onnx"
    assert run_folder.default_export_path(run_dir, epoch=7) == run_dir / "seed0-epoch007.onnx"
    assert run_folder.default_export_path(run_dir, members=3) == run_dir / "seed0-mixture3.onnx"


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
    [
        (None, r"is not a kgan run folder \(no config.json\)"),
        ("{not json", r"config.json is not valid JSON"),
        (b"\xff\xfe\x00binary", r"config.json is not valid JSON"),
        ("[1, 2]", r"config.json lacks what kgan train writes \(TypeError"),
        ('{"train": {}, "data": {}, "generator": {}}', r"config.json lacks what kgan train writes \(KeyError"),
        ('{"train": {"lr": 7}, "data": {"image_shape": [8, 8, 1]}, "generator": {"num_classes": 0}, '
         '"discriminator": {}}', r"config.json: lr must lie in \(0, 1\), not 7"),
    ],
)
def test_a_folder_that_is_not_a_run(tmp_path, content, message):
    if isinstance(content, bytes):
        (tmp_path / "config.json").write_bytes(content)
    elif content is not None:
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
