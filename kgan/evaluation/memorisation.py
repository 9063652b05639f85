"""Memorisation check: the nearest real training image of generated samples.

A generator that copies its training set makes samples much closer to a training
image than held-out real images are. Distances are measured in pixel space (root mean
square difference of pixels in [0, 1]) or in the classifier's feature space, and set
against the same distances of the real test images (the floor).
"""

import numpy as np

CHUNK_SIZE = 256
PAIRS_SHOWN = 10


def pixel_vectors(images):
    """uint8 [N, H, W, C] images as float32 [N, H*W*C] vectors whose L2 distance is the pixel RMS.

    Args:
        images: uint8 images.
    """
    flat = np.asarray(images, np.float32).reshape(len(images), -1) / 255.0
    return flat / np.sqrt(flat.shape[1])


def nearest_neighbours(queries, references, chunk_size=CHUNK_SIZE):
    """Index and Euclidean distance of each query's nearest reference.

    Args:
        queries: float [M, D] (float32 pixel vectors stay float32, to spare memory).
        references: float [N, D].
        chunk_size: queries handled at once (memory ~ chunk_size * N floats).

    Returns:
        (indices int64 [M], distances float64 [M]).
    """
    queries, references = np.asarray(queries), np.asarray(references)
    reference_norms = np.einsum("ij,ij->i", references, references)
    indices = np.empty(len(queries), np.int64)
    distances = np.empty(len(queries))
    for start in range(0, len(queries), chunk_size):
        chunk = queries[start : start + chunk_size]
        squared = reference_norms - 2 * chunk @ references.T + np.einsum("ij,ij->i", chunk, chunk)[:, None]
        nearest = np.argmin(squared, axis=1)
        indices[start : start + len(chunk)] = nearest
        distances[start : start + len(chunk)] = np.sqrt(np.maximum(squared[np.arange(len(chunk)), nearest], 0))
    return indices, distances


def memorisation_check(generated, held_out, train, num_pairs=PAIRS_SHOWN):
    """Nearest training images of generated and held-out vectors, in one space.

    Args:
        generated: vectors [M, D] of generated images (pixel_vectors or features).
        held_out: vectors [T, D] of the real test images, the floor.
        train: vectors [N, D] of the real training images.
        num_pairs: how many of the closest (generated, training image) pairs to return.

    Returns:
        dict: median_distance {"generated", "real"}, ratio (generated median over
        real median: well below 1 suggests copying; None when the real median is 0),
        and pairs, the `num_pairs`
        generated images closest to a training image, closest first, as
        {"generated", "train", "distance"}.
    """
    nearest, distances = nearest_neighbours(generated, train)
    _, floor = nearest_neighbours(held_out, train)
    generated_median, real_median = float(np.median(distances)), float(np.median(floor))
    closest = np.argsort(distances, kind="stable")[:num_pairs]
    return {
        "median_distance": {"generated": generated_median, "real": real_median},
        "ratio": generated_median / real_median if real_median > 0 else None,
        "pairs": [
            {"generated": int(index), "train": int(nearest[index]), "distance": float(distances[index])}
            for index in closest
        ],
    }


def pair_images(generated_images, train_images, pairs):
    """The images of `pairs`: (generated uint8 [P, H, W, C], their nearest training images).

    Args:
        generated_images: uint8 [M, H, W, C].
        train_images: uint8 [N, H, W, C].
        pairs: the "pairs" of memorisation_check.
    """
    return (
        generated_images[[pair["generated"] for pair in pairs]],
        train_images[[pair["train"] for pair in pairs]],
    )
