"""The reference classifier: a small CNN whose penultimate layer is `kgan evaluate`'s feature space.

One routine, `train_classifier`, trains every classifier of an evaluation: the reference
(real training split), CAS (generated images) and both arms of the augmentation study.
They all train for the same number of steps, so only their data differs.

The reference classifier is cached on disk, keyed by a hash of its training images,
labels and settings: `$KGAN_CACHE_DIR/classifiers/KEY/` (default `~/.cache/kgan`).

With `epochs="auto"`, `resolve_epochs` first finds how many passes it takes for the
accuracy on held-out real images to stop rising, and caches that number beside the
classifiers (`classifiers/plateau/KEY.json`).
"""

import dataclasses
import hashlib
import json
import math
from pathlib import Path

import keras
import numpy as np

from kgan import fileio, imaging
from kgan.cache import cache_root
from kgan.data import ImageDataset
from kgan.data.batches import BatchFeeder
from kgan.data.splits import held_out_mask, subset
from kgan.devices import resolve_jit

ARCHITECTURE = "kgan-classifier-2"  # change it when the network or training changes, to retire old caches
FEATURE_LAYER = "features"
PROBABILITY_LAYER = "probabilities"
SMALLEST_FEATURE_MAP = 7
MAX_WIDTH_MULTIPLIER = 4
PREDICT_BATCH_SIZE = 256
MODEL_FILE = "classifier.keras"
META_FILE = "meta.json"
AUTO_EPOCHS = "auto"
PLATEAU_FOLDER = "plateau"
PLATEAU_HELD_OUT_FRACTION = 1 / 8  # of each class, classified after each length the plateau search tries
PLATEAU_FIRST_EPOCHS = 10
PLATEAU_GROWTH = 4  # each length tried is this many times the last: a doubling's gain hides in seed noise
PLATEAU_MIN_GAIN = 0.02  # held-out accuracy the longer training must add to count as a rise
PLATEAU_MAX_EPOCHS = 160


@dataclasses.dataclass(frozen=True)
class ClassifierSettings:
    """How every classifier of an evaluation is built and trained.

    Args:
        epochs: passes over the real training split; every classifier trains for as
            many steps as the reference classifier needs for that, whatever its data.
            "auto": as many as it takes its accuracy on held-out real images to stop
            rising (`resolve_epochs`).
        batch_size: images per step.
        width: filters of the first convolutions (doubled per halving, up to 4x).
        feature_dim: size of the penultimate dense layer, the feature space.
        learning_rate: Adam's initial learning rate, decayed to 0 along a cosine over the
            training steps (without the decay, the last step's weights vary by
            +-1 point of accuracy from seed to seed).
        dropout: dropout rate before the softmax layer.
        seed: seed of the reference classifier (weights and data order).
    """

    epochs: int | str = 10
    batch_size: int = 64
    width: int = 32
    feature_dim: int = 128
    learning_rate: float = 1e-3
    dropout: float = 0.3
    seed: int = 0

    def steps(self, num_real_training_images):
        """Training steps of every classifier: `epochs` passes over the real training split."""
        if self.epochs == AUTO_EPOCHS:
            raise ValueError('resolve epochs="auto" with resolve_epochs before asking for steps')
        return self.epochs * math.ceil(num_real_training_images / self.batch_size)


class Classifier:
    """A trained classifier: accuracy, penultimate features and class probabilities.

    Args:
        model: the keras model built by `build_classifier`.
    """

    def __init__(self, model):
        self.model = model
        self._both = keras.Model(
            model.inputs, [model.get_layer(FEATURE_LAYER).output, model.get_layer(PROBABILITY_LAYER).output]
        )

    def features_and_probabilities(self, images):
        """(features float64 [N, feature_dim], probabilities float64 [N, classes]) of uint8 images."""
        return predict_in_batches(self._both, images, imaging.from_uint8)

    def accuracy(self, images, labels):
        """Fraction of uint8 `images` classified as `labels`."""
        return accuracy_of(self.features_and_probabilities(images)[1], labels)


def accuracy_of(probabilities, labels):
    """Fraction of rows of `probabilities` [N, classes] whose largest entry is at `labels`."""
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def build_classifier(image_shape, num_classes, settings):
    """The classifier network: stride-2 conv stages down to 7x7 or less, dense features, softmax.

    Inputs are images scaled to [-1, 1]. The feature layer is linear (its ReLU is a
    separate layer), so features have no dead, constant dimensions.

    Args:
        image_shape: (H, W, C) of the images.
        num_classes: number of classes.
        settings: a ClassifierSettings.
    """
    inputs = keras.Input(shape=image_shape, name="image")
    hidden, size, stage = inputs, image_shape[0], 0
    while size > SMALLEST_FEATURE_MAP:
        filters = settings.width * min(2**stage, MAX_WIDTH_MULTIPLIER)
        hidden = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv_{stage}")(hidden)
        hidden = keras.layers.Conv2D(
            filters, 3, strides=2, padding="same", activation="relu", name=f"down_{stage}"
        )(hidden)
        size, stage = math.ceil(size / 2), stage + 1
    hidden = keras.layers.Flatten(name="flatten")(hidden)
    hidden = keras.layers.Dense(settings.feature_dim, name=FEATURE_LAYER)(hidden)
    hidden = keras.layers.ReLU(name="features_relu")(hidden)
    hidden = keras.layers.Dropout(settings.dropout, name="dropout")(hidden)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name=PROBABILITY_LAYER)(hidden)
    return keras.Model(inputs, outputs, name="classifier")


