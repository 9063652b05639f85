"""The kgan ONNX generator contract (docs/onnx-contract.md): names, metadata keys, reader and writer.

`kgan export onnx` writes files with `metadata_props`; `kgan.runtime` reads them with
`read_metadata`. Neither spells a name or key of its own. No keras, no onnx.
"""

import dataclasses
import json

import kgan
from kgan.errors import UsageError

LATENT_INPUT = "z"  # float32 [N, latent_dim]
LABEL_INPUT = "label"  # int64 [N], conditional generators only
IMAGE_OUTPUT = "image"  # float32 [N, H, W, C] in [-1, 1], or uint8 in [0, 255]
DEFAULT_OPSET = 17  # converted and run fine by tf2onnx, jax2onnx and onnxruntime >= 1.18
FLOAT_RANGE = (-1, 1)
UINT8_RANGE = (0, 255)

PREFIX = "kgan."
VERSION = PREFIX + "version"
LATENT_DIM = PREFIX + "latent_dim"
NUM_CLASSES = PREFIX + "num_classes"
CLASS_NAMES = PREFIX + "class_names"
IMAGE_SHAPE = PREFIX + "image_shape"
CHANNEL_ORDER = PREFIX + "channel_order"
VALUE_RANGE = PREFIX + "value_range"
DATASET = PREFIX + "dataset"
TRAINING_CONFIG = PREFIX + "training_config"
TEMPERATURE = PREFIX + "temperature"  # the sampling temperature readers use unless told otherwise
MEMBERS = PREFIX + "members"  # how many generators a mixture holds (z's last that many entries choose one)
DEFAULT_TEMPERATURE = 1.0


def input_names(conditional):
    """The graph's input names, in order."""
    return (LATENT_INPUT, LABEL_INPUT) if conditional else (LATENT_INPUT,)


@dataclasses.dataclass(frozen=True)
class GeneratorMetadata:
    """What a kgan ONNX file says about its generator.

    Attributes:
        latent_dim: size of z.
        num_classes: number of classes; 0 for an unconditional generator.
        class_names: one name per class, or an empty tuple when unnamed.
        image_shape: (H, W, C) of one image.
        value_range: (low, high) of the `image` output's values.
        temperature: the standard deviation of z to sample with unless told otherwise,
            chosen on held-out data when it is not 1.
        members: how many generators the file mixes (1: a single generator); the last
            `members` entries of z (counted in latent_dim) choose which one makes each image.
    """

    latent_dim: int
    num_classes: int
    class_names: tuple
    image_shape: tuple
    value_range: tuple = FLOAT_RANGE
    temperature: float = DEFAULT_TEMPERATURE
    members: int = 1


def metadata_props(metadata, dataset, training_config):
    """The file's metadata_props, as strings.

    Args:
        metadata: a GeneratorMetadata.
        dataset: the --dataset the generator was trained on.
        training_config: the run's config.json, as a dict.
    """
    return {
        VERSION: kgan.__version__,
        LATENT_DIM: str(metadata.latent_dim),
        NUM_CLASSES: str(metadata.num_classes),
        CLASS_NAMES: json.dumps(list(metadata.class_names)),
        IMAGE_SHAPE: json.dumps(list(metadata.image_shape)),
        CHANNEL_ORDER: "L" if metadata.image_shape[-1] == 1 else "RGB",
        VALUE_RANGE: json.dumps(list(metadata.value_range)),
        TEMPERATURE: repr(float(metadata.temperature)),
        MEMBERS: str(metadata.members),
        DATASET: str(dataset),
        TRAINING_CONFIG: json.dumps(training_config),
    }


def read_metadata(props, source):
    """Parses and checks a file's metadata_props.

    Args:
        props: the metadata_props, a mapping of strings.
        source: the file's name, for error messages.

    Raises:
        UsageError: when the props are missing, broken or inconsistent.
    """
    if not any(key.startswith(PREFIX) for key in props):
        raise UsageError(f"{source} was not exported by kgan export onnx (no {PREFIX}* metadata_props)")
    try:
        low, high = json.loads(props.get(VALUE_RANGE, json.dumps(FLOAT_RANGE)))
        metadata = GeneratorMetadata(
            latent_dim=int(props[LATENT_DIM]),
            num_classes=int(props[NUM_CLASSES]),
            class_names=tuple(json.loads(props.get(CLASS_NAMES, "[]"))),
            image_shape=tuple(int(size) for size in json.loads(props[IMAGE_SHAPE])),
            value_range=(float(low), float(high)),
            temperature=float(props.get(TEMPERATURE, DEFAULT_TEMPERATURE)),
            members=int(props.get(MEMBERS, 1)),
        )
    except (KeyError, ValueError, TypeError) as error:
        broken = f"{type(error).__name__}: {error}"
        raise UsageError(f"{source} has broken kgan metadata ({broken}): re-export it") from error
    if not metadata.temperature > 0:  # also rejects NaN
        raise UsageError(f"{source} has broken kgan metadata (temperature {metadata.temperature}): re-export it")
    if not 1 <= metadata.members < metadata.latent_dim:
        raise UsageError(
            f"{source} has broken kgan metadata ({metadata.members} members for latent_dim {metadata.latent_dim}): "
            "re-export it"
        )
    names = metadata.class_names
    if len(metadata.image_shape) != 3 or names and len(names) != metadata.num_classes:
        raise UsageError(
            f"{source} has inconsistent kgan metadata (image_shape {list(metadata.image_shape)}, "
            f"{metadata.num_classes} classes, {len(names)} class names): re-export it"
        )
    return metadata
