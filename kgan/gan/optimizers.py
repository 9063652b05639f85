"""Default optimizers, and the pair that lets `fit()` and Keras callbacks see two optimizers as one."""

import keras

if keras.config.backend() == "tensorflow":
    from kgan.gan.tensorflow_adam import fused_adam_update, is_dense
else:
    fused_adam_update, is_dense = None, None


def default_optimizer(learning_rate=2e-4, beta_1=0.5, name="adam", beta_2=0.999):
    """Adam(2e-4, beta_1=0.5), the DCGAN paper's setting.

    Args:
        learning_rate: Adam's learning rate.
        beta_1: Adam's beta_1.
        name: the optimizer's name; TensorBoard logs its rate as `learning_rate_<name>`.
        beta_2: Adam's beta_2.
    """
    return FusedAdam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, name=name)


@keras.saving.register_keras_serializable(package="kgan")
class FusedAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam whose update is one fused kernel per variable where the backend has one.

    Same arguments, state and results as keras's Adam. On TensorFlow each dense variable's
    update is one ResourceApplyAdam kernel (`tensorflow_adam`; docs/measurements.md has what it
    saves per step). amsgrad, an embedding's sparse gradients on TensorFlow and the other
    backends run keras's own update (JAX's XLA fuses it already).
    """

    def update_step(self, gradient, variable, learning_rate):
        if fused_adam_update is None or self.amsgrad or not is_dense(gradient):
            return super().update_step(gradient, variable, learning_rate)
        fused_adam_update(self, gradient, variable, learning_rate)


@keras.saving.register_keras_serializable(package="kgan")
class OptimizerPair(keras.optimizers.Optimizer):
    """Holds the generator's and discriminator's optimizers as `model.optimizer`.

    Keras's JAX trainer threads only `model.optimizer.variables` through the stateless
    train step, so the pair exposes both members' variables (generator's first). It is
    never applied itself: the DCGAN step applies each member to its own network.

    Keras's callbacks see the members: `optimizers` lists them, as for
    keras.optimizers.MultiOptimizer, so LearningRateScheduler and ReduceLROnPlateau
    adjust each one's rate and TensorBoard logs `learning_rate_<name>` of each;
    `iterations` counts train steps (the generator's updates). Reading the pair's
    `learning_rate` gives the generator's; setting it sets the generator's and scales the
    discriminator's by the same factor, so a two-time-scale ratio survives.

    Args:
        generator_optimizer: optimizer of the generator's weights.
        discriminator_optimizer: optimizer of the discriminator's weights.
        name: the pair's name.
        **kwargs: the base Optimizer's other arguments (a saved config carries them).
    """

    def __init__(self, generator_optimizer, discriminator_optimizer, name="optimizer_pair", **kwargs):
        kwargs.pop("learning_rate", None)  # a saved config has the base's; the pair's rate is its members'
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer

    def build_pair(self, generator_variables, discriminator_variables):
        self.generator_optimizer.build(generator_variables)
        self.discriminator_optimizer.build(discriminator_variables)
        self.built = True

    @property
    def optimizers(self):
        return [self.generator_optimizer, self.discriminator_optimizer]

    @property
    def variables(self):
        return [variable for optimizer in self.optimizers for variable in optimizer.variables]

    @property
    def iterations(self):
        return self.generator_optimizer.iterations

    @property
    def learning_rate(self):
        return self.generator_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        rates = [float(keras.ops.convert_to_numpy(optimizer.learning_rate)) for optimizer in self.optimizers]
        ratio = rates[1] / rates[0] if rates[0] else 1.0
        self.generator_optimizer.learning_rate = float(value)
        self.discriminator_optimizer.learning_rate = float(value) * ratio

    def apply(self, grads, trainable_variables=None):
        raise NotImplementedError("OptimizerPair is not applied; apply its member optimizers")

    def get_config(self):
        config = super().get_config()
        config.update(
            generator_optimizer=keras.saving.serialize_keras_object(self.generator_optimizer),
            discriminator_optimizer=keras.saving.serialize_keras_object(self.discriminator_optimizer),
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**deserialize_members(config, ("generator_optimizer", "discriminator_optimizer"), custom_objects))


def deserialize_members(config, keys, custom_objects=None):
    """A copy of a get_config() dict whose `keys` (serialized Keras objects) are deserialized."""
    config = dict(config)
    for key in keys:
        config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects=custom_objects)
    return config
