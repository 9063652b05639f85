"""Datasets as in-memory uint8 arrays, and the batch feeder that `fit()` reads.

`load_dataset` needs only numpy and pillow (plus scikit-learn for `digits` and keras for
the downloadable datasets); `kgan.data.batches` needs keras.
"""

from kgan.data.sources import BUILTIN_DATASETS, ImageDataset, load_dataset

__all__ = ["BUILTIN_DATASETS", "ImageDataset", "load_dataset"]
