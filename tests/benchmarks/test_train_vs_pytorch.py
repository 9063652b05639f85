"""benchmarks/train_vs_pytorch.py: how a variant's name becomes the settings of the process that measures it."""

import pytest

from benchmarks.train_vs_pytorch import XLA_CPU_CONVOLUTIONS, parse_variant


def test_xlaconv_adds_the_flag_to_the_users_xla_flags(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=false")
    assert parse_variant("jax-auto+xlaconv", 1)[4] == {
        "XLA_FLAGS": f"--xla_cpu_enable_fast_math=false {XLA_CPU_CONVOLUTIONS}"
    }
    assert parse_variant("jax-auto", 1)[4] == {}


@pytest.mark.parametrize("variant", ["tf-auto+xlaconv", "torch-float32+xlaconv", "jax-auto+eigen", "jax-auto+nojit"])
def test_options_of_another_side_are_refused(variant):
    with pytest.raises(ValueError, match="options are"):
        parse_variant(variant, 1)


@pytest.mark.parametrize("variant, jit", [("tf-auto", None), ("tf-auto+xla", True), ("tf-float32+nojit", False)])
def test_xla_and_nojit_name_how_tensorflows_step_compiles(variant, jit):
    assert parse_variant(variant, 1)[5] is jit
