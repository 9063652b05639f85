"""kgan: DCGANs on Keras 3 (TensorFlow or JAX), exported to ONNX for training-free generation.

Importing `kgan` is cheap and never imports keras, tensorflow or jax. The layers, bottom
to top (a module imports only from layers below its own; tests/test_layers.py checks it):

- foundation: `errors`, `fileio`, `config`, `latents`, `imaging` (no keras);
- `formats`: the run folder and the ONNX contract, spelled once (no keras);
- `data`, `metrics`, `runtime` (onnxruntime only), `devices`;
- `networks`: generator and discriminator builders, batch-norm calibration;
- `gan`: the DCGAN keras.Model, its losses, optimizers, DiffAugment and backend trainers;
- `training` (a run: build, fit, record, resume) and `export` (ONNX);
- `evaluation`: `kgan evaluate`.
"""

__version__ = "0.1.0"
