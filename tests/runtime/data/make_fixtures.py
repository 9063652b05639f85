"""Builds the tiny ONNX generators the runtime tests read (needs the `onnx` package).

Each fixture follows docs/onnx-contract.md with a one-layer "generator":
z -> MatMul -> Add (+ Gather(label embedding)) -> Tanh -> Reshape to [N, H, W, C].

Run from the repository root: `.venv/bin/python tests/runtime/data/make_fixtures.py`.
"""

import json
from pathlib import Path

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, save

DATA = Path(__file__).parent
OPSET = 17
IR_VERSION = 8  # loadable by older onnxruntime releases too


def build(latent_dim, image_shape, class_names=(), num_classes=None, uint8=False, metadata=True, temperature=None):
    """A contract-following generator as an onnx ModelProto.

    Args:
        latent_dim: size of input `z`.
        image_shape: (H, W, C) of output `image`.
        class_names: names of the classes (empty for unnamed or unconditional).
        num_classes: classes of a conditional model; defaults to len(class_names).
        uint8: output uint8 in [0, 255] instead of float32 in [-1, 1].
        metadata: write the kgan.* metadata_props.
        temperature: the kgan.temperature to record (None: none, as files exported before it existed).
    """
    num_classes = len(class_names) if num_classes is None else num_classes
    pixels = int(np.prod(image_shape))
    rng = np.random.default_rng(latent_dim * 1000 + pixels)
    weights = (rng.standard_normal((latent_dim, pixels)) / np.sqrt(latent_dim)).astype(np.float32)
    initializers = [
        numpy_helper.from_array(weights, "weights"),
        numpy_helper.from_array(np.zeros(pixels, np.float32), "bias"),
        numpy_helper.from_array(np.array([-1, *image_shape], np.int64), "shape"),
    ]
    inputs = [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", latent_dim])]
    nodes = [
        helper.make_node("MatMul", ["z", "weights"], ["projected"]),
        helper.make_node("Add", ["projected", "bias"], ["pre"]),
    ]
    if num_classes:
        # Classes far apart in pixel space, so a label visibly changes the image.
        embedding = np.linspace(-2, 2, num_classes, dtype=np.float32)[:, None].repeat(pixels, 1)
        initializers.append(numpy_helper.from_array(embedding, "embedding"))
        inputs.append(helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]))
        nodes += [
            helper.make_node("Gather", ["embedding", "label"], ["class_offset"]),
            helper.make_node("Add", ["pre", "class_offset"], ["pre_conditioned"]),
        ]
    last = nodes[-1].output[0]
    nodes += [
        helper.make_node("Tanh", [last], ["activated"]),
        helper.make_node("Reshape", ["activated", "shape"], ["float_image"]),
    ]
    output_type = TensorProto.FLOAT
    if uint8:
        initializers += [
            numpy_helper.from_array(np.array(127.5, np.float32), "half_range"),
        ]
        nodes += [
            helper.make_node("Mul", ["float_image", "half_range"], ["scaled"]),
            helper.make_node("Add", ["scaled", "half_range"], ["shifted"]),
            helper.make_node("Round", ["shifted"], ["rounded"]),
            helper.make_node("Cast", ["rounded"], ["image"], to=TensorProto.UINT8),
        ]
        output_type = TensorProto.UINT8
    else:
        nodes[-1].output[0] = "image"
    output = helper.make_tensor_value_info("image", output_type, ["N", *image_shape])
    graph = helper.make_graph(nodes, "fixture_generator", inputs, [output], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="kgan-tests")
    model.ir_version = IR_VERSION
    if metadata:
        tempered = {} if temperature is None else {"kgan.temperature": repr(float(temperature))}
        helper.set_model_props(
            model,
            {
                **tempered,
                "kgan.version": "0.1.0",
                "kgan.latent_dim": str(latent_dim),
                "kgan.num_classes": str(num_classes),
                "kgan.class_names": json.dumps(list(class_names)),
                "kgan.image_shape": json.dumps(list(image_shape)),
                "kgan.channel_order": "L" if image_shape[-1] == 1 else "RGB",
                "kgan.value_range": json.dumps([0, 255] if uint8 else [-1, 1]),
                "kgan.dataset": "fixture",
                "kgan.training_config": json.dumps({"epochs": 0}),
            },
        )
    checker.check_model(model)
    return model


FIXTURES = {
    "conditional.onnx": dict(latent_dim=8, image_shape=(8, 8, 1), class_names=("cat", "dog", "hot dog/bun")),
    "unconditional_rgb.onnx": dict(latent_dim=6, image_shape=(4, 4, 3)),
    "uint8_unnamed.onnx": dict(latent_dim=4, image_shape=(6, 5, 3), num_classes=2, uint8=True),
    "no_metadata.onnx": dict(latent_dim=6, image_shape=(4, 4, 3), metadata=False),
    # big enough images that holding every generated image in memory would show in a process's peak
    "stream_rgb.onnx": dict(latent_dim=2, image_shape=(32, 32, 3), class_names=("a", "b")),
    # conditional.onnx's network, exported with a sampling temperature
    "tempered.onnx": dict(latent_dim=8, image_shape=(8, 8, 1), class_names=("cat", "dog", "hot dog/bun"),
                          temperature=1.5),
}


def main():
    for name, options in FIXTURES.items():
        save(build(**options), DATA / name)
        print(f"wrote {DATA / name} ({(DATA / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