def train_classifier(images, labels, num_classes, settings, steps, seed):
    """Trains a new classifier on uint8 images; the one training routine of `kgan evaluate`.

    Args:
        images: uint8 [N, H, W, C].
        labels: int [N] class indices.
        num_classes: number of classes.
        settings: a ClassifierSettings.
        steps: number of training steps (see `ClassifierSettings.steps`).
        seed: seed of the weights, dropout and data order.

    Returns:
        A Classifier.
    """
    model = compiled_classifier(images.shape[1:], num_classes, settings, steps, seed)
    batch_size = min(settings.batch_size, len(images))
    dataset = ImageDataset(images, np.asarray(labels, np.int64), [], "classifier training set")
    model.fit(BatchFeeder(dataset, batch_size, seed, steps_per_epoch=steps, conditional=True), epochs=1, verbose=0)
    return Classifier(model)


def compiled_classifier(image_shape, num_classes, settings, steps, seed):
    """A new classifier network, compiled to train for `steps` steps; its inputs are images in [-1, 1].

    Args: as for `train_classifier`, with image_shape (H, W, C) for the images.
    """
    keras.utils.set_random_seed(seed)
    model = build_classifier(image_shape, num_classes, settings)
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(settings.learning_rate, steps)),
        loss="sparse_categorical_crossentropy",
        jit_compile=resolve_jit(None),
    )
    return model


def plateau_epochs(accuracies, min_gain):
    """The training length after which training longer stopped adding `min_gain` of held-out accuracy.

    Args:
        accuracies: {epochs: held-out accuracy} of growing lengths.
        min_gain: the rise that counts.
    """
    lengths = sorted(accuracies)
    chosen = lengths[0]
    for longer in lengths[1:]:
        if accuracies[longer] < accuracies[chosen] + min_gain:
            break
        chosen = longer
    return chosen


def search_plateau(train, settings):
    """How many passes over `train` a classifier needs before its accuracy on held-out real images stops rising.

    Classifiers with `settings` train for PLATEAU_FIRST_EPOCHS passes, then PLATEAU_GROWTH
    times as many, and so on, each with its own cosine decay as every classifier of an
    evaluation has, on all but the last 1/8 of each class, and classify that 1/8. The
    search stops at the first length that adds less than PLATEAU_MIN_GAIN to the one
    before it (or at PLATEAU_MAX_EPOCHS).

    Args:
        train: a labelled ImageDataset.
        settings: a ClassifierSettings (its epochs are ignored).

    Returns:
        {"epochs": the length before the first one that did not pay, "held_out_accuracy":
        [[epochs, accuracy], ...] of every length tried, "held_out_images": how many were classified}.
    """
    size = max(train.num_classes, round(len(train) * PLATEAU_HELD_OUT_FRACTION))
    is_held_out = held_out_mask(train.labels, size)
    fitted = subset(train, ~is_held_out)
    accuracies, epochs = {}, PLATEAU_FIRST_EPOCHS
    while epochs <= PLATEAU_MAX_EPOCHS:
        steps = dataclasses.replace(settings, epochs=epochs).steps(len(fitted))
        classifier = train_classifier(fitted.images, fitted.labels, train.num_classes, settings, steps, settings.seed)
        accuracies[epochs] = classifier.accuracy(train.images[is_held_out], train.labels[is_held_out])
        chosen = plateau_epochs(accuracies, PLATEAU_MIN_GAIN)
        if chosen < epochs:
            break
        epochs *= PLATEAU_GROWTH
    return {
        "epochs": chosen,
        "held_out_accuracy": [[length, round(accuracy, 4)] for length, accuracy in accuracies.items()],
        "held_out_images": int(is_held_out.sum()),
    }


