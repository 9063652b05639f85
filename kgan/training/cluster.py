"""Several processes that train one model together (on several hosts, or several on one): joining them.

JAX joins through `keras.distribution.initialize` (jax.distributed): a coordinator address, the number of
processes and this one's index, from arguments or the variables JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES
and JAX_PROCESS_ID. It must happen before anything else computes with JAX; `jax.devices()` then lists every
process's devices, and on CPU the processes reduce over gloo (jax_cpu_collectives_implementation's default).
TensorFlow joins through `tf.distribute.MultiWorkerMirroredStrategy`, from TF_CONFIG, made before any
other TensorFlow operation. Process 0 (TensorFlow: the "chief" task, else worker 0) is the chief.
"""

import dataclasses
import json
import os

import keras

from kgan.errors import UsageError, first_line

JAX_VARIABLES = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The processes of a run and this one's place among them.

    Attributes:
        index: this process's index, 0 for the chief (the one that writes the run folder).
        count: how many processes train the model.
        strategy: on TensorFlow with several processes, their MultiWorkerMirroredStrategy; else None.
    """

    index: int = 0
    count: int = 1
    strategy: object = None

    @property
    def is_chief(self):
        return self.index == 0


ONE_PROCESS = Cluster()


def join_cluster(coordinator=None, num_processes=None, process_id=None):
    """Joins the other processes of a run, when there are any; returns this process's Cluster.

    Call it before anything computes with the backend. With none of the arguments and none of the
    variables above set, the run has one process (ONE_PROCESS).

    Args:
        coordinator: JAX only: HOST:PORT of process 0's coordinator (else $JAX_COORDINATOR_ADDRESS).
        num_processes: JAX only: how many processes take part (else $JAX_NUM_PROCESSES).
        process_id: JAX only: this process's index, 0 to num_processes - 1 (else $JAX_PROCESS_ID).

    Raises:
        UsageError: on settings that do not describe a cluster, or that the backend cannot join.
    """
    given = {"coordinator": coordinator, "num_processes": num_processes, "process_id": process_id}
    if keras.config.backend() == "jax":
        return _join_jax(*(value if value is not None else _environment(name)
                           for value, name in zip(given.values(), JAX_VARIABLES)))  # fmt: skip
    flags = [f"--{name.replace('_', '-')}" for name, value in given.items() if value is not None]
    if flags:
        raise UsageError(
            f"{', '.join(flags)} set up JAX's processes; TensorFlow's are set by TF_CONFIG on each process "
            "(see docs/devices.md, Several hosts)"
        )
    return _join_tensorflow()


def _environment(name):
    value = os.environ.get(name) or None
    if value is None or name == "JAX_COORDINATOR_ADDRESS":
        return value
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"{name} is {value!r}, not an integer: fix or unset it") from None


def _join_jax(coordinator, num_processes, process_id):
    if coordinator is None and num_processes is None and process_id is None:
        return ONE_PROCESS
    if num_processes is not None and num_processes < 1:
        raise UsageError(f"the number of processes must be at least 1, not {num_processes}")
    if num_processes == 1:
        return ONE_PROCESS
    if process_id is not None and not (num_processes is None or 0 <= process_id < num_processes):
        raise UsageError(f"process id {process_id} is not one of 0 to {num_processes - 1}")
    import jax

    try:
        keras.distribution.initialize(coordinator, num_processes, process_id)
    except (ValueError, RuntimeError) as error:
        raise UsageError(
            f"cannot join the other processes ({first_line(error)}): give every process the coordinator's "
            "HOST:PORT, the number of processes and its own id (--coordinator, --num-processes, --process-id "
            "or JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID)"
        ) from error
    return Cluster(index=jax.process_index(), count=jax.process_count())


def _join_tensorflow():
    tasks = _tf_config_tasks()
    if len(tasks) <= 1:
        return ONE_PROCESS
    import tensorflow as tf

    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    except (ValueError, RuntimeError) as error:
        raise UsageError(f"cannot join the workers of TF_CONFIG ({first_line(error)})") from error
    resolver = strategy.cluster_resolver
    return Cluster(index=tasks.index((resolver.task_type, resolver.task_id)), count=len(tasks), strategy=strategy)


def _tf_config_tasks():
    """The (task type, index) of every chief and worker task of $TF_CONFIG, the chief first; [] without it."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        return []
    try:
        cluster = json.loads(text)["cluster"]
        return [(kind, index) for kind in ("chief", "worker") for index in range(len(cluster.get(kind, ())))]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(
            f"TF_CONFIG is not a cluster description ({type(error).__name__}: {first_line(error)}): "
            'set it to {"cluster": {"worker": ["HOST:PORT", ...]}, "task": {"type": "worker", "index": I}}, '
            "or unset it"
        ) from error
