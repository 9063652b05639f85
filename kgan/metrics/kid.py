"""Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD² with a cubic polynomial kernel."""

import numpy as np

from kgan.metrics._checks import as_feature_pair


def kernel_inception_distance(real, fake, num_subsets=100, subset_size=1000, seed=0):
    """KID: the unbiased MMD² estimate between real and fake features, averaged over random subsets.

    The kernel is k(x, y) = (x·y / D + 1)³. Each subset pairs `subset_size` real and
    fake samples drawn without replacement, as in clean-fid and torch-fidelity.
    Estimates can be slightly negative when the two distributions are the same.

    Args:
        real: array-like [N, D] with N >= 2.
        fake: array-like [M, D] with M >= 2.
        num_subsets: number of random subsets.
        subset_size: samples per subset and set, clipped to min(N, M).
        seed: seed of the subset draws.

    Returns:
        (mean, std) over the subsets' MMD² estimates (std with ddof=0).
    """
    real, fake = as_feature_pair(real, fake, min_samples=2)
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be at least 1, got {num_subsets}")
    if subset_size < 2:
        raise ValueError(f"subset_size must be at least 2, got {subset_size}")
    size = min(subset_size, len(real), len(fake))
    rng = np.random.default_rng(seed)
    estimates = [
        unbiased_mmd2(
            real[rng.choice(len(real), size, replace=False)],
            fake[rng.choice(len(fake), size, replace=False)],
        )
        for _ in range(num_subsets)
    ]
    return float(np.mean(estimates)), float(np.std(estimates))


def unbiased_mmd2(x, y):
    """Unbiased MMD² estimate between two equal-size samples, cubic polynomial kernel.

    (Σ_{i≠j} k(x_i, x_j) + Σ_{i≠j} k(y_i, y_j)) / (m (m - 1)) - 2 Σ_{i,j} k(x_i, y_j) / m²

    Args:
        x: float64 [m, D].
        y: float64 [m, D].

    Returns:
        The estimate, a float.
    """
    m = len(x)
    k_xx, k_yy, k_xy = _cubic_kernel(x, x), _cubic_kernel(y, y), _cubic_kernel(x, y)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / m**2)


def _cubic_kernel(x, y):
    return (x @ y.T / x.shape[1] + 1) ** 3
