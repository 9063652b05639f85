"""Feature-space scores of generated images next to the real-vs-real floor.

The reference set is a slice of the real training split that the reference classifier
never trained on (RealSplits.classifier_and_reference). Generated images are scored
against it, and so are the held-out real test images: a generator that drew fresh
samples from the data distribution would score like them. Both scored sets have the
same size, since FID, IS and precision/recall depend on it.
"""

import numpy as np

from kgan.errors import KganError
from kgan.metrics.registry import METRICS, mean_std


def score_with_floor(reference, generated, held_out, metrics, seed=0):
    """Scores generated and held-out real images against the reference features.

    Args:
        reference: features [N, D] of real images the feature network never trained on.
        generated: ScoredImages of the generated images (labels: the classes they were made for).
        held_out: ScoredImages of the real test split.
        metrics: names in kgan.metrics.registry.METRICS.
        seed: seed of the test images kept when there are more than generated ones,
            and of KID's subsets.

    Returns:
        (scores, count): scores maps each value of the metrics (precision, recall, density and
        coverage for prdc) to {"generated": value, "real": value}, where a value is a
        float or {"mean", "std"}; count is the size of both scored sets.
    """
    count = min(len(generated), len(held_out))
    keep = np.sort(np.random.default_rng(seed).choice(len(held_out), count, replace=False))
    generated_scores = score(reference, generated.head(count), metrics, seed)
    real_scores = score(reference, held_out.take(keep), metrics, seed)
    return {name: {"generated": generated_scores[name], "real": real_scores[name]} for name in generated_scores}, count


def score(reference, images, metrics, seed=0):
    """The metrics of one image set against the reference features.

    Args:
        reference: features [N, D] of real images.
        images: the ScoredImages scored.
        metrics: names in kgan.metrics.registry.METRICS, computed in the registry's order.
        seed: seed of KID's subsets.

    Returns:
        dict: fid, kid {mean, std}, is {mean, std}, precision, recall, density, coverage, accuracy
        (those asked for).

    Raises:
        KganError: when the features are degenerate (NaN, too few, singular).
    """
    result = {}
    for name, metric in METRICS.items():
        if name not in metrics:
            continue
        try:
            result.update(metric.compute(reference, images, seed))
        except ValueError as error:  # the metrics' own checks: degenerate features (NaN, too few, singular)
            raise KganError(
                f"cannot compute {name} of these images: {error}; leave it out with --metrics"
            ) from error
    return result


def over_runs(values):
    """{"mean", "std", "runs"} of per-seed values (std with ddof=0)."""
    values = [float(value) for value in values]
    return {**mean_std((np.mean(values), np.std(values))), "runs": values}
