"""Classification Accuracy Score (Ravuri & Vinyals 2019): train on generated, test on real."""

from kgan.evaluation.classifier import train_classifier
from kgan.evaluation.scores import over_runs


def classification_accuracy_score(generated, test, settings, steps, seeds, progress=None):
    """Accuracy on real test images of classifiers trained on generated images only.

    Args:
        generated: (uint8 images [M, H, W, C], int64 labels [M]) from a conditional generator.
        test: the real test split, an ImageDataset.
        settings: a ClassifierSettings.
        steps: training steps of each classifier.
        seeds: one classifier is trained per seed.
        progress: optional callable taking a message.

    Returns:
        {"mean", "std", "runs"} of the test accuracies.
    """
    images, labels = generated
    accuracies = []
    for seed in seeds:
        if progress:
            progress(f"CAS: training on {len(images)} generated images (seed {seed})")
        classifier = train_classifier(images, labels, test.num_classes, settings, steps, seed)
        accuracies.append(classifier.accuracy(test.images, test.labels))
    return over_runs(accuracies)
