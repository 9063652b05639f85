"""kgan.devices: the precision a run computes in and whether its step is jit-compiled, by backend and hardware.

The machines are pretended: the backend's device query (jax.devices, or TensorFlow's
list_physical_devices and get_device_details) and /proc/cpuinfo are replaced, so the
GPU and TPU branches run on any host. The expected choices are docs/devices.md's table.
"""

import os
import subprocess
import sys
import types

import keras
import pytest

from kgan import devices
from tests.conftest import ROOT

CPUINFO_WITH_BFLOAT16 = (
    "processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile avx512_bf16\n\n"
    "processor\t: 1\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile avx512_bf16\n"
)
CPUINFO_WITHOUT_BFLOAT16 = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n"


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """pretend(accelerator, cpuinfo) makes kgan.devices see that machine on the current backend.

    accelerator: None (CPU only), "tpu", or "gpu X.Y" with compute capability X.Y.
    cpuinfo: the text of /proc/cpuinfo, or None for a machine without one.
    """

    def pretend(accelerator, cpuinfo=CPUINFO_WITHOUT_BFLOAT16):
        path = tmp_path / "cpuinfo"
        if cpuinfo is not None:
            path.write_text(cpuinfo)
        monkeypatch.setattr(devices, "CPUINFO", str(path))
        if keras.config.backend() == "jax":
            pretend_jax_devices(monkeypatch, accelerator)
        else:
            pretend_tensorflow_devices(monkeypatch, accelerator)

    return pretend


def pretend_jax_devices(monkeypatch, accelerator):
    import jax

    platform, _, capability = (accelerator or "cpu").partition(" ")
    device = types.SimpleNamespace(platform=platform, id=0)
    if capability:
        device.compute_capability = capability  # jax's CUDA devices give it as text, e.g. "9.0"
    monkeypatch.setattr(jax, "devices", lambda backend=None: [device])


def pretend_tensorflow_devices(monkeypatch, accelerator):
    import tensorflow as tf

    if accelerator == "tpu":
        pytest.skip("docs/devices.md chooses by TPU under JAX only")
    gpus = []
    if accelerator:
        capability = tuple(int(part) for part in accelerator.split()[1].split("."))
        gpus = [tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")]
        details = {"device_name": "NVIDIA pretend GPU", "compute_capability": capability}
        monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda device: details)
    real_list = tf.config.list_physical_devices

    def list_physical_devices(device_type=None):
        return gpus if device_type == "GPU" else real_list(device_type)

    monkeypatch.setattr(tf.config, "list_physical_devices", list_physical_devices)


def test_cpu_flags_are_read_from_the_flags_lines_only():
    assert devices.cpu_bfloat16_flags(CPUINFO_WITH_BFLOAT16) == ["amx_bf16", "avx512_bf16"]
    assert devices.cpu_bfloat16_flags("flags\t: fpu avx2 avx512f\nbugs\t: amx_bf16\n") == []


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_a_named_precision_is_kept(precision):
    assert devices.resolve_precision(precision) == precision


@pytest.mark.parametrize(
    "accelerator, cpuinfo, on_tensorflow, on_jax",
    [
        ("gpu 9.0", CPUINFO_WITHOUT_BFLOAT16, "bfloat16", "bfloat16"),
        ("gpu 8.0", CPUINFO_WITHOUT_BFLOAT16, "bfloat16", "bfloat16"),
        ("gpu 12.0", CPUINFO_WITHOUT_BFLOAT16, "bfloat16", "bfloat16"),  # compared as numbers, not as text
        ("gpu 7.5", CPUINFO_WITH_BFLOAT16, "float32", "float32"),  # the GPU decides, not the host's CPU
        ("gpu 7.0", CPUINFO_WITHOUT_BFLOAT16, "float32", "float32"),
        ("tpu", CPUINFO_WITHOUT_BFLOAT16, None, "bfloat16"),
        (None, CPUINFO_WITH_BFLOAT16, "bfloat16", "float32"),  # XLA:CPU runs bfloat16 no faster
        (None, CPUINFO_WITHOUT_BFLOAT16, "float32", "float32"),
        (None, None, "float32", "float32"),
    ],
    ids=["gpu-8.0+-h100", "gpu-8.0-a100", "gpu-12.0", "gpu-7.5-on-a-bf16-cpu", "gpu-7.0", "tpu", "bf16-cpu",
         "older-cpu", "no-cpuinfo"],
)  # fmt: skip
def test_auto_precision_follows_the_documented_table(machine, accelerator, cpuinfo, on_tensorflow, on_jax):
    machine(accelerator, cpuinfo)
    expected = on_jax if keras.config.backend() == "jax" else on_tensorflow
    assert devices.resolve_precision("auto") == expected


