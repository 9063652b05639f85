"""The latent vectors of the ONNX contract, shared by the runtime and `kgan evaluate` (numpy only).

Image i of seed s gets z = numpy.random.default_rng([s, i]).standard_normal(latent_dim),
so a RUN_DIR and its exported .onnx make the same images for the same seed.

Seeding a generator per image costs more than drawing from it, so for seeds and indices
below 2**32 `latent_vectors` computes the seeding of all the images at once: numpy's
SeedSequence hash of the entropy [s, i] (numpy/random/bit_generator.pyx) and PCG64's
initial state from it (numpy/random/src/pcg64), both fixed by numpy's compatibility
policy. It then sets that state into one PCG64 and draws from it: the same numbers as
default_rng([s, i]), in about 40% of the time.
"""

import operator

import numpy as np

_UINT32 = 1 << 32
# SeedSequence's constants: the entropy [s, i] is hashed into a pool of 4 words, which
# generate_state hashes again into the 4 uint64 words PCG64 is seeded with.
_POOL_SIZE = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_PCG64_MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341
_MASK_128 = (1 << 128) - 1


def latent_vectors(indices, seed, latent_dim, truncation=None, temperature=1.0):
    """float32 [len(indices), latent_dim]: the latent vector of each image index for `seed`.

    Args:
        indices: image indices (non-negative ints).
        seed: non-negative int.
        latent_dim: size of z.
        truncation: if set, entries are redrawn from the same stream until every |z| <= truncation.
        temperature: the standard deviation of z: the (truncated) standard-normal draw times this.
    """
    indices = [operator.index(index) for index in indices]
    samples = np.empty((len(indices), latent_dim))
    for row, rng in enumerate(_generators(indices, seed)):
        sample = rng.standard_normal(latent_dim)
        if truncation is not None:
            outside = np.abs(sample) > truncation
            while outside.any():
                sample[outside] = rng.standard_normal(np.count_nonzero(outside))
                outside = np.abs(sample) > truncation
        samples[row] = sample
    return (samples * temperature).astype(np.float32)


def _generators(indices, seed):
    """Yields, per index, a numpy Generator in the state of default_rng([seed, index]).

    One Generator is reused: each is only valid until the next one is yielded.
    """
    if not (0 <= seed < _UINT32 and all(0 <= index < _UINT32 for index in indices)):
        # entropy of more than one word each (or invalid, which default_rng reports)
        yield from (np.random.default_rng([seed, index]) for index in indices)
        return
    bit_generator = np.random.PCG64(0)  # any seed: each image's state replaces it
    generator = np.random.Generator(bit_generator)
    for state, increment in _pcg64_states(seed, np.array(indices, np.uint32)):
        bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": state, "inc": increment},
            "has_uint32": 0,
            "uinteger": 0,
        }
        yield generator


def _pcg64_states(seed, indices):
    """PCG64's (state, inc) after seeding with SeedSequence([seed, index]), per index (uint32 array)."""
    words = _seed_sequence_words(seed, indices)
    states = []
    for seed_high, seed_low, increment_high, increment_low in words.tolist():
        # pcg64_set_seed, then pcg_setseq_128_srandom_r: state 0, step, add the seed, step.
        increment = ((((increment_high << 64) | increment_low) << 1) | 1) & _MASK_128
        state = (increment + ((seed_high << 64) | seed_low)) & _MASK_128
        states.append(((state * _PCG64_MULTIPLIER + increment) & _MASK_128, increment))
    return states


def _seed_sequence_words(seed, indices):
    """SeedSequence([seed, index]).generate_state(4, uint64) for every index at once: uint64 [n, 4]."""
    entropy = [np.full(len(indices), seed, np.uint32), indices]
    hash_const = np.uint32(_INIT_A)

    def hashmix(value):
        nonlocal hash_const
        value = value ^ hash_const
        hash_const = hash_const * np.uint32(_MULT_A)
        value = value * hash_const
        return value ^ (value >> np.uint32(16))

    with np.errstate(over="ignore"):  # uint32 arithmetic wraps, as in numpy's C
        pool = [hashmix(entropy[i] if i < len(entropy) else np.zeros_like(indices)) for i in range(_POOL_SIZE)]
        for source in range(_POOL_SIZE):
            for target in range(_POOL_SIZE):
                if source != target:
                    mixed = np.uint32(_MIX_MULT_L) * pool[target] - np.uint32(_MIX_MULT_R) * hashmix(pool[source])
                    pool[target] = mixed ^ (mixed >> np.uint32(16))
        hash_const = np.uint32(_INIT_B)
        words = []
        for word in range(2 * _POOL_SIZE):
            value = pool[word % _POOL_SIZE] ^ hash_const
            hash_const = hash_const * np.uint32(_MULT_B)
            value = value * hash_const
            words.append(value ^ (value >> np.uint32(16)))
    return np.ascontiguousarray(np.stack(words, axis=1)).view(np.uint64)  # word pairs, as generate_state does
