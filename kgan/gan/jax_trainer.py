"""The JAX half of the DCGAN trainer: a stateless step that carries both optimizers' state.

Keras's JAX trainer calls `train_step(state, data)` with the values of
(trainable, non-trainable, optimizer, metrics) variables and expects the new values back.
Opening a StatelessScope over that whole state lets the shared step body use ordinary
variable reads, `assign`, `optimizer.apply` and seeded `keras.random`; the scope records
every update, and the new state is read back from it. Inside the scope a variable's
`value` is its current value in the scope, which is how `_gradients` reads the state.
"""

import jax
from keras import StatelessScope


class JaxGANTrainer:
    """Mixin for DCGAN on the JAX backend."""

    def _state_variables(self):
        """Variables in the order of the state tuple Keras's JAX trainer passes."""
        return (
            self.trainable_variables,
            self.non_trainable_variables,
            self.optimizer.variables,
            self.metrics_variables,
        )

    def train_step(self, state, data):
        groups = self._state_variables()
        mapping = [pair for variables, values in zip(groups, state) for pair in zip(variables, values)]
        with StatelessScope(state_mapping=mapping) as scope:
            logs = self._gan_step(data)
        return logs, tuple([scope.get_current_value(v) for v in variables] for variables in groups)

    def _replica_seed(self, seed):
        """The seed of a random draw: unchanged, as XLA computes a data-parallel step on the global batch."""
        return seed

    def _gradients(self, objective, variables):
        """Runs `objective() -> (loss, aux)` and returns (d loss / d variables, aux).

        The objective's updates to non-trainable state (batch-norm statistics, the seed
        generator) are recorded in the enclosing step's scope.
        """
        model_state = [*self.trainable_variables, *self.non_trainable_variables]
        current = [(v, v.value) for v in model_state]

        def loss_and_updates(values):
            with StatelessScope(state_mapping=current + list(zip(variables, values))) as inner:
                loss, aux = objective()
            return loss, (aux, [inner.get_current_value(v) for v in self.non_trainable_variables])

        gradient_fn = jax.value_and_grad(loss_and_updates, has_aux=True)
        (_, (aux, updates)), grads = gradient_fn([v.value for v in variables])
        for variable, value in zip(self.non_trainable_variables, updates):
            variable.assign(value)
        return grads, aux
