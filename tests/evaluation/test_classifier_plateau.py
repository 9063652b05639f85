"""`--classifier-epochs auto`: the judging classifier trains until its held-out accuracy stops rising."""

import json

import pytest

from kgan.data import load_dataset
from kgan.judge import classifier as judge
from kgan.judge.classifier import ClassifierSettings, plateau_epochs, resolve_epochs, search_plateau
from tests.conftest import TINY_RUN
from tests.helpers import assert_one_line_error, run_kgan


@pytest.mark.parametrize(
    "accuracies, expected",
    [
        ({10: 0.5}, 10),
        ({10: 0.5, 40: 0.6, 160: 0.61}, 40),  # 160 adds a point: under the two that count
        ({10: 0.5, 40: 0.52, 160: 0.54}, 160),
        ({10: 0.5, 40: 0.49, 160: 0.7}, 10),  # the search never tries 160 after 40 did not pay
        ({160: 0.6, 10: 0.5, 40: 0.55}, 160),  # in order of length, whatever the dict's order
    ],
)
def test_plateau_is_the_length_before_the_first_longer_one_that_did_not_pay(accuracies, expected):
    assert plateau_epochs(accuracies, min_gain=0.02) == expected


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", image_size=16)


def test_search_trains_longer_until_the_held_out_accuracy_stops_rising(digits, monkeypatch):
    monkeypatch.setattr(judge, "PLATEAU_FIRST_EPOCHS", 1)
    monkeypatch.setattr(judge, "PLATEAU_GROWTH", 2)
    monkeypatch.setattr(judge, "PLATEAU_MIN_GAIN", 0.01)
    monkeypatch.setattr(judge, "PLATEAU_MAX_EPOCHS", 8)
    found = search_plateau(digits, ClassifierSettings())
    tried = dict(found["held_out_accuracy"])
    lengths = list(tried)
    assert lengths == [2**index for index in range(len(lengths))]
    assert found["epochs"] == plateau_epochs(tried, min_gain=0.01)
    # It stopped at the first longer training that did not pay, or at the longest length allowed.
    assert lengths[-1] == 2 * found["epochs"] or lengths[-1] * 2 > judge.PLATEAU_MAX_EPOCHS
    assert found["held_out_images"] == round(len(digits) / 8)
    # A small CNN learns 16 px digits, and needs more than one pass for it.
    assert found["epochs"] > 1 and max(tried.values()) > 0.85


def test_resolve_epochs_keeps_numbers_and_caches_the_search(digits, tmp_path, monkeypatch):
    settings = ClassifierSettings(epochs=7)
    assert resolve_epochs(digits, settings, tmp_path) == (settings, None)

    found = {"epochs": 12, "held_out_accuracy": [[6, 0.5], [12, 0.9], [24, 0.9]], "held_out_images": 225}
    monkeypatch.setattr(judge, "search_plateau", lambda train, settings: found)
    auto = ClassifierSettings(epochs="auto")
    said = []
    resolved, plateau = resolve_epochs(digits, auto, tmp_path, said.append)
    assert resolved == ClassifierSettings(epochs=12) and plateau == {**found, "cached": False}
    assert len(said) == 1 and said[0].startswith(f"searching on {len(digits):,} real images")
    (entry,) = (tmp_path / "classifiers" / "plateau").iterdir()
    assert json.loads(entry.read_text()) == found

    def no_search(train, settings):
        raise AssertionError("searched again despite the cache")

    monkeypatch.setattr(judge, "search_plateau", no_search)
    assert resolve_epochs(digits, auto, tmp_path, said.append) == (resolved, {**found, "cached": True})
    assert len(said) == 1  # nothing said when the cache has it
    entry.write_text("{damaged")
    monkeypatch.setattr(judge, "search_plateau", lambda train, settings: {**found, "epochs": 9})
    assert resolve_epochs(digits, auto, tmp_path)[0].epochs == 9
    monkeypatch.setattr(judge, "PLATEAU_MIN_GAIN", 0.03)  # another rule: another cache entry
    monkeypatch.setattr(judge, "search_plateau", lambda train, settings: {**found, "epochs": 40})
    assert resolve_epochs(digits, auto, tmp_path)[0].epochs == 40
    assert len(list((tmp_path / "classifiers" / "plateau").iterdir())) == 2


def test_auto_steps_must_be_resolved_first():
    with pytest.raises(ValueError, match="resolve_epochs"):
        ClassifierSettings(epochs="auto").steps(1000)


def test_evaluate_with_auto_records_the_plateau_and_trains_every_classifier_to_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(judge, "PLATEAU_FIRST_EPOCHS", 1)
    monkeypatch.setattr(judge, "PLATEAU_MAX_EPOCHS", 4)
    result = run_kgan("evaluate", TINY_RUN, "--dataset", "digits", "-n", 100, "--metrics", "fid,cas", "--seeds", 0,
                      "--classifier-epochs", "auto", "--out", tmp_path / "report")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "stops rising" in result.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    plateau = report["classifier"]["plateau"]
    assert plateau["cached"] is False
    assert plateau["epochs"] == plateau_epochs(dict(plateau["held_out_accuracy"]), judge.PLATEAU_MIN_GAIN)
    assert report["settings"]["classifier"]["epochs"] == plateau["epochs"]
    assert report["settings"]["classifier_steps"] == plateau["epochs"] * -(-1572 // 64)


@pytest.mark.parametrize("value", ["0", "ten", "-3"])
def test_classifier_epochs_must_be_a_count_or_auto(value, tmp_path):
    result = run_kgan("evaluate", TINY_RUN, "--dataset", "digits", "--classifier-epochs", value,
                      "--out", tmp_path / "report")  # fmt: skip
    assert "is neither a number of epochs (an integer >= 1) nor auto" in assert_one_line_error(result)
    assert not (tmp_path / "report").exists()