@pytest.mark.parametrize(
    "accelerator, on_tensorflow, on_jax",
    [("gpu 9.0", True, True), ("gpu 7.5", True, True), ("tpu", None, True), (None, False, True)],
    ids=["gpu-9.0", "gpu-7.5", "tpu", "cpu"],
)
def test_the_step_is_jit_compiled_except_tensorflow_on_cpu(machine, accelerator, on_tensorflow, on_jax):
    machine(accelerator)
    expected = on_jax if keras.config.backend() == "jax" else on_tensorflow
    assert devices.resolve_jit(None) is expected


@pytest.mark.parametrize(
    "cpuinfo, precision, on_tensorflow",
    [
        (CPUINFO_WITHOUT_BFLOAT16, "float32", True),  # XLA measured faster in float32 on AVX2 CPUs
        (CPUINFO_WITHOUT_BFLOAT16, "bfloat16", False),  # not measured: no extrapolation
        (CPUINFO_WITH_BFLOAT16, "bfloat16", False),  # XLA measured slower in bfloat16 there
        (CPUINFO_WITH_BFLOAT16, "float32", False),
        ("flags\t: fpu sse2\n", "float32", False),
        (None, "float32", False),
    ],
    ids=["avx2-float32", "avx2-bfloat16", "bf16-cpu-bfloat16", "bf16-cpu-float32", "other-cpu", "no-cpuinfo"],
)
def test_tensorflow_on_cpu_jit_compiles_where_xla_measured_faster(machine, cpuinfo, precision, on_tensorflow):
    machine(None, cpuinfo)
    expected = True if keras.config.backend() == "jax" else on_tensorflow
    assert devices.resolve_jit(None, precision) is expected
    assert devices.resolve_jit(None, precision, steps=devices.MIN_STEPS_FOR_CPU_XLA) is expected


def test_short_runs_on_cpu_keep_the_quicker_compile(machine):
    machine(None, CPUINFO_WITHOUT_BFLOAT16)
    on_jax = keras.config.backend() == "jax"
    assert devices.resolve_jit(None, "float32", steps=devices.MIN_STEPS_FOR_CPU_XLA - 1) is on_jax
    assert devices.resolve_jit(True, "float32", steps=1) is True


def test_the_cpu_choices_follow_the_measurements_not_the_flags(machine, monkeypatch):
    machine(None, CPUINFO_WITHOUT_BFLOAT16)
    measured = {"bfloat16_over_float32": 1.3, "xla_over_tf_function": {"float32": 0.9}, "tensorflow_over_jax": 1.0}
    monkeypatch.setitem(devices.CPU_MEASUREMENTS, "avx2", measured)
    on_tensorflow = keras.config.backend() == "tensorflow"
    assert devices.resolve_precision("auto") == ("bfloat16" if on_tensorflow else "float32")
    assert devices.resolve_jit(None, "float32") is not on_tensorflow


@pytest.mark.parametrize("accelerator", ["gpu 9.0", None], ids=["gpu", "cpu"])
@pytest.mark.parametrize("jit", [True, False])
def test_a_given_jit_choice_is_kept(machine, accelerator, jit):
    machine(accelerator)
    assert devices.resolve_jit(jit) is jit


@pytest.mark.parametrize(
    "cpuinfo, kind",
    [(CPUINFO_WITH_BFLOAT16, "avx512_bf16"), (CPUINFO_WITHOUT_BFLOAT16, "avx2"), ("flags\t: fpu sse2\n", None),
     ("", None)],  # fmt: skip
)
def test_cpu_kinds_by_their_flags(cpuinfo, kind):
    assert devices.cpu_kind(cpuinfo) == kind


@pytest.mark.parametrize(
    "cpuinfo, backend, precision, jit_compiled, words",
    [
        (CPUINFO_WITH_BFLOAT16, "jax", "float32", True, "TensorFlow ran the default step 2.4x as fast as JAX"),
        (CPUINFO_WITH_BFLOAT16, "tensorflow", "bfloat16", False,
         "on CPUs with avx512_bf16 TensorFlow's step measured 1.5x"),
        (CPUINFO_WITHOUT_BFLOAT16, "tensorflow", "float32", False,
         "(avx2 only), where TensorFlow's bfloat16 step measured 0."),
        (CPUINFO_WITHOUT_BFLOAT16, "tensorflow", "float32", True,
         "XLA: on CPUs with avx2 TensorFlow's float32 step ran 1."),
        (CPUINFO_WITHOUT_BFLOAT16, "jax", "float32", True, None),
        ("flags\t: fpu sse2\n", "jax", "float32", True, None),
    ],
)  # fmt: skip
def test_the_training_summary_says_what_was_measured_on_this_kind_of_cpu(tmp_path, monkeypatch, cpuinfo, backend,
                                                                       precision, jit_compiled, words):  # fmt: skip
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    monkeypatch.setattr(devices, "CPUINFO", str(path))
    note = devices.cpu_training_note(backend, precision, jit_compiled)
    assert note is None if words is None else words in note


