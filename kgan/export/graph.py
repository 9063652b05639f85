"""Graph surgery with the `onnx` package: give a converted generator the kgan contract's interface.

Converters name and type a graph's inputs and outputs their own way (tf2onnx keeps the
keras input names and calls the output `Identity:0`; jax2onnx names it after the last
op, and both type the label int32). These functions rename, retype and extend a graph
in place so that it takes `z` (and int64 `label`) and returns `image`, whatever they did.
"""

import numpy as np
from onnx import TensorProto, helper, numpy_helper

BATCH_DIM = "N"
UINT8_SCALE = 127.5


def adopt_interface(graph, input_names, output_name):
    """Renames the graph's inputs and its one output; makes dimension 0 of each the dynamic `N`.

    Inputs the converter renamed are matched by position, so they must come in the
    keras model's order.

    Args:
        graph: an onnx GraphProto.
        input_names: the new input names, e.g. ("z", "label").
        output_name: the new output name, e.g. "image".
    """
    inputs = _feed_inputs(graph)
    if len(inputs) != len(input_names) or len(graph.output) != 1:
        raise ValueError(
            f"expected {len(input_names)} inputs and 1 output, found {[value.name for value in inputs]} "
            f"and {[value.name for value in graph.output]}"
        )
    if {value.name for value in inputs} != set(input_names):  # renamed by the converter: go by position
        for value, name in zip(inputs, input_names):
            _rename_value(graph, value.name, name)
    _rename_value(graph, graph.output[0].name, output_name)
    for value in [*inputs, graph.output[0]]:
        value.type.tensor_type.shape.dim[0].dim_param = BATCH_DIM


def retype_input(graph, name, elem_type):
    """Makes input `name` of type `elem_type`, casting it to the type the graph used inside.

    Args:
        graph: an onnx GraphProto.
        name: the input to retype.
        elem_type: an onnx TensorProto data type, e.g. TensorProto.INT64.
    """
    value = next(value for value in graph.input if value.name == name)
    inner_type = value.type.tensor_type.elem_type
    if inner_type == elem_type:
        return
    cast = _unique_name(graph, f"{name}_as_{TensorProto.DataType.Name(inner_type).lower()}")
    _replace_uses(graph, name, cast)
    graph.node.insert(0, helper.make_node("Cast", [name], [cast], to=inner_type, name=cast))
    value.type.tensor_type.elem_type = elem_type


def append_uint8_output(graph):
    """Maps the graph's float output x in [-1, 1] to uint8 round((x + 1) * 127.5), clipped to [0, 255]."""
    output = graph.output[0]
    image = output.name
    current = _unique_name(graph, f"{image}_float")
    _rename_value(graph, image, current)
    output.name = image
    constants = {}
    for key, value in {"one": 1.0, "scale": UINT8_SCALE, "low": 0.0, "high": 255.0}.items():
        constants[key] = _unique_name(graph, f"uint8_{key}")
        graph.initializer.append(numpy_helper.from_array(np.array(value, np.float32), constants[key]))
    steps = [("Add", [constants["one"]]), ("Mul", [constants["scale"]]), ("Round", []),
             ("Clip", [constants["low"], constants["high"]])]  # fmt: skip
    for op_type, operands in steps:
        result = _unique_name(graph, f"{image}_{op_type.lower()}")
        graph.node.append(helper.make_node(op_type, [current, *operands], [result], name=result))
        current = result
    cast = _unique_name(graph, f"{image}_uint8")
    graph.node.append(helper.make_node("Cast", [current], [image], to=TensorProto.UINT8, name=cast))
    output.type.tensor_type.elem_type = TensorProto.UINT8


def _feed_inputs(graph):
    """The graph inputs a caller feeds (old IR versions also list initializers as inputs)."""
    initializers = {tensor.name for tensor in graph.initializer}
    return [value for value in graph.input if value.name not in initializers]


def _rename_value(graph, old, new):
    """Renames tensor `old` to `new` everywhere in the graph; a tensor already called `new` moves aside."""
    if old == new:
        return
    if new in _value_names(graph):
        _rename_value(graph, new, _unique_name(graph, new))
    _replace_uses(graph, old, new)
    for node in graph.node:
        node.output[:] = [new if name == old else name for name in node.output]
    for value in [*graph.input, *graph.output, *graph.value_info, *graph.initializer]:
        if value.name == old:
            value.name = new


def _unique_name(graph, base):
    """`base`, or `base_1`, `base_2`, ... whichever no tensor or node of the graph uses."""
    taken = _value_names(graph) | {node.name for node in graph.node}
    name, suffix = base, 0
    while name in taken:
        suffix += 1
        name = f"{base}_{suffix}"
    return name


def _replace_uses(graph, old, new):
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]


def _value_names(graph):
    names = {value.name for value in [*graph.input, *graph.output, *graph.value_info, *graph.initializer]}
    for node in graph.node:
        names.update(node.input)
        names.update(node.output)
    return names
