"""The CLI's defaults are the ones docs/ documents, and a run started with them records them."""

import json
import re

from cli.evaluate import evaluate
from cli.export import export_onnx_command
from cli.main import cli
from cli.train import train
from kgan.evaluation.options import DEFAULT_METRICS
from kgan.formats.onnx_contract import DEFAULT_OPSET
from tests.conftest import ROOT, TINY, train_arguments

# Option: (its default as docs/training.md's option table spells it, the value `kgan train` then receives).
DOCUMENTED_DEFAULTS = {
    "--backend": ("`$KERAS_BACKEND`, else tensorflow; with `--resume`, the run's", None),
    "--dataset": ("`digits`", "digits"),
    "--image-size": ("the dataset's (28 for digits, 64 for image folders)", None),
    "--channels": ("the dataset's", None),
    "--conditional": ("conditional when the data has labels", None),
    "--epochs": ("20", 20),
    "--steps-per-epoch": ("one pass over the data", None),
    "--batch-size": ("64", 64),
    "--latent-dim": ("100", 100),
    "--width": ("64", 64),
    "--d-width": ("`--width`", None),
    "--upsampling": ("`auto`", "auto"),
    "--class-conditioning": ("`input`", "input"),
    "--lr": ("2e-4", 2e-4),
    "--d-lr": ("`--lr`", None),
    "--beta1": ("0.5", 0.5),
    "--beta2": ("0.999", 0.999),
    "--ema": ("on", True),
    "--ema-decay": ("0.999", 0.999),
    "--label-smoothing": ("0", 0.0),
    "--diffaugment": ("none", ""),
    "--generator-forwards": ("1", 1),
    "--loss": ("`nonsaturating`", "nonsaturating"),
    "--r1": ("`auto`", "auto"),
    "--r1-every": ("16", 16),
    "--mode-seeking": ("0", 0.0),
    "--spectral-norm": ("off", False),
    "--seed": ("0", 0),
    "--jit": ("by backend, device and precision", None),
    "--precision": ("`auto`", "auto"),
    "--devices": ("1; with `--resume`, the run's", 1),
    "--coordinator": ("`$JAX_COORDINATOR_ADDRESS`", None),
    "--num-processes": ("`$JAX_NUM_PROCESSES` else 1", None),
    "--process-id": ("`$JAX_PROCESS_ID`", None),
    "--tensorboard": ("off", False),
    "--keep-every": ("off", None),
    "--metric": ("`auto`", "auto"),
    "--keep-best": ("whenever there is a score", None),
    "--metric-every": ("every epoch from 7,500 images per epoch", None),
    "--resume": ("", False),
    "--overwrite": ("", False),
}
# How to run, not what the run is.
NOT_IN_CONFIG = ("backend", "resume", "overwrite", "coordinator", "num_processes", "process_id")
# What a run on 16 px digits makes of the defaults it resolves when it starts.
# TINY's epochs are 2 steps of 16 images: one score per ceil(7,500 / 32) epochs, and the last.
RESOLVED_FOR_16_PX_DIGITS = {"channels": 1, "conditional": True, "upsampling": "pixel_shuffle", "metric": "accuracy",
                             "keep_best": True, "metric_every": 235, "r1": 0.0}  # fmt: skip


def documented_defaults(page):
    """{flag: default} of the option table of docs/`page`; a row of two options ("`--lr`, `--beta1`") gives
    each its part of the default ("2e-4, 0.5")."""
    documented = {}
    for line in (ROOT / "docs" / page).read_text().splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 3 or not cells[0].startswith("`--"):
            continue
        flags = [spelling.strip("`").split()[0].split("/")[0] for spelling in cells[0].split(", ")]
        defaults = cells[1].split(", ") if len(flags) > 1 else [cells[1]]
        documented.update(zip(flags, defaults))
    return documented


def parameter_names():
    """{flag: the name of the parameter `kgan train` receives it as}."""
    return {flag: parameter.name for parameter in train.params for flag in parameter.opts}


def option(command, name):
    return next(parameter for parameter in command.params if parameter.name == name)


def test_train_defaults_are_the_documented_ones():
    documented = documented_defaults("training.md")
    visible = {parameter.opts[0] for parameter in train.params if not getattr(parameter, "hidden", False)}
    assert set(documented) == visible, "docs/training.md's option table lists every option of kgan train"
    assert set(DOCUMENTED_DEFAULTS) == visible - {"--out"}, "a new option's default goes into DOCUMENTED_DEFAULTS"
    received = train.make_context("train", ["--out", "run"]).params  # after click's conversions and callbacks
    names = parameter_names()
    for flag, (spelling, value) in DOCUMENTED_DEFAULTS.items():
        assert documented[flag] == spelling, flag
        assert received[names[flag]] == value, flag
        assert type(received[names[flag]]) is type(value), flag


def test_a_run_with_the_defaults_records_them(runner, tmp_path, monkeypatch):
    """Only what keeps the run tiny is given: config.json holds the documented defaults for the rest, the epoch
    score included."""
    tiny = {name: value for name, value in TINY.items() if name != "metric"}
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path / "cache"))

    result = runner.invoke(cli, ["train", *train_arguments(tiny), "--out", str(tmp_path / "run")])

    assert result.exit_code == 0, result.output
    assert "Score (accuracy) of the last generator" in result.output
    assert (tmp_path / "run" / "generator_best.keras").is_file()
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["train"]
    names = parameter_names()
    for flag, (_, value) in DOCUMENTED_DEFAULTS.items():
        name = names[flag]
        if name in tiny or name in NOT_IN_CONFIG:
            continue
        if name == "precision":  # auto: bfloat16 where this machine computes it fast
            assert recorded[name] in ("float32", "bfloat16")
        else:
            assert recorded[name] == RESOLVED_FOR_16_PX_DIGITS.get(name, value), flag


def test_export_and_evaluate_defaults_are_the_documented_ones():
    assert documented_defaults("export.md")["--opset"] == "`17`"
    assert "(default: 17)" in option(export_onnx_command, "opset").help and DEFAULT_OPSET == 17
    assert documented_defaults("evaluate.md")["--metrics"] == "all but `accuracy` and `inception`"
    metrics_help = option(evaluate, "metrics").help
    assert "among fid,kid,is,prdc,accuracy,cas,augment,inception (default: all but accuracy and inception;" in (
        metrics_help
    )
    assert DEFAULT_METRICS == ("fid", "kid", "is", "prdc", "cas", "augment")
