"""`kgan train` through click's CliRunner: outputs, resume, overwrite and bad input."""

import json
import sys

import numpy as np
import pytest
from PIL import Image

from cli.main import cli
from kgan.training.callbacks import TENSORBOARD_NEEDS
from tests.conftest import TINY, train_arguments
from tests.helpers import assert_one_line_error


def tiny_args(run_dir, **overrides):
    return ["train", *train_arguments({**TINY, **overrides}), "--out", str(run_dir)]


def test_train_writes_a_complete_run_folder(runner, tmp_path, backend):
    run_dir = tmp_path / "run"
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    result = runner.invoke(cli, tiny_args(run_dir, epochs=2, d_width=6) + ["--backend", backend])
    assert result.exit_code == 0, result.output
    assert "Trained 2 epochs" in result.output and "d_loss" in result.output
    config = json.loads((run_dir / "config.json").read_text())
    assert config["backend"] == backend
    assert (config["generator"]["width"], config["discriminator"]["width"]) == (4, 6)
    assert config["train"]["conditional"] is True  # digits has labels
    precision = config["train"]["precision"]  # "auto" resolved when the run started
    assert precision in ("float32", "bfloat16") and f"images/s in {precision}" in result.output
    assert config["data"]["class_names"] == [str(digit) for digit in range(10)]
    samples = ("samples/epoch_001.png", "samples/epoch_002.png")
    for name in ("generator.keras", "checkpoints/last.npz", "history.png", *samples):
        assert (run_dir / name).is_file(), name
    header, *rows = (run_dir / "history.csv").read_text().splitlines()
    assert header.split(",")[:5] == ["epoch", "d_fake", "d_loss", "d_real", "g_loss"] and len(rows) == 2
    grid = np.asarray(Image.open(run_dir / "samples" / "epoch_002.png"))
    assert grid.shape == (10 * 18 + 2, 10 * 18 + 2)  # one row per class, 10 columns of 16px + padding
    assert not list(run_dir.rglob(".*tmp*")), "temporary files left behind"
    assert not (run_dir / "snapshots").exists() and not (run_dir / "tensorboard").exists()  # both off by default