@pytest.mark.parametrize(
    "tensorflow_over_jax, backend, words",
    [(2.4, "jax", "TensorFlow ran the default step 2.4x as fast as JAX"), (1.05, "jax", None),
     (0.5, "tensorflow", "JAX ran the default step 2.0x as fast as TensorFlow"), (0.95, "tensorflow", None)],
)  # fmt: skip
def test_the_summary_names_the_other_backend_only_where_it_ran_notably_faster(tmp_path, monkeypatch,
                                                                             tensorflow_over_jax, backend, words):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO_WITHOUT_BFLOAT16)
    monkeypatch.setattr(devices, "CPUINFO", str(path))
    monkeypatch.setitem(devices.CPU_MEASUREMENTS, "avx2", dict(devices.CPU_MEASUREMENTS["avx2"],
                                                               tensorflow_over_jax=tensorflow_over_jax))
    note = devices.cpu_training_note(backend, "float32") or ""
    assert (words in note) if words else ("as fast as" not in note)


def test_the_summary_names_xla_only_when_it_compiled_the_step(tmp_path, monkeypatch):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO_WITHOUT_BFLOAT16)
    monkeypatch.setattr(devices, "CPUINFO", str(path))
    assert "XLA" not in devices.cpu_training_note("tensorflow", "float32", jit_compiled=False)


@pytest.fixture
def xla_flags(monkeypatch):
    """set(text) starts $XLA_FLAGS as `text` (None: unset) and returns a function that reads it back."""

    def set_flags(text):
        monkeypatch.delenv("XLA_FLAGS", raising=False)
        if text is not None:
            monkeypatch.setenv("XLA_FLAGS", text)
        return lambda: os.environ.get("XLA_FLAGS")

    return set_flags


def test_jax_gets_xla_cpu_convolutions_once_and_keeps_the_other_flags(xla_flags, monkeypatch):
    monkeypatch.setattr(devices.importlib.metadata, "version", lambda name: "0.10.2")
    read = xla_flags("--xla_cpu_enable_fast_math=false")
    devices.prefer_xla_cpu_convolutions("jax")
    devices.prefer_xla_cpu_convolutions("jax")
    assert read() == " ".join(["--xla_cpu_enable_fast_math=false", *devices.XLA_CPU_CONVOLUTION_FLAGS])


def test_a_setting_the_user_gave_keeps_its_value(xla_flags, monkeypatch):
    monkeypatch.setattr(devices.importlib.metadata, "version", lambda name: "0.10.2")
    read = xla_flags("--xla_cpu_use_fusion_emitters=true")
    devices.prefer_xla_cpu_convolutions("jax")
    assert read() == "--xla_cpu_use_fusion_emitters=true --xla_cpu_experimental_ynn_fusion_type=-individual_convolution"


@pytest.mark.parametrize(
    "backend, flags, jaxlib",
    [
        ("tensorflow", None, "0.10.2"),  # TensorFlow's XLA reads $XLA_FLAGS too: never touched for it
        ("jax", "--xla_cpu_experimental_ynn_fusion_type=+individual_dot", "0.10.2"),  # the user's own choice
        ("jax", None, "0.9.0"),  # not measured to accept the flag: XLA would abort on an unknown one
        ("jax", None, "0.11.0"),
    ],
)
def test_xla_flags_are_left_alone(xla_flags, monkeypatch, backend, flags, jaxlib):
    monkeypatch.setattr(devices.importlib.metadata, "version", lambda name: jaxlib)
    read = xla_flags(flags)
    devices.prefer_xla_cpu_convolutions(backend)
    assert read() == flags


CONVOLUTION_LIBRARY = """
import sys
from kgan.devices import prefer_xla_cpu_convolutions
if sys.argv[1] == "asked":
    prefer_xla_cpu_convolutions("jax")
import jax
image, kernel = jax.ShapeDtypeStruct((64, 32, 32, 128), "float32"), jax.ShapeDtypeStruct((3, 3, 128, 64), "float32")
convolution = jax.jit(lambda x, k: jax.lax.conv_general_dilated(x, k, (1, 1), "SAME",
                                                                dimension_numbers=("NHWC", "HWIO", "NHWC")))
print("ynnpack" if "__ynn_fusion" in convolution.lower(image, kernel).compile().as_text() else "xla")
"""


@pytest.mark.parametrize("asked, library", [("asked", "xla"), ("not asked", "ynnpack")])
def test_the_flag_moves_a_64px_convolution_from_ynnpack_to_xla(asked, library):
    """The installed jaxlib accepts the flag and acts on it (XLA:CPU's default, YNNPACK, measured slower)."""
    pytest.importorskip("jax")
    environment = {name: value for name, value in os.environ.items() if name != "XLA_FLAGS"}
    environment["JAX_PLATFORMS"] = "cpu"
    result = subprocess.run([sys.executable, "-c", CONVOLUTION_LIBRARY, asked], env=environment,
                            capture_output=True, text=True, timeout=120, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == library
