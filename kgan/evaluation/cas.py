"""Classification Accuracy Score (Ravuri & Vinyals 2019): train on generated, test on real."""

from kgan.evaluation.real_baseline import real_accuracy
from kgan.evaluation.scores import over_runs
from kgan.judge.classifier import train_classifier


def classification_accuracy_score(sample, train, test, settings, steps, seeds, progress=None, cache_dir=None):
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
        cache_dir: where the real baseline's accuracies are cached (kgan.evaluation.real_baseline); None for
            kgan's cache folder.

    Returns:
        {"generated": runs, "real": runs}, runs being {"mean", "std", "runs"} of test accuracies.
    """
    say = progress or (lambda message: None)
    generated, real = [], []
    for seed in seeds:
        images, labels = sample(seed)
        say(f"CAS: training on {len(images):,} generated images (seed {seed})")
        generated.append(train_classifier(images, labels, test.num_classes, settings, steps, seed).accuracy(
            test.images, test.labels))  # fmt: skip
    for seed in seeds:
        real.append(real_accuracy(train.images, train.labels, test, settings, steps, seed, cache_dir,
                                  lambda message: say(f"CAS: {message}"))[0])  # fmt: skip
    return {"generated": over_runs(generated), "real": over_runs(real)}
