"""A run's generator as an ONNX file that follows docs/onnx-contract.md, checked against keras."""

import dataclasses
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import onnx
import onnxruntime

from kgan import fileio, imaging
from kgan.errors import KganError, UsageError, first_line
from kgan.export import graph
from kgan.formats import onnx_contract, run_folder
from kgan.formats.onnx_contract import DEFAULT_OPSET, IMAGE_OUTPUT, LABEL_INPUT, LATENT_INPUT
from kgan.networks import build_generator
from kgan.networks.blocks import dtype_policy
from kgan.networks.mixture import build_mixture

FLOAT_TOLERANCE = 1e-4
UINT8_TOLERANCE = 1  # one level: values that land on .5 may round either way
CHECK_BATCH_SIZES = (1, 5)
ORT_ERROR_SEVERITY = 3


@dataclasses.dataclass
class ExportResult:
    """What `export_onnx` wrote.

    Attributes:
        path: the .onnx file.
        max_abs_diff: largest |onnxruntime - keras| over the float images of the self-check
            (before the uint8 conversion, when there is one).
        seconds: wall time of the export, self-check included.
    """

    path: Path
    max_abs_diff: float
    seconds: float


def default_output(run_dir, epoch=None):
    """The file `kgan export onnx` writes unless told otherwise: inside the (first) run folder, see
    run_folder.default_export_path."""
    run_dirs = _run_dirs(run_dir)
    return run_folder.default_export_path(run_dirs[0], epoch, len(run_dirs))


def export_onnx(run_dir, output=None, opset=None, uint8=False, epoch=None, temperature=None):
    """Exports the generator of a run folder, or a mixture of several, to ONNX; the file appears only once it
    checks out.

    The generator is rebuilt in float32, whatever precision and backend it was trained
    with, and converted by keras's own exporter (tf2onnx on TensorFlow, jax2onnx on JAX).
    Its inputs and output are then renamed and retyped to the contract, and onnxruntime
    must reproduce the keras generator on random latents and labels before the file is
    written (atomically; an existing file at `output` is replaced).

    Given several run folders, the file holds all their generators, and each image is made
    by one of them, chosen by z (see kgan.networks.mixture): z gets one more entry per
    generator, and the metadata records how many (`kgan.members`).

    Args:
        run_dir: a run folder of `kgan train` (config.json and generator.keras), or a list of
            them whose generators share latent size, classes and image shape.
        output: the .onnx file to write; defaults to `default_output(run_dir, epoch)`.
        opset: ONNX opset version; defaults to DEFAULT_OPSET.
        uint8: output uint8 images in [0, 255] instead of float32 in [-1, 1].
        epoch: export the generator snapshot of this epoch (kept by --keep-every), or with
            run_folder.BEST generator_best.keras (kept by --keep-best), instead of generator.keras
            (of every run folder).
        temperature: the sampling temperature to record in the metadata, which kgan generate,
            kgan.runtime and kgan evaluate then use by default; None records 1.

    Returns:
        An ExportResult.
    """
    started = time.perf_counter()
    temperature = onnx_contract.DEFAULT_TEMPERATURE if temperature is None else temperature
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise UsageError(f"temperature must be a positive number, not {temperature!r}")
    run_dirs = _run_dirs(run_dir)
    output = default_output(run_dirs, epoch) if output is None else Path(output)
    opset = DEFAULT_OPSET if opset is None else opset
    descriptions = [run_folder.read_description(path) for path in run_dirs]
    # On CPU, so that the reference is plain float32 (GPUs may use TF32 matmuls).
    with keras.device("cpu"):
        generators = [load_float32_generator(*member, epoch) for member in zip(run_dirs, descriptions)]
        generator = generators[0] if len(generators) == 1 else _mixture(generators, run_dirs)
        latent_dim = generator.inputs[0].shape[-1]
        feeds = _random_feeds(latent_dim, descriptions[0].num_classes, len(generators))
        expected = [_keras_images(generator, batch) for batch in feeds]
    metadata = contract_metadata(descriptions, latent_dim, generator.output.shape[1:], uint8, temperature)
    conditional = len(generator.inputs) > 1
    float_model = _convert(generator, opset)
    graph.adopt_interface(float_model.graph, onnx_contract.input_names(conditional), IMAGE_OUTPUT)
    if conditional:
        graph.retype_input(float_model.graph, LABEL_INPUT, onnx.TensorProto.INT64)
    model = _with_uint8_output(float_model) if uint8 else float_model
    onnx.helper.set_model_props(model, metadata)
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        raise KganError(f"the converted graph is not valid ONNX ({first_line(error)}); nothing was written") from error
    max_abs_diff = _check_parity(float_model, feeds, expected, FLOAT_TOLERANCE)
    if uint8:
        _check_parity(model, feeds, [imaging.to_uint8(images) for images in expected], UINT8_TOLERANCE)
    with fileio.atomic_path(output, suffix=".onnx") as tmp:
        onnx.save(model, tmp)
    return ExportResult(output, max_abs_diff, time.perf_counter() - started)


