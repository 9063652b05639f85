"""Fréchet distance between Gaussians fitted to two feature sets (FID, Heusel et al. 2017)."""

import warnings

import numpy as np

from kgan.metrics._checks import as_feature_pair, as_features


def feature_statistics(features):
    """Mean and covariance of a feature set.

    Args:
        features: array-like [N, D] with N >= 2.

    Returns:
        (mu, sigma): float64 mean [D] and unbiased (ddof=1) covariance [D, D].
    """
    features = as_features(features, "features", min_samples=2)
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False, ddof=1))


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """Squared Fréchet distance |mu1 - mu2|² + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^½).

    As in pytorch-fid: when the square root of the product is not finite (a singular
    product), it is taken again with `eps` added to both diagonals; imaginary parts
    left by numerical error are dropped.

    Args:
        mu1: mean [D] of the first Gaussian.
        sigma1: covariance [D, D] of the first Gaussian.
        mu2: mean [D] of the second Gaussian.
        sigma2: covariance [D, D] of the second Gaussian.
        eps: diagonal offset used only for a singular product.

    Returns:
        The distance, a float.

    Raises:
        ValueError: shapes that do not match, non-finite values, or a square root with
            a large imaginary part (covariances that are not positive semi-definite).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    dim = mu1.shape[0]
    if mu1.shape != (dim,) or mu2.shape != (dim,) or sigma1.shape != (dim, dim) or sigma2.shape != (dim, dim):
        raise ValueError(
            f"statistics do not match: mu1 {mu1.shape}, sigma1 {sigma1.shape}, mu2 {mu2.shape}, sigma2 {sigma2.shape}; "
            "expected means [D] and covariances [D, D] of the same D"
        )
    if not all(np.isfinite(array).all() for array in (mu1, sigma1, mu2, sigma2)):
        raise ValueError("statistics contain NaN or infinite values")

    covmean = _sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        warnings.warn(
            f"singular product of covariances; adding {eps} to their diagonals", RuntimeWarning, stacklevel=2
        )
        offset = eps * np.eye(dim)
        covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
        if not np.isfinite(covmean).all():
            raise ValueError(f"square root of the covariance product is not finite, even with eps={eps}")
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(
                f"square root of the covariance product has a large imaginary component "
                f"({np.abs(covmean.imag).max():.3g}); are both covariances positive semi-definite?"
            )
        covmean = covmean.real

    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid_from_features(real, fake):
    """Fréchet distance between Gaussians fitted to real and fake features.

    Args:
        real: array-like [N, D] with N >= 2.
        fake: array-like [M, D] with M >= 2.

    Returns:
        The FID, a float.
    """
    real, fake = as_feature_pair(real, fake, min_samples=2)
    return frechet_distance(*feature_statistics(real), *feature_statistics(fake))


def _sqrtm(matrix):
    from scipy import linalg  # here: importing kgan.metrics needs no SciPy (the bare install has none)

    # Singular products are handled by the caller, so scipy's warning about them is noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        return linalg.sqrtm(matrix)
