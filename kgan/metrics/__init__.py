"""Metric math of `kgan evaluate`: pure NumPy/SciPy functions on feature arrays.

A "real vs real" floor is the same functions called on two splits of the real features.
"""

from kgan.metrics.frechet import feature_statistics, fid_from_features, frechet_distance
from kgan.metrics.inception_score import inception_score
from kgan.metrics.kid import kernel_inception_distance, unbiased_mmd2
from kgan.metrics.prdc import prdc

__all__ = [
    "feature_statistics",
    "fid_from_features",
    "frechet_distance",
    "inception_score",
    "kernel_inception_distance",
    "prdc",
    "unbiased_mmd2",
]