def test_keep_every_keeps_snapshots_and_can_change_on_resume(runner, tmp_path):
    import keras

    run_dir = tmp_path / "run"
    result = runner.invoke(cli, tiny_args(run_dir, epochs=4, keep_every=2))
    assert result.exit_code == 0, result.output
    snapshots = run_dir / "snapshots"
    kept = ["generator_epoch_002.keras", "generator_epoch_004.keras"]
    assert sorted(path.name for path in snapshots.iterdir()) == kept
    assert (snapshots / "generator_epoch_004.keras").read_bytes() == (run_dir / "generator.keras").read_bytes()
    generator = keras.saving.load_model(snapshots / "generator_epoch_002.keras")
    assert generator.output_shape == (None, 16, 16, 1)

    result = runner.invoke(cli, ["train", "--resume", "--epochs", "6", "--keep-every", "5", "--out", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in snapshots.iterdir()) == [*kept, "generator_epoch_005.keras"]
    assert json.loads((run_dir / "config.json").read_text())["train"]["keep_every"] == 5


def test_tensorboard_without_tensorflow_is_one_line_exit_2(runner, tmp_path, monkeypatch):
    for name in TENSORBOARD_NEEDS:
        monkeypatch.setitem(sys.modules, name, None)  # as on the jax backend without TensorFlow installed
    result = runner.invoke(cli, tiny_args(tmp_path / "run") + ["--tensorboard"])
    assert_one_line_error(result)
    assert "tensorflow and tensorboard are not installed here" in result.output
    assert not (tmp_path / "run").exists()


def test_generator_keras_loads_and_generates(runner, tmp_path):
    import keras

    run_dir = tmp_path / "run"
    assert runner.invoke(cli, tiny_args(run_dir) + ["--unconditional"]).exit_code == 0
    generator = keras.saving.load_model(run_dir / "generator.keras")
    images = keras.ops.convert_to_numpy(generator(np.zeros((2, 8), np.float32)))
    assert images.shape == (2, 16, 16, 1)


def test_existing_run_needs_overwrite_or_resume(runner, tmp_path):
    run_dir = tmp_path / "run"
    assert runner.invoke(cli, tiny_args(run_dir)).exit_code == 0
    before = (run_dir / "checkpoints" / "last.npz").read_bytes()
    result = runner.invoke(cli, tiny_args(run_dir))
    assert_one_line_error(result)
    assert "--overwrite" in result.output
    assert (run_dir / "checkpoints" / "last.npz").read_bytes() == before

    result = runner.invoke(cli, tiny_args(run_dir, seed=7) + ["--overwrite"])
    assert result.exit_code == 0, result.output
    assert json.loads((run_dir / "config.json").read_text())["train"]["seed"] == 7
    assert not [path for path in tmp_path.iterdir() if path.name != "run"], "old run not cleaned up"


def test_failed_overwrite_restores_the_old_run(runner, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    assert runner.invoke(cli, tiny_args(run_dir)).exit_code == 0
    before = (run_dir / "config.json").read_text()

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash before the first checkpoint")

    monkeypatch.setattr("kgan.training.run.RunRecorder.on_epoch_end", crash)
    result = runner.invoke(cli, tiny_args(run_dir, seed=9) + ["--overwrite"])
    assert result.exit_code != 0
    assert (run_dir / "config.json").read_text() == before
    assert [path.name for path in tmp_path.iterdir()] == ["run"]


def test_resume_continues_and_refuses_changed_options(runner, tmp_path):
    run_dir = tmp_path / "run"
    assert runner.invoke(cli, tiny_args(run_dir)).exit_code == 0
    result = runner.invoke(cli, ["train", "--resume", "--epochs", "2", "--out", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert (run_dir / "samples" / "epoch_002.png").exists()
    result = runner.invoke(cli, ["train", "--resume", "--lr", "0.1", "--beta1", "0.9", "--out", str(run_dir)])
    assert_one_line_error(result)
    assert "--lr, --beta1 cannot change on --resume" in result.output
    assert "only --epochs, --jit/--no-jit, --precision, --devices, --tensorboard/--no-tensorboard, --keep-every" in (
        result.output
    )
    result = runner.invoke(cli, ["train", "--resume", "--epochs", "2", "--out", str(run_dir)])
    assert_one_line_error(result)
    assert "already trained 2 of 2 epochs" in result.output
    assert_one_line_error(runner.invoke(cli, ["train", "--resume", "--out", str(tmp_path / "none")]))


def compiled_steps(monkeypatch):
    """The jit_compile of every model that kgan.training.run builds from now on, and the precision it computes in."""
    import kgan.training.run as run

    compiled, build_model = [], run.build_model

    def build_and_record(config, dataset):
        model = build_model(config, dataset)
        compiled.append((model.jit_compile, config.precision))
        return model

    monkeypatch.setattr(run, "build_model", build_and_record)
    return compiled


@pytest.mark.parametrize("r1", [0, 0.01])
def test_the_step_is_compiled_as_the_machine_measured_fastest_with_or_without_r1(runner, tmp_path, monkeypatch, r1):
    from kgan.devices import resolve_jit

    compiled = compiled_steps(monkeypatch)
    assert runner.invoke(cli, tiny_args(tmp_path / "run", steps_per_epoch=120, r1=r1)).exit_code == 0
    [(jit, precision)] = compiled
    assert jit is resolve_jit(None, precision, steps=120)


def test_resume_applies_no_jit(runner, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    assert runner.invoke(cli, tiny_args(run_dir)).exit_code == 0
    compiled = compiled_steps(monkeypatch)

    result = runner.invoke(cli, ["train", "--resume", "--epochs", "2", "--no-jit", "--out", str(run_dir)])

    assert result.exit_code == 0, result.output
    assert [jit for jit, _ in compiled] == [False]
    assert json.loads((run_dir / "config.json").read_text())["train"]["jit"] is False


def test_precision_is_recorded_and_can_change_on_resume(runner, tmp_path):
    run_dir = tmp_path / "run"
    result = runner.invoke(cli, tiny_args(run_dir) + ["--mixed-precision"])  # the old spelling of bfloat16
    assert result.exit_code == 0, result.output
    assert "images/s in bfloat16" in result.output
    result = runner.invoke(cli, ["train", "--resume", "--epochs", "2", "--precision", "float32", "--out", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert "images/s in float32" in result.output
    assert json.loads((run_dir / "config.json").read_text())["train"]["precision"] == "float32"


def test_mixed_precision_contradicting_precision_is_one_line_exit_2(runner, tmp_path):
    result = runner.invoke(cli, tiny_args(tmp_path / "run") + ["--mixed-precision", "--precision", "float32"])
    assert_one_line_error(result)
    assert "--mixed-precision means --precision bfloat16, not float32" in result.output
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"dataset": "no/such/folder"}, "not found"),
        ({"image_size": 30}, "not supported"),
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"lr": -1}, "lr must lie in"),
        ({"d_width": 0}, "d-width must be an integer >= 1"),
        ({"keep_every": 0}, "keep-every must be an integer >= 1, not 0"),
        ({"batch_size": 5000}, "larger than the dataset"),
        ({"label_smoothing": 0.7}, "label smoothing"),
        ({"diffaugment": "colour"}, "unknown DiffAugment"),
        ({"epochs": "many"}, "not a valid integer"),
        ({"devices": "many"}, "'many' is neither a count of devices nor all"),
        ({"devices": 0}, "devices must be an integer >= 1, not 0"),
        ({"devices": 64}, "--devices 64 asks for more than the"),
    ],
)
def test_bad_input_is_one_line_exit_2(runner, tmp_path, overrides, message):
    result = runner.invoke(cli, tiny_args(tmp_path / "run", **overrides))
    assert_one_line_error(result)
    assert message in result.output
    assert not (tmp_path / "run").exists()


def test_unlabelled_data_cannot_be_conditional(runner, tmp_path):
    np.savez(tmp_path / "x.npz", x=np.zeros((40, 16, 16), np.uint8))
    result = runner.invoke(cli, tiny_args(tmp_path / "run", dataset=tmp_path / "x.npz") + ["--conditional"])
    assert_one_line_error(result)
    assert "no labels" in result.output


def test_corrupt_image_is_one_line_exit_2(runner, tmp_path):
    (tmp_path / "pets" / "cat").mkdir(parents=True)
    Image.new("RGB", (20, 20)).save(tmp_path / "pets" / "cat" / "ok.png")
    (tmp_path / "pets" / "cat" / "bad.jpg").write_bytes(b"\xff\xd8 truncated")
    result = runner.invoke(cli, tiny_args(tmp_path / "run", dataset=tmp_path / "pets"))
    assert_one_line_error(result)
    assert "bad.jpg" in result.output


def test_other_backend_in_the_same_process_is_refused(runner, tmp_path, backend):
    other = "jax" if backend == "tensorflow" else "tensorflow"
    result = runner.invoke(cli, tiny_args(tmp_path / "run") + ["--backend", other])
    assert_one_line_error(result)
    assert "already loaded" in result.output


def test_trains_on_real_mnist_digits(runner, tmp_path, mnist8k):
    run_dir = tmp_path / "mnist"
    args = tiny_args(run_dir, dataset=mnist8k, image_size=28, steps_per_epoch=3, batch_size=32)
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    config = json.loads((run_dir / "config.json").read_text())
    assert config["data"]["num_images"] == 8000 and config["data"]["image_shape"] == [28, 28, 1]
    assert config["data"]["num_classes"] == 10
