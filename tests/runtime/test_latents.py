"""kgan.latents seeds all images at once, yet gives exactly the contract's z = default_rng([s, i]) draw;
truncation redraws what lies outside, leaving a truncated normal."""

import math

import numpy as np
import pytest

from kgan.latents import latent_vectors

UINT32 = 2**32


def contract_latents(indices, seed, latent_dim, temperature=1.0):
    """docs/onnx-contract.md written out, without truncation: one default_rng([seed, i]) per image."""
    draws = [np.random.default_rng([seed, index]).standard_normal(latent_dim) for index in indices]
    return (np.reshape(draws, (len(indices), latent_dim)) * temperature).astype(np.float32)


def standard_normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(np.asarray(x) / math.sqrt(2)))


@pytest.mark.parametrize("temperature", [1.0, 1.3])
def test_latents_equal_the_contract_bit_for_bit(temperature):
    draw = np.random.default_rng(7)
    for seed in [0, 1, 42, UINT32 - 1, *draw.integers(0, UINT32, 20).tolist()]:
        indices = [0, 1, 2, UINT32 - 1, *draw.integers(0, UINT32, 6).tolist()]

        z = latent_vectors(indices, seed, 13, temperature=temperature)

        assert z.dtype == np.float32
        np.testing.assert_array_equal(z, contract_latents(indices, seed, 13, temperature))


@pytest.mark.parametrize(("seed", "indices"), [(UINT32, [0, 7]), (3, [UINT32, 2**40]), (2**70, [5])])
def test_seeds_and_indices_of_more_than_32_bits_follow_the_contract_too(seed, indices):
    np.testing.assert_array_equal(latent_vectors(indices, seed, 9), contract_latents(indices, seed, 9))


def test_indices_may_be_any_integer_sequence():
    expected = contract_latents([4, 2, 9], 5, 6)

    for indices in ([4, 2, 9], np.array([4, 2, 9], np.int64), (np.int32(4), 2, 9)):
        np.testing.assert_array_equal(latent_vectors(indices, 5, 6), expected)
    assert latent_vectors(range(0), 5, 6).shape == (0, 6)


@pytest.mark.parametrize("threshold", [0.5, 1.1])
def test_truncation_redraws_only_what_lies_outside(threshold):
    indices = [0, 1, UINT32 - 1, 2**40, *range(100, 150)]  # both seeding paths
    plain = latent_vectors(indices, 3, 13)

    truncated = latent_vectors(indices, 3, 13, truncation=threshold)

    assert np.abs(truncated).max() <= threshold
    inside = np.abs(plain) <= threshold
    assert 0 < inside.mean() < 1
    np.testing.assert_array_equal(truncated[inside], plain[inside])
    np.testing.assert_array_equal(latent_vectors(indices, 3, 13, truncation=threshold), truncated)
    np.testing.assert_array_equal(latent_vectors(indices[::-1], 3, 13, truncation=threshold), truncated[::-1])
    assert not np.array_equal(latent_vectors(indices, 4, 13, truncation=threshold), truncated)
    np.testing.assert_allclose(latent_vectors(indices, 3, 13, truncation=threshold, temperature=0.7),
                               0.7 * truncated, rtol=1e-6)  # fmt: skip


def test_redrawn_entries_follow_the_truncated_normal():
    """Redrawn until inside [-t, t], an entry has the distribution of N(0, 1) given |z| <= t."""
    threshold = 0.5
    plain = latent_vectors(range(2000), 11, 16)
    redrawn = latent_vectors(range(2000), 11, 16, truncation=threshold)[np.abs(plain) > threshold]
    inside_probability = 2 * standard_normal_cdf(threshold) - 1
    density = math.exp(-(threshold**2) / 2) / math.sqrt(2 * math.pi)
    variance = 1 - 2 * threshold * density / inside_probability  # 0.0806 for t = 0.5 (scipy.stats.truncnorm's)

    assert len(redrawn) > 15_000
    assert abs(redrawn.mean()) < 4 * math.sqrt(variance / len(redrawn))
    assert redrawn.var() == pytest.approx(variance, rel=0.02)  # a uniform draw on [-t, t] would be 3.4% above
    # Kolmogorov-Smirnov against the truncated normal's distribution function; 1.63 / sqrt(n) is its 1% level.
    values = np.sort(redrawn.astype(np.float64))
    expected_cdf = (standard_normal_cdf(values) - standard_normal_cdf(-threshold)) / inside_probability
    steps = np.arange(len(values) + 1) / len(values)  # the empirical distribution function just below and at each value
    distance = max(np.abs(steps[1:] - expected_cdf).max(), np.abs(steps[:-1] - expected_cdf).max())
    assert distance < 1.63 / math.sqrt(len(values))


@pytest.mark.parametrize(("indices", "seed"), [([-1], 0), ([0], -1)])
def test_negative_entropy_is_refused_as_by_numpy(indices, seed):
    with pytest.raises(ValueError):
        latent_vectors(indices, seed, 3)
