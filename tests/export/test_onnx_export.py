"""`kgan export onnx`: the contract, parity with keras, uint8, mixed precision, cross-backend, failures."""

import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

import kgan
import kgan.export.onnx as onnx_export
from cli.main import cli
from kgan import imaging
from kgan.config import TrainConfig
from kgan.evaluation.sources import OnnxSource, RunSource
from kgan.export import DEFAULT_OPSET, export_onnx, graph
from kgan.networks import build_generator
from kgan.networks.blocks import dtype_policy
from kgan.runtime import OnnxGenerator
from kgan.training.run import start_run
from tests.conftest import ROOT, TINY, TINY_RUN
from tests.helpers import assert_one_line_error


@pytest.fixture(scope="module")
def bfloat16_run(tmp_path_factory):
    """An unconditional run trained in mixed_bfloat16 on the test's backend."""
    run_dir = tmp_path_factory.mktemp("runs") / "mixed"
    start_run(TrainConfig(**TINY, conditional=False, precision="bfloat16"), run_dir, verbose=0)
    assert keras.config.dtype_policy().name == "float32", "start_run must leave the global policy as it was"
    return run_dir


def float32_keras_generator(run_dir, keras_file="generator.keras"):
    """(the keras generator of RUN_DIR/keras_file rebuilt in float32, independently of kgan.export, its arguments)."""
    arguments = json.loads((run_dir / "config.json").read_text())["generator"]
    saved = keras.saving.load_model(run_dir / keras_file, compile=False)
    with dtype_policy("float32"):
        model = build_generator(**arguments)
    model.set_weights(saved.get_weights())
    return model, arguments


def run_both(path, run_dir, batch_sizes, keras_file="generator.keras"):
    """[(onnxruntime images, keras float32 images)] of the same random z and labels, per batch size."""
    model, arguments = float32_keras_generator(run_dir, keras_file)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    pairs = []
    for batch_size in batch_sizes:
        feeds = {"z": rng.standard_normal((batch_size, arguments["latent_dim"])).astype(np.float32)}
        inputs = feeds["z"]
        if arguments["num_classes"]:
            feeds["label"] = rng.integers(0, arguments["num_classes"], batch_size)
            inputs = [feeds["z"], feeds["label"].astype(np.int32)]
        (images,) = session.run(["image"], feeds)
        pairs.append((images, np.asarray(model.predict_on_batch(inputs))))
    return pairs


def assert_matches_keras(images, expected):
    # Stricter than the export's own 1e-4 check: the bfloat16 run's images are ~1e-5.
    np.testing.assert_allclose(images, expected, rtol=1e-4, atol=1e-6)


def opset_version(model):
    return {entry.domain: entry.version for entry in model.opset_import}[""]


def interface(path):
    """{name: (elem_type, [dims])} of the graph's inputs and outputs."""
    model = onnx.load(path)
    found = {}
    for value in [*model.graph.input, *model.graph.output]:
        tensor = value.type.tensor_type
        found[value.name] = (tensor.elem_type, [dim.dim_param or dim.dim_value for dim in tensor.shape.dim])
    return found