def _run_dirs(run_dir):
    """`run_dir` as a non-empty list of Paths: one path, or a list of them."""
    run_dirs = [Path(run_dir)] if isinstance(run_dir, (str, os.PathLike)) else [Path(path) for path in run_dir]
    if not run_dirs:
        raise UsageError("no run folder given: name at least one RUN_DIR")
    return run_dirs


def _mixture(generators, run_dirs):
    """build_mixture of the runs' generators; UsageError when their interfaces differ."""
    try:
        return build_mixture(generators)
    except ValueError as error:
        raise UsageError(
            f"the generators of {', '.join(map(str, run_dirs))} cannot be mixed ({error}): "
            "give runs with the same latent size, classes and image size"
        ) from error


def load_float32_generator(run_dir, description, epoch=None):
    """The run's generator rebuilt with float32 layers, holding the weights of RUN_DIR/generator.keras.

    Args:
        run_dir: the run folder.
        description: its kgan.formats.run_folder.RunDescription.
        epoch: take the weights of this epoch's snapshot, or of the best generator, instead
            (see run_folder.generator_path).
    """
    path = run_folder.generator_path(run_dir, epoch)
    try:
        with dtype_policy("float32"):
            generator = build_generator(**description.generator)
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(f"{run_dir}/config.json does not describe a kgan generator ({error!r})") from error
    try:
        saved = keras.saving.load_model(path, compile=False)
        for layer in generator.layers:
            layer.set_weights(saved.get_layer(layer.name).get_weights())
    except Exception as error:  # keras raises many unrelated types for foreign or broken files
        raise UsageError(
            f"{path} does not hold the generator that {run_dir}/config.json describes "
            f"({type(error).__name__}: {first_line(error)})"
        ) from error
    return generator


def contract_metadata(descriptions, latent_dim, image_shape, uint8, temperature=onnx_contract.DEFAULT_TEMPERATURE):
    """The contract's metadata_props of a run's generator, or of a mixture of runs' generators, as strings.

    Args:
        descriptions: [RunDescription] of the run, or of each mixed run (kgan.training_config then holds
            {"members": [config.json, ...]}).
        latent_dim: the width of the graph's z.
        image_shape: (H, W, C) of the generator's images.
        uint8: whether the graph outputs uint8 in [0, 255].
        temperature: the sampling temperature readers use by default.
    """
    members = len(descriptions)
    class_names = list(dict.fromkeys(tuple(description.class_names) for description in descriptions))
    if len(class_names) > 1:
        raise UsageError(
            f"the runs of a mixture name their classes differently ({' vs '.join(map(str, class_names))}): "
            "mix runs trained on the same classes"
        )
    metadata = onnx_contract.GeneratorMetadata(
        latent_dim=latent_dim,
        num_classes=descriptions[0].num_classes,
        class_names=class_names[0],
        image_shape=tuple(image_shape),
        value_range=onnx_contract.UINT8_RANGE if uint8 else onnx_contract.FLOAT_RANGE,
        temperature=float(temperature),
        members=members,
    )
    datasets = dict.fromkeys(str(description.train.dataset) for description in descriptions)
    documents = [description.document for description in descriptions]
    training_config = documents[0] if members == 1 else {"members": documents}
    return onnx_contract.metadata_props(metadata, ", ".join(datasets), training_config)


