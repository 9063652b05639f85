"""From a TrainConfig to what a run trains: the dataset, the compiled DCGAN and config.json's content."""

import dataclasses

import keras

import kgan
from kgan.config import resolve_metric_every, resolve_r1, resolve_upsampling
from kgan.data import load_dataset
from kgan.data.batches import BatchFeeder, epoch_steps
from kgan.devices import prefer_xla_cpu_convolutions, resolve_jit, resolve_precision
from kgan.errors import UsageError
from kgan.formats import run_folder
from kgan.gan import DCGAN, default_optimizer
from kgan.gan.dcgan import DISCRIMINATOR_OPTIMIZER, GENERATOR_OPTIMIZER
from kgan.gan.diffaugment import parse_policy
from kgan.judge.epoch_score import resolve_metric
from kgan.networks import build_discriminator, build_generator
from kgan.networks.blocks import dtype_policy
from kgan.training.cluster import ONE_PROCESS

COMPUTE_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}  # variables stay float32 in both


def prepare_data(config):
    """Loads the run's dataset and resolves the config's open choices against it.

    Args:
        config: a TrainConfig; image_size, channels, conditional, keep_best and metric_every may be None,
            precision, upsampling and metric "auto".

    Returns:
        (an ImageDataset, the TrainConfig with image_size, channels, conditional, precision, upsampling, metric,
        keep_best and metric_every set; metric_every None when there is no metric).
    """
    prefer_xla_cpu_convolutions(keras.config.backend())  # for library callers; the CLI did it already
    dataset = load_dataset(config.dataset, config.image_size, config.channels)
    has_labels = dataset.labels is not None
    conditional = has_labels if config.conditional is None else config.conditional
    if conditional and not has_labels:
        raise UsageError(f"dataset {config.dataset} has no labels: use --unconditional or a labelled dataset")
    if config.batch_size > len(dataset):
        raise UsageError(f"batch size {config.batch_size} is larger than the dataset ({len(dataset)} images)")
    diffaugment_policy(config)
    metric, keep_best = resolve_metric(config.metric, config.keep_best, has_labels, conditional)
    images_per_epoch = epoch_steps(len(dataset), config.batch_size, config.steps_per_epoch) * config.batch_size
    resolved = dataclasses.replace(
        config,
        image_size=dataset.images.shape[1],
        channels=dataset.images.shape[-1],
        conditional=conditional,
        precision=resolve_precision(config.precision),
        upsampling=resolve_upsampling(config.upsampling, dataset.images.shape[1]),
        r1=resolve_r1(config.r1, dataset.images.shape[1], config.batch_size),
        metric=metric,
        keep_best=keep_best,
        metric_every=None if metric is None else resolve_metric_every(config.metric_every, images_per_epoch),
    )
    return dataset, resolved


def diffaugment_policy(config):
    """The config's DiffAugment policy as a tuple; UsageError when it names an unknown one."""
    try:
        return parse_policy(config.diffaugment)
    except ValueError as error:
        raise UsageError(str(error)) from error


def network_arguments(config, dataset):
    """Keyword arguments of build_generator and build_discriminator for a run."""
    num_classes = dataset.num_classes if config.conditional else 0
    shared = dict(image_size=config.image_size, channels=config.channels, num_classes=num_classes)
    generator = dict(shared, width=config.width, latent_dim=config.latent_dim, upsampling=config.upsampling,
                     class_conditioning=config.class_conditioning)
    return generator, dict(shared, width=config.d_width or config.width, spectral_norm=config.spectral_norm)


def build_model(config, dataset):
    """The compiled DCGAN of a resolved config (see prepare_data), seeded by config.seed."""
    keras.utils.set_random_seed(config.seed)
    generator_args, discriminator_args = network_arguments(config, dataset)
    with dtype_policy(COMPUTE_POLICIES[config.precision]):
        model = DCGAN(
            build_generator(**generator_args),
            build_discriminator(**discriminator_args),
            latent_dim=config.latent_dim,
            num_classes=generator_args["num_classes"],
            ema_decay=config.ema_decay if config.ema else None,
            label_smoothing=config.label_smoothing,
            diffaugment=diffaugment_policy(config),
            seed=config.seed,
            generator_forwards=config.generator_forwards,
            gan_loss=config.loss,
            r1_gamma=config.r1,
            r1_every=config.r1_every,
            mode_seeking=config.mode_seeking,
        )
    model.compile(
        g_optimizer=default_optimizer(config.lr, config.beta_1, GENERATOR_OPTIMIZER, config.beta_2),
        d_optimizer=default_optimizer(discriminator_lr(config), config.beta_1, DISCRIMINATOR_OPTIMIZER, config.beta_2),
        jit_compile=resolve_jit(config.jit, config.precision, training_steps(config, dataset)),
    )
    return model


def training_steps(config, dataset):
    """The steps of a run's `epochs` epochs."""
    return epoch_steps(len(dataset), config.batch_size, config.steps_per_epoch) * config.epochs


def discriminator_lr(config):
    """The discriminator's learning rate: `d_lr`, or `lr` when it is None."""
    return config.lr if config.d_lr is None else config.d_lr


def batch_feeder(config, dataset, initial_epoch=0, cluster=ONE_PROCESS):
    """The batches a run of a resolved config trains on from `initial_epoch`: uint8, scaled inside the step;
    in a run of several processes (a kgan.training.cluster.Cluster), this process's share of each."""
    return BatchFeeder(
        dataset, config.batch_size, config.seed, config.steps_per_epoch, config.conditional, initial_epoch,
        as_uint8=True, share=(cluster.index, cluster.count),
    )  # fmt: skip


def fit_inputs(feeder):
    """fit()'s `x` and `steps_per_epoch` for a batch_feeder: `model.fit(**fit_inputs(feeder), epochs=...)`.

    On TensorFlow `x` is an endless tf.data pipeline of the feeder's batches (kgan.data.tensorflow_batches
    says why), so fit() needs the steps per epoch; elsewhere it is the feeder itself. Under a
    MultiWorkerMirroredStrategy it is this worker's pipeline of its share, handed to each local replica
    in turn.
    """
    if keras.config.backend() != "tensorflow":
        return {"x": feeder, "steps_per_epoch": feeder.steps_per_epoch}
    import tensorflow as tf

    from kgan.data.tensorflow_batches import endless_dataset

    strategy = tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return {"x": endless_dataset(feeder), "steps_per_epoch": feeder.steps_per_epoch}

    def worker_batches(context):
        return endless_dataset(feeder).rebatch(context.get_per_replica_batch_size(feeder.batch_size))

    return {"x": strategy.distribute_datasets_from_function(worker_batches), "steps_per_epoch": feeder.steps_per_epoch}


def describe(config, dataset):
    """The content of config.json (kgan.formats.run_folder) for a resolved config."""
    generator_args, discriminator_args = network_arguments(config, dataset)
    return run_folder.make_description(
        kgan.__version__,
        keras.config.backend(),
        config,
        num_images=len(dataset),
        class_names=dataset.class_names if config.conditional else [],
        image_shape=dataset.image_shape,
        generator=generator_args,
        discriminator=discriminator_args,
    )
