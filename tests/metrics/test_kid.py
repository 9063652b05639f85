import numpy as np
import pytest

from kgan.metrics import kernel_inception_distance, unbiased_mmd2


def _reference_mmd2(x, y):
    m, dim = x.shape

    def kernel(a, b):
        return (a @ b / dim + 1) ** 3

    within = sum(kernel(x[i], x[j]) + kernel(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    across = sum(kernel(x[i], y[j]) for i in range(m) for j in range(m))
    return within / (m * (m - 1)) - 2 * across / m**2


def test_hand_computed_one_dimensional_example():
    # k(x, y) = (x y + 1)³. Within real {0, 1}: k(0, 1) twice = 2; within fake {0, 2}: k(0, 2) twice = 2;
    # across: k(0,0) + k(0,2) + k(1,0) + k(1,2) = 1 + 1 + 1 + 27 = 30. MMD² = 4 / 2 - 2 * 30 / 4 = -13.
    mean, std = kernel_inception_distance([[0.0], [1.0]], [[0.0], [2.0]], num_subsets=5)
    assert mean == pytest.approx(-13.0)
    assert std == pytest.approx(0.0)


def test_unbiased_mmd2_matches_pairwise_reference():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 5)), rng.standard_normal((12, 5)) + 0.5
    assert unbiased_mmd2(x, y) == pytest.approx(_reference_mmd2(x, y), rel=1e-10)


def test_identical_large_samples_give_about_zero():
    # Not exactly 0: shared samples make the estimate slightly negative, about
    # -2 / N (mean k(x, x) - mean k(x, y)) = -2 / 2000 (8 - 1.2) here, against 0.2 for a shift of 0.25.
    features = np.random.default_rng(1).standard_normal((2000, 16))
    mean, _ = kernel_inception_distance(features, features, num_subsets=20)
    assert -0.01 < mean < 0


def test_grows_with_the_shift():
    rng = np.random.default_rng(2)
    real, fake = rng.standard_normal((1000, 16)), rng.standard_normal((1000, 16))
    means = [
        kernel_inception_distance(real, fake + shift, num_subsets=10, subset_size=500)[0] for shift in (0.25, 0.5, 1)
    ]
    assert 0 < means[0] < means[1] < means[2]


def test_is_unbiased_for_one_distribution():
    # Fresh small samples each trial: the mean estimate is 0 within 3 standard errors,
    # while the biased (V-statistic) estimator would sit well above 0 at this size.
    rng = np.random.default_rng(3)
    estimates = [
        kernel_inception_distance(rng.standard_normal((20, 4)), rng.standard_normal((20, 4)), num_subsets=1)[0]
        for _ in range(400)
    ]
    standard_error = np.std(estimates) / np.sqrt(len(estimates))
    assert abs(np.mean(estimates)) < 3 * standard_error


def test_subset_size_is_clipped_and_seed_is_reproducible():
    rng = np.random.default_rng(4)
    real, fake = rng.standard_normal((50, 3)), rng.standard_normal((30, 3))
    first = kernel_inception_distance(real, fake, num_subsets=10, subset_size=1000, seed=7)
    assert first == kernel_inception_distance(real, fake, num_subsets=10, subset_size=1000, seed=7)
    assert first != kernel_inception_distance(real, fake, num_subsets=10, subset_size=1000, seed=8)
    assert first[1] > 0  # 30 of 50 real samples per subset: the subsets differ


def test_bad_input_raises():
    with pytest.raises(ValueError, match="different dimensions: 4 vs 3"):
        kernel_inception_distance(np.zeros((10, 4)), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        kernel_inception_distance(np.zeros((1, 4)), np.zeros((10, 4)))
    with pytest.raises(ValueError, match="num_subsets"):
        kernel_inception_distance(np.zeros((10, 4)), np.zeros((10, 4)), num_subsets=0)