def _convert(generator, opset):
    """The ONNX ModelProto of `generator` from keras's exporter."""
    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # converter deprecation chatter; the self-check judges the result
        path = Path(folder) / "converted.onnx"
        try:
            # Keras's structure for a functional model: one positional argument, all inputs in it.
            # Given explicitly, because keras otherwise insists the model was called eagerly once.
            signature = [generator.inputs] if len(generator.inputs) > 1 else generator.inputs
            generator.export(str(path), format="onnx", input_signature=signature, opset_version=opset, verbose=False)
        except Exception as error:  # the converters raise whatever their internals do
            raise KganError(
                f"the {keras.config.backend()} ONNX converter failed at opset {opset} "
                f"({type(error).__name__}: {first_line(error)}): try --opset {DEFAULT_OPSET} or the other --backend"
            ) from error
        return onnx.load(path)


def _with_uint8_output(float_model):
    model = onnx.ModelProto()
    model.CopyFrom(float_model)
    graph.append_uint8_output(model.graph)
    return model


def _random_feeds(latent_dim, num_classes, members=1):
    """onnxruntime feeds of the self-check: standard normal z, labels uniform over the classes (if any).

    For a mixture of `members` generators (z's last `members` entries choose), the largest batch has
    every member make at least one image.
    """
    rng = np.random.default_rng(0)
    feeds = []
    for batch_size in (*CHECK_BATCH_SIZES[:-1], max(CHECK_BATCH_SIZES[-1], members)):
        z = rng.standard_normal((batch_size, latent_dim)).astype(np.float32)
        if members > 1:
            rows = np.arange(batch_size)
            z[rows, latent_dim - members + rows % members] = np.abs(z[:, latent_dim - members :]).max(axis=1) + 1
        batch = {LATENT_INPUT: z}
        if num_classes:
            batch[LABEL_INPUT] = rng.integers(0, num_classes, batch_size, dtype=np.int64)
        feeds.append(batch)
    return feeds


def _keras_images(generator, feed):
    z = feed[LATENT_INPUT]
    inputs = [z, feed[LABEL_INPUT].astype(np.int32)] if LABEL_INPUT in feed else z
    return np.asarray(generator.predict_on_batch(inputs))


def _check_parity(model, feeds, expected, tolerance):
    """The largest |onnxruntime - expected| over `feeds`; raises KganError above `tolerance`."""
    options = onnxruntime.SessionOptions()
    options.log_severity_level = ORT_ERROR_SEVERITY
    try:
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        images = [session.run([IMAGE_OUTPUT], feed)[0] for feed in feeds]
    except Exception as error:  # onnxruntime raises unrelated pybind classes, none shared
        reason = first_line(error)
        raise KganError(f"onnxruntime cannot run the converted graph ({reason}); nothing was written") from error
    for actual, reference in zip(images, expected):
        if actual.shape != reference.shape:
            raise KganError(
                f"the ONNX graph made images of shape {list(actual.shape)} where keras made "
                f"{list(reference.shape)}, so nothing was written: try another --opset or the other --backend"
            )
    difference = max(
        float(np.max(np.abs(actual.astype(np.float64) - reference.astype(np.float64))))
        for actual, reference in zip(images, expected)
    )
    if not difference <= tolerance:  # also catches NaN
        raise KganError(
            f"the ONNX graph differs from the keras generator by up to {difference:.3g} (tolerance {tolerance:g}) "
            f"on random inputs, so nothing was written: try another --opset or the other --backend"
        )
    return difference
