"""One evaluation: generate, train or load the reference classifier, score, write it all down."""

import dataclasses

import kgan
from kgan.errors import UsageError
from kgan.evaluation import memorisation
from kgan.evaluation.augmentation import augmentation_gain
from kgan.evaluation.cas import classification_accuracy_score
from kgan.evaluation.inception import InceptionNetwork, check_weights_file
from kgan.evaluation.options import ALL, DEFAULT_METRICS, FEATURE_METRICS, check_k
from kgan.evaluation.scores import score_with_floor
from kgan.judge.classifier import (
    ClassifierSettings,
    accuracy_of,
    reference_classifier,
    resolve_epochs,
)
from kgan.metrics.registry import ScoredImages

MIN_SAMPLES = 10


@dataclasses.dataclass(frozen=True)
class EvaluationSettings:
    """What `evaluate` computes, and with how much data.

    Args:
        num_samples: generated images; None for as many as the real training split.
        seeds: seeds of the CAS and augmentation classifiers (mean ± std over them);
            the first also seeds the generated images.
        metrics: names among METRICS.
        k: real images per class of the augmentation study, ints or "all".
        classifier: a ClassifierSettings, for every classifier trained.
        inception_weights: InceptionV3 weights file, for the "inception" metric.
        temperature: standard deviation of the generated images' z (kgan.latents); None
            for the generator's own (an ONNX file's recorded temperature; 1 for a run folder).
    """

    num_samples: int | None = None
    seeds: tuple = (0, 1, 2)
    metrics: tuple = DEFAULT_METRICS
    k: tuple = (10, 100, ALL)
    classifier: ClassifierSettings = ClassifierSettings()
    inception_weights: str | None = None
    temperature: float | None = None

    def describe(self):
        settings = dataclasses.asdict(self)
        settings["inception_weights"] = self.inception_weights and str(self.inception_weights)
        return settings


@dataclasses.dataclass
class Evaluation:
    """What `evaluate` found.

    Args:
        report: the JSON-ready report (see docs/evaluate.md, "The report folder").
        samples: (uint8 images, int64 labels) the generator made.
        memorised: (generated images, their nearest training images) of the pixel-space
            memorisation pairs.
    """

    report: dict
    samples: tuple
    memorised: tuple


def check_settings(settings, source, splits):
    """Raises UsageError for settings that do not fit the generator or the real data.

    Args:
        settings: EvaluationSettings.
        source: an OnnxSource or RunSource.
        splits: the RealSplits.
    """
    if source.num_classes and source.num_classes != splits.train.num_classes:
        raise UsageError(
            f"the generator makes {source.num_classes} classes but dataset {splits.train.name} has "
            f"{splits.train.num_classes}: evaluate it against the dataset it was trained on"
        )
    if settings.num_samples is not None and settings.num_samples < MIN_SAMPLES:
        raise UsageError(f"--num-samples must be at least {MIN_SAMPLES}, not {settings.num_samples}")
    if settings.temperature is not None and not settings.temperature > 0:  # also rejects NaN
        raise UsageError(f"--temperature must be a positive number, not {settings.temperature}")
    if "augment" in settings.metrics:
        check_k(settings.k, splits.train)
    if "inception" in settings.metrics:
        check_weights_file(settings.inception_weights)


