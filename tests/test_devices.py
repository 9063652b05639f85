"""kgan.devices: the precision a run computes in, chosen by backend and hardware."""

import keras
import pytest

from kgan import devices

CPUINFO_WITH_BFLOAT16 = (
    "processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile avx512_bf16\n\n"
    "processor\t: 1\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile avx512_bf16\n"
)


def has_accelerator():
    if keras.config.backend() == "jax":
        import jax

        return jax.devices()[0].platform != "cpu"
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def test_cpu_flags_are_read_from_the_flags_lines_only():
    assert devices.cpu_bfloat16_flags(CPUINFO_WITH_BFLOAT16) == ["amx_bf16", "avx512_bf16"]
    assert devices.cpu_bfloat16_flags("flags\t: fpu avx2 avx512f\nbugs\t: amx_bf16\n") == []


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_a_named_precision_is_kept(precision):
    assert devices.resolve_precision(precision) == precision


@pytest.mark.parametrize(
    "cpuinfo, on_tensorflow",
    [(CPUINFO_WITH_BFLOAT16, "bfloat16"), ("flags\t: fpu avx2 avx512f\n", "float32"), (None, "float32")],
    ids=["amx-cpu", "older-cpu", "no-cpuinfo"],
)
def test_auto_on_a_cpu_picks_bfloat16_only_where_tensorflow_has_the_instructions(
    tmp_path, monkeypatch, cpuinfo, on_tensorflow
):
    if has_accelerator():
        pytest.skip("auto picks by the accelerator here, not by the CPU")
    path = tmp_path / "cpuinfo"
    if cpuinfo is not None:
        path.write_text(cpuinfo)
    monkeypatch.setattr(devices, "CPUINFO", str(path))
    expected = on_tensorflow if keras.config.backend() == "tensorflow" else "float32"  # XLA:CPU gains nothing
    assert devices.resolve_precision("auto") == expected
