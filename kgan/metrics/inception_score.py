"""Inception Score (Salimans et al. 2016) from classifier probabilities."""

import numpy as np


def inception_score(probabilities, num_splits=10):
    """IS = exp(mean over x of KL(p(y|x) || p(y))), computed on each split of the samples.

    p(y) is the mean of p(y|x) over the split. Splits are as equal as possible
    (`numpy.array_split`), in the given order.

    Args:
        probabilities: array-like [N, C] of softmax class probabilities (rows sum to 1).
        num_splits: number of splits, 1 <= num_splits <= N.

    Returns:
        (mean, std) over the splits' scores (std with ddof=0).

    Raises:
        ValueError: not 2-D, negative or non-finite values, rows that do not sum to 1
            (logits instead of probabilities?), or a bad `num_splits`.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2:
        raise ValueError(f"probabilities must be 2-D [num_samples, num_classes], got shape {probabilities.shape}")
    if not np.isfinite(probabilities).all() or (probabilities < 0).any():
        raise ValueError("probabilities must be finite and non-negative; pass softmax outputs, not logits")
    if not np.allclose(probabilities.sum(axis=1), 1, atol=1e-3):
        raise ValueError("probability rows must sum to 1; pass softmax outputs, not logits")
    if not 1 <= num_splits <= len(probabilities):
        raise ValueError(f"num_splits must be between 1 and the {len(probabilities)} samples, got {num_splits}")

    from scipy.special import rel_entr  # here: importing kgan.metrics needs no SciPy (the bare install has none)

    scores = []
    for split in np.array_split(probabilities, num_splits):
        marginal = split.mean(axis=0, keepdims=True)
        scores.append(np.exp(rel_entr(split, marginal).sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))
