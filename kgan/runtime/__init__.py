"""Training-free generation from kgan ONNX files: numpy, onnxruntime and pillow only.

    from kgan.runtime import OnnxGenerator, write_samples

    generator = OnnxGenerator("mnist.onnx")
    images, labels = generator.generate(16, labels=[3, 7], seed=1)
    write_samples(generator, "synthetic", 10_000, format="npz")
    stream = SampleStream(generator, real=(x, y), synthetic_fraction=0.5)  # sample i by index

Never imports keras, tensorflow, jax or onnx (tests/runtime checks it).
"""

from kgan.runtime.generator import OnnxGenerator
from kgan.runtime.npz import NpzStreamWriter
from kgan.runtime.samples import class_folder_names, write_samples
from kgan.runtime.stream import SampleStream, counts_to_balance

__all__ = ["NpzStreamWriter", "OnnxGenerator", "SampleStream", "class_folder_names", "counts_to_balance",
           "write_samples"]
