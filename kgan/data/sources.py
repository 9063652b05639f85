"""Loads `--dataset` specs into an ImageDataset of uint8 images and integer labels."""

import dataclasses
import os
from pathlib import Path

import numpy as np

from kgan import imaging
from kgan.config import SUPPORTED_IMAGE_SIZES, check_image_size
from kgan.data.idx import read_idx
from kgan.data.image_folder import DEFAULT_FOLDER_IMAGE_SIZE, load_image_folder
from kgan.errors import UsageError, first_line

DIGIT_NAMES = [str(digit) for digit in range(10)]
FASHION_NAMES = [
    "t-shirt-top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle-boot",
]  # fmt: skip
CIFAR10_NAMES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip
DOWNLOADABLE = {"mnist": DIGIT_NAMES, "fashion_mnist": FASHION_NAMES, "cifar10": CIFAR10_NAMES}
# What keras.datasets' load_data leaves in its cache (KERAS_HOME, else ~/.keras, else /tmp/.keras):
# when it is there, loading needs no network.
KERAS_CACHED_FILES = {
    "mnist": "datasets/mnist.npz",
    "fashion_mnist": "datasets/fashion-mnist/train-images-idx3-ubyte.gz",
    "cifar10": "datasets/cifar-10-batches-py-target",
}
# Debian's dataset packages (`apt-get install dataset-fashion-mnist`) put the official IDX files here.
SYSTEM_DATASETS = Path("/usr/share/datasets")
SYSTEM_FOLDERS = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}
SYSTEM_PACKAGES = {"fashion_mnist": "dataset-fashion-mnist"}
BUILTIN_DATASETS = ("digits", *DOWNLOADABLE)
DEFAULT_DIGITS_IMAGE_SIZE = 28


@dataclasses.dataclass
class ImageDataset:
    """Images and labels in memory.

    Args:
        images: uint8 array, N x H x W x C.
        labels: int64 array of N class indices, or None for unlabelled data.
        class_names: one name per class ([] when unlabelled).
        name: the dataset spec it came from.
    """

    images: np.ndarray
    labels: np.ndarray | None
    class_names: list
    name: str

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def image_shape(self):
        return tuple(self.images.shape[1:])

    def __len__(self):
        return len(self.images)


def load_dataset(spec, image_size=None, channels=None):
    """Loads a dataset and conforms it to `image_size` x `image_size` x `channels`.

    Args:
        spec: `digits`, `mnist`, `fashion_mnist`, `cifar10`, or a PATH to a folder of IDX
            files, an `.npz` file (`x_train`/`y_train` or `x`/`y`) or an image folder whose
            subfolders are classes.
        image_size: target side length; None keeps a supported native size (64 for
            image folders, 28 for digits).
        channels: 1 or 3; None keeps the native number.
    """
    images, labels, class_names, default_size = _load_raw(str(spec), image_size, channels)
    if len(images) == 0:
        raise UsageError(f"dataset {spec} holds no images")
    if labels is not None:
        labels = _check_labels(spec, images, labels, class_names)
        class_names = class_names or [str(index) for index in range(int(labels.max()) + 1)]
    native = images.shape[1] if images.shape[1] == images.shape[2] else None
    if image_size is None:
        image_size = native if native in SUPPORTED_IMAGE_SIZES else default_size
    check_image_size(image_size)
    images = imaging.convert_channels(images, channels or images.shape[-1])
    if images.shape[1:3] != (image_size, image_size):
        images = resize_images(images, image_size)
    return ImageDataset(np.ascontiguousarray(images), labels, list(class_names or []), str(spec))


def _load_raw(spec, image_size, channels):
    if spec == "digits":
        return (*_load_digits(), DEFAULT_DIGITS_IMAGE_SIZE)
    if spec in DOWNLOADABLE:
        return (*_load_named_dataset(spec), DEFAULT_FOLDER_IMAGE_SIZE)
    path = Path(spec).expanduser()
    if not path.exists():
        raise UsageError(
            f"dataset {spec} not found: give one of {', '.join(BUILTIN_DATASETS)} "
            "or a path to an IDX folder, an .npz file or an image folder"
        )
    if path.is_file():
        if path.suffix != ".npz":
            raise UsageError(f"dataset file {path} is not an .npz; give an .npz or a folder")
        return (*_load_npz(path), DEFAULT_FOLDER_IMAGE_SIZE)
    if _idx_files(path, "idx3"):
        return (*_load_idx_folder(path), DEFAULT_FOLDER_IMAGE_SIZE)
    return (*load_image_folder(path, channels, image_size), DEFAULT_FOLDER_IMAGE_SIZE)


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise UsageError(
            "the digits dataset needs scikit-learn: pip install 'kgan[all]' or scikit-learn"
        ) from error
    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    return images, digits.target.astype(np.int64), DIGIT_NAMES


