"""A kgan ONNX generator run with onnxruntime: latents, labels and images, no training stack."""

import numbers
from pathlib import Path

import numpy as np
import onnxruntime

from kgan import imaging
from kgan.errors import KganError, UsageError, first_line
from kgan.formats import onnx_contract
from kgan.latents import latent_vectors

PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
}
ORT_ERROR_SEVERITY = 3  # keep onnxruntime's warnings off stderr; errors still raise


class OnnxGenerator:
    """A generator exported by `kgan export onnx` (see docs/onnx-contract.md).

    Args:
        path: the .onnx file.
        provider: "auto" (CUDA when onnxruntime offers it, else CPU), "cpu" or "cuda".

    Attributes:
        latent_dim: size of the latent vector z.
        num_classes: number of classes; 0 for an unconditional generator.
        class_names: one name per class, or an empty tuple when unnamed.
        image_shape: (H, W, C) of one image.
        output_dtype: numpy dtype of the graph's `image` output (float32 or uint8).
        temperature: the sampling temperature recorded at export (1 when none was), used
            wherever a temperature is not given.
        members: how many generators the file mixes (1 for one; see docs/onnx-contract.md).
        metadata: the file's metadata_props, as strings.
    """

    def __init__(self, path, provider="auto"):
        self.path = Path(path)
        if not self.path.is_file():
            raise UsageError(f"model file not found: {self.path}")
        providers = _providers(provider)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = ORT_ERROR_SEVERITY
        # Idle onnxruntime threads spin by default, taking the CPU that writer threads encode
        # PNG files on (benchmarks/generate_throughput.py: 0.78-0.80 of raw with, 0.81-0.82 without).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = onnxruntime.InferenceSession(str(self.path), options, providers=providers)
        except Exception as error:  # onnxruntime raises unrelated pybind classes, none shared
            raise UsageError(
                f"onnxruntime cannot load {self.path} (not an ONNX file, truncated, or too new "
                f"for this onnxruntime): {first_line(error)}"
            ) from error
        self.metadata = dict(self._session.get_modelmeta().custom_metadata_map)
        self._read_metadata()
        self._check_graph()

    @property
    def conditional(self):
        return self.num_classes > 0

    @property
    def provider(self):
        """The execution provider onnxruntime runs the graph on, e.g. "CPUExecutionProvider"."""
        return self._session.get_providers()[0]

    def latents(self, indices, seed, truncation=None, temperature=None):
        """The latent vectors of images `indices` for `seed`, as float32 [len(indices), latent_dim].

        Image i always gets the same z for a given seed, whatever else is generated with it.

        Args:
            indices: image indices (non-negative ints).
            seed: non-negative int.
            truncation: if set, redraw entries until every |z| <= truncation.
            temperature: standard deviation of z (the draw, truncated or not, times this);
                above 1 gives more varied images, below 1 more typical ones. None for the
                generator's own, `self.temperature`.
        """
        _check_seed(seed)
        _check_positive(truncation, "truncation")
        _check_positive(temperature, "temperature")
        temperature = self.temperature if temperature is None else temperature
        return latent_vectors(indices, seed, self.latent_dim, truncation, temperature)

    def resolve_labels(self, n, labels=None):
        """The class of each of `n` images, as int64 [n] (-1 everywhere when unconditional).

        Args:
            n: number of images.
            labels: None for balanced classes (image i gets i % num_classes); one class
                for all images; or a list of classes cycled through. A class is an index
                or a name from `class_names`.
        """
        _check_integer(n, "number of images", minimum=1)
        if not self.conditional:
            if labels is not None:
                raise UsageError(f"{self.path.name} is an unconditional generator: it takes no labels")
            return np.full(n, -1, np.int64)
        if labels is None:
            return np.arange(n, dtype=np.int64) % self.num_classes
        if np.ndim(labels) == 0:
            labels = [labels]
        classes = [self.class_index(label) for label in labels]
        if not classes:
            raise UsageError("labels is empty: give at least one class, or None for balanced")
        return np.resize(np.array(classes, np.int64), n)

    def iter_batches(self, n, labels=None, seed=0, truncation=None, temperature=None, batch_size=256):
        """Generates `n` images lazily, `batch_size` at a time.

        Arguments are checked now, before the first batch is asked for.

        Args:
            n: number of images.
            labels: see `resolve_labels`.
            seed: non-negative int; the same seed gives the same images.
            truncation: optional bound on |z| (see `latents`).
            temperature: standard deviation of z (see `latents`); None for the generator's own.
            batch_size: images per onnxruntime call.

        Returns:
            An iterator of (images uint8 [b, H, W, C], labels int64 [b]) in index order.
        """
        all_labels = self.resolve_labels(n, labels)
        _check_seed(seed)
        _check_positive(truncation, "truncation")
        _check_positive(temperature, "temperature")
        _check_integer(batch_size, "batch size", minimum=1)
        return self._batches(all_labels, seed, truncation, temperature, batch_size)

    def generate(self, n, labels=None, seed=0, truncation=None, temperature=None, batch_size=256):
        """Generates `n` images in memory; for many images prefer `iter_batches`.

        Args: as for `iter_batches`.

        Returns:
            (images uint8 [n, H, W, C], labels int64 [n]).
        """
        batches = list(self.iter_batches(n, labels, seed, truncation, temperature, batch_size))
        return (
            np.concatenate([images for images, _ in batches]),
            np.concatenate([labels for _, labels in batches]),
        )

    def run(self, z, labels=None):
        """The images of latent vectors `z` (and classes `labels`), as uint8 [n, H, W, C].

        Args:
            z: float32 [n, latent_dim], e.g. from `latents`.
            labels: int64 [n] classes (conditional generators only).
        """
        feeds = {onnx_contract.LATENT_INPUT: np.asarray(z, np.float32)}
        if self.conditional:
            feeds[onnx_contract.LABEL_INPUT] = np.asarray(labels, np.int64)
        try:
            (images,) = self._session.run([onnx_contract.IMAGE_OUTPUT], feeds)
        except Exception as error:  # onnxruntime's pybind classes (Fail, EPFail, RuntimeException, ...)
            raise KganError(
                f"onnxruntime failed running {self.path} on {self.provider} ({first_line(error)}): "
                "try a smaller --batch-size, or --provider cpu"
            ) from error
        if images.shape[1:] != self.image_shape:
            raise KganError(
                f"{self.path} made images of shape {list(images.shape[1:])} but its metadata "
                f"says {list(self.image_shape)}: re-export it"
            )
        return imaging.to_uint8(images, self._value_range)

    def _batches(self, all_labels, seed, truncation, temperature, batch_size):
        for start in range(0, len(all_labels), batch_size):
            labels = all_labels[start : start + batch_size]
            z = self.latents(range(start, start + len(labels)), seed, truncation, temperature)
            yield self.run(z, labels), labels

    def class_index(self, label):
        """The index of class `label`: an index (int, or its digits as a string) or a name from `class_names`."""
        if isinstance(label, str):
            if label in self.class_names:
                return self.class_names.index(label)
            if not label.strip().isdigit():
                names = ", ".join(self.class_names) if self.class_names else "none (unnamed classes)"
                raise UsageError(f"unknown class name {label!r}: class names are {names}")
            label = int(label)
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
            raise UsageError(f"a label must be a class index or name, not {label!r}")
        if not 0 <= label < self.num_classes:
            raise UsageError(f"label {label} is out of range: {self.path.name} has classes 0 to {self.num_classes - 1}")
        return int(label)

    def _read_metadata(self):
        contract = onnx_contract.read_metadata(self.metadata, self.path)
        self.latent_dim = contract.latent_dim
        self.num_classes = contract.num_classes
        self.class_names = contract.class_names
        self.image_shape = contract.image_shape
        self._value_range = contract.value_range
        self.temperature = contract.temperature
        self.members = contract.members

    def _check_graph(self):
        inputs = {node.name: node for node in self._session.get_inputs()}
        outputs = {node.name: node for node in self._session.get_outputs()}
        expected_inputs = set(onnx_contract.input_names(self.conditional))
        if set(inputs) != expected_inputs or onnx_contract.IMAGE_OUTPUT not in outputs:
            raise UsageError(
                f"{self.path} does not follow the kgan ONNX contract: expected inputs {sorted(expected_inputs)} "
                f"and output {onnx_contract.IMAGE_OUTPUT!r}, found {sorted(inputs)} and {sorted(outputs)}"
            )
        graph_latent_dim = inputs[onnx_contract.LATENT_INPUT].shape[-1]
        if isinstance(graph_latent_dim, int) and graph_latent_dim != self.latent_dim:
            raise UsageError(
                f"{self.path} metadata says latent_dim {self.latent_dim} but input z has "
                f"{graph_latent_dim}: re-export it"
            )
        image_type = outputs[onnx_contract.IMAGE_OUTPUT].type
        self.output_dtype = np.dtype(np.uint8 if image_type == "tensor(uint8)" else np.float32)


def _providers(provider):
    available = onnxruntime.get_available_providers()
    if provider == "auto":
        provider = "cuda" if PROVIDERS["cuda"] in available else "cpu"
    if provider not in PROVIDERS:
        raise UsageError(f"provider must be auto, cpu or cuda, not {provider!r}")
    if PROVIDERS[provider] not in available:
        raise UsageError(
            f"onnxruntime here has no {PROVIDERS[provider]}: install onnxruntime-gpu (and CUDA) or use provider cpu"
        )
    # CPU stays as the fallback for any node the CUDA provider cannot run.
    return [PROVIDERS[provider], PROVIDERS["cpu"]] if provider == "cuda" else [PROVIDERS["cpu"]]


def _check_integer(value, description, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise UsageError(f"{description} must be a {kind} integer, not {value!r}")


def _check_seed(seed):
    _check_integer(seed, "seed", minimum=0)


def _check_positive(value, name):
    # `not > 0` also rejects NaN, which would otherwise pass through to z unnoticed.
    if value is not None and not (isinstance(value, numbers.Real) and value > 0):
        raise UsageError(f"{name} must be a positive number, not {value!r}")
