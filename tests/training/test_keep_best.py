"""`kgan train --metric NAME --keep-best`: every epoch scored, the best generator kept, through resume and export."""

import keras
import numpy as np
import pytest

from kgan.config import TrainConfig
from kgan.errors import KganError, UsageError
from kgan.evaluation.sources import open_generator
from kgan.formats import run_folder
from kgan.judge.epoch_score import EpochScorer, resolve_metric
from kgan.metrics.registry import METRICS
from kgan.training import run as training_run
from kgan.training.builder import prepare_data
from kgan.training.run import resume_run, start_run
from tests.conftest import TINY
from tests.helpers import assert_one_line_error, run_kgan


@pytest.fixture(scope="session")
def classifier_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("classifiers")


@pytest.fixture(autouse=True)
def shared_classifier_cache(monkeypatch, classifier_cache):
    """One cache for the session: the digits classifier of --metric trains once."""
    monkeypatch.setenv("KGAN_CACHE_DIR", str(classifier_cache))


class ScriptedScorer:
    """Stands in for EpochScorer: the scores of a metric, one per epoch, in a given order."""

    def __init__(self, scores, metric="kid"):
        self.metric = METRICS[metric]
        self.num_images = 20
        self.scores = iter(scores)

    def score(self, images, labels):
        assert images.dtype == np.uint8 and len(images) == len(labels) == self.num_images
        return next(self.scores)


def scripted(monkeypatch, scores, metric="kid"):
    monkeypatch.setattr(training_run, "EpochScorer", lambda dataset, name, **_: ScriptedScorer(scores, metric))


def weights(path):
    return keras.saving.load_model(path, compile=False).get_weights()