def test_tensorflow_trained_conditional_run_exports_to_the_contract(tmp_path):
    run_dir = tmp_path / "tiny_run"
    shutil.copytree(TINY_RUN, run_dir)

    result = export_onnx(run_dir)

    assert result.path == run_dir / "tiny_run.onnx" and result.path.is_file()
    assert result.max_abs_diff <= 1e-4 and result.seconds > 0
    assert interface(result.path) == {
        "z": (TensorProto.FLOAT, ["N", 4]),
        "label": (TensorProto.INT64, ["N"]),
        "image": (TensorProto.FLOAT, ["N", 16, 16, 1]),
    }
    pairs = run_both(result.path, TINY_RUN, batch_sizes=(1, 7))
    for images, expected in pairs:
        assert_matches_keras(images, expected)
    assert pairs[1][0].std() > 0.01  # trained enough that a wrong weight would show
    model = onnx.load(result.path)
    assert opset_version(model) == DEFAULT_OPSET
    description = json.loads((TINY_RUN / "config.json").read_text())
    assert description["backend"] == "tensorflow"
    assert {prop.key: prop.value for prop in model.metadata_props} == {
        "kgan.version": kgan.__version__,
        "kgan.latent_dim": "4",
        "kgan.num_classes": "10",
        "kgan.class_names": json.dumps([str(digit) for digit in range(10)]),
        "kgan.image_shape": "[16, 16, 1]",
        "kgan.channel_order": "L",
        "kgan.value_range": "[-1, 1]",
        "kgan.dataset": "digits",
        "kgan.training_config": json.dumps(description),
        "kgan.temperature": "1.0",
        "kgan.members": "1",
    }
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    three, seven = session.run(["image"], {"z": np.ones((2, 4), np.float32), "label": np.array([3, 7])})[0]
    assert np.abs(three - seven).max() > 1e-3  # the label is wired through, well above the tolerance
    images, labels = OnnxGenerator(result.path).generate(12, labels=[3, 7], seed=1)
    assert images.shape == (12, 16, 16, 1) and images.dtype == np.uint8
    assert labels.tolist() == [3, 7] * 6
    # kgan evaluate draws the same latents from a RUN_DIR as from its export: the same images.
    for temperature in (1.0, 1.5):
        from_run = RunSource(TINY_RUN).generate(20, seed=3, temperature=temperature)
        from_onnx = OnnxSource(result.path).generate(20, seed=3, temperature=temperature)
        assert from_run[1].tolist() == from_onnx[1].tolist()
        assert np.abs(from_run[0].astype(int) - from_onnx[0]).max() <= 1  # uint8 rounding of 1e-6 differences
    assert np.abs(from_onnx[0].astype(int) - OnnxSource(result.path).generate(20, seed=3)[0]).max() > 1


def test_unconditional_bfloat16_run_exports_a_float32_graph(bfloat16_run, tmp_path):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")  # as right after training in the same process
    try:
        result = export_onnx(bfloat16_run, tmp_path / "mixed.onnx")
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    finally:
        keras.config.set_dtype_policy(previous)

    assert interface(result.path) == {
        "z": (TensorProto.FLOAT, ["N", 8]),
        "image": (TensorProto.FLOAT, ["N", 16, 16, 1]),
    }
    model = onnx.load(result.path)
    assert TensorProto.BFLOAT16 not in {tensor.data_type for tensor in model.graph.initializer}
    casts = [attribute.i for node in model.graph.node if node.op_type == "Cast" for attribute in node.attribute]
    assert TensorProto.BFLOAT16 not in casts
    for images, expected in run_both(result.path, bfloat16_run, batch_sizes=(1, 7)):
        assert_matches_keras(images, expected)
    generator = OnnxGenerator(result.path)
    assert (generator.num_classes, generator.class_names, generator.latent_dim) == (0, (), 8)
    images, labels = generator.generate(3, seed=2)
    assert images.shape == (3, 16, 16, 1) and labels.tolist() == [-1, -1, -1]


def test_a_run_with_a_spectral_norm_discriminator_exports_its_generator(tmp_path):
    """Spectral normalisation changes only the discriminator: the generator exports as any other."""
    run_dir = tmp_path / "spectral"
    start_run(TrainConfig(**TINY, spectral_norm=True, loss="hinge"), run_dir, verbose=0)

    result = export_onnx(run_dir)

    for images, expected in run_both(result.path, run_dir, batch_sizes=(1, 7)):
        assert_matches_keras(images, expected)


def test_a_resize_run_exports_what_its_saved_generator_computes(tmp_path):
    """The resize generator trains with NearestUpsampleConv2D and saves keras's upsampling and convolution; the
    export rebuilds it from the saved weights."""
    run_dir = tmp_path / "resize"
    start_run(TrainConfig(**TINY, upsampling="resize"), run_dir, verbose=0)
    saved = keras.saving.load_model(run_dir / "generator.keras", compile=False)
    assert {"UpSampling2D", "Conv2D"} <= {type(layer).__name__ for layer in saved._flatten_layers()}

    result = export_onnx(run_dir)

    for images, expected in run_both(result.path, run_dir, batch_sizes=(1, 7)):
        assert_matches_keras(images, expected)


