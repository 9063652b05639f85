"""The registry of feature-space metrics: one table behind `kgan evaluate --metrics` and `kgan train --metric`."""

import numpy as np
import pytest

from kgan.evaluation.options import FEATURE_METRICS, NEEDS_LABELS
from kgan.metrics.registry import METRICS, RANKING, ScoredImages


def test_evaluate_and_train_take_their_metric_names_from_the_registry():
    from cli.train import train

    assert FEATURE_METRICS == tuple(METRICS)
    assert "accuracy" in NEEDS_LABELS
    metric_option = next(parameter for parameter in train.params if parameter.name == "metric")
    assert tuple(metric_option.type.choices) == ("auto", "none", *RANKING)
    assert RANKING == ("fid", "kid", "is", "accuracy")


@pytest.mark.parametrize("name, better, worse", [("kid", 0.1, 0.2), ("fid", 3.0, 4.0), ("is", 5.0, 2.0),
                                                 ("accuracy", 0.9, 0.5)])  # fmt: skip
def test_each_ranking_metric_knows_its_direction(name, better, worse):
    metric = METRICS[name]
    assert metric.better(better, worse) and not metric.better(worse, better)
    assert metric.better(worse, None)  # the first score is the best so far
    assert not metric.better(better, better)  # ties keep the earlier epoch


def test_scores_rank_close_features_above_far_ones():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(400, 8))
    probabilities = np.eye(4)[np.arange(400) % 4]
    near = ScoredImages(rng.normal(size=(400, 8)), probabilities, np.arange(400) % 4)
    far = ScoredImages(rng.normal(2.0, 1.0, size=(400, 8)), probabilities, (np.arange(400) + 1) % 4)
    for name in ("fid", "kid"):
        metric = METRICS[name]
        assert metric.better(summary(metric, reference, near), summary(metric, reference, far)), name
    accuracy = METRICS["accuracy"]
    assert accuracy.compute(reference, near, 0) == {"accuracy": 1.0}
    assert accuracy.compute(reference, far, 0) == {"accuracy": 0.0}
    assert summary(METRICS["is"], reference, near) == pytest.approx(4.0)


def test_scored_images_slice_together():
    images = ScoredImages(np.arange(10.0)[:, None], np.ones((10, 2)) / 2, np.arange(10))
    assert images.head(3).labels.tolist() == [0, 1, 2] and len(images.head(3)) == 3
    picked = images.take(np.array([7, 2]))
    assert picked.features[:, 0].tolist() == [7.0, 2.0] and picked.labels.tolist() == [7, 2]
    assert ScoredImages(np.zeros((2, 1)), np.ones((2, 1))).take(np.array([1])).labels is None


def summary(metric, reference, images):
    return metric.summary_value(metric.compute(reference, images, 0))


def test_listing_the_metrics_needs_no_scipy():
    """The command line lists the registry's names; the bare runtime install (kgan generate) has no SciPy."""
    from tests.helpers import modules_loaded_by

    assert "scipy" not in modules_loaded_by("import cli.main, kgan.metrics.registry")
