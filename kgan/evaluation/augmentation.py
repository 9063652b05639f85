"""Augmentation gain: does adding generated images help a classifier trained on few real ones?"""

import numpy as np

from kgan.evaluation.options import ALL
from kgan.evaluation.real_baseline import real_accuracy
from kgan.evaluation.scores import over_runs
from kgan.judge.classifier import train_classifier


def augmentation_gain(train, sample, test, k_values, settings, steps, seeds, progress=None, all_real=None,
                      cache_dir=None):  # fmt: skip
    """Test accuracy with k real images per class, without and with the generated images.

    For each k and seed, k images per class are drawn from the training split (all of
    it for "all"); one classifier trains on them alone and one on them plus every
    generated image of that seed's sample, with the same seed and number of steps.

    Args:
        train: the real training split, an ImageDataset.
        sample: sample(seed) -> (uint8 images [M, H, W, C], int64 labels [M]) from a conditional generator.
        test: the real test split, an ImageDataset.
        k_values: images per class, ints or "all".
        settings: a ClassifierSettings.
        steps: training steps of each classifier.
        seeds: seeds of the draws and classifiers.
        progress: optional callable taking a message.
        all_real: the real-only runs at k = "all" when already measured (CAS's real
            baseline trains exactly those classifiers), or None.
        cache_dir: where the real-only arm's accuracies are cached (kgan.evaluation.real_baseline); None for
            kgan's cache folder.

    Returns:
        A list, one dict per k: {"k", "real": runs, "augmented": runs, "gain": runs},
        where runs is {"mean", "std", "runs"} over the seeds.
    """
    say = progress or (lambda message: None)
    results = []
    for k in k_values:
        real_accuracies, augmented_accuracies = [], []
        for run, seed in enumerate(seeds):
            rows = per_class_subset(train.labels, k, seed)
            real = (train.images[rows], train.labels[rows])
            if k == ALL and all_real is not None:
                real_accuracies.append(all_real["runs"][run])
            else:
                prefix = f"augmentation: k={k}, real only: "
                accuracy, _ = real_accuracy(*real, test, settings, steps, seed, cache_dir,
                                            lambda message: say(prefix + message))  # fmt: skip
                real_accuracies.append(accuracy)
            generated = sample(seed)
            images, labels = np.concatenate([real[0], generated[0]]), np.concatenate([real[1], generated[1]])
            say(f"augmentation: k={k}, seed {seed}, real + generated ({len(images):,} images)")
            classifier = train_classifier(images, labels, train.num_classes, settings, steps, seed)
            augmented_accuracies.append(classifier.accuracy(test.images, test.labels))
        gains = np.subtract(augmented_accuracies, real_accuracies)
        results.append(
            {
                "k": k,
                "real": over_runs(real_accuracies),
                "augmented": over_runs(augmented_accuracies),
                "gain": over_runs(gains),
            }
        )
    return results


def per_class_subset(labels, k, seed):
    """Sorted indices of k randomly drawn images of each class (every index for "all").

    Args:
        labels: int [N] class indices.
        k: images per class, or "all".
        seed: seed of the draw.
    """
    if k == ALL:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    rows = [rng.choice(np.flatnonzero(labels == label), k, replace=False) for label in np.unique(labels)]
    return np.sort(np.concatenate(rows))
