"""Exporting a run's generator (imports keras, onnx and the backend's converter).

    from kgan.export import export_onnx

    result = export_onnx("runs/mnist", "mnist.onnx", uint8=True)
    print(result.path, result.max_abs_diff)

Select the keras backend before importing this: it converts with tf2onnx on
TensorFlow and jax2onnx on JAX.
"""

from kgan.export.onnx import DEFAULT_OPSET, ExportResult, default_output, export_onnx

__all__ = ["DEFAULT_OPSET", "ExportResult", "default_output", "export_onnx"]
