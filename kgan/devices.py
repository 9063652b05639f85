"""Choices that depend on the Keras backend and the devices it runs on (imports keras when asked)."""

import importlib.metadata
import os

# XLA:CPU in jaxlib 0.10 hands large convolutions to YNNPACK. On the AVX2-only CPU measured, XLA's own convolution
# ran a 64 px generator layer 2.2x as fast forward and 7.6x with its gradients, and JAX's default step 2.6x (64 px)
# and 1.6x (28 px) (docs/measurements.md, "JAX's convolutions on a CPU"); dot products stay YNNPACK's.
# With XLA's own convolutions, XLA:CPU's fusion emitters computed the jit-compiled one-forward step with
# --mode-seeking and labels wrongly (G's update ~1% off its gradients, deterministic; eager JAX and YNNPACK exact);
# XLA's older loop emitters compute it exactly (tests/gan/test_train_step.py) at no measured cost.
XLA_CPU_CONVOLUTION_FLAGS = (
    "--xla_cpu_experimental_ynn_fusion_type=-individual_convolution",
    "--xla_cpu_use_fusion_emitters=false",
)
YNNPACK_FUSIONS_SETTING = "xla_cpu_experimental_ynn_fusion_type"
# The jaxlib versions measured to accept the flags, [from, to): XLA aborts on a flag it does not know.
JAXLIB_VERSIONS_WITH_THE_FLAGS = ((0, 10), (0, 11))


# XLA's compile (6-9 s more than tf.function's for the tests' tiny network on an AVX2-only CPU) pays back only over
# a run of some length: a 28 px step saves about 0.2 s there.
MIN_STEPS_FOR_CPU_XLA = 100


def resolve_jit(jit, precision=None, steps=None):
    """jit-compile unless told otherwise; TensorFlow on CPU only where XLA measured faster on this kind of CPU.

    In benchmarks/train_throughput.py, eager JAX ran the step at 0.8x of jitted JAX, so JAX always
    jit-compiles; TensorFlow does on GPUs (tests/test_devices.py checks that choice with a mocked device
    query; no GPU has run it yet). On a CPU, TensorFlow jit-compiles where CPU_MEASUREMENTS has XLA faster
    than a plain tf.function for this kind of CPU in `precision`: float32 on AVX2 CPUs without bfloat16
    units, not bfloat16 on CPUs with them (docs/measurements.md); runs of fewer than
    MIN_STEPS_FOR_CPU_XLA steps keep tf.function, whose compile is shorter.

    Args:
        jit: True or False to decide; None to pick by backend, device and precision.
        precision: the run's compute dtype, "float32" or "bfloat16"; None for a model with no measured choice
            (a plain tf.function on CPU).
        steps: the steps the run trains, None when not known.
    """
    if jit is not None:
        return jit
    import keras

    if keras.config.backend() == "jax":
        return True
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return True
    if steps is not None and steps < MIN_STEPS_FOR_CPU_XLA:
        return False
    return _cpu_measurement("xla_over_tf_function", precision) > 1


