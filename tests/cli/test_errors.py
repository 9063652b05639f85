"""Damaged run folders, a foreign environment and unwritable outputs: every failure is one line, the right
exit code, no traceback, and nothing on disk changes."""

import shutil

import numpy as np
import pytest

from kgan.formats import run_folder
from tests.conftest import ROOT, TINY_RUN
from tests.helpers import assert_one_line_error, file_tree, run_kgan

ONE_EPOCH = ROOT / "tests" / "fixtures" / "one_epoch"  # config.json and checkpoints/last.npz after one epoch
TRUNCATED_ZIP = b"PK\x03\x04" + bytes(40)  # a zip file's first header, cut short


@pytest.fixture
def resumable(tmp_path, backend):
    """A copy of the one-epoch run of this backend, with its generator.keras, ready for --resume."""
    run_dir = tmp_path / "run"
    shutil.copytree(ONE_EPOCH / backend, run_dir)
    shutil.copy(TINY_RUN / run_folder.GENERATOR_FILE, run_dir / run_folder.GENERATOR_FILE)
    return run_dir


def damage(run_dir, name, content):
    path = run_dir / name
    if content is None:
        path.unlink()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.savez(path, **content)


def resume(run_dir):
    return run_kgan("train", "--resume", "--out", run_dir, "--epochs", 2)


def export(run_dir):
    return run_kgan("export", "onnx", run_dir, "-o", run_dir.parent / "g.onnx")


def evaluate(run_dir):
    return run_kgan("evaluate", run_dir, "--dataset", "digits", "--out", run_dir.parent / "report")


CHECKPOINT = str(run_folder.CHECKPOINT_FILE)
DAMAGES = {
    "truncated checkpoint": (CHECKPOINT, TRUNCATED_ZIP, "cannot read checkpoint"),
    "checkpoint cut in half": (CHECKPOINT, "half", "cannot read checkpoint"),
    "checkpoint of other arrays": (CHECKPOINT, {"weights": np.zeros(3)}, "cannot read checkpoint"),
    "checkpoint not a zip": (CHECKPOINT, b"not a checkpoint", "cannot read checkpoint"),
    "generator.keras missing": (run_folder.GENERATOR_FILE, None, "has no generator.keras"),
    "generator.keras not keras": (run_folder.GENERATOR_FILE, b"<html>not a model</html>", "generator.keras"),
    "generator.keras truncated": (run_folder.GENERATOR_FILE, TRUNCATED_ZIP, "generator.keras"),
    "config.json not JSON": (run_folder.CONFIG_FILE, b"{\"train\": ", "config.json is not valid JSON"),
    "config.json binary": (run_folder.CONFIG_FILE, b"\xff\xd8\xff\xe0", "config.json is not valid JSON"),
    "config.json lacks keys": (run_folder.CONFIG_FILE, b'{"train": {}}', "config.json lacks what kgan train writes"),
}
# Which command reads which file: resume reads the checkpoint, not generator.keras; export and evaluate the reverse.
READS = {resume: (CHECKPOINT, run_folder.CONFIG_FILE), export: (run_folder.GENERATOR_FILE, run_folder.CONFIG_FILE),
         evaluate: (run_folder.GENERATOR_FILE, run_folder.CONFIG_FILE)}  # fmt: skip
CASES = [
    pytest.param(command, name, *damage_, id=f"{command.__name__}-{name}")
    for command in READS
    for name, damage_ in DAMAGES.items()
    if damage_[0] in READS[command]
]


@pytest.mark.parametrize("command, case, file, content, message", CASES)
def test_a_damaged_run_folder_is_a_one_line_usage_error(resumable, command, case, file, content, message):
    if content == "half":
        data = (resumable / file).read_bytes()
        content = data[: len(data) // 2]
    damage(resumable, file, content)
    before = file_tree(resumable.parent)

    line = assert_one_line_error(command(resumable), exit_code=2)

    assert message in line
    assert file_tree(resumable.parent) == before


@pytest.mark.parametrize("command", ["train", "export", "evaluate"])
def test_an_unsupported_keras_backend_is_a_one_line_usage_error(monkeypatch, tmp_path, command):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    arguments = {
        "train": ["train", "--dataset", "digits", "--out", tmp_path / "run"],
        "export": ["export", "onnx", TINY_RUN, "-o", tmp_path / "g.onnx"],
        "evaluate": ["evaluate", TINY_RUN, "--dataset", "digits", "--out", tmp_path / "report"],
    }[command]

    line = assert_one_line_error(run_kgan(*arguments))

    assert "KERAS_BACKEND is 'torch', a backend kgan does not support" in line
    assert list(tmp_path.iterdir()) == []


def test_an_impossible_report_folder_fails_before_any_work(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setattr("kgan.evaluation.load_real_splits", pytest.fail)  # the work it must not reach

    line = assert_one_line_error(evaluate_into(tmp_path / "file" / "report"))

    assert f"cannot create {tmp_path / 'file' / 'report'}: {tmp_path / 'file'} is a file, not a folder" in line


def test_an_impossible_classifier_cache_fails_before_any_work(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path / "file" / "cache"))
    monkeypatch.setattr("kgan.evaluation.load_real_splits", pytest.fail)

    line = assert_one_line_error(evaluate_into(tmp_path / "report"))

    assert "cannot write the reference classifier cache" in line and "set KGAN_CACHE_DIR" in line
    assert not (tmp_path / "report").exists()


def evaluate_into(out):
    return run_kgan("evaluate", TINY_RUN, "--dataset", "digits", "--out", out)


def test_a_failing_metric_is_one_line_and_writes_no_report(tmp_path, monkeypatch):
    def degenerate(*args, **kwargs):
        raise ValueError("real features contain NaN or infinite values")

    monkeypatch.setattr("kgan.metrics.registry.fid_from_features", degenerate)
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path / "cache"))
    result = run_kgan("evaluate", TINY_RUN, "--dataset", "digits", "-n", 100, "--metrics", "fid",
                      "--classifier-epochs", 1, "--seeds", 0, "--out", tmp_path / "report")  # fmt: skip

    progress, error = result.output.splitlines()[:-1], result.output.splitlines()[-1]
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert all(line.startswith("[") for line in progress), result.output  # its progress lines, then the error
    assert error.startswith("Error: cannot compute fid of these images: real features contain NaN")
    assert not (tmp_path / "report").exists()


def test_digits_without_scikit_learn_is_a_usage_error(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "sklearn.datasets", None)

    line = assert_one_line_error(run_kgan("train", "--dataset", "digits", "--out", tmp_path / "run"))

    assert "the digits dataset needs scikit-learn" in line
    assert list(tmp_path.iterdir()) == []


def test_an_onnxruntime_failure_while_generating_keeps_the_old_output(tmp_path, monkeypatch):
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail

    def out_of_memory(*args, **kwargs):
        raise Fail("[ONNXRuntimeError] : 1 : FAIL : CUDA failure 2: out of memory\nmore detail")

    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.png").write_bytes(b"earlier output")
    model = ROOT / "tests" / "runtime" / "data" / "conditional.onnx"
    monkeypatch.setattr("onnxruntime.InferenceSession.run", out_of_memory)

    line = assert_one_line_error(run_kgan("generate", model, "-n", 10, "--out", out, "--overwrite"), exit_code=1)

    assert "onnxruntime failed running" in line and "out of memory" in line and "--batch-size" in line
    assert file_tree(tmp_path) == {"out/kept.png": b"earlier output"}
    assert [path.name for path in tmp_path.iterdir()] == ["out"]
