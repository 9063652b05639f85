"""Feature-space scores of generated images next to the real-vs-real floor.

The reference set is a slice of the real training split that the reference classifier
never trained on (RealSplits.classifier_and_reference). Generated images are scored
against it, and so are the held-out real test images: a generator that drew fresh
samples from the data distribution would score like them. Both scored sets have the
same size, since FID, IS and precision/recall depend on it.
"""

import numpy as np

from kgan.errors import KganError
from kgan.metrics import fid_from_features, inception_score, kernel_inception_distance, prdc

PRDC_NAMES = ("precision", "recall", "density", "coverage")
IS_SPLITS = 10
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
PRDC_NEIGHBOURS = 5


def score_with_floor(reference, generated, held_out, metrics, seed=0):
    """Scores generated and held-out real images against the reference features.

    Args:
        reference: features [N, D] of real images the feature network never trained on.
        generated: (features [M, D], probabilities [M, C]) of generated images.
        held_out: (features [T, D], probabilities [T, C]) of the real test split.
        metrics: names among kgan.evaluation.options.FEATURE_METRICS.
        seed: seed of the test images kept when there are more than generated ones,
            and of KID's subsets.

    Returns:
        (scores, count): scores maps each metric (precision, recall, density and
        coverage for prdc) to {"generated": value, "real": value}, where a value is a
        float or {"mean", "std"}; count is the size of both scored sets.
    """
    count = min(len(generated[0]), len(held_out[0]))
    keep = np.sort(np.random.default_rng(seed).choice(len(held_out[0]), count, replace=False))
    generated_scores = score(reference, generated[0][:count], generated[1][:count], metrics, seed)
    real_scores = score(reference, held_out[0][keep], held_out[1][keep], metrics, seed)
    return {name: {"generated": generated_scores[name], "real": real_scores[name]} for name in generated_scores}, count


def score(reference, features, probabilities, metrics, seed=0):
    """The metrics of one image set against the reference features.

    Args:
        reference: features [N, D] of real images.
        features: features [M, D] of the images scored.
        probabilities: class probabilities [M, C] of the images scored (for IS).
        metrics: names among kgan.evaluation.options.FEATURE_METRICS.
        seed: seed of KID's subsets.

    Returns:
        dict: fid, kid {mean, std}, is {mean, std}, precision, recall, density, coverage
        (those asked for).
    """
    # Subsets of at most half of either set, so they differ and their spread means something.
    kid_subset_size = max(2, min(KID_SUBSET_SIZE, len(reference) // 2, len(features) // 2))
    computations = {
        "fid": lambda: {"fid": fid_from_features(reference, features)},
        "kid": lambda: {
            "kid": mean_std(kernel_inception_distance(reference, features, KID_SUBSETS, kid_subset_size, seed))
        },
        "is": lambda: {"is": mean_std(inception_score(probabilities, min(IS_SPLITS, len(probabilities))))},
        "prdc": lambda: prdc(reference, features, k=PRDC_NEIGHBOURS),
    }
    result = {}
    for name, compute in computations.items():
        if name not in metrics:
            continue
        try:
            result.update(compute())
        except ValueError as error:  # the metrics' own checks: degenerate features (NaN, too few, singular)
            raise KganError(
                f"cannot compute {name} of these images: {error}; leave it out with --metrics"
            ) from error
    return result


def mean_std(pair):
    """{"mean", "std"} from a (mean, std) pair."""
    mean, std = pair
    return {"mean": float(mean), "std": float(std)}


def over_runs(values):
    """{"mean", "std", "runs"} of per-seed values (std with ddof=0)."""
    values = [float(value) for value in values]
    return {**mean_std((np.mean(values), np.std(values))), "runs": values}
