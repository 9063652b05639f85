"""An endless, indexable stream of labelled samples from an ONNX generator, optionally mixed with real ones.

Sample i of a stream depends only on the stream's settings and i, never on how the
stream is read: in batches of any size, from any number of workers, in any order.

- Mixing: with a synthetic fraction f = p/q (as a fraction), the first i samples hold
  exactly floor(i * p / q) synthetic ones, spread evenly. The r-th real sample is real
  image number r of a fresh permutation of the real arrays per pass (seeded by seed and
  pass), so every real image appears once per pass.
- Labels of synthetic sample s (the s-th synthetic one): balanced (s % num_classes), drawn
  from class weights (a uniform draw per s), or from class counts (each block of
  sum(counts) synthetic samples holds exactly those counts, in a seeded order).
- Images of synthetic sample s: the generator's image s for the seed (kgan.latents), so a
  synthetic-only stream with balanced labels gives the images `kgan generate` writes.

Only numpy and onnxruntime: the framework adapters live in kgan.adapters.
"""

import fractions
import math
import os

import numpy as np

from kgan.errors import UsageError
from kgan.runtime.generator import OnnxGenerator

MAX_DENOMINATOR = 1000  # synthetic fractions are exact to 1/1000
OUTPUT_DTYPES = ("uint8", "float32")
_INHERITED_GENERATORS = []  # see SampleStream.generator


