"""`kgan evaluate`: how good are a generator's images, and do they help a classifier? (imports keras)

    from kgan.evaluation import EvaluationSettings, evaluate, load_real_splits, open_generator

    source = open_generator("runs/mnist")                  # or "mnist.onnx"
    splits = load_real_splits("mnist", source.image_shape)  # last 1/8 of each class held out
    evaluation = evaluate(source, splits, EvaluationSettings(seeds=(0, 1, 2)))
    evaluation.report["metrics"]["fid"]                     # {"generated": ..., "real": ...}

Scores are computed in the feature space of a small reference CNN trained on the real
training split (kgan.evaluation.classifier), next to the same scores of held-out real
images; the metric math itself is kgan.metrics.
"""

from kgan.evaluation.classifier import ClassifierSettings
from kgan.evaluation.pipeline import Evaluation, EvaluationSettings, evaluate
from kgan.evaluation.real_data import load_real_splits
from kgan.evaluation.report import format_table, summary_rows, write_report
from kgan.evaluation.sources import open_generator

__all__ = [
    "ClassifierSettings",
    "Evaluation",
    "EvaluationSettings",
    "evaluate",
    "format_table",
    "load_real_splits",
    "open_generator",
    "summary_rows",
    "write_report",
]
