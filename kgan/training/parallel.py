"""Data-parallel training: one model on several devices, through the backend's own engine.

JAX uses `keras.distribution.DataParallel`: variables are replicated, each batch is split
across the devices and XLA (GSPMD) computes the step on the global batch, so noise, batch
statistics and gradients are those of a one-device run. TensorFlow uses
`tf.distribute.MirroredStrategy`: each replica runs the step on its share of the batch,
and the trainer scales the loss and the noise per replica (kgan.gan.tensorflow_trainer).
"""

import contextlib

import keras

from kgan.errors import UsageError


def resolve_devices(devices):
    """The devices a run trains on: the first `devices` accelerators (CPU devices when none), or "all".

    Args:
        devices: a count >= 1, or "all".

    Raises:
        UsageError: when fewer devices are visible than asked for.
    """
    visible = _visible_devices()
    count = len(visible) if devices == "all" else devices
    if count > len(visible):
        kind = "device" if len(visible) == 1 else "devices"
        raise UsageError(
            f"--devices {devices} asks for more than the {len(visible)} {kind} {keras.config.backend()} sees "
            f"({', '.join(visible)}): use --devices {len(visible)} or all"
        )
    return visible[:count]


def check_batch_split(batch_size, devices):
    """Raises UsageError unless the global batch splits evenly over the devices."""
    if batch_size % len(devices):
        raise UsageError(
            f"batch size {batch_size} does not split evenly over {len(devices)} devices: "
            f"use a multiple of {len(devices)}"
        )


@contextlib.contextmanager
def data_parallel(devices):
    """Builds and trains models inside on `devices` (names from resolve_devices); one device: as usual."""
    if len(devices) == 1:
        yield
        return
    if keras.config.backend() == "jax":
        import jax

        chosen = [device for device in jax.devices() if _jax_name(device) in devices]
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=chosen))
        try:
            yield
        finally:
            keras.distribution.set_distribution(previous)
    else:
        import tensorflow as tf

        with tf.distribute.MirroredStrategy(devices).scope():
            yield


def replica_count(model):
    """How many devices compute a built model's step: its variables' devices (JAX) or its strategy's replicas."""
    if keras.config.backend() == "jax":
        return len(model.trainable_variables[0].value.sharding.device_set)
    return model.distribute_strategy.num_replicas_in_sync


def _visible_devices():
    if keras.config.backend() == "jax":
        import jax

        accelerators = [device for device in jax.devices() if device.platform != "cpu"]
        return [_jax_name(device) for device in accelerators or jax.devices("cpu")]
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return [device.name for device in devices]


def _jax_name(device):
    return f"{device.platform}:{device.id}"