def prefer_xla_cpu_convolutions(backend):
    """On the JAX backend, asks XLA:CPU for its own convolution kernels rather than YNNPACK's (adds
    XLA_CPU_CONVOLUTION_FLAGS to $XLA_FLAGS, which XLA reads when JAX starts: call it before that).

    Leaves $XLA_FLAGS as it is where it already sets YNNPACK's fusions (the user's choice) and where the installed
    jaxlib is not one of JAXLIB_VERSIONS_WITH_THE_FLAGS; a setting $XLA_FLAGS names already keeps its value.

    Args:
        backend: the Keras backend the process computes with; nothing changes unless it is "jax".
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if backend != "jax" or YNNPACK_FUSIONS_SETTING in flags or not jaxlib_knows_the_convolution_flags():
        return
    missing = [flag for flag in XLA_CPU_CONVOLUTION_FLAGS if flag.split("=")[0] not in flags]
    os.environ["XLA_FLAGS"] = " ".join([flags, *missing]).strip()


def jaxlib_knows_the_convolution_flags():
    """Whether the installed jaxlib is one of JAXLIB_VERSIONS_WITH_THE_FLAGS (False without jaxlib)."""
    try:
        version = tuple(int(part) for part in importlib.metadata.version("jaxlib").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    first, after = JAXLIB_VERSIONS_WITH_THE_FLAGS
    return first <= version < after


# CPU flags of the instructions oneDNN (TensorFlow's CPU kernels) runs bfloat16 convolutions and matmuls with.
BFLOAT16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
CPUINFO = "/proc/cpuinfo"
MIN_BFLOAT16_GPU_CAPABILITY = (8, 0)  # Ampere and later have bfloat16 tensor cores


def resolve_precision(precision):
    """The compute dtype of a run: `precision` itself, or for "auto" bfloat16 where it is fast.

    "auto" means bfloat16 on TPUs, on GPUs of compute capability 8.0 or more, and under
    TensorFlow on the kinds of CPU where its bfloat16 step measured faster than float32
    (CPU_MEASUREMENTS: those with AMX or AVX512-BF16, whose oneDNN kernels use them, 1.5x with
    the same CAS; not AVX2-only ones, 0.12x); float32 elsewhere, including JAX on CPU, where
    XLA:CPU ran bfloat16 no faster than float32.

    Args:
        precision: "auto", "float32" or "bfloat16".
    """
    if precision != "auto":
        return precision
    import keras

    if keras.config.backend() == "jax":
        fast = _jax_has_fast_bfloat16()
    else:
        fast = _tensorflow_has_fast_bfloat16()
    return "bfloat16" if fast else "float32"


# What `kgan train`'s defaults measured per kind of CPU (variants interleaved in one run of
# benchmarks/train_vs_pytorch.py; docs/measurements.md, "kgan against a PyTorch peer"), each a speed ratio:
# bfloat16_over_float32, TensorFlow's bfloat16 step over its float32 one ("auto" precision picks bfloat16 where
# it is above 1); xla_over_tf_function, per precision, TensorFlow's step jit-compiled by XLA over the plain
# tf.function (TensorFlow on CPU jit-compiles where it is above 1); tensorflow_over_jax, TensorFlow's default
# step over JAX's.
# CPUs with avx512_bf16: 1.50x / 2.45x (2026-11-29) and 1.59x / 2.44x (AMD Zen 5, 2026-12-04); XLA in bfloat16
# 0.55x at 28 px and 0.42x at 64 px (Zen 5). AVX2 only (AMD EPYC, family 23 model 1 as KVM shows it, 2026-12-05):
# bfloat16 0.12x float32 at 28 px; XLA in float32 1.21x and 1.23x (28 px, two runs) and 1.18x (64 px); TensorFlow's
# default (XLA) 0.97x JAX's at 28 px and 1.04x at 64 px since JAX runs XLA's own convolution kernels
# (prefer_xla_cpu_convolutions); avx512_bf16's TensorFlow-over-JAX figure is from before that, not remeasured.
# A second AVX2-only host (AMD EPYC, family 25 model 1, Zen 3, 2026-12-06) agreed on every side of 1: bfloat16 0.07x,
# XLA 1.36x (28 px) and 1.47x (64 px), TensorFlow 0.98x and 0.94x JAX.
# A step with the R1 penalty (`--r1 auto` from 32 px) follows the same ratio now that XLA compiles it once per case
# (with the penalty and without): on the Zen 3 host XLA ran it 1.57x (32 px) and 1.50x (64 px) the tf.function,
# 2026-12-06 (docs/measurements.md, "R1's second derivatives on XLA:CPU").
CPU_MEASUREMENTS = {
    "avx512_bf16": {"bfloat16_over_float32": 1.5, "xla_over_tf_function": {"bfloat16": 0.55},
                    "tensorflow_over_jax": 2.4},
    "avx2": {"bfloat16_over_float32": 0.12, "xla_over_tf_function": {"float32": 1.2},
             "tensorflow_over_jax": 0.97},
}  # fmt: skip
# The speed ratio from which the training summary names the other backend as the faster one on a kind of CPU.
NOTABLY_FASTER = 1.1


def cpu_kind(cpuinfo_text):
    """The key of CPU_MEASUREMENTS that /proc/cpuinfo's text describes: "avx512_bf16" for CPUs with bfloat16 units
    (AMX CPUs have avx512_bf16 too), "avx2" for AVX2 without them, None for anything else."""
    flags = _cpu_flags(cpuinfo_text)
    if flags & set(BFLOAT16_CPU_FLAGS):
        return "avx512_bf16"
    return "avx2" if "avx2" in flags else None


def cpu_training_note(backend, precision, jit_compiled=False):
    """What `kgan train`'s summary says when it trained on a CPU: why this precision, why XLA compiled
    TensorFlow's step, and whether the other backend measured faster on this kind of CPU; None on accelerators, on
    CPUs of no measured kind and where there is nothing to say.

    Args:
        backend: the Keras backend that trained.
        precision: the compute dtype it trained in.
        jit_compiled: whether XLA compiled the step.
    """
    import keras

    kind = cpu_kind(_read_cpuinfo())
    if kind is None or not keras.distribution.list_devices()[0].startswith("cpu"):
        return None
    measured = CPU_MEASUREMENTS[kind]
    tensorflow_over_jax = measured["tensorflow_over_jax"]
    if backend == "jax":
        if tensorflow_over_jax < NOTABLY_FASTER:
            return None
        return (
            f"On CPUs with {kind}, TensorFlow ran the default step {tensorflow_over_jax:.1f}x as fast "
            "as JAX (docs/measurements.md): --backend tensorflow trains faster here."
        )
    sentences = []
    if precision == "bfloat16" and measured["bfloat16_over_float32"] > 1:
        sentences.append(
            f"bfloat16: on CPUs with {kind} TensorFlow's step measured "
            f"{measured['bfloat16_over_float32']:.1f}x its float32 speed, with the same CAS."
        )
    if precision == "float32" and measured["bfloat16_over_float32"] < 1:
        sentences.append(
            f"float32: this CPU has no bfloat16 units ({kind} only), where TensorFlow's bfloat16 step measured "
            f"{measured['bfloat16_over_float32']:.2f}x its float32 speed."
        )
    xla = measured["xla_over_tf_function"].get(precision)
    if jit_compiled and xla and xla > 1:
        sentences.append(f"XLA: on CPUs with {kind} TensorFlow's {precision} step ran {xla:.2f}x as fast jit-compiled.")
    if 1 / tensorflow_over_jax >= NOTABLY_FASTER:
        sentences.append(
            f"On CPUs with {kind}, JAX ran the default step {1 / tensorflow_over_jax:.1f}x as fast as TensorFlow "
            "(docs/measurements.md): --backend jax trains faster here."
        )
    return " ".join(sentences) or None


def cpu_bfloat16_flags(cpuinfo_text):
    """The BFLOAT16_CPU_FLAGS present in the `flags` lines of /proc/cpuinfo's text, sorted."""
    return sorted(_cpu_flags(cpuinfo_text) & set(BFLOAT16_CPU_FLAGS))


