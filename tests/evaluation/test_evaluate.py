"""`kgan evaluate` and kgan.evaluation, on the tiny 16x16 digits run of tests/fixtures and tiny classifiers."""

import json
import math
import os

import numpy as np
import pytest

from kgan.data import ImageDataset, load_dataset
from kgan.data.splits import held_out_mask
from kgan.errors import UsageError
from kgan.evaluation.augmentation import augmentation_gain, per_class_subset
from kgan.evaluation.cas import classification_accuracy_score
from kgan.evaluation.inception import INCEPTION_SIZE, inception_inputs
from kgan.evaluation.memorisation import nearest_neighbours, pixel_vectors
from kgan.evaluation.options import parse_k
from kgan.evaluation.real_data import RealSplits
from kgan.evaluation.scores import over_runs
from kgan.judge.classifier import ClassifierSettings
from tests.conftest import ROOT, TINY_RUN
from tests.helpers import assert_one_line_error, drawn_by_matplotlib, modules_loaded_by, run_kgan

FAST = ("--classifier-epochs", 1, "--seeds", 0)
FIGURES = ["augmentation.png", "memorisation.png", "metrics.png", "samples.png"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("cache")
        patch.setenv("KGAN_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="module")
def run_dir():
    """A conditional 16x16 digits run folder, trained for 200 steps (tests/fixtures/make_fixtures.py)."""
    return TINY_RUN


@pytest.fixture(scope="module")
def full(run_dir, cache_dir, tmp_path_factory):
    """One evaluation with every default metric; (click result, report folder)."""
    out = tmp_path_factory.mktemp("evaluation") / "report"
    umask = os.umask(0o022)
    try:
        return run_kgan("evaluate", run_dir, "--dataset", "digits", "-n", 200, "--k", 10, *FAST, "--out", out), out
    finally:
        os.umask(umask)


def read_report(out):
    return json.loads((out / "report.json").read_text())


def test_report_json_figures_and_summary_table(full, run_dir):
    result, out = full
    assert result.exit_code == 0, result.output
    report = read_report(out)
    assert sorted(path.name for path in out.iterdir()) == sorted(["report.json", *FIGURES])
    assert (out / "report.json").stat().st_mode & 0o777 == 0o644  # ordinary, not mkstemp's 0600
    assert report["figures"] == FIGURES
    assert all(drawn_by_matplotlib((out / name).read_bytes()) for name in FIGURES)
    assert report["generator"] == {
        "path": str(run_dir), "kind": "run", "file": "generator.keras", "image_shape": [16, 16, 1], "num_classes": 10,
        "class_names": [str(digit) for digit in range(10)],
    }  # fmt: skip
    assert report["data"]["split"] == "last 1/8 of each class"
    assert (report["data"]["train_images"], report["data"]["test_images"]) == (1572, 225)
    settings = report["settings"]
    assert (settings["num_samples"], settings["scored_samples"], settings["seeds"]) == (200, 200, [0])
    assert settings["classifier"]["epochs"] == 1 and settings["classifier_steps"] == math.ceil(1572 / 64)
    assert report["classifier"]["cached"] is False and 0.2 < report["classifier"]["test_accuracy"] <= 1
    # The classifier never sees the scoring reference, a test-sized slice of the training split.
    assert report["data"]["reference_images"] == 225 and report["classifier"]["training_images"] == 1572 - 225

    metrics = report["metrics"]
    feature_scores = ["fid", "kid", "is", "precision", "recall", "density", "coverage"]
    assert sorted(metrics) == sorted([*feature_scores, "cas", "augmentation"])
    for name in feature_scores:
        assert set(metrics[name]) == {"generated", "real"}
    # Held-out real digits sit much closer to the real training digits than a 200-step GAN's samples.
    assert metrics["fid"]["real"] < metrics["fid"]["generated"]
    assert set(metrics["kid"]["real"]) == {"mean", "std"}
    assert len(metrics["cas"]["generated"]["runs"]) == len(metrics["cas"]["real"]["runs"]) == 1
    # A real-data classifier trained for as many steps as the CAS one beats a 200-step GAN's samples.
    assert metrics["cas"]["real"]["mean"] > metrics["cas"]["generated"]["mean"]
    (augmentation,) = metrics["augmentation"]
    assert augmentation["k"] == 10 and set(augmentation) == {"k", "real", "augmented", "gain"}
    gain = augmentation["augmented"]["mean"] - augmentation["real"]["mean"]
    assert augmentation["gain"]["mean"] == pytest.approx(gain)
    for space in ("pixel", "feature"):
        check = report["memorisation"][space]
        assert len(check["pairs"]) == 10 and check["median_distance"]["real"] > 0

    assert "classifier accuracy" in result.stdout and "FID (classifier)" in result.stdout
    assert "augment k=10" in result.stdout and "CAS" in result.stdout
    assert "reference classifier: training a classifier on 1,347 real images" in result.stderr  # progress: stderr


def test_reference_classifier_is_cached_and_reused(full, run_dir, cache_dir, tmp_path):
    first = read_report(full[1])
    result = run_kgan("evaluate", run_dir, "--dataset", "digits", "-n", 50, "--metrics", "fid", *FAST,
                      "--out", tmp_path / "again")  # fmt: skip
    assert result.exit_code == 0, result.output
    second = read_report(tmp_path / "again")
    assert second["classifier"]["cached"] is True and "reference classifier" not in result.stderr
    assert second["classifier"]["cache_key"] == first["classifier"]["cache_key"]
    assert second["classifier"]["test_accuracy"] == pytest.approx(first["classifier"]["test_accuracy"])
    assert sorted(second["metrics"]) == ["fid"] and "augmentation.png" not in second["figures"]
    entry = cache_dir / "classifiers" / first["classifier"]["cache_key"]
    assert sorted(path.name for path in entry.iterdir()) == ["classifier.keras", "meta.json"]


def test_onnx_generator_against_a_separate_test_dataset(full, tmp_path):
    pytest.importorskip("onnx")
    from onnx import save

    from tests.runtime.data.make_fixtures import build

    # exported with a sampling temperature: evaluate uses it when --temperature is not given
    save(build(8, (16, 16, 1), class_names=[str(digit) for digit in range(10)], temperature=1.2),
         tmp_path / "digits.onnx")  # fmt: skip
    # The default split of the full run, as two files: the same training images hit the classifier cache.
    digits = load_dataset("digits", 16, 1)
    is_test = held_out_mask(digits.labels, 225)
    np.savez(tmp_path / "train.npz", x=digits.images[~is_test], y=digits.labels[~is_test])
    np.savez(tmp_path / "test.npz", x=digits.images[is_test], y=digits.labels[is_test])
    result = run_kgan("evaluate", tmp_path / "digits.onnx", "--dataset", tmp_path / "train.npz",
                      "--test-dataset", tmp_path / "test.npz", "--metrics", "fid,kid,is,prdc", "-n", 100, *FAST,
                      "--out", tmp_path / "out")  # fmt: skip
    assert result.exit_code == 0, result.output
    report, first = read_report(tmp_path / "out"), read_report(full[1])
    assert report["generator"]["kind"] == "onnx"
    assert report["data"]["split"] == f"all of {tmp_path / 'test.npz'}"
    assert (report["data"]["train_images"], report["data"]["test_images"]) == (1572, 225)
    assert report["classifier"]["cached"] is True
    assert report["classifier"]["test_accuracy"] == pytest.approx(first["classifier"]["test_accuracy"])
    assert report["settings"]["scored_samples"] == 100 and report["settings"]["temperature"] == 1.2
    assert report["metrics"]["fid"]["generated"] > report["metrics"]["fid"]["real"]


@pytest.fixture
def three_class_npz(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "three.npz"
    np.savez(path, x=rng.integers(0, 256, (90, 16, 16), dtype=np.uint8), y=np.arange(90) % 3)
    return path


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["{tmp}/absent.onnx", "--dataset", "digits"], "not found"),
        (["{no_metadata}", "--dataset", "digits"], "not exported by kgan"),
        (["{run}", "--dataset", "{three}"], "makes 10 classes but dataset"),
        (["{run}", "--dataset", "digits", "--k", "10,0"], "--k takes positive integers"),
        (["{run}", "--dataset", "digits", "--k", "ten"], "--k takes positive integers"),
        (["{run}", "--dataset", "digits", "--k", "500"], "more than the smallest class"),
        (["{run}", "--dataset", "digits", "--metrics", "fid,fidelity"], "unknown metric 'fidelity'"),
        (["{run}", "--dataset", "digits", "--seeds", "0,x"], "--seeds takes"),
        (["{run}", "--dataset", "digits", "--test-size", "5"], "test size must lie between"),
        (["{run}", "--dataset", "digits", "--test-size", "50", "--test-dataset", "digits"], "contradict"),
        (["{run}", "--dataset", "digits", "--metrics", "inception"], "--inception-weights FILE: download"),
        (["{run}", "--dataset", "digits", "--temperature", "0"], "--temperature must be a positive number"),
    ],
)
def test_bad_input_is_one_line_exit_2(arguments, message, run_dir, three_class_npz, tmp_path):
    no_metadata = ROOT / "tests" / "runtime" / "data" / "no_metadata.onnx"
    values = dict(tmp=tmp_path, no_metadata=no_metadata, run=run_dir, three=three_class_npz)
    result = run_kgan("evaluate", *[argument.format(**values) for argument in arguments], "--out", tmp_path / "out")
    assert_one_line_error(result)
    assert message in result.output


