"""kgan.config.TrainConfig: validation and reading config.json entries of older versions."""

import pytest

from kgan.config import BEFORE_RECIPE_OPTIONS, UPSAMPLING_MODES, TrainConfig, resolve_upsampling
from kgan.errors import UsageError


def test_unknown_precision_is_a_usage_error():
    with pytest.raises(UsageError, match="precision must be one of auto, float32, bfloat16, not 'float16'"):
        TrainConfig(precision="float16")


@pytest.mark.parametrize("mixed_precision, precision", [(True, "bfloat16"), (False, "float32")])
def test_a_config_from_before_precision_keeps_the_precision_it_trained_in(mixed_precision, precision):
    old = {"dataset": "digits", "epochs": 3, "mixed_precision": mixed_precision}
    expected = TrainConfig(dataset="digits", epochs=3, precision=precision, upsampling="pixel_shuffle")
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


RECIPE = {"loss": "hinge", "r1": 0.5, "r1_every": 2, "spectral_norm": True, "d_lr": 4e-4}


def test_the_recipe_options_round_trip_and_a_config_without_them_trains_as_before_them():
    config = TrainConfig(**RECIPE)
    assert TrainConfig.from_dict(config.to_dict()) == config
    old = TrainConfig.from_dict({"dataset": "digits"})
    assert {name: getattr(old, name) for name in BEFORE_RECIPE_OPTIONS} == BEFORE_RECIPE_OPTIONS
    assert BEFORE_RECIPE_OPTIONS == {"loss": "nonsaturating", "r1": 0.0, "r1_every": 16, "spectral_norm": False,
                                     "d_lr": None}  # fmt: skip
    for name, value in RECIPE.items():
        with pytest.raises(UsageError, match=f"{name} cannot change on resume"):
            config.resumed_with(**{name: value})


@pytest.mark.parametrize("options, message", [
    (dict(loss="wasserstein"), "loss must be one of nonsaturating, hinge, not 'wasserstein'"),
    (dict(loss="hinge", label_smoothing=0.1), "label smoothing applies to the non-saturating loss only, not to hinge"),
    (dict(r1=-1.0), "r1 must be a finite gamma >= 0"),
    (dict(r1=float("nan")), "r1 must be a finite gamma >= 0"),
    (dict(r1_every=0), "r1-every must be an integer >= 1"),
    (dict(d_lr=0.0), r"d-lr must lie in \(0, 1\), not 0.0"),
])  # fmt: skip
def test_invalid_recipe_options_are_usage_errors(options, message):
    with pytest.raises(UsageError, match=message):
        TrainConfig(**options)