def _cpu_flags(cpuinfo_text):
    """Every flag of the `flags` lines of /proc/cpuinfo's text."""
    flags = set()
    for line in cpuinfo_text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags.update(value.split())
    return flags


def _cpu_measurement(name, precision=None):
    """CPU_MEASUREMENTS' ratio `name` for this machine's kind of CPU (its entry for `precision` where it has one per
    precision); 0.0 where none was measured."""
    measured = CPU_MEASUREMENTS.get(cpu_kind(_read_cpuinfo()), {}).get(name)
    if isinstance(measured, dict):
        measured = measured.get(precision)
    return measured or 0.0


def _read_cpuinfo():
    try:
        with open(CPUINFO, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:  # not Linux: no evidence of fast bfloat16 (keep float32), of no measured kind
        return ""


def _jax_has_fast_bfloat16():
    import jax

    device = jax.devices()[0]
    if device.platform == "tpu":
        return True
    if device.platform == "gpu":
        capability = getattr(device, "compute_capability", "0.0")
        return tuple(int(part) for part in str(capability).split(".")[:2]) >= MIN_BFLOAT16_GPU_CAPABILITY
    return False


def _tensorflow_has_fast_bfloat16():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
        return tuple(capability) >= MIN_BFLOAT16_GPU_CAPABILITY
    return _cpu_measurement("bfloat16_over_float32") > 1
