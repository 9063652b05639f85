"""kgan.latents seeds all images at once, yet gives exactly the contract's z = default_rng([s, i]) draw."""

import numpy as np
import pytest

from kgan.latents import latent_vectors

UINT32 = 2**32


def contract_latents(indices, seed, latent_dim, truncation=None, temperature=1.0):
    """docs/onnx-contract.md written out: one default_rng([seed, i]) per image."""
    z = np.empty((len(indices), latent_dim), np.float32)
    for row, index in enumerate(indices):
        rng = np.random.default_rng([seed, index])
        sample = rng.standard_normal(latent_dim)
        if truncation is not None:
            outside = np.abs(sample) > truncation
            while outside.any():
                sample[outside] = rng.standard_normal(np.count_nonzero(outside))
                outside = np.abs(sample) > truncation
        z[row] = sample * temperature
    return z


@pytest.mark.parametrize(
    "options", [{}, {"truncation": 0.5}, {"temperature": 1.3}, {"truncation": 1.1, "temperature": 0.7}]
)
def test_latents_equal_the_contract_bit_for_bit(options):
    draw = np.random.default_rng(7)
    for seed in [0, 1, 42, UINT32 - 1, *draw.integers(0, UINT32, 20).tolist()]:
        indices = [0, 1, 2, UINT32 - 1, *draw.integers(0, UINT32, 6).tolist()]

        z = latent_vectors(indices, seed, 13, **options)

        assert z.dtype == np.float32
        np.testing.assert_array_equal(z, contract_latents(indices, seed, 13, **options))


@pytest.mark.parametrize(("seed", "indices"), [(UINT32, [0, 7]), (3, [UINT32, 2**40]), (2**70, [5])])
def test_seeds_and_indices_of_more_than_32_bits_follow_the_contract_too(seed, indices):
    np.testing.assert_array_equal(latent_vectors(indices, seed, 9), contract_latents(indices, seed, 9))


def test_indices_may_be_any_integer_sequence():
    expected = contract_latents([4, 2, 9], 5, 6)

    for indices in ([4, 2, 9], np.array([4, 2, 9], np.int64), (np.int32(4), 2, 9)):
        np.testing.assert_array_equal(latent_vectors(indices, 5, 6), expected)
    assert latent_vectors(range(0), 5, 6).shape == (0, 6)


@pytest.mark.parametrize(("indices", "seed"), [([-1], 0), ([0], -1)])
def test_negative_entropy_is_refused_as_by_numpy(indices, seed):
    with pytest.raises(ValueError):
        latent_vectors(indices, seed, 3)
