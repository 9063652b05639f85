"""The registry of scores computed in a classifier's feature space: what `kgan evaluate` reports and what
`kgan train --metric` tracks per epoch come from this one table.

Each metric scores one set of images (features, class probabilities and the labels they were made or
taken for) against features of real reference images.
"""

import dataclasses
from collections.abc import Callable

import numpy as np

from kgan.metrics.frechet import fid_from_features
from kgan.metrics.inception_score import inception_score
from kgan.metrics.kid import kernel_inception_distance
from kgan.metrics.prdc import prdc

IS_SPLITS = 10
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
PRDC_NEIGHBOURS = 5


@dataclasses.dataclass(frozen=True)
class ScoredImages:
    """One image set as the reference classifier sees it.

    Args:
        features: float [M, D] penultimate features.
        probabilities: float [M, C] class probabilities.
        labels: int [M] the class each image was generated for (or is); None when unlabelled.
    """

    features: np.ndarray
    probabilities: np.ndarray
    labels: np.ndarray | None = None

    def __len__(self):
        return len(self.features)

    def head(self, count):
        """The first `count` images."""
        labels = None if self.labels is None else self.labels[:count]
        return ScoredImages(self.features[:count], self.probabilities[:count], labels)

    def take(self, indices):
        """The images at `indices`."""
        labels = None if self.labels is None else self.labels[indices]
        return ScoredImages(self.features[indices], self.probabilities[indices], labels)


@dataclasses.dataclass(frozen=True)
class Metric:
    """A score of images against real reference features.

    Args:
        name: the name `--metrics` and `--metric` take.
        compute: (reference features [N, D], ScoredImages, seed) -> {value name: float or {"mean", "std"}}.
        summary: the value that ranks generators (a key of compute's result); None when the metric
            has several values and none ranks alone (precision/recall).
        higher_is_better: the direction of `summary`.
        needs_labels: whether it compares the images' classes (conditional generators only).
    """

    name: str
    compute: Callable
    summary: str | None
    higher_is_better: bool
    needs_labels: bool

    def summary_value(self, values):
        """The ranking number of compute's result: the value itself, or its mean."""
        value = values[self.summary]
        return value["mean"] if isinstance(value, dict) else value

    def better(self, value, than):
        """Whether `value` is a better score than `than` (None: no score yet)."""
        if than is None:
            return True
        return value > than if self.higher_is_better else value < than


def _fid(reference, images, seed):
    return {"fid": fid_from_features(reference, images.features)}


def _kid(reference, images, seed):
    # Subsets of at most half of either set, so they differ and their spread means something.
    subset_size = max(2, min(KID_SUBSET_SIZE, len(reference) // 2, len(images) // 2))
    return {"kid": mean_std(kernel_inception_distance(reference, images.features, KID_SUBSETS, subset_size, seed))}


def _inception_score(reference, images, seed):
    return {"is": mean_std(inception_score(images.probabilities, min(IS_SPLITS, len(images))))}


def _prdc(reference, images, seed):
    return prdc(reference, images.features, k=PRDC_NEIGHBOURS)


def _accuracy(reference, images, seed):
    return {"accuracy": float(np.mean(np.argmax(images.probabilities, axis=1) == images.labels))}


METRICS = {
    metric.name: metric
    for metric in (
        Metric("fid", _fid, "fid", higher_is_better=False, needs_labels=False),
        Metric("kid", _kid, "kid", higher_is_better=False, needs_labels=False),
        Metric("is", _inception_score, "is", higher_is_better=True, needs_labels=False),
        Metric("prdc", _prdc, None, higher_is_better=True, needs_labels=False),  # four values, none ranks alone
        Metric("accuracy", _accuracy, "accuracy", higher_is_better=True, needs_labels=True),
    )
}
RANKING = tuple(name for name, metric in METRICS.items() if metric.summary)


def mean_std(pair):
    """{"mean", "std"} from a (mean, std) pair."""
    mean, std = pair
    return {"mean": float(mean), "std": float(std)}
