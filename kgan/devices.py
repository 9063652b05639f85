"""Choices that depend on the Keras backend and the devices it runs on (imports keras when asked)."""


def resolve_jit(jit):
    """jit-compile unless told otherwise, except TensorFlow on CPU.

    In benchmarks/train_throughput.py, eager JAX ran the step at 0.8x of jitted JAX;
    TensorFlow on CPU ran plain tf.function within noise of XLA (medians 127 vs 137
    images/s, ranges 121-177 and 74-141), so it keeps tf.function. On GPUs both use
    XLA, untested here (no GPU was lent).

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
