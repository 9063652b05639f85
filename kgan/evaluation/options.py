"""The options of `kgan evaluate`: metric names, seeds and k values, parsed and checked (no keras).

The CLI builds its help from these names, so they are spelled here once.
"""

import numpy as np

from kgan.errors import UsageError
from kgan.metrics.registry import METRICS as FEATURE_SPACE

FEATURE_METRICS = tuple(FEATURE_SPACE)  # scored in the reference classifier's feature space
METRICS = (*FEATURE_METRICS, "cas", "augment", "inception")
DEFAULT_METRICS = ("fid", "kid", "is", "prdc", "cas", "augment")
NEEDS_LABELS = (*(name for name, metric in FEATURE_SPACE.items() if metric.needs_labels), "cas", "augment")
ALL = "all"  # the k of the augmentation study that takes every real image


def parse_metrics(text, conditional):
    """Parses --metrics; None gives the defaults that apply to the generator.

    Args:
        text: comma-separated names among METRICS, or None.
        conditional: whether the generator takes labels (CAS and augmentation need it).

    Returns:
        A tuple of metric names.
    """
    if text is None:
        return tuple(name for name in DEFAULT_METRICS if conditional or name not in NEEDS_LABELS)
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in METRICS]
    if unknown or not names:
        raise UsageError(f"unknown metric {unknown[0] if unknown else text!r}: choose from {','.join(METRICS)}")
    if not conditional and set(names) & set(NEEDS_LABELS):
        raise UsageError(
            f"{', '.join(NEEDS_LABELS)} need a conditional generator (its labels); this one is unconditional"
        )
    return tuple(dict.fromkeys(names))


def parse_seeds(text):
    """Parses --seeds, e.g. "0,1,2", into a tuple of distinct non-negative ints."""
    tokens = [token.strip() for token in text.split(",")]
    if not all(token.isdigit() for token in tokens) or len(set(tokens)) != len(tokens):
        raise UsageError(f"--seeds takes distinct non-negative integers, comma-separated (e.g. 0,1,2), not {text!r}")
    return tuple(int(token) for token in tokens)


def parse_k(text):
    """Parses --k, e.g. "10,100,all", into a tuple of positive ints and "all".

    Args:
        text: comma-separated positive integers or "all".
    """
    values = []
    for token in (token.strip() for token in text.split(",")):
        if token == ALL:
            values.append(ALL)
        elif token.isdigit() and int(token) > 0:
            values.append(int(token))
        else:
            raise UsageError(f"--k takes positive integers or 'all', comma-separated (e.g. 10,100,all), not {token!r}")
    if len(set(values)) != len(values):
        raise UsageError(f"--k lists a value twice: {text}")
    return tuple(values)


def check_k(values, train):
    """Raises UsageError when a k exceeds the smallest class of the training split.

    Args:
        values: parsed --k values.
        train: the real training split, an ImageDataset.
    """
    smallest = int(np.bincount(train.labels, minlength=train.num_classes).min())
    too_big = [k for k in values if k != ALL and k > smallest]
    if too_big:
        raise UsageError(
            f"--k {too_big[0]} is more than the smallest class of the training split ({smallest} images): "
            "use a smaller k or 'all'"
        )