class SampleStream:
    """Samples (image, label) by index: synthetic from a kgan ONNX generator, mixed with real ones.

    Args:
        generator: an OnnxGenerator, or the path of a kgan .onnx file (needs labels: conditional).
        real: optional (images [N, H, W, C], labels [N]) to mix in; images in the output's
            dtype and value range (they are passed through unchanged).
        synthetic_fraction: share of synthetic samples, in (0, 1]; below 1 needs `real`.
        class_weights: relative frequency of each class among the synthetic samples (a
            sequence of num_classes numbers or a {class: weight} dict); None for balanced.
        class_counts: exact counts of each class per block of synthetic samples (sequence or
            dict), e.g. from `counts_to_balance`; exclusive with class_weights.
        seed: seed of latents, labels and the real order.
        temperature: standard deviation of z (see kgan.latents); None for the generator's own.
        truncation: redraw latent entries until every |z| <= this.
        dtype: "uint8" (values 0-255) or "float32" (values in `value_range`).
        value_range: (low, high) of float32 output.
        provider: onnxruntime provider when `generator` is a path ("auto", "cpu", "cuda").
    """

    def __init__(self, generator, real=None, synthetic_fraction=1.0, class_weights=None, class_counts=None,
                 seed=0, temperature=None, truncation=None, dtype="uint8", value_range=(0.0, 1.0),
                 provider="auto"):  # fmt: skip
        if isinstance(generator, OnnxGenerator):
            self._generator, self._path, self._provider = generator, generator.path, provider
        else:
            self._generator, self._path, self._provider = None, generator, provider
        self._opened_in = os.getpid()
        source = self.generator
        if not source.conditional:
            raise UsageError(f"{source.path.name} is unconditional: a labelled stream needs a conditional generator")
        self.num_classes = source.num_classes
        self.image_shape = source.image_shape
        source.latents([0], seed, truncation, temperature)  # checks seed, truncation and temperature now
        self.temperature = source.temperature if temperature is None else temperature
        self.seed, self.truncation = seed, truncation
        if dtype not in OUTPUT_DTYPES:
            raise UsageError(f"dtype must be one of {', '.join(OUTPUT_DTYPES)}, not {dtype!r}")
        self.dtype, self.value_range = dtype, tuple(float(value) for value in value_range)
        self._fraction = _fraction(synthetic_fraction, real is not None)
        self._real = self._check_real(real)
        if class_weights is not None and class_counts is not None:
            raise UsageError("give class_weights or class_counts, not both")
        self._cumulative_weights = None if class_weights is None else np.cumsum(self._per_class(class_weights))
        self._count_block = None if class_counts is None else np.repeat(
            np.arange(self.num_classes), self._per_class(class_counts).astype(np.int64)
        )  # fmt: skip

    @property
    def generator(self):
        """The OnnxGenerator, opened in this process on first use.

        A worker process (forked or spawned) opens its own: an onnxruntime session neither
        pickles nor survives a fork safely.
        """
        if self._generator is None or self._opened_in != os.getpid():
            if self._generator is not None:
                # Inherited through fork: never let it be destroyed here, its destructor waits
                # for thread-pool threads that a forked child does not have (measured: a hang).
                _INHERITED_GENERATORS.append(self._generator)
            self._generator = OnnxGenerator(self._path, provider=self._provider)
            self._opened_in = os.getpid()
        return self._generator

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_generator"] = None  # an onnxruntime session does not pickle; workers open their own
        return state

    def synthetic_before(self, index):
        """How many of samples [0, index) are synthetic."""
        return (np.asarray(index, np.int64) * self._fraction.numerator) // self._fraction.denominator

    def take(self, start, stop):
        """Samples [start, stop): (images [n, H, W, C] in the output dtype, labels int64 [n])."""
        indices = np.arange(start, stop, dtype=np.int64)
        synthetic_rank = self.synthetic_before(indices)
        is_synthetic = self.synthetic_before(indices + 1) > synthetic_rank
        images = np.empty((len(indices), *self.image_shape), np.uint8 if self.dtype == "uint8" else np.float32)
        labels = np.empty(len(indices), np.int64)
        if is_synthetic.any():
            ranks = synthetic_rank[is_synthetic]
            labels[is_synthetic] = self.synthetic_labels(ranks)
            images[is_synthetic] = self._synthetic_images(ranks, labels[is_synthetic])
        if not is_synthetic.all():
            rows = self._real_rows(indices[~is_synthetic] - synthetic_rank[~is_synthetic])
            images[~is_synthetic] = self._real[0][rows]
            labels[~is_synthetic] = self._real[1][rows]
        return images, labels

    def synthetic_labels(self, ranks):
        """The class of synthetic samples number `ranks` (int64)."""
        ranks = np.asarray(ranks, np.int64)
        if self._count_block is not None:
            block = len(self._count_block)
            orders = {b: _rng(self.seed, "counts", b).permutation(block) for b in np.unique(ranks // block)}
            return np.array([self._count_block[orders[r // block][r % block]] for r in ranks], np.int64)
        if self._cumulative_weights is not None:
            draws = np.array([_rng(self.seed, "label", r).random() for r in ranks]) * self._cumulative_weights[-1]
            return np.searchsorted(self._cumulative_weights, draws, side="right").astype(np.int64)
        return ranks % self.num_classes

    def _synthetic_images(self, ranks, labels):
        generator = self.generator
        z = generator.latents(ranks, self.seed, self.truncation, self.temperature)
        images = generator.run(z, labels)
        if self.dtype == "uint8":
            return images
        low, high = self.value_range
        return (low + images.astype(np.float32) * ((high - low) / 255.0)).astype(np.float32)

    def _real_rows(self, real_ranks):
        count = len(self._real[1])
        passes = real_ranks // count
        orders = {p: _rng(self.seed, "real", p).permutation(count) for p in np.unique(passes)}
        return np.array([orders[p][r % count] for p, r in zip(passes, real_ranks)], np.int64)

    def _check_real(self, real):
        if real is None:
            return None
        images, labels = np.asarray(real[0]), np.asarray(real[1]).astype(np.int64).reshape(-1)
        if images.shape[1:] != self.image_shape or len(images) != len(labels) or not len(labels):
            raise UsageError(
                f"real images must be [N, {', '.join(map(str, self.image_shape))}] with N labels, "
                f"not {list(images.shape)} with {len(labels)}"
            )
        wanted = np.uint8 if self.dtype == "uint8" else np.floating
        if not np.issubdtype(images.dtype, wanted):
            raise UsageError(f"real images are {images.dtype} but the stream's dtype is {self.dtype}: convert them")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise UsageError(f"real labels must lie in 0..{self.num_classes - 1}")
        return images, labels

    def _per_class(self, values):
        if isinstance(values, dict):
            vector = np.zeros(self.num_classes)
            for label, value in values.items():
                vector[self.generator.class_index(label)] = value
        else:
            vector = np.asarray(values, np.float64)
        if vector.shape != (self.num_classes,) or (vector < 0).any() or not vector.sum() > 0:
            raise UsageError(
                f"class weights or counts need {self.num_classes} non-negative numbers, not all 0; got {values!r}"
            )
        return vector


def counts_to_balance(labels, num_classes):
    """Synthetic counts per class that top every class of `labels` up to the largest one.

    Args:
        labels: the real labels (ints in 0..num_classes-1).
        num_classes: number of classes.
    """
    counts = np.bincount(np.asarray(labels, np.int64), minlength=num_classes)
    return (counts.max() - counts).tolist()


def batch_bounds(batch, batch_size, num_samples=None):
    """[start, stop) of batch number `batch`; stop is clipped to num_samples when the stream is finite."""
    start = batch * batch_size
    stop = start + batch_size if num_samples is None else min(start + batch_size, num_samples)
    return start, stop


def num_batches(batch_size, num_samples):
    """Batches of a finite stream (the last may be short); None for an endless one."""
    return None if num_samples is None else math.ceil(num_samples / batch_size)


def _fraction(value, has_real):
    if not (isinstance(value, (int, float)) and 0 < value <= 1):
        raise UsageError(f"synthetic_fraction must lie in (0, 1], not {value!r}")
    fraction = fractions.Fraction(value).limit_denominator(MAX_DENOMINATOR)
    if fraction < 1 and not has_real:
        raise UsageError("a synthetic fraction below 1 mixes in real images: pass real=(images, labels)")
    if fraction == 1 and has_real:
        raise UsageError("real images were given but synthetic_fraction is 1: pass a fraction below 1 to mix them")
    return fraction


_STREAMS = {"label": 1, "counts": 2, "real": 3}


def _rng(seed, stream, position):
    """An independent generator for (seed, what it draws, position)."""
    return np.random.default_rng([seed, _STREAMS[stream], int(position)])