def _load_named_dataset(name):
    """A downloadable dataset's training split: keras's cache, else the system's copy, else a download."""
    system_folder = SYSTEM_DATASETS / SYSTEM_FOLDERS[name] if name in SYSTEM_FOLDERS else None
    if not _in_keras_cache(name) and system_folder is not None and system_folder.is_dir() \
            and _idx_files(system_folder, "idx3"):
        images, labels, _ = _load_idx_folder(system_folder)
        if labels is None:
            raise UsageError(f"{system_folder} has images but no labels file: reinstall its package")
        return images, labels, DOWNLOADABLE[name]
    return _load_keras_dataset(name)


def _in_keras_cache(name):
    homes = [Path(os.environ["KERAS_HOME"])] if os.environ.get("KERAS_HOME") else [Path.home() / ".keras"]
    homes.append(Path("/tmp/.keras"))  # where keras caches when the home folder is not writable
    return any((home / KERAS_CACHED_FILES[name]).exists() for home in homes)


def _load_keras_dataset(name):
    import keras

    try:
        (images, labels), _ = getattr(keras.datasets, name).load_data()
    except Exception as error:  # keras raises bare Exception on download failures
        package = SYSTEM_PACKAGES.get(name)
        system_copy = f"apt-get install {package} (Debian), or " if package else ""
        raise UsageError(
            f"could not load {name} through keras' download cache ({first_line(error)}); "
            f"when offline, {system_copy}pass a local copy instead: --dataset PATH (IDX folder, .npz or image folder)"
        ) from error
    if images.ndim == 3:
        images = images[..., None]
    return images.astype(np.uint8), labels.reshape(-1).astype(np.int64), DOWNLOADABLE[name]


def _idx_files(folder, kind):
    return sorted(
        path for path in folder.iterdir()
        if path.is_file() and kind in path.name and not path.name.startswith(".")
    )  # fmt: skip


def _load_idx_folder(folder):
    image_files = _prefer_train(_idx_files(folder, "idx3"), folder, "IDX image")
    label_files = _idx_files(folder, "idx1")
    twin = image_files.name.replace("idx3", "idx1").replace("images", "labels")
    matching = [path for path in label_files if path.name == twin]
    label_file = matching[0] if matching else (label_files[0] if len(label_files) == 1 else None)
    images = read_idx(image_files)
    if images.ndim != 3:
        raise UsageError(f"{image_files} holds arrays of shape {images.shape[1:]}, not 2-D images")
    labels = read_idx(label_file).astype(np.int64) if label_file else None
    return images.astype(np.uint8)[..., None], labels, []


def _prefer_train(paths, folder, what):
    if len(paths) == 1:
        return paths[0]
    train = [path for path in paths if "train" in path.name]
    if len(train) == 1:
        return train[0]
    names = ", ".join(path.name for path in paths)
    raise UsageError(f"{folder} holds several {what} files ({names}); keep one per folder")


def _load_npz(path):
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = dict(archive)
    except Exception as error:
        raise UsageError(f"cannot read {path} as .npz: {first_line(error)}") from error
    for x_key, y_key in (("x_train", "y_train"), ("x", "y")):
        if x_key in arrays:
            images, labels = arrays[x_key], arrays.get(y_key)
            break
    else:
        raise UsageError(f"{path} has no x_train or x array (it has: {', '.join(arrays) or 'none'})")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise UsageError(f"{path}: images must be N x H x W or N x H x W x C (C 1 or 3), got {images.shape}")
    names = arrays.get("class_names")
    if names is not None and (names.ndim != 1 or names.dtype.kind != "U"):
        raise UsageError(f"{path}: class_names must be a 1-D array of strings, got {names.dtype} {names.shape}")
    class_names = [] if names is None else names.tolist()
    return _as_uint8(images, path), None if labels is None else labels.reshape(-1), class_names


def _as_uint8(images, source):
    if images.dtype == np.uint8:
        return images
    images = images.astype(np.float64)
    if not np.isfinite(images).all():
        raise UsageError(f"{source}: images contain NaN or infinite values")
    low, high = images.min(), images.max()
    if low < 0 or high > 255:
        raise UsageError(f"{source}: pixel values must lie in [0, 1] or [0, 255], found [{low}, {high}]")
    scale = 255.0 if high <= 1.0 else 1.0
    return np.rint(images * scale).astype(np.uint8)


def _check_labels(spec, images, labels, class_names):
    labels = np.asarray(labels)
    if len(labels) != len(images):
        raise UsageError(f"dataset {spec} has {len(images)} images but {len(labels)} labels")
    if labels.dtype.kind not in "iu" or labels.min() < 0:
        raise UsageError(f"dataset {spec}: labels must be non-negative integers")
    if class_names and labels.max() >= len(class_names):
        raise UsageError(f"dataset {spec}: label {labels.max()} is out of range for {len(class_names)} classes")
    return labels.astype(np.int64)


def resize_images(images, image_size):
    """Resizes N x H x W x C uint8 images to image_size x image_size (Lanczos, via pillow)."""
    from PIL import Image

    resized = np.empty((len(images), image_size, image_size, images.shape[-1]), np.uint8)
    for index, image in enumerate(images):
        pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        array = np.asarray(pil.resize((image_size, image_size), Image.Resampling.LANCZOS))
        resized[index] = array.reshape(image_size, image_size, -1)
    return resized