def resolve_epochs(train, settings, cache_dir=None, progress=None):
    """`settings` with a number of epochs: for "auto", the plateau of `search_plateau`, cached.

    Args:
        train: the reference classifier's training images, a labelled ImageDataset.
        settings: a ClassifierSettings.
        cache_dir: the cache folder; None for `cache_root()`.
        progress: optional callable taking a message, told before the search runs (not when it is read).

    Returns:
        (ClassifierSettings with integer epochs, the search's record or None when epochs was a number).
    """
    if settings.epochs != AUTO_EPOCHS:
        return settings, None
    # The search's own constants are part of the key, so a changed rule searches again.
    rule = f"{AUTO_EPOCHS}: {PLATEAU_FIRST_EPOCHS} x{PLATEAU_GROWTH} +{PLATEAU_MIN_GAIN} <={PLATEAU_MAX_EPOCHS}"
    key = cache_key(train, dataclasses.replace(settings, epochs=rule))
    path = Path(cache_dir or cache_root()) / "classifiers" / PLATEAU_FOLDER / f"{key}.json"
    try:
        plateau = {**json.loads(path.read_text()), "cached": True}
    except (OSError, ValueError):  # absent, or damaged: search again
        if progress:
            progress(f"searching on {len(train):,} real images for the training length where held-out accuracy "
                     f"stops rising, once (cached in {path.parent})")  # fmt: skip
        plateau = search_plateau(train, settings)
        fileio.write_text(path, json.dumps(plateau, indent=2))
        plateau = {**plateau, "cached": False}
    return dataclasses.replace(settings, epochs=plateau["epochs"]), plateau


def reference_classifier(train, settings, cache_dir=None, progress=None):
    """The classifier trained on the real training split, loaded from the cache when there.

    Args:
        train: the real training split, an ImageDataset with labels.
        settings: a ClassifierSettings.
        cache_dir: the cache folder; None for `cache_root()`.
        progress: optional callable taking a message, told before a classifier trains (not when one is read).

    Returns:
        (Classifier, cache key, whether it came from the cache).
    """
    key = cache_key(train, settings)
    folder = Path(cache_dir or cache_root()) / "classifiers" / key
    if (folder / MODEL_FILE).is_file():
        try:
            return Classifier(keras.saving.load_model(folder / MODEL_FILE, compile=False)), key, True
        except Exception:  # a damaged cache entry (keras raises many types): train it again
            pass
    steps = settings.steps(len(train))
    if progress:
        progress(f"training a classifier on {len(train):,} real images, {steps:,} steps, once (cached in {folder})")
    classifier = train_classifier(train.images, train.labels, train.num_classes, settings, steps, settings.seed)
    meta = {
        "architecture": ARCHITECTURE,
        "settings": dataclasses.asdict(settings),
        "dataset": train.name,
        "training_images": len(train),
        "image_shape": list(train.image_shape),
        "num_classes": train.num_classes,
        "backend": keras.config.backend(),
    }
    with fileio.staged_directory(folder) as staging:
        classifier.model.save(staging / MODEL_FILE)
        (staging / META_FILE).write_text(json.dumps(meta, indent=2))
    return classifier, key, False


def predict_in_batches(model, images, to_inputs, batch_size=PREDICT_BATCH_SIZE):
    """Runs a two-output model over uint8 images, one padded batch at a time.

    Every batch is padded to `batch_size`, so the model compiles one predict function,
    and only one batch of converted inputs is in memory at a time.

    Args:
        model: a keras model with two outputs.
        images: uint8 [N, H, W, C].
        to_inputs: maps a uint8 batch to the model's inputs.
        batch_size: images per batch.

    Returns:
        The two outputs for the N images, as float64 arrays.
    """
    outputs = ([], [])
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        padded = np.concatenate([batch, np.zeros((batch_size - len(batch), *batch.shape[1:]), batch.dtype)])
        for collected, output in zip(outputs, model.predict_on_batch(to_inputs(padded))):
            collected.append(np.asarray(output[: len(batch)], np.float64))
    return tuple(np.concatenate(collected) for collected in outputs)


def cache_key(train, settings):
    """Hex digest identifying a reference classifier: training images, labels and settings."""
    description = {
        "architecture": ARCHITECTURE,
        "settings": dataclasses.asdict(settings),
        "shape": list(train.images.shape),
        "num_classes": train.num_classes,
    }
    return content_key(description, [train.images], [train.labels])


def content_key(description, images, labels):
    """Hex digest of a JSON-able `description`, then of uint8 `images` and int `labels` arrays: a cache entry's
    name, which changes with any of them."""
    digest = hashlib.sha256()
    digest.update(json.dumps(description, sort_keys=True).encode())
    for array in images:
        digest.update(np.ascontiguousarray(array, np.uint8).tobytes())
    for array in labels:
        digest.update(np.ascontiguousarray(array, np.int64).tobytes())
    return digest.hexdigest()[:24]


def check_cache_dir(cache_dir=None):
    """Raises UsageError unless the classifier cache can be written: call it before any work.

    Args:
        cache_dir: the cache folder; None for `cache_root()`.
    """
    folder = Path(cache_dir or cache_root())
    fileio.check_creatable(
        folder, f"cannot write the reference classifier cache {folder}", "; set KGAN_CACHE_DIR to a writable folder"
    )

