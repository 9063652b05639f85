"""Data-parallel training: one model on several devices, through the backend's own engine.

JAX uses `keras.distribution.DataParallel`: variables are replicated, each batch is split
across the devices and XLA (GSPMD) computes the step on the global batch, so noise, batch
statistics and gradients are those of a one-device run. TensorFlow uses
`tf.distribute.MirroredStrategy`: each replica runs the step on its share of the batch,
and the trainer scales the loss and the noise per replica (kgan.gan.tensorflow_trainer).

A run of several processes (kgan.training.cluster) trains on every device of every process: on JAX,
DataParallel spans them, on TensorFlow the cluster's MultiWorkerMirroredStrategy does.
"""

import contextlib

import keras

from kgan.errors import UsageError
from kgan.training.cluster import ONE_PROCESS


def resolve_devices(devices, cluster=ONE_PROCESS):
    """The devices a run trains on: the first `devices` accelerators (CPU devices when none), or "all".

    Args:
        devices: a count >= 1, or "all".
        cluster: the run's kgan.training.cluster.Cluster; with several processes, every device of every
            process (`devices` must be "all" or their count).

    Raises:
        UsageError: when fewer devices are visible than asked for.
    """
    visible = _visible_devices(cluster)
    count = len(visible) if devices == "all" else devices
    if cluster.count > 1 and count != len(visible):
        raise UsageError(
            f"--devices {devices}: a run of {cluster.count} processes trains on all {len(visible)} devices "
            f"of its processes: use --devices all"
        )
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


def devices_that_fit(devices, batch_size, cluster=ONE_PROCESS):
    """`devices` where this machine has them, else the most it has that split the batch evenly: the
    devices of a resumed run that config.json, not --devices, sets (see resolve_devices)."""
    if cluster.count > 1 or devices == "all":
        return "all"
    visible = _visible_devices(cluster)
    if devices <= len(visible):
        return devices
    return max(count for count in range(1, len(visible) + 1) if batch_size % count == 0)


@contextlib.contextmanager
def data_parallel(devices, cluster=ONE_PROCESS):
    """Builds and trains models inside on `devices` (names from resolve_devices); one device: as usual.

    Args:
        devices: names from resolve_devices.
        cluster: the run's kgan.training.cluster.Cluster.
    """
    if cluster.strategy is not None:
        with cluster.strategy.scope():
            yield
        return
    if len(devices) == 1:
        yield
        return
    if keras.config.backend() == "jax":
        import jax

        chosen = [device for device in jax.devices() if _jax_name(device) in devices]
        previous = keras.distribution.distribution()
        # Each process's feeder yields its own share of every batch (kgan.data.batches.BatchFeeder).
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=chosen, auto_shard_dataset=False))
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


def _visible_devices(cluster):
    if keras.config.backend() == "jax":
        import jax

        accelerators = [device for device in jax.devices() if device.platform != "cpu"]
        return [_jax_name(device) for device in accelerators or jax.devices("cpu")]
    if cluster.strategy is not None:
        return [f"replica:{replica}" for replica in range(cluster.strategy.num_replicas_in_sync)]
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return [device.name for device in devices]


def _jax_name(device):
    return f"{device.platform}:{device.id}"
