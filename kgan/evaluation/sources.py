"""Images from the generator under evaluation: a .onnx file or a run folder's generator.keras.

Both give uint8 images and int64 labels (balanced: image i has class i % num_classes;
-1 everywhere for an unconditional generator).
"""

from pathlib import Path

import numpy as np

from kgan import imaging
from kgan.errors import UsageError, first_line
from kgan.formats import onnx_contract, run_folder
from kgan.latents import latent_vectors

BATCH_SIZE = 256


def open_generator(path, epoch=None):
    """The generator at `path`: a .onnx file from `kgan export onnx`, or a RUN_DIR of `kgan train`.

    Args:
        path: the .onnx file or run folder.
        epoch: of a run folder, the generator of this epoch (kept by --keep-every) or run_folder.BEST
            (kept by --keep-best); None for its last one.

    Returns:
        An OnnxSource or RunSource.
    """
    path = Path(path)
    if path.is_dir():
        return RunSource(path, epoch)
    if epoch is not None:
        raise UsageError(f"--epoch chooses a generator of a RUN_DIR; {path} is one file: leave --epoch out")
    if path.is_file() and path.suffix == ".onnx":
        return OnnxSource(path)
    what = "is neither a .onnx file nor a folder" if path.exists() else "not found"
    raise UsageError(f"generator {path} {what}: give a .onnx file from kgan export onnx or a RUN_DIR of kgan train")


class OnnxSource:
    """A generator exported to ONNX, run with onnxruntime (kgan.runtime).

    Args:
        path: the .onnx file.

    Attributes:
        image_shape: (H, W, C) of one image.
        num_classes: classes of a conditional generator; 0 when unconditional.
        class_names: one name per class, or empty.
        temperature: the sampling temperature used when none is given (the file's recorded one).
    """

    def __init__(self, path):
        from kgan.runtime import OnnxGenerator

        self._generator = OnnxGenerator(path)
        self.path = Path(path)
        self.image_shape = self._generator.image_shape
        self.num_classes = self._generator.num_classes
        self.class_names = list(self._generator.class_names)
        self.temperature = self._generator.temperature

    def describe(self):
        return {"path": str(self.path), "kind": "onnx", **_shape_description(self)}

    def generate(self, n, seed, temperature=None):
        """(uint8 images [n, H, W, C], int64 labels [n]) with balanced classes.

        Args:
            n: number of images.
            seed: non-negative seed; the same seed gives the same images.
            temperature: standard deviation of z (kgan.latents); None for `self.temperature`.
        """
        return self._generator.generate(n, seed=seed, temperature=temperature, batch_size=BATCH_SIZE)


class RunSource:
    """The sampling generator of a `kgan train` run folder (RUN_DIR/generator.keras, or another it kept).

    Args:
        run_dir: the run folder.
        epoch: None for generator.keras, an epoch kept by --keep-every, or run_folder.BEST.

    Attributes: as for OnnxSource.
    """

    def __init__(self, run_dir, epoch=None):
        self.path = Path(run_dir)
        description = run_folder.read_description(self.path)
        self._generator_path = run_folder.generator_path(self.path, epoch)
        self.image_shape = description.image_shape
        self.num_classes = description.num_classes
        self.class_names = description.class_names
        self.latent_dim = description.latent_dim
        self.temperature = onnx_contract.DEFAULT_TEMPERATURE  # a run folder records none
        self._model = _load_generator(self._generator_path)  # now, so that a broken file fails before any work

    def describe(self):
        return {"path": str(self.path), "kind": "run", "file": self._generator_path.name, **_shape_description(self)}

    def generate(self, n, seed, temperature=None):
        """(uint8 images [n, H, W, C], int64 labels [n]) with balanced classes, in batches.

        Args:
            n: number of images.
            seed: non-negative seed of the latent vectors, drawn as for the ONNX contract
                (kgan.latents), so the run and its export make the same images.
            temperature: standard deviation of z (kgan.latents); None for `self.temperature`.
        """
        model = self._model
        temperature = self.temperature if temperature is None else temperature
        latents = latent_vectors(range(n), seed, self.latent_dim, temperature=temperature)
        labels = np.arange(n, dtype=np.int64) % self.num_classes if self.num_classes else np.full(n, -1, np.int64)
        images = np.empty((n, *self.image_shape), np.uint8)
        for start in range(0, n, BATCH_SIZE):
            rows = slice(start, start + BATCH_SIZE)
            inputs = [latents[rows], labels[rows].astype(np.int32)] if self.num_classes else latents[rows]
            images[rows] = imaging.to_uint8(np.asarray(model.predict_on_batch(inputs)))
        return images, labels

def _load_generator(path):
    import keras

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # keras raises many unrelated types for foreign or broken files
        raise UsageError(
            f"cannot load {path} ({type(error).__name__}: {first_line(error)}): it is damaged or not a Keras "
            "model; restore it from a copy, or train the run again"
        ) from error


def _shape_description(source):
    return {
        "image_shape": list(source.image_shape),
        "num_classes": source.num_classes,
        "class_names": source.class_names,
    }
