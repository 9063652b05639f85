"""`kgan evaluate`: how good are a generator's images, and do they help a classifier?

    from kgan.evaluation import EvaluationSettings, evaluate, load_real_splits, open_generator

    source = open_generator("runs/mnist")                  # or "mnist.onnx"
    splits = load_real_splits("mnist", source.image_shape)  # last 1/8 of each class held out
    evaluation = evaluate(source, splits, EvaluationSettings(seeds=(0, 1, 2)))
    evaluation.report["metrics"]["fid"]                     # {"generated": ..., "real": ...}

Scores are computed in the feature space of a small reference CNN trained on the real
training split (kgan.judge.classifier), next to the same scores of held-out real
images; the metric math itself is kgan.metrics. The names below load on first use, so
`kgan.evaluation.options` can be read without keras.
"""

import importlib

_EXPORTS = {
    "ClassifierSettings": "kgan.judge.classifier",
    "Evaluation": "kgan.evaluation.pipeline",
    "EvaluationSettings": "kgan.evaluation.pipeline",
    "evaluate": "kgan.evaluation.pipeline",
    "format_table": "kgan.evaluation.report",
    "load_real_splits": "kgan.evaluation.real_data",
    "open_generator": "kgan.evaluation.sources",
    "summary_rows": "kgan.evaluation.report",
    "write_report": "kgan.evaluation.report",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