def test_unconditional_generator_gets_the_scores_without_cas_or_augmentation(full, tmp_path):
    pytest.importorskip("onnx")
    from onnx import save

    from tests.runtime.data.make_fixtures import build

    save(build(8, (16, 16, 1)), tmp_path / "unconditional.onnx")
    result = run_kgan("evaluate", tmp_path / "unconditional.onnx", "--dataset", "digits", "-n", 60, *FAST,
                      "--out", tmp_path / "out")  # fmt: skip
    assert result.exit_code == 0, result.output
    report = read_report(tmp_path / "out")
    assert report["settings"]["metrics"] == ["fid", "kid", "is", "prdc"]
    assert "cas" not in report["metrics"] and "augmentation" not in report["metrics"]
    assert report["figures"] == ["memorisation.png", "metrics.png", "samples.png"]


def test_inception_scores_end_to_end_with_a_local_weights_file(run_dir, tmp_path):
    """The whole --metrics inception path, with random InceptionV3 weights (ImageNet's are never downloaded)."""
    import keras

    keras.applications.InceptionV3(weights=None).save_weights(tmp_path / "inception.weights.h5")
    digits = load_dataset("digits", 16, 1)
    np.savez(tmp_path / "few.npz", x=digits.images[:30], y=digits.labels[:30])  # one Inception batch per set
    result = run_kgan("evaluate", run_dir, "--dataset", tmp_path / "few.npz", "--test-size", 10, "-n", 10,
                      "--metrics", "inception", "--inception-weights", tmp_path / "inception.weights.h5", *FAST,
                      "--out", tmp_path / "out")  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = read_report(tmp_path / "out")["metrics"]
    assert sorted(metrics) == ["inception_fid", "inception_is"]
    assert metrics["inception_fid"]["generated"] > 0 and metrics["inception_fid"]["real"] > 0
    assert 1 <= metrics["inception_is"]["generated"]["mean"] <= 1000
    assert "FID (InceptionV3)" in result.stdout and "IS (InceptionV3)" in result.stdout


