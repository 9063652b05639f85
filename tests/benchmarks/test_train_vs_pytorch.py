"""benchmarks/train_vs_pytorch.py: how a variant's name becomes the settings of the process that measures it."""

import os

import pytest

from benchmarks.train_vs_pytorch import NO_YNNPACK, YNNPACK_CONVOLUTIONS, parse_variant
from kgan import devices


@pytest.mark.parametrize("option, flags", [("ynnconv", YNNPACK_CONVOLUTIONS), ("noynn", NO_YNNPACK)])
def test_ynnpack_options_name_a_setting_kgan_leaves_alone(monkeypatch, option, flags):
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=false")
    _, _, _, _, env, _, _ = parse_variant(f"jax-auto+{option}", 1)
    assert env["XLA_FLAGS"] == f"--xla_cpu_enable_fast_math=false {flags}"
    monkeypatch.setenv("XLA_FLAGS", env["XLA_FLAGS"])
    devices.prefer_xla_cpu_convolutions("jax")
    assert os.environ["XLA_FLAGS"] == env["XLA_FLAGS"]
    assert parse_variant("jax-auto", 1)[4] == {}


@pytest.mark.parametrize("variant", ["tf-auto+ynnconv", "torch-float32+ynnconv", "jax-auto+eigen"])
def test_options_of_another_side_are_refused(variant):
    with pytest.raises(ValueError, match="options are"):
        parse_variant(variant, 1)


@pytest.mark.parametrize("variant, jit", [("tf-auto", None), ("tf-auto+xla", True), ("tf-float32+nojit", False)])
def test_xla_and_nojit_name_how_tensorflows_step_compiles(variant, jit):
    assert parse_variant(variant, 1)[5] is jit
