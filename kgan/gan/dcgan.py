"""DCGAN: a keras.Model whose custom train step runs under `fit()` on TensorFlow and JAX.

The step itself (`_gan_step`) is written once with keras.ops; the backend mixin supplies
only `train_step` (how state is carried), `_gradients`, `_generator_forward_with_pullback` and
`_input_gradient` (how gradients are taken), as keras/src/models/model.py picks its trainer by backend.
"""

import keras
from keras import ops

from kgan.config import GENERATOR_FORWARDS, LOSSES
from kgan.errors import UsageError
from kgan.gan.diffaugment import diff_augment
from kgan.gan.losses import (
    discriminator_loss,
    generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    mode_seeking_loss,
)
from kgan.gan.optimizers import OptimizerPair, default_optimizer, deserialize_members
from kgan.imaging import UINT8_STEP
from kgan.networks.calibration import calibrate_batch_norm

if keras.config.backend() == "jax":
    from kgan.gan.jax_trainer import JaxGANTrainer as GANTrainer
elif keras.config.backend() == "tensorflow":
    from kgan.gan.tensorflow_trainer import TensorFlowGANTrainer as GANTrainer
else:  # keras took its backend from elsewhere (~/.keras/keras.json), past the CLI's check of $KERAS_BACKEND
    raise UsageError(
        f"kgan trains on the tensorflow or jax backend, not {keras.config.backend()!r}: "
        "set KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax"
    )

GENERATOR_OPTIMIZER = "generator_adam"
DISCRIMINATOR_OPTIMIZER = "discriminator_adam"


