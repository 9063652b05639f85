"""Default optimizers, and the pair that lets `fit()` carry two optimizers' state."""

import keras


def default_optimizer(learning_rate=2e-4, beta_1=0.5):
    """Adam(2e-4, beta_1=0.5), the DCGAN paper's setting."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1)


@keras.saving.register_keras_serializable(package="kgan")
class OptimizerPair(keras.optimizers.Optimizer):
    """Holds the generator's and discriminator's optimizers as `model.optimizer`.

    Keras's JAX trainer threads only `model.optimizer.variables` through the stateless
    train step, so this exposes both optimizers' variables (generator's first). It is
    never applied itself: the DCGAN step applies each member to its own network.

    Args:
        generator_optimizer: optimizer of the generator's weights.
        discriminator_optimizer: optimizer of the discriminator's weights.
    """

    def __init__(self, generator_optimizer, discriminator_optimizer, name="optimizer_pair", **kwargs):
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer

    def build_pair(self, generator_variables, discriminator_variables):
        self.generator_optimizer.build(generator_variables)
        self.discriminator_optimizer.build(discriminator_variables)
        self.built = True

    @property
    def variables(self):
        return [*self.generator_optimizer.variables, *self.discriminator_optimizer.variables]

    def apply(self, grads, trainable_variables=None):
        raise NotImplementedError("OptimizerPair is not applied; apply its member optimizers")

    def get_config(self):
        return {
            "name": self.name,
            "generator_optimizer": keras.saving.serialize_keras_object(self.generator_optimizer),
            "discriminator_optimizer": keras.saving.serialize_keras_object(self.discriminator_optimizer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("generator_optimizer", "discriminator_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects=custom_objects)
        return cls(**config)
