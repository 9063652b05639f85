"""The latent vectors of the ONNX contract, shared by the runtime and `kgan evaluate` (numpy only).

Image i of seed s gets z = numpy.random.default_rng([s, i]).standard_normal(latent_dim),
so a RUN_DIR and its exported .onnx make the same images for the same seed.
"""

import numpy as np


def latent_vectors(indices, seed, latent_dim, truncation=None, temperature=1.0):
    """float32 [len(indices), latent_dim]: the latent vector of each image index for `seed`.

    Args:
        indices: image indices (non-negative ints).
        seed: non-negative int.
        latent_dim: size of z.
        truncation: if set, entries are redrawn from the same stream until every |z| <= truncation.
        temperature: the standard deviation of z: the (truncated) standard-normal draw times this.
    """
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
