"""The real images of an evaluation: a training split and a held-out test split."""

import dataclasses

from kgan.data import ImageDataset, load_dataset
from kgan.data.splits import held_out_mask, subset
from kgan.errors import UsageError

DEFAULT_TEST_FRACTION = 1 / 8
MIN_TEST_IMAGES = 10
MAX_REFERENCE_FRACTION = 1 / 4


@dataclasses.dataclass
class RealSplits:
    """Real training and test images at the generator's image shape.

    Args:
        train: ImageDataset the reference classifier learns from.
        test: held-out ImageDataset every classifier is tested on.
        split: how the test split was chosen, in words.
    """

    train: ImageDataset
    test: ImageDataset
    split: str

    def reference_size(self):
        """Images of the scoring reference: as many as the test split, at most a quarter of training."""
        return min(len(self.test), int(len(self.train) * MAX_REFERENCE_FRACTION))

    def classifier_and_reference(self):
        """(classifier's training images, reference mask): `train` less the scoring reference.

        The reference classifier learns from the first and never sees the reference
        (train.images[mask]), as it never sees the test split. Generated and held-out real
        images are then both scored against real images that are new to the instrument, so
        the held-out score is a true real-vs-real floor. The reference is taken from the end
        of each class (held_out_mask).

        Returns:
            (ImageDataset, boolean mask [len(train)] of the reference images).
        """
        is_reference = held_out_mask(self.train.labels, self.reference_size())
        return subset(self.train, ~is_reference), is_reference

    def describe(self):
        return {
            "dataset": self.train.name,
            "test_dataset": self.test.name,
            "split": self.split,
            "train_images": len(self.train),
            "test_images": len(self.test),
            "reference_images": self.reference_size(),
            "num_classes": self.train.num_classes,
            "class_names": self.train.class_names,
            "image_shape": list(self.train.image_shape),
        }


def load_real_splits(dataset, image_shape, test_dataset=None, test_size=None):
    """Loads the real data at `image_shape` and splits off the held-out test images.

    Without `test_dataset`, the test split is the last `test_size` images (default: an
    eighth) taken from the end of each class in proportion to its size, so a dataset
    stored class by class still gets every class in both splits.

    Args:
        dataset: --dataset spec (see kgan.data.load_dataset); must be labelled.
        image_shape: (H, W, C) of the generator's images, H == W.
        test_dataset: optional spec of a separate real test set; all of `dataset` then trains.
        test_size: number of held-out images; only without `test_dataset`.

    Returns:
        RealSplits.
    """
    if test_dataset is not None and test_size is not None:
        raise UsageError("--test-size and --test-dataset contradict each other: choose one")
    size, channels = image_shape[0], image_shape[-1]
    real = _labelled(load_dataset(dataset, size, channels))
    if test_dataset is not None:
        test = _labelled(load_dataset(test_dataset, size, channels))
        if test.num_classes != real.num_classes:
            raise UsageError(
                f"test dataset {test_dataset} has {test.num_classes} classes but dataset {dataset} has "
                f"{real.num_classes}: give a test set of the same classes"
            )
        test.class_names = real.class_names
        return _checked(RealSplits(real, test, f"all of {test_dataset}"))
    if test_size is None:
        test_size, split = round(len(real) * DEFAULT_TEST_FRACTION), "last 1/8 of each class"
    else:
        split = f"last {test_size} images, spread over the classes"
    if not MIN_TEST_IMAGES <= test_size <= len(real) - MIN_TEST_IMAGES:
        raise UsageError(
            f"test size must lie between {MIN_TEST_IMAGES} and {len(real) - MIN_TEST_IMAGES} "
            f"for dataset {dataset} ({len(real)} images), not {test_size}"
        )
    is_test = held_out_mask(real.labels, test_size)
    return _checked(RealSplits(subset(real, ~is_test), subset(real, is_test), split))


def _labelled(dataset):
    if dataset.labels is None:
        raise UsageError(
            f"dataset {dataset.name} has no labels: kgan evaluate trains a classifier, so it needs "
            "labelled real images (.npz with labels, IDX with a labels file, or one folder per class)"
        )
    return dataset


def _checked(splits):
    if len(splits.test) < MIN_TEST_IMAGES:
        raise UsageError(f"the test split has {len(splits.test)} images; at least {MIN_TEST_IMAGES} are needed")
    missing = sorted(set(range(splits.train.num_classes)) - set(splits.train.labels.tolist()))
    if missing:
        raise UsageError(
            f"the training split has no images of class {missing[0]}: give more images or a smaller --test-size"
        )
    return splits
