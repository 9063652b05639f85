import csv
import os

import numpy as np
import onnxruntime
import pytest
from PIL import Image

from kgan.runtime import OnnxGenerator
from tests.helpers import assert_one_line_error, file_tree, fill_the_disk_after, leftovers

CUDA_AVAILABLE = "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def read_manifest(folder):
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def read_png(path):
    image = np.asarray(Image.open(path))
    return image[..., None] if image.ndim == 2 else image


def test_png_layout_and_manifest(kgan, conditional_model, tmp_path):
    out = tmp_path / "synthetic"

    result = kgan("generate", conditional_model, "-n", 7, "--out", out, "--seed", 5, "--batch-size", 3)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote 7 images to {out} (png, ")
    assert result.stdout.rstrip().endswith("images/s)")
    assert sorted(path.name for path in out.iterdir()) == [
        "0_cat",
        "1_dog",
        "2_hot_dog_bun",
        "manifest.csv",
    ]
    assert sorted(path.name for path in (out / "1_dog").iterdir()) == ["1.png", "4.png"]
    rows = read_manifest(out)
    assert rows[0] == {"file": "0_cat/0.png", "label": "0", "class_name": "cat", "seed": "5", "index": "0"}
    assert rows[2]["file"] == "2_hot_dog_bun/2.png" and rows[2]["class_name"] == "hot dog/bun"
    assert [row["index"] for row in rows] == [str(index) for index in range(7)]
    images, labels = OnnxGenerator(conditional_model).generate(7, seed=5)
    for row, image, label in zip(rows, images, labels):
        assert int(row["label"]) == label
        np.testing.assert_array_equal(read_png(out / row["file"]), image)
    assert not leftovers(out)


def test_png_indices_are_zero_padded(kgan, conditional_model, tmp_path):
    result = kgan("generate", conditional_model, "-n", 12, "--out", tmp_path / "out", "--label", "cat")

    assert result.exit_code == 0, result.output
    files = sorted(path.name for path in (tmp_path / "out" / "0_cat").iterdir())
    assert files == [f"{index:02d}.png" for index in range(12)]
    assert not any((tmp_path / "out" / "1_dog").iterdir())  # every class has a folder


def test_output_folder_has_ordinary_permissions(kgan, conditional_model, tmp_path):
    umask = os.umask(0o022)
    try:
        result = kgan("generate", conditional_model, "-n", 1, "--out", tmp_path / "out")
    finally:
        os.umask(umask)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755


def test_unconditional_png_layout(kgan, rgb_model, tmp_path):
    out = tmp_path / "out"

    result = kgan("generate", rgb_model, "-n", 3, "--out", out)

    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == ["0.png", "1.png", "2.png", "manifest.csv"]
    assert Image.open(out / "0.png").mode == "RGB"
    assert read_manifest(out)[1] == {"file": "1.png", "label": "", "class_name": "", "seed": "0", "index": "1"}


def test_uint8_model_with_unnamed_classes(kgan, uint8_model, tmp_path):
    out = tmp_path / "out"

    result = kgan("generate", uint8_model, "-n", 4, "--out", out)

    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == ["0", "1", "manifest.csv"]
    images, _ = OnnxGenerator(uint8_model).generate(4)
    np.testing.assert_array_equal(read_png(out / "1" / "3.png"), images[3])
    assert read_png(out / "1" / "3.png").shape == (6, 5, 3)
    assert read_manifest(out)[3]["class_name"] == ""


def test_npz_contents(kgan, conditional_model, tmp_path):
    out = tmp_path / "out"

    result = kgan("generate", conditional_model, "-n", 10, "--out", out, "--format", "npz", "--batch-size", 4,
                  "--temperature", 1.3)  # fmt: skip

    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == ["manifest.csv", "samples.npz"]
    with np.load(out / "samples.npz") as samples:
        x, y = samples["x"], samples["y"]
    assert x.dtype == np.uint8 and x.shape == (10, 8, 8, 1)
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    np.testing.assert_array_equal(x, OnnxGenerator(conditional_model).generate(10, temperature=1.3)[0])
    rows = read_manifest(out)
    assert len(rows) == 10
    assert rows[4] == {"file": "samples.npz", "label": "1", "class_name": "dog", "seed": "0", "index": "4"}


def test_npz_of_an_unconditional_model(kgan, rgb_model, tmp_path):
    result = kgan("generate", rgb_model, "-n", 3, "--out", tmp_path / "out", "--format", "npz")

    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "out" / "samples.npz") as samples:
        assert samples["x"].shape == (3, 4, 4, 3)
        assert samples["y"].tolist() == [-1, -1, -1]


