"""The JAX half of the DCGAN trainer: a stateless step that carries both optimizers' state.

Keras's JAX trainer calls `train_step(state, data)` with the values of
(trainable, non-trainable, optimizer, metrics) variables and expects the new values back.
Opening a StatelessScope over that whole state lets the shared step body use ordinary
variable reads, `assign`, `optimizer.apply` and seeded `keras.random`; the scope records
every update, and the new state is read back from it. Inside the scope a variable's
`value` is its current value in the scope, which is how `_gradients` reads the state.
"""

import functools

import jax
import keras
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

    def make_train_function(self, force=False):
        """Keras's step function, except that a step with R1 is compiled for each case, with the penalty and
        without, and each step runs the one its D step count calls for.

        Under one program the schedule is a conditional, and XLA:CPU computes convolutions inside a
        conditional tens of times slower than outside one (jax-ml/jax#12868): at 64 px R1's gradient took 40 s
        there against 0.9 s outside (docs/measurements.md, "R1's second derivatives on XLA:CPU").
        """
        # Read from the state at the next step (fit() and train_on_batch() start here), then counted: reading it at
        # every step would make each step wait for the one before it.
        self._d_steps_taken = None
        if not self.r1_gamma:
            return super().make_train_function(force)
        if self.train_function is not None and not force:
            return
        steps = {due: functools.partial(self._train_step_with_r1_due, due) for due in (False, True)}
        if self.jit_compile and not self.run_eagerly:
            distribution = keras.distribution.distribution()
            out_shardings = None if distribution is None else (None, self._get_state_sharding_spec())
            steps = {due: jax.jit(step, donate_argnums=0, out_shardings=out_shardings) for due, step in steps.items()}
        position = next(i for i, v in enumerate(self.optimizer.variables) if v is self.d_optimizer.iterations)

        def scheduled_step(state, data):
            if self._d_steps_taken is None:
                self._d_steps_taken = int(state[2][position])  # the optimizer variables' values
            due = self._d_steps_taken % self.r1_every == 0
            self._d_steps_taken += 1
            return steps[due](state, data)

        self.train_function = self._make_function(scheduled_step)

    def _replica_seed(self, seed):
        """The seed of a random draw: unchanged, as XLA computes a data-parallel step on the global batch."""
        return seed

    def _gradients(self, objective, variables):
        """Runs `objective() -> (loss, aux)` and returns (d loss / d variables, aux).

        The objective's updates to non-trainable state (batch-norm statistics, the seed
        generator) are recorded in the enclosing step's scope.
        """
        return self._value_gradient(
            lambda values: self._stateless(objective, zip(variables, values)), [v.value for v in variables]
        )

    def _generator_forward_with_pullback(self, inputs):
        """Runs the generator in training mode on `inputs`; returns (images, pullback).

        `pullback(objective)` runs `objective(images) -> (loss, aux)` and returns
        (d loss / d the generator's trainable variables, aux), pulling d loss / d images back
        through this forward (`jax.vjp`) rather than running the generator again. The
        forward's and the objective's updates to non-trainable state are recorded as in
        `_gradients`.
        """
        variables = self.generator.trainable_variables

        def forward(values):
            return self._stateless(lambda: self.generator(inputs, training=True), zip(variables, values))

        images, vjp, updates = jax.vjp(forward, [v.value for v in variables], has_aux=True)
        self._assign_non_trainable(updates)

        def pullback(objective):
            upstream, aux = self._value_gradient(lambda fake: self._stateless(lambda: objective(fake)), images)
            (gradients,) = vjp(upstream)
            return gradients, aux

        return images, pullback

    def _input_gradient(self, function, inputs):
        """d sum(function(inputs)) / d inputs (`jax.grad`), differentiable again (a gradient penalty).

        `function` must be stateless (e.g. a `stateless_call`): values it assigned would leak jax's tracers.
        """
        return jax.grad(lambda values: jax.numpy.sum(function(values)))(inputs)

    def _value_gradient(self, function, primal):
        """(d loss / d primal, aux) of `function(primal) -> ((loss, aux), non-trainable values)`; assigns
        the non-trainable values."""

        def loss_and_updates(values):
            (loss, aux), updates = function(values)
            return loss, (aux, updates)

        (_, (aux, updates)), gradients = jax.value_and_grad(loss_and_updates, has_aux=True)(primal)
        self._assign_non_trainable(updates)
        return gradients, aux

    def _stateless(self, function, mapping=()):
        """Runs `function()` in a scope over the model's state, with `mapping`'s (variable, value) pairs
        overriding it; returns its result and the model's non-trainable values after it.

        Values traced by jax must not reach the enclosing step's scope, so the updates come back as values.
        """
        current = [(v, v.value) for v in (*self.trainable_variables, *self.non_trainable_variables)]
        with StatelessScope(state_mapping=current + list(mapping)) as scope:
            result = function()
        return result, [scope.get_current_value(v) for v in self.non_trainable_variables]

    def _assign_non_trainable(self, values):
        for variable, value in zip(self.non_trainable_variables, values):
            variable.assign(value)
