import tracemalloc

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from kgan.metrics import prdc


def _reference_prdc(real, fake, k):
    # Full distance matrices, as in the reference code of Naeem et al.
    real_radii = np.sort(cdist(real, real), axis=1)[:, k]
    fake_radii = np.sort(cdist(fake, fake), axis=1)[:, k]
    distances = cdist(real, fake)
    in_real_ball = distances < real_radii[:, None]
    return {
        "precision": in_real_ball.any(axis=0).mean(),
        "recall": (distances < fake_radii[None, :]).any(axis=1).mean(),
        "density": in_real_ball.sum() / (k * len(fake)),
        "coverage": in_real_ball.any(axis=1).mean(),
    }


def test_hand_computed_one_dimensional_example():
    # k=1. Real radii: 1 for each of 0, 1, 2, 3. Fake radii: 2.5 -> 2, 4.5 -> 1, 5.5 -> 1.
    # precision: only 2.5 lies in a real ball (those of 2 and 3)             -> 1/3
    # recall: 1, 2 and 3 lie in the ball of 2.5 (radius 2); 0 lies in none   -> 3/4
    # density: 2 (fake, real ball) pairs over k * 3 fakes                   -> 2/3
    # coverage: the balls of 2 and 3 hold a fake, those of 0 and 1 do not    -> 1/2
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[2.5], [4.5], [5.5]])
    assert prdc(real, fake, k=1) == pytest.approx(
        {"precision": 1 / 3, "recall": 3 / 4, "density": 2 / 3, "coverage": 1 / 2}
    )


def test_identical_sets_give_ones():
    features = np.random.default_rng(0).standard_normal((500, 8))
    # Each real ball holds its centre and k - 1 neighbours, hence exactly k pairs per ball: density 1.
    assert prdc(features, features, k=5) == pytest.approx(
        {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}
    )


def test_far_apart_sets_give_zeros():
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((200, 8)), rng.standard_normal((300, 8)) + 100
    assert prdc(real, fake) == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


@pytest.mark.parametrize("k", [1, 3, 5])
def test_matches_full_matrix_reference_whatever_the_chunk_size(k):
    rng = np.random.default_rng(2)
    real, fake = rng.standard_normal((300, 6)), 1.2 * rng.standard_normal((250, 6)) + 0.3
    expected = _reference_prdc(real, fake, k)
    assert prdc(real, fake, k=k) == pytest.approx(expected)
    assert prdc(real, fake, k=k, chunk_size=7) == pytest.approx(expected)


def test_memory_stays_within_chunks():
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((3000, 16)), rng.standard_normal((3000, 16))
    tracemalloc.start()
    try:
        prdc(real, fake, chunk_size=256)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    full_matrix = 3000 * 3000 * 8
    assert peak < full_matrix / 3


def test_bad_input_raises():
    with pytest.raises(ValueError, match="different dimensions: 4 vs 3"):
        prdc(np.zeros((10, 4)), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="fake features have 5 samples; at least 6 are needed"):
        prdc(np.zeros((10, 4)), np.zeros((5, 4)), k=5)
    with pytest.raises(ValueError, match="k must be at least 1"):
        prdc(np.zeros((10, 4)), np.zeros((10, 4)), k=0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        prdc(np.full((10, 4), np.nan), np.zeros((10, 4)))