@pytest.mark.parametrize(
    ("label_options", "expected"),
    [
        (["--label", "2"], ["2"] * 5),
        (["--label", "dog"], ["1"] * 5),
        (["--label", "cat, 2", "--label", "dog"], ["0", "2", "1", "0", "2"]),
        (["--label", "hot dog/bun"], ["2"] * 5),
    ],
)
def test_label_options(kgan, conditional_model, tmp_path, label_options, expected):
    out = tmp_path / "out"

    result = kgan("generate", conditional_model, "-n", 5, "--out", out, *label_options)

    assert result.exit_code == 0, result.output
    assert [row["label"] for row in read_manifest(out)] == expected


def test_same_seed_same_files_different_seed_different_files(kgan, rgb_model, tmp_path):
    for name, seed, batch_size in [("a", 1, 1), ("b", 1, 256), ("c", 2, 256)]:
        result = kgan(
            "generate",
            rgb_model,
            "-n",
            3,
            "--out",
            tmp_path / name,
            "--seed",
            seed,
            "--batch-size",
            batch_size,
            "--truncation",
            0.7,
        )
        assert result.exit_code == 0, result.output

    def png(name):
        return (tmp_path / name / "2.png").read_bytes()

    assert png("a") == png("b")
    assert png("a") != png("c")


def test_overwrite_replaces_the_folder(kgan, conditional_model, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")

    result = kgan("generate", conditional_model, "-n", 2, "--out", out, "--overwrite")

    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == ["0_cat", "1_dog", "2_hot_dog_bun", "manifest.csv"]
    assert not leftovers(out)


def test_an_existing_empty_folder_is_fine(kgan, conditional_model, tmp_path):
    (tmp_path / "out").mkdir()

    result = kgan("generate", conditional_model, "-n", 2, "--out", tmp_path / "out")

    assert result.exit_code == 0, result.output


def test_progress_goes_to_stderr(kgan, conditional_model, tmp_path):
    result = kgan("generate", conditional_model, "-n", 2, "--out", tmp_path / "out")

    assert "Generating" in result.stderr
    assert "Generating" not in result.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-n", "0"], "number of images must be a positive integer, not 0"),
        (["-n", "-5"], "number of images must be a positive integer, not -5"),
        (["--truncation", "0"], "truncation must be a positive number, not 0.0"),
        (["--truncation", "-1"], "truncation must be a positive number"),
        (["--temperature", "-0.5"], "temperature must be a positive number, not -0.5"),
        (["--batch-size", "0"], "batch size must be a positive integer, not 0"),
        (["--seed", "-1"], "seed must be a non-negative integer, not -1"),
        (["--threads", "0"], "threads must be a positive integer, not 0"),
        (["--label", "3"], "label 3 is out of range: conditional.onnx has classes 0 to 2"),
        (["--label", "0,bird"], "unknown class name 'bird': class names are cat, dog, hot dog/bun"),
        (["--format", "tiff"], "Invalid value for '--format'"),
        (["--provider", "tpu"], "Invalid value for '--provider'"),
        (["-n", "many"], "Invalid value for '-n' / '--num-images'"),
    ],
)
def test_bad_options(kgan, conditional_model, tmp_path, options, message):
    arguments = ["generate", conditional_model, "-n", "3", "--out", tmp_path / "out", *options]

    line = assert_one_line_error(kgan(*arguments))

    assert message in line
    assert not (tmp_path / "out").exists()
    assert not leftovers(tmp_path / "out")


def test_missing_required_options(kgan, conditional_model):
    assert "Missing option '-n' / '--num-images'" in assert_one_line_error(
        kgan("generate", conditional_model, "--out", "somewhere")
    )


def test_labels_for_an_unconditional_model(kgan, rgb_model, tmp_path):
    line = assert_one_line_error(kgan("generate", rgb_model, "-n", 2, "--out", tmp_path / "o", "--label", 0))

    assert "unconditional generator: it takes no labels" in line


