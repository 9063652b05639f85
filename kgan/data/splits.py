"""Held-out images taken from the end of every class: evaluation's test split and the scoring references."""

import numpy as np

from kgan.data.sources import ImageDataset


def held_out_mask(labels, test_size):
    """Boolean mask of `test_size` images taken from the end of each class, proportionally.

    Each image is ranked by its position counted from the end of its class, as a fraction
    of the class size; the `test_size` lowest ranks (earlier index first on ties) are held out.

    Args:
        labels: int [N] class indices.
        test_size: number of images to hold out.
    """
    rank = np.empty(len(labels))
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rank[members] = (np.arange(len(members))[::-1] + 0.5) / len(members)
    mask = np.zeros(len(labels), bool)
    mask[np.argsort(rank, kind="stable")[:test_size]] = True
    return mask


def subset(dataset, mask):
    """The ImageDataset of `dataset`'s images (and labels) where boolean `mask` [N] is True."""
    return ImageDataset(dataset.images[mask], dataset.labels[mask], dataset.class_names, dataset.name)