def test_cas_needs_a_conditional_generator(tmp_path):
    pytest.importorskip("onnx")
    from onnx import save

    from tests.runtime.data.make_fixtures import build

    save(build(8, (16, 16, 1)), tmp_path / "unconditional.onnx")
    result = run_kgan("evaluate", tmp_path / "unconditional.onnx", "--dataset", "digits", "--metrics", "fid,cas",
                      "--out", tmp_path / "out")  # fmt: skip
    assert_one_line_error(result)
    assert "need a conditional generator" in result.output


def test_existing_report_needs_overwrite(run_dir, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.json").write_text("{}")
    result = run_kgan("evaluate", run_dir, "--dataset", "digits", "--out", tmp_path / "out")
    assert_one_line_error(result)
    assert "--overwrite" in result.output
    assert (tmp_path / "out" / "report.json").read_text() == "{}"


def test_held_out_split_takes_the_end_of_every_class():
    labels = np.repeat([0, 1, 2, 3], [40, 40, 20, 20])  # stored class by class
    mask = held_out_mask(labels, 15)
    assert mask.sum() == 15
    assert np.bincount(labels[mask]).tolist() == [5, 5, 3, 2]  # proportional; ties go to the earlier class
    for label in range(4):
        members = np.flatnonzero(labels == label)
        held = mask[members]
        assert not held[: len(members) - held.sum()].any()  # the held-out images are the last ones


def test_scoring_reference_is_a_slice_of_training_the_classifier_never_sees():
    labels = np.repeat([0, 1, 2], [40, 40, 20])
    train = ImageDataset(np.arange(100, dtype=np.uint8).reshape(100, 1, 1, 1), labels, ["a", "b", "c"], "train")
    test = ImageDataset(np.zeros((10, 1, 1, 1), np.uint8), labels[:10], ["a", "b", "c"], "test")
    classifier_train, is_reference = RealSplits(train, test, "").classifier_and_reference()
    assert is_reference.sum() == 10 and len(classifier_train) == 90
    assert np.bincount(labels[is_reference]).tolist() == [4, 4, 2]
    seen, unseen = classifier_train.images.ravel().tolist(), train.images[is_reference].ravel().tolist()
    assert sorted(seen + unseen) == list(range(100))
    # A test split larger than a quarter of training gets a quarter.
    big_test = ImageDataset(np.zeros((60, 1, 1, 1), np.uint8), labels[:60], ["a", "b", "c"], "test")
    assert RealSplits(train, big_test, "").classifier_and_reference()[1].sum() == 25


def test_augmentation_at_all_reuses_measured_real_runs(monkeypatch):
    trained = []

    def fake_train_classifier(images, labels, num_classes, settings, steps, seed):
        trained.append(len(images))
        return type("Fake", (), {"accuracy": lambda self, images, labels: len(trained) / 10})()

    monkeypatch.setattr("kgan.evaluation.augmentation.train_classifier", fake_train_classifier)
    labels = np.arange(30) % 3
    train = ImageDataset(np.zeros((30, 4, 4, 1), np.uint8), labels, [], "train")
    test = ImageDataset(np.zeros((6, 4, 4, 1), np.uint8), labels[:6], [], "test")
    drawn = []

    def sample(seed):
        drawn.append(seed)
        return np.zeros((9 + seed, 4, 4, 1), np.uint8), np.arange(9 + seed) % 3

    known = {"mean": 0.5, "std": 0.1, "runs": [0.4, 0.6]}
    (result,) = augmentation_gain(train, sample, test, ("all",), ClassifierSettings(), 1, (0, 1), all_real=known)
    assert trained == [39, 40]  # only the real + generated arm trains, on each seed's own sample
    assert drawn == [0, 1]
    assert result["real"]["runs"] == [0.4, 0.6] and result["augmented"]["runs"] == [0.1, 0.2]
    assert result["gain"]["runs"] == pytest.approx([-0.3, -0.4])


def fake_classifiers(monkeypatch):
    """[(first pixel of its images, how many, seed) of every classifier trained]; the nth scores 0.5 + n / 10."""
    trained = []

    def fake_train_classifier(images, labels, num_classes, settings, steps, seed):
        trained.append((int(images[0, 0, 0, 0]), len(images), seed))
        return type("Fake", (), {"accuracy": lambda self, images, labels, n=len(trained): 0.5 + n / 10})()

    for module in ("cas", "augmentation", "real_baseline"):
        monkeypatch.setattr(f"kgan.evaluation.{module}.train_classifier", fake_train_classifier)
    return trained


def test_cas_trains_each_seeds_classifier_on_that_seeds_own_sample(monkeypatch, tmp_path):
    trained = fake_classifiers(monkeypatch)
    labels = np.arange(6) % 3
    real = ImageDataset(np.full((6, 4, 4, 1), 255, np.uint8), labels, [], "real")

    def sample(seed):  # each seed's images are filled with its seed, so the classifier shows which it got
        return np.full((6, 4, 4, 1), seed, np.uint8), labels

    result = classification_accuracy_score(sample, real, real, ClassifierSettings(), 1, (3, 7), cache_dir=tmp_path)

    assert trained == [(3, 6, 3), (7, 6, 7), (255, 6, 3), (255, 6, 7)]
    assert result["generated"]["runs"] == pytest.approx([0.6, 0.7])
    assert result["real"]["runs"] == pytest.approx([0.8, 0.9])


def test_the_real_baselines_train_once_per_data_settings_and_seed_then_come_from_the_cache(monkeypatch, tmp_path):
    trained = fake_classifiers(monkeypatch)
    labels = np.arange(30) % 3
    train = ImageDataset(np.full((30, 4, 4, 1), 255, np.uint8), labels, [], "train")
    test = ImageDataset(np.zeros((6, 4, 4, 1), np.uint8), labels[:6], [], "test")

    def sample(seed):
        return np.full((9, 4, 4, 1), seed, np.uint8), np.arange(9) % 3

    said = []

    def evaluate(steps=1, seeds=(0, 1), test=test):
        cas = classification_accuracy_score(sample, train, test, ClassifierSettings(), steps, seeds, said.append,
                                            tmp_path)  # fmt: skip
        (augmentation,) = augmentation_gain(train, sample, test, (2,), ClassifierSettings(), steps, seeds,
                                            said.append, cache_dir=tmp_path)  # fmt: skip
        return cas["real"]["runs"], augmentation["real"]["runs"]

    def said_of_real_only():
        return [message for message in said if "real images" in message]

    def real_only(trained):  # CAS's real baseline trains on the 30 real images, the k = 2 arm on 6
        return [(count, seed) for pixel, count, seed in trained if pixel == 255 and count in (30, 6)]

    first = evaluate()
    cache = tmp_path / "classifiers" / "real-accuracies"
    first_entries = sorted(cache.iterdir())
    assert real_only(trained) == [(30, 0), (30, 1), (6, 0), (6, 1)] and len(first_entries) == 4
    # Progress names a real baseline when it trains, and is silent when it comes from the cache.
    assert said_of_real_only() == [
        "CAS: training on 30 real images (seed 0)", "CAS: training on 30 real images (seed 1)",
        "augmentation: k=2, real only: training on 6 real images (seed 0)",
        "augmentation: k=2, real only: training on 6 real images (seed 1)",
    ]  # fmt: skip
    assert [(pixel, count) for pixel, count, _ in trained] == [(0, 9), (1, 9), (255, 30), (255, 30), (255, 6),
                                                                (255, 15), (255, 6), (255, 15)]  # fmt: skip
    del trained[:], said[:]
    assert evaluate() == first  # the same real-only accuracies, read back
    assert real_only(trained) == [] and len(trained) == 4  # only the classifiers with generated images train
    assert said_of_real_only() == [] and said  # the generated arms still say they train
    for changed in (dict(steps=2), dict(seeds=(2,)), dict(test=ImageDataset(test.images + 1, test.labels, [], "t"))):
        del trained[:]
        evaluate(**changed)
        assert len(real_only(trained)) == 2 * len(changed.get("seeds", (0, 1))), changed  # trained again
    assert len(list(cache.iterdir())) == 4 + 4 + 2 + 4  # CAS's and k = 2's per seed, for each evaluation
    first_entries[0].write_text("{damaged")
    del trained[:]
    evaluate()
    assert len(real_only(trained)) == 1  # the damaged entry, and nothing else


def test_per_class_subset_and_k_parsing():
    labels = np.arange(60) % 3
    rows = per_class_subset(labels, 4, seed=1)
    assert np.bincount(labels[rows]).tolist() == [4, 4, 4]
    assert rows.tolist() == per_class_subset(labels, 4, seed=1).tolist()
    assert per_class_subset(labels, "all", seed=1).tolist() == list(range(60))
    assert parse_k("10, 100,all") == (10, 100, "all")
    with pytest.raises(UsageError, match="twice"):
        parse_k("10,10")


def test_nearest_neighbours_match_brute_force():
    rng = np.random.default_rng(0)
    queries, references = rng.standard_normal((37, 5)), rng.standard_normal((50, 5))
    indices, distances = nearest_neighbours(queries, references, chunk_size=8)
    full = np.linalg.norm(queries[:, None] - references[None], axis=-1)
    assert indices.tolist() == full.argmin(axis=1).tolist()
    np.testing.assert_allclose(distances, full.min(axis=1), atol=1e-9)
    images = np.zeros((2, 4, 4, 1), np.uint8)
    images[1] = 255
    vectors = pixel_vectors(images)
    assert np.linalg.norm(vectors[1] - vectors[0]) == pytest.approx(1.0)  # pixel RMS


def test_over_runs_mean_and_std():
    assert over_runs([0.5, 0.7]) == {"mean": pytest.approx(0.6), "std": pytest.approx(0.1), "runs": [0.5, 0.7]}


def test_inception_resize_is_bilinear_rgb_in_minus_one_to_one():
    images = np.zeros((2, 16, 16, 1), np.uint8)
    images[1] = 255
    images[0, :, 8:] = 255
    inputs = inception_inputs(images)
    assert inputs.shape == (2, INCEPTION_SIZE, INCEPTION_SIZE, 3) and inputs.dtype == np.float32
    assert inputs.min() == -1 and inputs.max() == 1
    np.testing.assert_array_equal(inputs[..., 0], inputs[..., 2])  # grayscale repeated to RGB
    edge = inputs[0, 0, 140:160, 0]
    assert ((edge > -1) & (edge < 1)).any()  # interpolated, not nearest


def test_the_cli_module_imports_no_keras():
    assert "keras" not in modules_loaded_by("import cli.main, cli.evaluate")
