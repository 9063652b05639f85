import numpy as np
import pytest

from kgan.metrics import feature_statistics, fid_from_features, frechet_distance


def _random_covariance(rng, dim):
    a = rng.standard_normal((dim, dim))
    return a @ a.T + 0.1 * np.eye(dim)


def _reference_fid(mu1, sigma1, mu2, sigma2):
    # tr((S1 S2)^½) = tr((S1^½ S2 S1^½)^½), a symmetric PSD matrix: eigendecomposition only, no sqrtm.
    values, vectors = np.linalg.eigh(sigma1)
    sqrt_sigma1 = (vectors * np.sqrt(values)) @ vectors.T
    inner = np.linalg.eigvalsh(sqrt_sigma1 @ sigma2 @ sqrt_sigma1)
    diff = mu1 - mu2
    return diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.sqrt(np.clip(inner, 0, None)).sum()


def test_feature_statistics_is_float64_mean_and_unbiased_covariance():
    features = np.array([[1, 2], [3, 6], [5, 7]], dtype=np.float32)
    mu, sigma = feature_statistics(features)
    assert mu.dtype == sigma.dtype == np.float64
    np.testing.assert_allclose(mu, [3, 5])
    np.testing.assert_allclose(sigma, [[4, 5], [5, 7]])  # ddof=1


def test_feature_statistics_of_one_dimension_is_a_1x1_matrix():
    mu, sigma = feature_statistics([[1.0], [3.0]])
    assert mu.shape == (1,) and sigma.shape == (1, 1)
    np.testing.assert_allclose(sigma, [[2.0]])


def test_identical_statistics_give_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.standard_normal(16), _random_covariance(rng, 16)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6


def test_identical_samples_give_about_zero():
    features = np.random.default_rng(1).standard_normal((500, 32))
    assert abs(fid_from_features(features, features)) < 1e-6


def test_unit_covariances_give_squared_mean_distance():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([3.0, 1.0, 2.0])
    assert frechet_distance(mu1, np.eye(3), mu2, np.eye(3)) == pytest.approx(25.0)


def test_samples_of_shifted_unit_gaussians_give_about_squared_shift():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((20000, 4))
    fake = rng.standard_normal((20000, 4)) + [1.0, 0.0, 2.0, 0.0]
    # The estimated squared mean distance alone has a standard deviation of about 2 |Δμ| sqrt(2 / N) = 0.045.
    assert fid_from_features(real, fake) == pytest.approx(5.0, abs=0.15)


def test_diagonal_covariances_match_closed_form():
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    mu1, mu2 = np.zeros(3), np.array([1.0, 0.0, 1.0])
    expected = ((np.sqrt(a) - np.sqrt(b)) ** 2).sum() + 2.0  # 1 + 1 + 6.25 + |Δμ|²
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)
    assert expected == pytest.approx(10.25)


def test_non_commuting_covariances_match_eigendecomposition_reference():
    rng = np.random.default_rng(3)
    mu1, mu2 = rng.standard_normal(8), rng.standard_normal(8)
    sigma1, sigma2 = _random_covariance(rng, 8), _random_covariance(rng, 8)
    assert not np.allclose(sigma1 @ sigma2, sigma2 @ sigma1)
    expected = _reference_fid(mu1, sigma1, mu2, sigma2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)


def test_is_symmetric():
    rng = np.random.default_rng(4)
    real, fake = rng.standard_normal((300, 6)), 2 * rng.standard_normal((200, 6)) + 1
    assert fid_from_features(real, fake) == pytest.approx(fid_from_features(fake, real), rel=1e-9)


def test_singular_product_adds_eps_to_the_diagonals():
    nilpotent = np.array([[0.0, 1.0], [0.0, 0.0]])  # no square root: sqrtm is not finite
    with pytest.warns(RuntimeWarning, match="singular product"):
        distance = frechet_distance(np.zeros(2), nilpotent, np.zeros(2), np.eye(2), eps=1e-6)
    # (nilpotent + eps I)(I + eps I) = (1 + eps) [[eps, 1], [0, eps]], whose root has trace 2 sqrt(eps (1 + eps));
    # the traces of the covariances themselves are 0 and 2.
    assert distance == pytest.approx(2 - 4 * np.sqrt(1e-6 * (1 + 1e-6)), abs=1e-12)


def test_large_imaginary_component_raises():
    not_psd = np.diag([-1.0, 1.0])
    with pytest.raises(ValueError, match="imaginary component"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), not_psd)


def test_mismatched_statistics_raise():
    with pytest.raises(ValueError, match="statistics do not match"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


def test_mismatched_feature_dimensions_raise():
    with pytest.raises(ValueError, match="different dimensions: 4 vs 3"):
        fid_from_features(np.zeros((10, 4)), np.zeros((10, 3)))


def test_too_few_samples_raise():
    with pytest.raises(ValueError, match="at least 2"):
        fid_from_features(np.zeros((1, 4)), np.zeros((10, 4)))


def test_non_matrix_features_raise():
    with pytest.raises(ValueError, match="must be 2-D"):
        feature_statistics(np.zeros(10))
