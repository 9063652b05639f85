"""kgan.config.TrainConfig: validation and reading config.json entries of older versions."""

import pytest

from kgan.config import (
    BEFORE_OPTIONS_EXISTED,
    UPSAMPLING_MODES,
    TrainConfig,
    resolve_metric_every,
    resolve_r1,
    resolve_upsampling,
)
from kgan.errors import UsageError


def test_unknown_precision_is_a_usage_error():
    with pytest.raises(UsageError, match="precision must be one of auto, float32, bfloat16, not 'float16'"):
        TrainConfig(precision="float16")


@pytest.mark.parametrize("mixed_precision, precision", [(True, "bfloat16"), (False, "float32")])
def test_a_config_from_before_precision_keeps_the_precision_it_trained_in(mixed_precision, precision):
    old = {"dataset": "digits", "epochs": 3, "mixed_precision": mixed_precision}
    expected = TrainConfig(dataset="digits", epochs=3, precision=precision, upsampling="pixel_shuffle",
                           generator_forwards=2, metric=None, keep_best=False, metric_every=1, r1=0.0)
    assert TrainConfig.from_dict(old) == expected
    assert TrainConfig.from_dict({"precision": "auto"}).precision == "auto"


@pytest.mark.parametrize("image_size, upsampling", [(16, "pixel_shuffle"), (28, "pixel_shuffle"),
                                                    (32, "resize"), (56, "resize"), (64, "resize"),
                                                    (128, "resize")])  # fmt: skip
def test_auto_upsampling_is_pixel_shuffle_up_to_28_px_and_resize_above(image_size, upsampling):
    assert resolve_upsampling("auto", image_size) == upsampling


@pytest.mark.parametrize("upsampling", UPSAMPLING_MODES)
def test_a_named_upsampling_is_kept_at_every_size(upsampling):
    assert resolve_upsampling(upsampling, 64) == resolve_upsampling(upsampling, 28) == upsampling


def test_a_config_from_before_auto_upsampling_keeps_pixel_shuffle():
    assert TrainConfig.from_dict({"dataset": "digits"}).upsampling == "pixel_shuffle"
    assert TrainConfig.from_dict({"upsampling": "auto"}).upsampling == "auto"


def test_unknown_upsampling_is_a_usage_error():
    with pytest.raises(UsageError, match="upsampling must be one of auto, pixel_shuffle, resize, transposed"):
        TrainConfig(upsampling="bilinear")


def test_generator_forwards_round_trips_and_a_config_without_it_keeps_two():
    config = TrainConfig(generator_forwards=1)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert TrainConfig.from_dict({"dataset": "digits"}).generator_forwards == 2
    with pytest.raises(UsageError, match="generator forwards must be 1 or 2, not 0"):
        TrainConfig(generator_forwards=0)
    with pytest.raises(UsageError, match="generator_forwards cannot change on resume"):
        config.resumed_with(generator_forwards=2)


RECIPE = {"loss": "hinge", "r1": 0.5, "r1_every": 2, "spectral_norm": True, "d_lr": 4e-4, "beta_2": 0.9,
          "mode_seeking": 0.5, "class_conditioning": "batch_norm"}


def test_the_recipe_options_round_trip_and_a_config_without_them_trains_as_before_them():
    config = TrainConfig(**RECIPE)
    assert TrainConfig.from_dict(config.to_dict()) == config
    old = TrainConfig.from_dict({"dataset": "digits"})
    assert {name: getattr(old, name) for name in BEFORE_OPTIONS_EXISTED} == BEFORE_OPTIONS_EXISTED
    assert BEFORE_OPTIONS_EXISTED == {"loss": "nonsaturating", "r1": 0.0, "r1_every": 16, "spectral_norm": False,
                                      "d_lr": None, "metric": None, "keep_best": False, "metric_every": 1,
                                      "beta_2": 0.999, "mode_seeking": 0.0,
                                      "class_conditioning": "input"}  # fmt: skip
    for name, value in RECIPE.items():
        with pytest.raises(UsageError, match=f"{name} cannot change on resume"):
            config.resumed_with(**{name: value})


@pytest.mark.parametrize("options, message", [
    (dict(loss="wasserstein"), "loss must be one of nonsaturating, hinge, not 'wasserstein'"),
    (dict(loss="hinge", label_smoothing=0.1), "label smoothing applies to the non-saturating loss only, not to hinge"),
    (dict(r1=-1.0), "r1 must be a finite gamma >= 0 \\(0 = off\\) or auto, not -1.0"),
    (dict(r1=float("nan")), "r1 must be a finite gamma >= 0"),
    (dict(r1_every=0), "r1-every must be an integer >= 1"),
    (dict(d_lr=0.0), r"d-lr must lie in \(0, 1\), not 0.0"),
    (dict(mode_seeking=-0.5), r"mode-seeking must be a finite weight >= 0 \(0 = off\), not -0.5"),
    (dict(class_conditioning="concat"), "class conditioning must be one of input, batch_norm, not 'concat'"),
])  # fmt: skip
def test_invalid_recipe_options_are_usage_errors(options, message):
    with pytest.raises(UsageError, match=message):
        TrainConfig(**options)


def test_a_new_run_scores_its_epochs_by_default_and_an_old_config_as_it_trained():
    assert (TrainConfig().metric, TrainConfig().keep_best) == ("auto", None)
    old = TrainConfig.from_dict({"dataset": "digits", "precision": "float32"})
    assert (old.metric, old.keep_best, old.metric_every) == (None, False, 1)
    assert TrainConfig(metric=None).keep_best is None  # resolves to False when the run starts
    with pytest.raises(UsageError, match="keep-best ranks the generators by a metric"):
        TrainConfig(metric=None, keep_best=True)
    with pytest.raises(UsageError, match="metric-every must be an integer >= 1, not 0"):
        TrainConfig(metric_every=0)


@pytest.mark.parametrize("metric_every, images_per_epoch, expected", [
    (None, 7500, 1), (None, 60000, 1), (None, 7499, 2), (None, 1792, 5), (None, 32, 235), (3, 32, 3), (1, 32, 1),
])  # fmt: skip
def test_the_score_comes_once_per_7500_trained_images_unless_told(metric_every, images_per_epoch, expected):
    assert resolve_metric_every(metric_every, images_per_epoch) == expected


@pytest.mark.parametrize("r1, image_size, batch_size, expected", [
    ("auto", 64, 64, 0.0128), ("auto", 32, 64, 0.0032), ("auto", 128, 32, 0.1024), ("auto", 28, 64, 0.0),
    ("auto", 16, 16, 0.0), (0.5, 64, 64, 0.5), (0.0, 64, 64, 0.0),
])  # fmt: skip
def test_auto_r1_is_stylegan2_adas_gamma_from_32_px_and_off_below(r1, image_size, batch_size, expected):
    assert resolve_r1(r1, image_size, batch_size) == pytest.approx(expected)


def test_a_new_run_defaults_to_auto_r1_and_an_old_config_keeps_none():
    assert TrainConfig().r1 == "auto"
    assert TrainConfig.from_dict({"dataset": "digits"}).r1 == 0.0