def evaluate(source, splits, settings, cache_dir=None, progress=None):
    """Evaluates a generator against real data.

    Args:
        source: an OnnxSource or RunSource (kgan.evaluation.sources.open_generator).
        splits: RealSplits at the generator's image shape.
        settings: EvaluationSettings (metrics from parse_metrics); checked with check_settings.
        cache_dir: the cache of the reference classifier and of the real baselines' accuracies; None for the
            default.
        progress: optional callable taking a message.

    Returns:
        An Evaluation.
    """
    say = progress or (lambda message: None)
    check_settings(settings, source, splits)
    metrics, train, test = settings.metrics, splits.train, splits.test
    num_samples = settings.num_samples or len(train)
    temperature = source.temperature if settings.temperature is None else settings.temperature
    say(f"generating {num_samples:,} images at temperature {temperature:g}")
    samples = source.generate(num_samples, seed=settings.seeds[0], temperature=temperature)
    draws = {settings.seeds[0]: samples}

    def sample(seed):
        """The generated images of `seed` (CAS and the augmentation study train each seed's classifiers on its own)."""
        if seed not in draws:
            say(f"generating {num_samples:,} images at temperature {temperature:g} (seed {seed})")
            draws[seed] = source.generate(num_samples, seed=seed, temperature=temperature)
        return draws[seed]

    classifier_train, is_reference = splits.classifier_and_reference()
    classifier_settings, plateau = resolve_epochs(
        classifier_train, settings.classifier, cache_dir, lambda message: say(f"classifier epochs: {message}")
    )
    settings = dataclasses.replace(settings, classifier=classifier_settings)
    classifier, key, cached = reference_classifier(
        classifier_train, classifier_settings, cache_dir, lambda message: say(f"reference classifier: {message}")
    )
    say("extracting classifier features")
    features = {
        name: ScoredImages(*classifier.features_and_probabilities(images), labels)
        for name, (images, labels) in (
            ("train", (train.images, train.labels)), ("test", (test.images, test.labels)), ("generated", samples)
        )
    }  # fmt: skip
    real_accuracy = accuracy_of(features["test"].probabilities, test.labels)

    results, scored = {}, None
    feature_metrics = [name for name in FEATURE_METRICS if name in metrics]
    if feature_metrics:
        say(f"scoring {', '.join(feature_metrics)} against the real-vs-real floor")
        scores, scored = score_with_floor(
            features["train"].features[is_reference], features["generated"], features["test"], feature_metrics,
            settings.seeds[0],
        )
        results.update(scores)
    if "inception" in metrics:
        results.update(_inception_scores(settings, train, test, samples, say))
    steps = settings.classifier.steps(len(train))
    if "cas" in metrics:
        results["cas"] = classification_accuracy_score(
            sample, train, test, settings.classifier, steps, settings.seeds, say, cache_dir
        )
    if "augment" in metrics:
        results["augmentation"] = augmentation_gain(
            train, sample, test, settings.k, settings.classifier, steps, settings.seeds, say,
            all_real=results.get("cas", {}).get("real"), cache_dir=cache_dir,
        )  # fmt: skip

    say("looking for memorised training images")
    memorised = {
        "pixel": memorisation.memorisation_check(
            *(memorisation.pixel_vectors(images) for images in (samples[0], test.images, train.images))
        ),
        "feature": memorisation.memorisation_check(
            features["generated"].features, features["test"].features, features["train"].features
        ),
    }
    pairs = memorisation.pair_images(samples[0], train.images, memorised["pixel"]["pairs"])
    report = {
        "kgan_version": kgan.__version__,
        "generator": source.describe(),
        "data": splits.describe(),
        "settings": {**settings.describe(), "num_samples": num_samples, "scored_samples": scored,
                     "classifier_steps": steps, "temperature": temperature},  # fmt: skip
        "classifier": {
            "cache_key": key, "cached": cached, "training_images": len(classifier_train),
            "test_accuracy": real_accuracy, "plateau": plateau,
        },  # fmt: skip
        "metrics": results,
        "memorisation": memorised,
    }
    return Evaluation(report, samples, pairs)


def _inception_scores(settings, train, test, samples, say):
    network = InceptionNetwork(settings.inception_weights)
    say("InceptionV3 features (slow on CPU)")
    scores, _ = score_with_floor(
        network.features_and_probabilities(train.images)[0],
        ScoredImages(*network.features_and_probabilities(samples[0][: len(test)])),
        ScoredImages(*network.features_and_probabilities(test.images)),
        ("fid", "is"),
        settings.seeds[0],
    )
    return {f"inception_{name}": value for name, value in scores.items()}
