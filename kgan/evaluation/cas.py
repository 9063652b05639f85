"""Classification Accuracy Score (Ravuri & Vinyals 2019): train on generated, test on real."""

from kgan.evaluation.scores import over_runs
from kgan.judge.classifier import train_classifier


def classification_accuracy_score(sample, train, test, settings, steps, seeds, progress=None):
    """CAS next to its real-data baseline: the same classifiers trained on real training images.

    Each seed's classifier trains on its own draw of generated images, so the spread over the
    seeds holds the sample's share of the noise as well as the classifier's.

    Args:
        sample: sample(seed) -> (uint8 images [M, H, W, C], int64 labels [M]) from a conditional generator.
        train: the real training split, an ImageDataset.
        test: the real test split, an ImageDataset.
        settings: a ClassifierSettings.
        steps: training steps of each classifier.
        seeds: one classifier per seed and training set.
        progress: optional callable taking a message.

    Returns:
        {"generated": runs, "real": runs}, runs being {"mean", "std", "runs"} of test accuracies.
    """
    generated = [
        accuracy_over_seeds(*sample(seed), "generated", test, settings, steps, [seed], progress)["runs"][0]
        for seed in seeds
    ]
    return {
        "generated": over_runs(generated),
        "real": accuracy_over_seeds(train.images, train.labels, "real", test, settings, steps, seeds, progress),
    }


def accuracy_over_seeds(images, labels, what, test, settings, steps, seeds, progress=None):
    """Real test accuracy of one classifier per seed, each trained on `images` alone.

    Args:
        images: uint8 [N, H, W, C] training images.
        labels: int [N] their labels.
        what: the images, in a word, for the progress messages.
        test: the real test split, an ImageDataset.
        settings: a ClassifierSettings.
        steps: training steps of each classifier.
        seeds: seeds of the classifiers.
        progress: optional callable taking a message.

    Returns:
        {"mean", "std", "runs"} of the accuracies.
    """
    accuracies = []
    for seed in seeds:
        if progress:
            progress(f"CAS: training on {len(images)} {what} images (seed {seed})")
        classifier = train_classifier(images, labels, test.num_classes, settings, steps, seed)
        accuracies.append(classifier.accuracy(test.images, test.labels))
    return over_runs(accuracies)