def test_uint8_export_at_another_opset_from_the_command_line(runner, tmp_path):
    output = tmp_path / "digits_uint8.onnx"

    result = runner.invoke(cli, ["export", "onnx", str(TINY_RUN), "-o", str(output), "--uint8", "--opset", "18"])

    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(f"Exported {output} (") and "max abs diff vs keras" in result.output
    assert interface(output)["image"] == (TensorProto.UINT8, ["N", 16, 16, 1])
    model = onnx.load(output)
    assert opset_version(model) == 18
    assert {prop.key: prop.value for prop in model.metadata_props}["kgan.value_range"] == "[0, 255]"
    ((images, expected),) = run_both(output, TINY_RUN, batch_sizes=(7,))
    assert images.dtype == np.uint8
    assert np.abs(images.astype(int) - imaging.to_uint8(expected).astype(int)).max() <= 1
    assert OnnxGenerator(output).output_dtype == np.uint8


def test_temperature_is_recorded_for_every_reader(runner, tmp_path):
    output = tmp_path / "tempered.onnx"

    result = runner.invoke(cli, ["export", "onnx", str(TINY_RUN), "-o", str(output), "--temperature", "1.3"])

    assert result.exit_code == 0, result.output
    assert {prop.key: prop.value for prop in onnx.load(output).metadata_props}["kgan.temperature"] == "1.3"
    assert OnnxGenerator(output).temperature == 1.3
    assert OnnxSource(output).temperature == 1.3

    bad = tmp_path / "bad.onnx"
    result = runner.invoke(cli, ["export", "onnx", str(TINY_RUN), "-o", str(bad), "--temperature", "0"])

    assert_one_line_error(result)
    assert "temperature must be a positive number, not 0.0" in result.output
    assert not bad.exists()


def copy_with_other_weights(run_dir, keras_file):
    """Saves RUN_DIR's generator with halved weights as RUN_DIR/keras_file (unlike generator.keras)."""
    generator = keras.saving.load_model(run_dir / "generator.keras", compile=False)
    generator.set_weights([weights * 0.5 for weights in generator.get_weights()])
    (run_dir / keras_file).parent.mkdir(exist_ok=True)
    generator.save(run_dir / keras_file)


