"""kgan.config.TrainConfig: validation and reading config.json entries of older versions."""

import pytest

from kgan.config import TrainConfig
from kgan.errors import UsageError


def test_unknown_precision_is_a_usage_error():
    with pytest.raises(UsageError, match="precision must be one of auto, float32, bfloat16, not 'float16'"):
        TrainConfig(precision="float16")


@pytest.mark.parametrize("mixed_precision, precision", [(True, "bfloat16"), (False, "float32")])
def test_a_config_from_before_precision_keeps_the_precision_it_trained_in(mixed_precision, precision):
    old = {"dataset": "digits", "epochs": 3, "mixed_precision": mixed_precision}
    assert TrainConfig.from_dict(old) == TrainConfig(dataset="digits", epochs=3, precision=precision)
    assert TrainConfig.from_dict({"precision": "auto"}).precision == "auto"
