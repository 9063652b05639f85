"""The CLI spells no library constant of its own: its defaults and choices are the library's."""

import dataclasses

from cli.evaluate import evaluate
from cli.export import export_onnx_command
from cli.train import train
from kgan.config import PRECISIONS, UPSAMPLING_CHOICES, TrainConfig
from kgan.evaluation.options import METRICS
from kgan.formats.onnx_contract import DEFAULT_OPSET


def option(command, name):
    return next(parameter for parameter in command.params if parameter.name == name)


def test_train_defaults_are_train_configs():
    defaults = TrainConfig()
    for field in dataclasses.fields(TrainConfig):
        if field.name in ("epochs", "batch_size", "latent_dim", "width", "d_width", "upsampling", "lr", "beta_1",
                          "ema", "ema_decay", "label_smoothing", "diffaugment", "seed", "tensorboard",
                          "keep_every", "precision"):  # fmt: skip
            assert option(train, field.name).default == getattr(defaults, field.name), field.name
    assert tuple(option(train, "upsampling").type.choices) == UPSAMPLING_CHOICES
    assert tuple(option(train, "precision").type.choices) == PRECISIONS


def test_export_and_evaluate_show_the_librarys_names():
    assert f"(default: {DEFAULT_OPSET})" in option(export_onnx_command, "opset").help
    assert ",".join(METRICS) in option(evaluate, "metrics").help
