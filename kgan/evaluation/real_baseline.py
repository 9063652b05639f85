"""Accuracies of classifiers trained on real images alone, cached.

CAS's real baseline and the augmentation study's real-only arm train the same classifiers whenever the real data,
classifier settings and seeds are the same, which they are for every generator judged against one split (the runs
of a recipe study, the epochs of one run). So only the first evaluation trains them; the others read the accuracy.
"""

import dataclasses
import json
from pathlib import Path

import keras

from kgan import fileio
from kgan.cache import cache_root
from kgan.judge.classifier import ARCHITECTURE, content_key, train_classifier

FOLDER = "real-accuracies"  # under the cache's classifiers/, beside the reference classifiers


def real_accuracy(images, labels, test, settings, steps, seed, cache_dir=None, progress=None):
    """Accuracy on `test` of the classifier train_classifier trains on real `images`, read from the cache when there.

    Args:
        images: uint8 [N, H, W, C] real training images.
        labels: int [N] their labels.
        test: the real test split, an ImageDataset.
        settings: a ClassifierSettings.
        steps: training steps.
        seed: seed of the classifier.
        cache_dir: the cache folder; None for `cache_root()`.
        progress: optional callable taking a message, told before the classifier trains (not when its accuracy is
            read).

    Returns:
        (the accuracy, whether it came from the cache).
    """
    key = _key(images, labels, test, settings, steps, seed)
    path = Path(cache_dir or cache_root()) / "classifiers" / FOLDER / f"{key}.json"
    try:
        return float(json.loads(path.read_text())["accuracy"]), True
    except (OSError, ValueError, KeyError, TypeError):  # absent, or damaged: train it again
        pass
    if progress:
        progress(f"training on {len(images):,} real images (seed {seed})")
    classifier = train_classifier(images, labels, test.num_classes, settings, steps, seed)
    accuracy = classifier.accuracy(test.images, test.labels)
    entry = {"accuracy": accuracy, "training_images": len(images), "test_images": len(test.images), "steps": steps,
             "seed": seed, "architecture": ARCHITECTURE, "backend": keras.config.backend()}  # fmt: skip
    fileio.write_text(path, json.dumps(entry, indent=2))
    return accuracy, False


def _key(images, labels, test, settings, steps, seed):
    """Hex digest of everything the accuracy depends on: both image sets and their labels, the classifier and its
    training, and the backend (its kernels round differently)."""
    description = {"architecture": ARCHITECTURE, "backend": keras.config.backend(), "steps": steps, "seed": seed,
                   "num_classes": test.num_classes, "settings": dataclasses.asdict(settings),
                   "shapes": [list(images.shape), list(test.images.shape)]}  # fmt: skip
    return content_key(description, [images, test.images], [labels, test.labels])
