"""Choices that depend on the Keras backend and the devices it runs on (imports keras when asked)."""


def resolve_jit(jit):
    """jit-compile unless told otherwise, except TensorFlow on CPU.

    In benchmarks/train_throughput.py, eager JAX ran the step at 0.8x of jitted JAX;
    TensorFlow on CPU ran plain tf.function within noise of XLA (medians 127 vs 137
    images/s, ranges 121-177 and 74-141), so it keeps tf.function. On GPUs both use
    XLA: tests/test_devices.py checks that choice with a mocked device query; no GPU has run it yet.

    Args:
        jit: True or False to decide; None to pick by backend and device.
    """
    if jit is not None:
        return jit
    import keras

    if keras.config.backend() == "jax":
        return True
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


# CPU flags of the instructions oneDNN (TensorFlow's CPU kernels) runs bfloat16 convolutions and matmuls with.
BFLOAT16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
CPUINFO = "/proc/cpuinfo"
MIN_BFLOAT16_GPU_CAPABILITY = (8, 0)  # Ampere and later have bfloat16 tensor cores


def resolve_precision(precision):
    """The compute dtype of a run: `precision` itself, or for "auto" bfloat16 where it is fast.

    "auto" means bfloat16 on TPUs, on GPUs of compute capability 8.0 or more, and on CPUs
    with AMX or AVX512-BF16 under TensorFlow, whose oneDNN kernels use them (the default
    step ran 1.2x faster at 28 px and 2x at 64 px on an AVX512-BF16 CPU, with the same CAS;
    docs/measurements.md); float32 elsewhere, including JAX on CPU, where XLA:CPU ran
    bfloat16 no faster than float32.

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


# What `kgan train`'s defaults measured per kind of CPU (28 px default network, variants interleaved in one run;
# docs/measurements.md, "kgan against a PyTorch peer"): TensorFlow's bfloat16 step over its float32 one, and
# TensorFlow's default over JAX's. CPUs with avx512_bf16: 1.50x / 2.45x (2026-11-29) and 1.59x / 2.44x (AMD Zen 5,
# 2026-12-04); AVX2 only (AMD Zen 3): JAX at 0.70x TensorFlow in float32, bfloat16 not measured (no bfloat16 units).
CPU_MEASUREMENTS = {
    "avx512_bf16": {"bfloat16_over_float32": 1.5, "tensorflow_over_jax": 2.4},
    "avx2": {"bfloat16_over_float32": None, "tensorflow_over_jax": 1.4},
}


def cpu_kind(cpuinfo_text):
    """The key of CPU_MEASUREMENTS that /proc/cpuinfo's text describes: "avx512_bf16" for CPUs with bfloat16 units
    (AMX CPUs have avx512_bf16 too), "avx2" for AVX2 without them, None for anything else."""
    flags = _cpu_flags(cpuinfo_text)
    if flags & set(BFLOAT16_CPU_FLAGS):
        return "avx512_bf16"
    return "avx2" if "avx2" in flags else None


def cpu_training_note(backend, precision):
    """One sentence for `kgan train`'s summary when it trained on a CPU: why this precision, or how TensorFlow
    measured against JAX on this kind of CPU; None on accelerators and on CPUs of no measured kind.

    Args:
        backend: the Keras backend that trained.
        precision: the compute dtype it trained in.
    """
    import keras

    kind = cpu_kind(_read_cpuinfo())
    if kind is None or not keras.distribution.list_devices()[0].startswith("cpu"):
        return None
    measured = CPU_MEASUREMENTS[kind]
    if backend == "jax":
        return (
            f"On CPUs with {kind}, TensorFlow ran the default step {measured['tensorflow_over_jax']:.1f}x as fast "
            "as JAX (docs/measurements.md): --backend tensorflow trains faster here."
        )
    if precision == "bfloat16" and measured["bfloat16_over_float32"]:
        return (
            f"bfloat16: on CPUs with {kind} TensorFlow's step measured "
            f"{measured['bfloat16_over_float32']:.1f}x its float32 speed, with the same CAS."
        )
    if precision == "float32" and kind == "avx2":
        return "float32: this CPU has no bfloat16 units (AVX2 only), where bfloat16 runs slower."
    return None


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


def _cpu_has_bfloat16():
    return bool(cpu_bfloat16_flags(_read_cpuinfo()))


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
    return _cpu_has_bfloat16()
