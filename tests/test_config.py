"""kgan.config.TrainConfig: validation and reading config.json entries of older versions."""

import pytest

from kgan.config import UPSAMPLING_MODES, TrainConfig, resolve_upsampling
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
