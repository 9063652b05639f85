"""Precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020).

Each sample gets a ball whose radius is the distance to its k-th nearest neighbour in
its own set (itself excluded). A point is inside a ball when it is strictly closer to
the centre than the radius, as in the reference code of Naeem et al. (`prdc`).
"""

import numpy as np

from kgan.metrics._checks import as_feature_pair


def prdc(real, fake, k=5, chunk_size=1024):
    """Precision, recall, density and coverage of fake features against real ones.

    - precision: fraction of fake samples inside at least one real ball.
    - recall: fraction of real samples inside at least one fake ball.
    - density: number of (fake sample, real ball containing it) pairs, over k times
      the number of fake samples; about 1 when both sets come from one distribution.
    - coverage: fraction of real balls that contain at least one fake sample.

    Distances are Euclidean and computed `chunk_size` rows at a time, so memory stays
    around 2 * chunk_size * max(N, M) * 8 bytes.

    Args:
        real: array-like [N, D] with N > k.
        fake: array-like [M, D] with M > k.
        k: nearest neighbour defining the radii (Naeem et al. use 5, Kynkäänniemi et al. 3).
        chunk_size: rows of a distance matrix held in memory at once.

    Returns:
        dict of floats: precision, recall, density, coverage.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    real, fake = as_feature_pair(real, fake, min_samples=k + 1)
    real_radii = _kth_neighbour_distances(real, k, chunk_size)
    fake_radii = _kth_neighbour_distances(fake, k, chunk_size)

    real_balls_per_fake = np.zeros(len(fake), dtype=np.int64)
    real_in_fake_ball = np.empty(len(real), dtype=bool)
    real_ball_covered = np.empty(len(real), dtype=bool)
    for rows, distances in _distance_chunks(real, fake, chunk_size):
        in_real_ball = distances < real_radii[rows, None]
        real_balls_per_fake += in_real_ball.sum(axis=0)
        real_ball_covered[rows] = in_real_ball.any(axis=1)
        real_in_fake_ball[rows] = (distances < fake_radii).any(axis=1)

    return {
        "precision": float((real_balls_per_fake > 0).mean()),
        "recall": float(real_in_fake_ball.mean()),
        "density": float(real_balls_per_fake.sum() / (k * len(fake))),
        "coverage": float(real_ball_covered.mean()),
    }


def _kth_neighbour_distances(features, k, chunk_size):
    """Distance from each row to its k-th nearest other row (the row itself sits at index 0)."""
    radii = np.empty(len(features))
    for rows, distances in _distance_chunks(features, features, chunk_size):
        radii[rows] = np.partition(distances, k, axis=1)[:, k]
    return radii


def _distance_chunks(a, b, chunk_size):
    """Yields (row slice, Euclidean distances [rows, len(b)]) over chunks of the rows of a."""
    b_squared_norms = np.einsum("ij,ij->i", b, b)
    for start in range(0, len(a), chunk_size):
        rows = slice(start, min(start + chunk_size, len(a)))
        chunk = a[rows]
        squared = chunk @ b.T
        squared *= -2
        squared += np.einsum("ij,ij->i", chunk, chunk)[:, None]
        squared += b_squared_norms
        np.maximum(squared, 0, out=squared)
        yield rows, np.sqrt(squared, out=squared)
