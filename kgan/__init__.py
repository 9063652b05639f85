"""kgan: DCGANs on Keras 3 (TensorFlow or JAX), exported to ONNX for training-free generation.

Importing `kgan` is cheap and never imports keras, tensorflow or jax: the training
side lives in `kgan.models`, `kgan.training` and `kgan.export`; the training-free
side in `kgan.runtime`.
"""

__version__ = "0.1.0"