def assert_same_weights(path, other):
    for mine, theirs in zip(weights(path), weights(other), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def config(**overrides):
    return TrainConfig(**{**TINY, "metric": "kid", "keep_best": True, "keep_every": 1, "metric_every": 1, **overrides})


@pytest.mark.parametrize("metric, scores, best", [("kid", [3.0, 1.0, 2.0], 2), ("accuracy", [0.2, 0.1, 0.3], 3)])
def test_keeps_the_generator_of_the_best_scored_epoch(tmp_path, monkeypatch, metric, scores, best):
    scripted(monkeypatch, scores, metric)
    run_dir = tmp_path / "run"
    result = start_run(config(epochs=3, metric=metric), run_dir, verbose=0)
    assert result.best_epoch == best
    assert_same_weights(run_dir / "generator_best.keras", run_folder.snapshot_path(run_dir, best))
    lines = run_folder.read_metric_log(run_dir, metric)
    assert [line["value"] for line in lines] == scores
    assert [line["best"] for line in lines] == [epoch == best for epoch in (1, 2, 3)]
    assert lines[0]["snapshot"] == "snapshots/generator_epoch_001.keras" and lines[0]["images"] == 20
    assert [row[metric] for row in result.history] == scores  # history.csv has the column too
    assert f"{metric},metric_seconds" in (run_dir / "history.csv").read_text().splitlines()[0]
    exported = run_kgan("export", "onnx", run_dir)  # the last generator, and a word on the best when it differs
    assert exported.exit_code == 0, exported.output
    mentioned = f"also keeps the generator of epoch {best}, its best by {metric}"
    assert (mentioned in exported.output) == (best != 3), exported.output


def test_resume_keeps_the_best_and_restores_it_from_the_checkpoint(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    scripted(monkeypatch, [1.0, 2.0])
    start_run(config(epochs=2), run_dir, verbose=0)
    best_weights = weights(run_dir / "generator_best.keras")
    # A run killed after its checkpoint but before generator_best.keras was written (here: lost) gets it back.
    (run_dir / "generator_best.keras").unlink()
    scripted(monkeypatch, [5.0])
    result = resume_run(run_dir, verbose=0, epochs=3)
    assert result.best_epoch == 1
    for restored, kept in zip(weights(run_dir / "generator_best.keras"), best_weights, strict=True):
        np.testing.assert_array_equal(restored, kept)
    assert [line["best"] for line in run_folder.read_metric_log(run_dir, "kid")] == [True, False, False]
    scripted(monkeypatch, [0.5])
    assert resume_run(run_dir, verbose=0, epochs=4).best_epoch == 4
    assert_same_weights(run_dir / "generator_best.keras", run_folder.snapshot_path(run_dir, 4))


def test_a_real_score_ranks_epochs_and_export_and_evaluate_read_the_kept_generator(tmp_path):
    run_dir = tmp_path / "run"
    result = start_run(config(epochs=2), run_dir, verbose=0)
    lines = run_folder.read_metric_log(run_dir, "kid")
    values = [line["value"] for line in lines]
    assert len(values) == 2 and all(np.isfinite(values))
    assert result.best_epoch == 1 + int(np.argmin(values))
    assert_same_weights(run_dir / "generator_best.keras", run_folder.snapshot_path(run_dir, result.best_epoch))
    assert open_generator(run_dir, "best").describe()["file"] == "generator_best.keras"
    exported = run_kgan("export", "onnx", run_dir, "--epoch", "best")
    assert exported.exit_code == 0, exported.output
    assert (run_dir / "run-best.onnx").is_file()


def test_the_epoch_scorer_scores_real_images_better_than_noise():
    from kgan.data import load_dataset

    digits = load_dataset("digits", 16, 1)
    scorer = EpochScorer(digits, "accuracy")
    real = scorer.score(digits.images[:200], digits.labels[:200])
    noise = np.random.default_rng(0).integers(0, 256, (200, 16, 16, 1), dtype=np.uint8)
    assert real > 0.8 > scorer.score(noise, digits.labels[:200])
    with pytest.raises(KganError, match="cannot score this epoch's generator with kid"):
        EpochScorer(digits, "kid").score(digits.images[:1], digits.labels[:1])


def test_the_epoch_scorer_says_when_its_classifier_trains_and_not_when_it_comes_from_the_cache(tmp_path):
    from kgan.data import load_dataset

    digits, said = load_dataset("digits", 16, 1), []
    EpochScorer(digits, "kid", cache_dir=tmp_path, progress=said.append)
    assert len(said) == 1 and said[0].startswith("Scoring epochs by kid: training a classifier on"), said
    assert str(tmp_path) in said[0]
    EpochScorer(digits, "kid", cache_dir=tmp_path, progress=said.append)
    assert len(said) == 1


def test_a_run_passes_the_scoring_classifier_s_progress_to_stderr_unless_silent(tmp_path, monkeypatch, capsys):
    def scorer(dataset, name, progress=None):
        if progress:
            progress("Scoring epochs by kid: training a classifier")
        return ScriptedScorer([1.0])

    monkeypatch.setattr(training_run, "EpochScorer", scorer)
    start_run(config(epochs=1), tmp_path / "silent", verbose=0)
    assert "training a classifier" not in capsys.readouterr().err
    start_run(config(epochs=1), tmp_path / "told", verbose=2)
    assert "Scoring epochs by kid: training a classifier" in capsys.readouterr().err


@pytest.mark.parametrize("labelled, conditional, expected", [
    (True, True, ("accuracy", True)),  # ranked epochs closest to CAS
    (True, False, ("kid", True)),  # no class to check an unconditional image against
    (False, False, (None, False)),  # nothing to train the scoring classifier on
])  # fmt: skip
def test_the_automatic_metric_is_the_one_the_data_allows(labelled, conditional, expected):
    assert resolve_metric("auto", None, labelled, conditional) == expected
    assert resolve_metric("auto", False, labelled, conditional) == (expected[0], False)
    assert resolve_metric(None, None, labelled, conditional) == (None, False)


def test_keep_best_without_labels_and_an_unusable_metric_are_usage_errors():
    with pytest.raises(UsageError, match="--keep-best ranks the generators by a score .* this dataset has no labels"):
        resolve_metric("auto", True, False, False)
    with pytest.raises(UsageError, match="--metric accuracy needs a conditional generator"):
        resolve_metric("accuracy", None, True, False)


def test_a_run_resolves_auto_and_records_what_it_resolved_to():
    _, conditional = prepare_data(TrainConfig(**{**TINY, "metric": "auto"}))
    _, unconditional = prepare_data(TrainConfig(**{**TINY, "metric": "auto", "conditional": False}))
    _, unscored = prepare_data(TrainConfig(**TINY))
    assert (conditional.metric, conditional.keep_best, conditional.metric_every) == ("accuracy", True, 235)
    assert (unconditional.metric, unconditional.keep_best) == ("kid", True)
    assert (unscored.metric, unscored.keep_best, unscored.metric_every) == (None, False, None)
    assert TrainConfig.from_dict(unconditional.to_dict()) == unconditional


def test_a_run_on_images_without_labels_trains_unscored_and_refuses_keep_best(tmp_path):
    images = tmp_path / "unlabelled.npz"
    np.savez(images, x=np.random.default_rng(0).integers(0, 256, (32, 16, 16, 1), dtype=np.uint8))
    arguments = ["--dataset", images, "--epochs", 1, "--width", 4, "--latent-dim", 8, "--batch-size", 16]

    result = run_kgan("train", *arguments, "--out", tmp_path / "run")

    assert result.exit_code == 0, result.output
    recorded = run_folder.read_config(tmp_path / "run")
    assert (recorded.metric, recorded.keep_best, recorded.metric_every) == (None, False, None)
    assert not list((tmp_path / "run").glob("metric-*.jsonl")) and "Score" not in result.output
    line = assert_one_line_error(run_kgan("train", *arguments, "--keep-best", "--out", tmp_path / "kept"))
    assert "--keep-best ranks the generators by a score" in line and "this dataset has no labels" in line


def test_metric_every_scores_every_nth_epoch_and_the_last(tmp_path, monkeypatch):
    scripted(monkeypatch, [2.0, 1.0])
    run_dir = tmp_path / "run"
    result = start_run(config(epochs=3, metric_every=2), run_dir, verbose=0)
    assert [line["epoch"] for line in run_folder.read_metric_log(run_dir, "kid")] == [2, 3]
    assert ["kid" in row for row in result.history] == [False, True, True]
    assert result.best_epoch == 3
    assert_same_weights(run_dir / "generator_best.keras", run_dir / "generator.keras")


def test_keep_best_needs_a_metric():
    with pytest.raises(UsageError, match="keep-best ranks the generators by a metric: give one too, e.g. --metric kid"):
        TrainConfig(**{**TINY, "keep_best": True})


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metric", "none", "--keep-best"], "keep-best ranks the generators by a metric"),
        (["--metric", "accuracy", "--unconditional"], "--metric accuracy needs a conditional generator"),
        (["--metric", "prdc"], "Invalid value for '--metric'"),
    ],
)
def test_bad_metric_options_are_one_line_errors(tmp_path, args, message):
    run_dir = tmp_path / "run"
    result = run_kgan("train", "--dataset", "digits", "--image-size", 16, "--epochs", 1, *args, "--out", run_dir)
    assert message in assert_one_line_error(result)
    assert not run_dir.exists()


def test_the_best_generator_must_be_there_and_epoch_must_be_one(tmp_path, monkeypatch):
    scripted(monkeypatch, [1.0])
    run_dir = tmp_path / "run"
    start_run(TrainConfig(**TINY), run_dir, verbose=0)
    line = assert_one_line_error(run_kgan("export", "onnx", run_dir, "--epoch", "best"))
    assert "has no generator_best.keras: it keeps one when trained on labelled images without --metric none" in line
    assert "'soon' is neither an epoch" in assert_one_line_error(run_kgan("export", "onnx", run_dir, "--epoch", "soon"))
    onnx = tmp_path / "g.onnx"
    assert run_kgan("export", "onnx", run_dir, "-o", onnx).exit_code == 0
    line = assert_one_line_error(run_kgan("evaluate", onnx, "--epoch", "best", "--dataset", "digits", "--out",
                                          tmp_path / "report"))  # fmt: skip
    assert "--epoch chooses a generator of a RUN_DIR" in line