@pytest.mark.skipif(CUDA_AVAILABLE, reason="onnxruntime here has the CUDA provider")
def test_cuda_provider_unavailable(kgan, conditional_model, tmp_path):
    line = assert_one_line_error(
        kgan("generate", conditional_model, "-n", 2, "--out", tmp_path / "o", "--provider", "cuda")
    )

    assert line.startswith("Error: onnxruntime here has no CUDAExecutionProvider: install onnxruntime-gpu")


def test_missing_model(kgan, tmp_path):
    line = assert_one_line_error(kgan("generate", tmp_path / "absent.onnx", "-n", 2, "--out", tmp_path / "o"))

    assert line == f"Error: model file not found: {tmp_path / 'absent.onnx'}"


@pytest.mark.parametrize("content", [b"hello\n", b"", "truncated"])
def test_unreadable_model(kgan, conditional_model, tmp_path, content):
    model = tmp_path / "broken.onnx"
    model.write_bytes(conditional_model.read_bytes()[:1500] if content == "truncated" else content)

    line = assert_one_line_error(kgan("generate", model, "-n", 2, "--out", tmp_path / "o"))

    assert line.startswith(f"Error: onnxruntime cannot load {model} (not an ONNX file, truncated, or too new")


def test_model_without_kgan_metadata(kgan, no_metadata_model, tmp_path):
    line = assert_one_line_error(kgan("generate", no_metadata_model, "-n", 2, "--out", tmp_path / "o"))

    assert line.endswith("was not exported by kgan export onnx (no kgan.* metadata_props)")


def test_non_empty_folder_is_left_untouched(kgan, conditional_model, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")

    line = assert_one_line_error(kgan("generate", conditional_model, "-n", 2, "--out", out))

    assert "already exists and is not empty: use --overwrite" in line
    assert [path.name for path in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "precious"
    assert not leftovers(out)


def test_out_is_a_file(kgan, conditional_model, tmp_path):
    (tmp_path / "out").write_text("a file")

    line = assert_one_line_error(kgan("generate", conditional_model, "-n", 2, "--out", tmp_path / "out", "--overwrite"))

    assert "exists and is not a folder" in line
    assert (tmp_path / "out").read_text() == "a file"


def test_parent_is_not_writable(kgan, conditional_model, tmp_path):
    (tmp_path / "file").write_text("a file")

    line = assert_one_line_error(kgan("generate", conditional_model, "-n", 2, "--out", tmp_path / "file" / "out"))

    assert f"cannot create {tmp_path / 'file' / 'out'}: {tmp_path / 'file'} is a file, not a folder" in line


def test_failure_midway_leaves_the_folder_as_it_was(kgan, conditional_model, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    fill_the_disk_after(monkeypatch, 3)

    result = kgan("generate", conditional_model, "-n", 6, "--out", out, "--overwrite", "--batch-size", 2,
                  "--threads", 2)  # fmt: skip

    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == f"Error: could not write {out}: No space left on device"
    assert [path.name for path in out.iterdir()] == ["keep.txt"]
    assert not leftovers(out)


def test_threads_do_not_change_the_files(kgan, conditional_model, tmp_path):
    for threads in (1, 4):
        result = kgan("generate", conditional_model, "-n", 30, "--out", tmp_path / str(threads), "--batch-size", 4,
                      "--threads", threads)  # fmt: skip
        assert result.exit_code == 0, result.output

    assert len(file_tree(tmp_path / "1")) == 31  # 30 PNG files and the manifest
    assert file_tree(tmp_path / "1") == file_tree(tmp_path / "4")


def test_the_model_s_recorded_temperature_is_the_default(kgan, conditional_model, tmp_path):
    tempered = conditional_model.parent / "tempered.onnx"  # conditional.onnx exported with temperature 1.5

    result = kgan("generate", tempered, "-n", 6, "--out", tmp_path / "a", "--format", "npz")

    assert result.exit_code == 0, result.output
    assert "temperature 1.5" in result.output
    with np.load(tmp_path / "a" / "samples.npz") as samples:
        np.testing.assert_array_equal(samples["x"], OnnxGenerator(conditional_model).generate(6, temperature=1.5)[0])
    result = kgan("generate", tempered, "-n", 6, "--out", tmp_path / "b", "--format", "npz", "--temperature", 1)
    assert "temperature 1," in result.output
    with np.load(tmp_path / "b" / "samples.npz") as samples:
        np.testing.assert_array_equal(samples["x"], OnnxGenerator(conditional_model).generate(6)[0])