def test_a_snapshot_exports_with_epoch(runner, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    shutil.copytree(TINY_RUN, run_dir)
    copy_with_other_weights(run_dir, "snapshots/generator_epoch_002.keras")
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(cli, ["export", "onnx", str(run_dir), "--epoch", "2"])

    assert result.exit_code == 0, result.output
    output = run_dir / "run-epoch002.onnx"  # the default: inside the run folder
    ((images, expected),) = run_both(output, run_dir, (5,), keras_file="snapshots/generator_epoch_002.keras")
    assert_matches_keras(images, expected)
    ((_, last),) = run_both(output, run_dir, (5,))
    assert np.abs(images - last).max() > 0.01, "exported generator.keras, not the snapshot"

    result = runner.invoke(cli, ["export", "onnx", str(run_dir), "--epoch", "3", "-o", "three.onnx"])

    assert_one_line_error(result)
    assert "has no generator snapshot of epoch 3: it kept epochs 2" in result.output
    assert not (tmp_path / "three.onnx").exists()


def test_several_runs_export_as_one_mixture(runner, tmp_path, monkeypatch):
    first, other = tmp_path / "tiny_run", tmp_path / "other"
    shutil.copytree(TINY_RUN, first)
    shutil.copytree(TINY_RUN, other)
    copy_with_other_weights(other, "generator.keras")
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(cli, ["export", "onnx", str(first), str(other), "--temperature", "1.5"])

    assert result.exit_code == 0, result.output
    assert list(tmp_path.glob("*.onnx")) == [] and not (tmp_path / "exported").exists()
    output = first / "tiny_run-mixture2.onnx"  # the default: inside the first run folder
    assert interface(output)["z"] == (TensorProto.FLOAT, ["N", 6])
    props = {prop.key: prop.value for prop in onnx.load(output).metadata_props}
    assert (props["kgan.latent_dim"], props["kgan.members"], props["kgan.temperature"]) == ("6", "2", "1.5")
    configs = [json.loads((run_dir / "config.json").read_text()) for run_dir in (TINY_RUN, other)]
    assert json.loads(props["kgan.training_config"]) == {"members": configs}
    assert props["kgan.dataset"] == "digits"
    # Image i comes from the run whose entry among z's last two is the larger.
    rng = np.random.default_rng(1)
    z = rng.standard_normal((8, 6)).astype(np.float32)
    labels = rng.integers(0, 10, 8)
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    (images,) = session.run(["image"], {"z": z, "label": labels})
    chosen = np.argmax(z[:, 4:], axis=1)
    assert sorted(set(chosen.tolist())) == [0, 1]
    for member, run_dir in enumerate((TINY_RUN, other)):
        model, _ = float32_keras_generator(run_dir)
        own = np.asarray(model.predict_on_batch([z[:, :4], labels.astype(np.int32)]))
        assert_matches_keras(images[chosen == member], own[chosen == member])
        assert np.abs(images[chosen != member] - own[chosen != member]).max() > 0.01
    generator = OnnxGenerator(output)
    assert (generator.latent_dim, generator.members, generator.temperature) == (6, 2, 1.5)
    assert generator.generate(4, seed=0)[0].shape == (4, 16, 16, 1)


def test_runs_that_cannot_be_mixed_are_a_usage_error(runner, bfloat16_run, tmp_path):
    renamed = tmp_path / "renamed"
    shutil.copytree(TINY_RUN, renamed)
    config = json.loads((renamed / "config.json").read_text())
    config["data"]["class_names"] = [f"class {index}" for index in range(10)]
    (renamed / "config.json").write_text(json.dumps(config))
    output = tmp_path / "mixed.onnx"

    for other, message in (
        (bfloat16_run, "cannot be mixed (the generators of a mixture must share their inputs and image shape)"),
        (renamed, "the runs of a mixture name their classes differently (('0', '1'"),
    ):
        result = runner.invoke(cli, ["export", "onnx", str(TINY_RUN), str(other), "-o", str(output)])

        assert_one_line_error(result)
        assert message in result.output
        assert not output.exists()


def _differ_from_keras(monkeypatch):
    keras_images = onnx_export._keras_images
    monkeypatch.setattr(onnx_export, "_keras_images", lambda generator, feed: keras_images(generator, feed) + 0.5)


def _scale_uint8_wrongly(monkeypatch):
    monkeypatch.setattr(graph, "UINT8_SCALE", 120.0)  # the graph's uint8 images then miss keras's by several levels


def _fail_the_checker(monkeypatch):
    def check_model(model, full_check=False):
        raise onnx.checker.ValidationError("Field 'type' of 'value_info' is required but missing.")

    monkeypatch.setattr(onnx.checker, "check_model", check_model)


def _break_the_converter(monkeypatch):
    def export(self, *args, **kwargs):
        raise RuntimeError("converter internals exploded")

    monkeypatch.setattr(keras.Model, "export", export)


def _break_onnxruntime(monkeypatch):
    def session(*args, **kwargs):
        raise RuntimeError("[ONNXRuntimeError] : 10 : INVALID_GRAPH")

    monkeypatch.setattr(onnx_export.onnxruntime, "InferenceSession", session)


REFUSALS = {
    "float mismatch": (_differ_from_keras, [], "differs from the keras generator by up to 0.5"),
    "uint8 mismatch": (_scale_uint8_wrongly, ["--uint8"], "(tolerance 1) on random inputs"),
    "checker failure": (_fail_the_checker, [], "the converted graph is not valid ONNX (Field 'type'"),
    "converter error": (_break_the_converter, [], "ONNX converter failed at opset 17 (RuntimeError: converter"),
    "onnxruntime error": (_break_onnxruntime, [], "onnxruntime cannot run the converted graph ([ONNXRuntimeError]"),
}


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_every_refusal_leaves_the_previous_export_alone(refusal, runner, tmp_path, monkeypatch):
    cause, options, message = REFUSALS[refusal]
    cause(monkeypatch)
    output = tmp_path / "out" / "digits.onnx"
    output.parent.mkdir()
    output.write_bytes(b"the previous export")

    result = runner.invoke(cli, ["export", "onnx", str(TINY_RUN), "-o", str(output), "--overwrite", *options])

    assert_one_line_error(result, exit_code=1)
    assert message in result.output
    assert [path.name for path in output.parent.iterdir()] == ["digits.onnx"]
    assert output.read_bytes() == b"the previous export"
    assert not (tmp_path / "exported").exists()


def test_existing_output_needs_overwrite(runner, tmp_path):
    output = tmp_path / "digits.onnx"
    output.write_bytes(b"keep me")

    result = runner.invoke(cli, ["export", "onnx", str(TINY_RUN), "-o", str(output)])

    assert_one_line_error(result)
    assert "--overwrite" in result.output
    assert output.read_bytes() == b"keep me"


@pytest.mark.parametrize("missing", ["folder", "config.json", "generator.keras"])
def test_bad_run_folder_is_a_one_line_usage_error(runner, tmp_path, missing):
    run_dir = tmp_path / "run"
    if missing != "folder":
        shutil.copytree(TINY_RUN, run_dir)
        (run_dir / missing).unlink()

    result = runner.invoke(cli, ["export", "onnx", str(run_dir), "-o", str(tmp_path / "out.onnx")])

    assert_one_line_error(result)
    assert missing in result.output or "does not exist" in result.output
    assert not (tmp_path / "out.onnx").exists()


def test_graph_surgery_fixes_any_converter_naming():
    # Like a converter's output: odd names, "image" used inside, int32 labels.
    nodes = [
        helper.make_node("Gather", ["table", "labels:0"], ["image"]),
        helper.make_node("Add", ["noise:0", "image"], ["sum"]),
        helper.make_node("Tanh", ["sum"], ["Identity:0"]),
    ]
    model = helper.make_model(
        helper.make_graph(
            nodes, "converted",
            [helper.make_tensor_value_info("noise:0", TensorProto.FLOAT, [1, 3]),
             helper.make_tensor_value_info("labels:0", TensorProto.INT32, [1])],
            [helper.make_tensor_value_info("Identity:0", TensorProto.FLOAT, [1, 3])],
            [numpy_helper.from_array(np.linspace(-3, 3, 6, dtype=np.float32).reshape(2, 3), "table")],
        ),
        opset_imports=[helper.make_opsetid("", 17)],
    )  # fmt: skip

    graph.adopt_interface(model.graph, ("z", "label"), "image")
    graph.retype_input(model.graph, "label", TensorProto.INT64)
    graph.append_uint8_output(model.graph)
    onnx.checker.check_model(model, full_check=True)

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    z = np.zeros((4, 3), np.float32)
    (images,) = session.run(["image"], {"z": z, "label": np.array([0, 1, 1, 0], np.int64)})
    expected = imaging.to_uint8(np.tanh(np.linspace(-3, 3, 6).reshape(2, 3)[[0, 1, 1, 0]]))
    np.testing.assert_array_equal(images, expected)


EXPORT_AND_LIST_MODULES = """
import json, sys
from kgan.export import export_onnx
export_onnx(sys.argv[1], sys.argv[2])
print(json.dumps(sorted(name for name in sys.modules if name.startswith("kgan"))))
"""


def test_exporting_loads_no_training_code(tmp_path):
    environment = dict(os.environ, KERAS_BACKEND=keras.config.backend(), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", EXPORT_AND_LIST_MODULES, str(TINY_RUN), str(tmp_path / "tiny.onnx")],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "kgan.export.onnx" in loaded and "kgan.networks.generator" in loaded
    assert not [name for name in loaded if name.startswith(("kgan.training", "kgan.gan", "kgan.evaluation"))], loaded