@keras.saving.register_keras_serializable(package="kgan")
class DCGAN(GANTrainer, keras.Model):
    """A generator and a discriminator trained adversarially with `fit()`.

    `fit()` takes batches of images in [-1, 1] or uint8 (scaled inside the step, so only
    uint8 crosses to the device), or (images, labels) when conditional.
    Calling the model generates images from z (and labels) with the sampling generator:
    the EMA copy when there is one. Call `calibrate_sampling_generator()` after `fit()` and
    before sampling or saving (kgan's training runs do so after every epoch).

    Args:
        generator: functional model, z (or [z, label]) to images.
        discriminator: functional model, image (or [image, label]) to a logit.
        latent_dim: size of z.
        num_classes: number of classes; 0 for an unconditional GAN.
        ema_decay: decay of the generator's exponential moving average; None for no EMA.
        label_smoothing: one-sided smoothing of the real target (0 = none); non-saturating loss only.
        diffaugment: DiffAugment policy, a tuple from kgan.gan.diffaugment.POLICIES.
        seed: seed of the step's noise and augmentation draws.
        generator_forwards: generator forward passes per step. 2: G's update runs the generator
            again on fresh z; 1: G's update backpropagates through the fake batch D trained on
            (as pytorch/examples' DCGAN), one generator forward fewer per step.
        gan_loss: "nonsaturating" or "hinge" (kgan.gan.losses). The metrics d_real and d_fake are the
            mean sigmoid of D's logits under either.
        r1_gamma: gamma of the R1 penalty gamma/2 * E||grad_x D(x)||^2 on the real batch, as D sees it
            (after DiffAugment), added to D's loss; 0 for none. The metric d_loss leaves it out.
        r1_every: the penalty is applied on every r1_every-th D step, times r1_every (lazy regularisation).
        mode_seeking: weight of MSGAN's mode-seeking term (kgan.gan.losses.mode_seeking_loss) in G's loss;
            0 for none. The metric g_loss leaves it out.
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        num_classes=0,
        ema_decay=0.999,
        label_smoothing=0.0,
        diffaugment=(),
        seed=None,
        generator_forwards=2,
        gan_loss="nonsaturating",
        r1_gamma=0.0,
        r1_every=16,
        mode_seeking=0.0,
        **kwargs,
    ):
        if generator_forwards not in GENERATOR_FORWARDS:
            raise ValueError(f"generator_forwards must be one of {GENERATOR_FORWARDS}, not {generator_forwards!r}")
        if gan_loss not in LOSSES:
            raise ValueError(f"gan_loss must be one of {LOSSES}, not {gan_loss!r}")
        if label_smoothing and gan_loss != "nonsaturating":
            raise ValueError(f"label smoothing applies to the non-saturating loss only, not to {gan_loss}")
        if not (r1_gamma >= 0 and isinstance(r1_every, int) and r1_every >= 1):
            raise ValueError(f"R1 needs r1_gamma >= 0 and an integer r1_every >= 1, not {r1_gamma!r}, {r1_every!r}")
        if not mode_seeking >= 0:
            raise ValueError(f"mode_seeking must be a weight >= 0, not {mode_seeking!r}")
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.ema_decay = ema_decay
        self.label_smoothing = label_smoothing
        self.diffaugment = tuple(diffaugment)
        self.seed = seed
        self.generator_forwards = generator_forwards
        self.gan_loss = gan_loss
        self.r1_gamma = r1_gamma
        self.r1_every = r1_every
        self.mode_seeking = mode_seeking
        self.r1_due = None  # True or False where the trainer schedules R1 itself; None: the step's own schedule
        self.ema_generator = None
        if ema_decay is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_generator.trainable = False
        self.seed_generator = _StepSeedGenerator(seed, self._replica_seed, name="step_seed")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")  # D(x)
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")  # D(G(z))
        self.built = True

    @property
    def sampling_generator(self):
        """The generator used for samples and export: the EMA copy when there is one."""
        return self.ema_generator or self.generator

    def calibrate_sampling_generator(self):
        """Gives the EMA generator batch-norm statistics measured on its own activations.

        Its weights are an average, but its statistics are the training generator's; with
        them, samples in inference mode come out measurably worse (see docs/training.md,
        "EMA and batch-norm statistics").
        """
        if self.ema_generator is not None:
            calibrate_batch_norm(self.ema_generator, self.latent_dim, self.num_classes, seed=self.seed or 0)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Configures training.

        Args:
            g_optimizer: generator optimizer; default Adam(2e-4, beta_1=0.5).
            d_optimizer: discriminator optimizer; default Adam(2e-4, beta_1=0.5).
            **kwargs: passed to keras.Model.compile (e.g. jit_compile, steps_per_execution).
        """
        self.g_optimizer = g_optimizer or default_optimizer(name=GENERATOR_OPTIMIZER)
        self.d_optimizer = d_optimizer or default_optimizer(name=DISCRIMINATOR_OPTIMIZER)
        pair = OptimizerPair(self.g_optimizer, self.d_optimizer)
        pair.build_pair(self.generator.trainable_variables, self.discriminator.trainable_variables)
        super().compile(optimizer=pair, **kwargs)

    def get_compile_config(self):
        return {
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
        }

    def compile_from_config(self, config):
        self.compile(
            g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]),
            d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
        )

    def call(self, inputs, training=False):
        return self.sampling_generator(inputs, training=training)

    def generator_inputs(self, z, labels=None):
        return [z, labels] if self.num_classes else z

    def _augment(self, images):
        return diff_augment(images, self.diffaugment, self.seed_generator) if self.diffaugment else images

    def _discriminator_inputs(self, images, labels):
        return [images, labels] if self.num_classes else images

    def _discriminate(self, images, labels):
        return self.discriminator(self._discriminator_inputs(images, labels), training=True)

    def _sample_latent(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def _discriminator_objective(self, real, fake, labels, d_step):
        """D's loss, with the R1 penalty when due at D step `d_step`; aux: (the loss without it, d_real, d_fake)."""
        real, fake = self._augment(real), self._augment(fake)
        real_logits, fake_logits = self._discriminate(real, labels), self._discriminate(fake, labels)
        if self.gan_loss == "hinge":
            loss = hinge_discriminator_loss(real_logits, fake_logits)
        else:
            loss = discriminator_loss(real_logits, fake_logits, self.label_smoothing)
        aux = (loss, ops.mean(ops.sigmoid(real_logits)), ops.mean(ops.sigmoid(fake_logits)))
        if self.r1_gamma:
            loss = loss + self._r1_penalty(real, labels, d_step)
        return loss, aux

    def _r1_penalty(self, real, labels, d_step):
        """r1_every * r1_gamma / 2 * E||d D(x) / d x||^2 over the batch `real` when `d_step` is a multiple of
        r1_every, else 0 (under ops.cond, so the steps in between do not compute it; where the backend's
        trainer compiles a step for each case, `r1_due` says which one this is).

        D runs once more on `real` for it, statelessly: the extra forward moves no batch-norm statistics or
        spectral-norm vectors. The backend mixin's `_input_gradient` takes d D(x) / d x.
        """
        trainable = [variable.value for variable in self.discriminator.trainable_variables]
        fixed = [variable.value for variable in self.discriminator.non_trainable_variables]

        def logits(images):
            inputs = self._discriminator_inputs(images, labels)
            return self.discriminator.stateless_call(trainable, fixed, inputs, training=True)[0]

        def penalty():
            squared_norms = ops.sum(ops.square(self._input_gradient(logits, real)), axis=(1, 2, 3))
            return self.r1_every * self.r1_gamma / 2 * ops.mean(squared_norms)

        def no_penalty():
            return ops.zeros((), "float32")

        if self.r1_due is None:
            return ops.cond(ops.equal(d_step % self.r1_every, 0), penalty, no_penalty)
        return penalty() if self.r1_due else no_penalty()

    def _train_step_with_r1_due(self, due, *arguments):
        """The backend's train_step on `arguments`, with the R1 penalty if `due`, else without: for a trainer that
        compiles a step for each case."""
        self.r1_due = due
        try:
            return self.train_step(*arguments)
        finally:
            self.r1_due = None

    def _generator_objective(self, fake, z, labels):
        """G's loss on `fake`, drawn from `z`, with the mode-seeking term when it has a weight; aux: the loss
        without it."""
        logits = self._discriminate(self._augment(fake), labels)
        loss = hinge_generator_loss(logits) if self.gan_loss == "hinge" else generator_loss(logits)
        if self.mode_seeking:
            return loss + self.mode_seeking * mode_seeking_loss(fake, z, labels), loss
        return loss, loss

    def _generate(self, batch_size, labels):
        """The fake batch D trains on, and how G's gradients are taken.

        Returns:
            (fake, generator_gradients): `generator_gradients(objective)` runs `objective(images, z) -> (loss, aux)`
            and returns (d loss / d G's trainable variables, aux), `images` being `fake` itself (one generator
            forward per step) or a second forward, on z drawn when it is called (two).
        """
        z = self._sample_latent(batch_size)
        inputs = self.generator_inputs(z, labels)
        if self.generator_forwards == 1:
            fake, pullback = self._generator_forward_with_pullback(inputs)
            return fake, lambda objective: pullback(lambda images: objective(images, z))

        def fresh_forward(objective):
            fresh_z = self._sample_latent(batch_size)
            return self._gradients(
                lambda: objective(self.generator(self.generator_inputs(fresh_z, labels), training=True), fresh_z),
                self.generator.trainable_variables,
            )

        return self.generator(inputs, training=True), fresh_forward

    def _gan_step(self, data):
        """One alternating update: D on real and fake, then G against the updated D."""
        real, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        real = ops.convert_to_tensor(real)  # un-jitted JAX steps receive numpy batches
        if keras.backend.standardize_dtype(real.dtype) == "uint8":
            real = ops.cast(real, "float32") * UINT8_STEP - 1.0
        labels = None if labels is None else ops.convert_to_tensor(labels)
        fake, generator_gradients = self._generate(ops.shape(real)[0], labels)
        detached = ops.stop_gradient(fake)
        d_variables = self.discriminator.trainable_variables
        # R1's schedule; read out here, as on JAX the objective's scope holds the model's state, not the optimizers'.
        d_step = ops.convert_to_tensor(self.d_optimizer.iterations)
        d_grads, (d_loss, d_real, d_fake) = self._gradients(
            lambda: self._discriminator_objective(real, detached, labels, d_step), d_variables
        )
        self.d_optimizer.apply(d_grads, d_variables)
        g_grads, g_loss = generator_gradients(lambda images, z: self._generator_objective(images, z, labels))
        self.g_optimizer.apply(g_grads, self.generator.trainable_variables)
        self._update_ema()
        for tracker, value in zip(self.metrics, (d_loss, g_loss, d_real, d_fake)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in self.metrics}

    def _update_ema(self):
        """EMA of the generator's weights, with a warm-up (decay grows with the step count).

        Batch-norm statistics are copied, not averaged, until calibrate_sampling_generator
        measures them.
        """
        if self.ema_generator is None:
            return
        step = ops.cast(self.g_optimizer.iterations, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            value = ops.cast(weight, average.dtype)
            average.assign(decay * average + (1.0 - decay) * value if weight.trainable else value)

    def get_config(self):
        config = super().get_config()
        config.update(
            generator=keras.saving.serialize_keras_object(self.generator),
            discriminator=keras.saving.serialize_keras_object(self.discriminator),
            latent_dim=self.latent_dim,
            num_classes=self.num_classes,
            ema_decay=self.ema_decay,
            label_smoothing=self.label_smoothing,
            diffaugment=list(self.diffaugment),
            seed=self.seed,
            generator_forwards=self.generator_forwards,
            gan_loss=self.gan_loss,
            r1_gamma=self.r1_gamma,
            r1_every=self.r1_every,
            mode_seeking=self.mode_seeking,
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_members(config, ("generator", "discriminator"), custom_objects))


class _StepSeedGenerator(keras.random.SeedGenerator):
    """The step's noise seeds, made distinct per replica by `per_replica` (the trainer's _replica_seed)."""

    def __init__(self, seed, per_replica, name=None):
        super().__init__(seed, name=name)
        self._per_replica = per_replica

    def next(self, ordered=True):
        return self._per_replica(super().next(ordered))

