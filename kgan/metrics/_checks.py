"""Input checks shared by the metrics: feature matrices that can be compared."""

import numpy as np


def as_features(array, name, min_samples):
    """Returns `array` as a finite float64 [num_samples, feature_dim] matrix.

    Args:
        array: array-like of shape [N, D].
        name: what the array is, for error messages ("real", "fake", ...).
        min_samples: the smallest N the caller can work with.

    Returns:
        The float64 [N, D] matrix.

    Raises:
        ValueError: not 2-D, fewer than `min_samples` rows, or NaN/inf values.
    """
    features = np.asarray(array, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"{name} features must be 2-D [num_samples, feature_dim], got shape {features.shape}")
    if features.shape[0] < min_samples:
        raise ValueError(f"{name} features have {features.shape[0]} samples; at least {min_samples} are needed")
    if not np.isfinite(features).all():
        raise ValueError(f"{name} features contain NaN or infinite values")
    return features


def as_feature_pair(real, fake, min_samples):
    """Checks real and fake features as in `as_features`, and that their dimensions match.

    Args:
        real: array-like [N, D].
        fake: array-like [M, D].
        min_samples: the smallest N and M the caller can work with.

    Returns:
        (real, fake) as float64 matrices.

    Raises:
        ValueError: a bad matrix, or feature dimensions that differ.
    """
    real = as_features(real, "real", min_samples)
    fake = as_features(fake, "fake", min_samples)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real and fake features have different dimensions: {real.shape[1]} vs {fake.shape[1]}; "
            "extract both with the same feature network"
        )
    return real, fake
