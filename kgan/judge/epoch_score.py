"""The score `kgan train --metric NAME` gives every epoch's generator, and `--keep-best` ranks by.

A classifier is trained on the run's real images less a scoring reference taken from the end of
every class (cached, as `kgan evaluate`'s reference classifier is: kgan.judge.classifier). After
each epoch, a fixed draw of generated images is scored against the reference's features with a
metric of kgan.metrics.registry.
"""

import numpy as np

from kgan.config import AUTO_METRIC
from kgan.data.splits import held_out_mask, subset
from kgan.errors import KganError, UsageError
from kgan.judge.classifier import ClassifierSettings, reference_classifier
from kgan.metrics.registry import METRICS, RANKING, ScoredImages

REFERENCE_FRACTION = 1 / 8
MAX_REFERENCE_IMAGES = 1000
MIN_REFERENCE_IMAGES = 2
SCORED_IMAGES = 1000  # generated images per score; their noise is the same every epoch


def resolve_metric(metric, keep_best, labelled, conditional):
    """The metric and keep-best setting a run trains with, "auto" and None resolved.

    "auto" is accuracy for a conditional run (it ranked epochs closest to CAS, benchmarks/epoch_score_ranking.py),
    kid for an unconditional one with labelled images (a distance to real images, so it also sees a class's
    images losing their variety), and None (no score) for images without labels.

    Args:
        metric: "auto", a name among kgan.metrics.registry.RANKING, or None.
        keep_best: True, False, or None for "whenever there is a metric".
        labelled: whether the training images have labels.
        conditional: whether the generator takes labels.

    Returns:
        (the metric name or None, keep_best as a bool).

    Raises:
        UsageError: when the metric cannot score this run (check_metric), or keep_best has no metric to rank by.
    """
    if metric == AUTO_METRIC:
        metric = ("accuracy" if conditional else "kid") if labelled else None
    if metric is None:
        if keep_best:
            raise UsageError(
                "--keep-best ranks the generators by a score in the feature space of a classifier of the run's "
                "classes, and this dataset has no labels: give labelled images or leave --keep-best out"
            )
        return None, False
    check_metric(metric, labelled, conditional)
    return metric, keep_best is not False


def check_metric(metric, labelled, conditional):
    """Raises UsageError unless `metric` can score this run's epochs.

    Args:
        metric: a name among kgan.metrics.registry.RANKING.
        labelled: whether the training images have labels (the classifier learns them).
        conditional: whether the generator takes labels.
    """
    if metric not in RANKING:
        raise UsageError(f"--metric {metric} is not one that ranks generators: choose from {', '.join(RANKING)}")
    if not labelled:
        raise UsageError(
            f"--metric {metric} scores in the feature space of a classifier of the run's classes, and this "
            "dataset has no labels: give labelled images (one folder per class, an .npz with y) or leave --metric out"
        )
    if METRICS[metric].needs_labels and not conditional:
        raise UsageError(f"--metric {metric} needs a conditional generator: choose kid or fid, or train conditional")


class EpochScorer:
    """Scores generated images with one registry metric against real reference images.

    Args:
        dataset: the run's training ImageDataset (labelled).
        metric: a name among kgan.metrics.registry.RANKING (checked with check_metric).
        settings: the classifier's ClassifierSettings.
        cache_dir: the classifier cache; None for kgan.cache.cache_root().
        progress: optional callable taking a message, told when the classifier trains rather than coming from the
            cache (at 128 px on a CPU, minutes before the first epoch).

    Attributes:
        metric: the registry's Metric.
        num_images: how many generated images each score takes.
    """

    def __init__(self, dataset, metric, settings=ClassifierSettings(), cache_dir=None, progress=None):
        self.metric = METRICS[metric]
        size = min(MAX_REFERENCE_IMAGES, max(MIN_REFERENCE_IMAGES, round(len(dataset) * REFERENCE_FRACTION)))
        is_reference = held_out_mask(dataset.labels, size)
        said = progress and (lambda message: progress(f"Scoring epochs by {metric}: {message}"))
        self._classifier, _, _ = reference_classifier(subset(dataset, ~is_reference), settings, cache_dir, said)
        self._reference = self._classifier.features_and_probabilities(dataset.images[is_reference])[0]
        self.num_images = SCORED_IMAGES

    def score(self, images, labels):
        """The metric's ranking value for uint8 `images` made for `labels` (int [N]; -1 when unconditional).

        Raises:
            KganError: when the images' features are degenerate (NaN, constant).
        """
        scored = ScoredImages(*self._classifier.features_and_probabilities(images), np.asarray(labels))
        try:
            return self.metric.summary_value(self.metric.compute(self._reference, scored, seed=0))
        except ValueError as error:
            raise KganError(f"cannot score this epoch's generator with {self.metric.name}: {error}") from error
