"""The TensorFlow half of the DCGAN trainer: gradients through tf.GradientTape, replicas of tf.distribute."""

import functools

import tensorflow as tf

REPLICA_SEED_STRIDE = 1_000_003  # replica r draws with the step's seed + r * this


class TensorFlowGANTrainer:
    """Mixin for DCGAN on the TensorFlow backend; `fit()` wraps train_step in tf.function.

    Under a tf.distribute strategy every replica runs train_step on its share of the batch.
    Keras 3's fit() fails under a MultiWorkerMirroredStrategy of several workers in two places
    (keras-team/keras#20585), which train_step and _maybe_symbolic_build step around.
    """

    def train_step(self, data):
        logs = self._gan_step(data)
        if _multi_worker():
            # fit() averages each output over the workers with reduce("MEAN", axis=0), which fails on a scalar.
            return {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def make_train_function(self, force=False):
        """Keras's step function, except that an XLA-compiled step with R1 is compiled for each case, with the
        penalty and without, and each step runs the one the D step count calls for.

        Under one program the schedule is a conditional, and XLA:CPU computes convolutions inside a
        conditional tens of times slower than outside one: with it, XLA ran a 64 px step with R1 no faster than
        the `tf.function`, and 1.5x as fast without it (docs/measurements.md, "R1's second derivatives on
        XLA:CPU"). A `tf.function` without XLA runs the conditional at no cost, and keeps it.
        """
        if not (self.r1_gamma and self.jit_compile and not self.run_eagerly and self.steps_per_execution == 1):
            return super().make_train_function(force)
        if self.train_function is not None and not force:
            return self.train_function
        functions = {
            due: self._make_function(functools.partial(self._train_step_with_r1_due, due)) for due in (False, True)
        }

        def scheduled_function(iterator):
            return functions[int(self.d_optimizer.iterations) % self.r1_every == 0](iterator)

        self.train_function = scheduled_function

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Before building symbolically, fit() averages a first batch over the replicas, which fails across
        # workers; the DCGAN is built when it is made, so there is nothing to build.
        if not _multi_worker():
            super()._maybe_symbolic_build(iterator, data_batch)

    def _gradients(self, objective, variables):
        """Runs `objective() -> (loss, aux)` and returns (d loss / d variables, aux), per replica (`_share`)."""
        with tf.GradientTape() as tape:
            loss, aux = objective()
            share = _share(loss)
        gradients = tape.gradient(share, variables)
        return [_with_static_shape(gradient, variable) for gradient, variable in zip(gradients, variables)], aux

    def _generator_forward_with_pullback(self, inputs):
        """Runs the generator in training mode on `inputs`; returns (images, pullback).

        `pullback(objective)` runs `objective(images) -> (loss, aux)` and returns
        (d loss / d the generator's trainable variables, aux), per replica as in `_gradients`:
        d loss / d images, pulled back through this forward's tape rather than a second run
        of the generator.
        """
        with tf.GradientTape() as tape:
            images = self.generator(inputs, training=True)

        def pullback(objective):
            with tf.GradientTape() as d_tape:
                d_tape.watch(images)
                loss, aux = objective(images)
                share = _share(loss)
            upstream = d_tape.gradient(share, images)
            return tape.gradient(images, self.generator.trainable_variables, output_gradients=upstream), aux

        return images, pullback

    def _input_gradient(self, function, inputs):
        """d sum(function(inputs)) / d inputs, taken on a tape nested in the step's, so that it can be
        differentiated again (a gradient penalty)."""
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = function(inputs)
        return tape.gradient(outputs, inputs)

    def _replica_seed(self, seed):
        """The seed of a random draw on this replica: replicas of a step must not draw the same noise."""
        if tf.distribute.get_strategy().num_replicas_in_sync == 1:
            return seed
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        return seed + tf.cast(tf.stack([replica * REPLICA_SEED_STRIDE, 0]), seed.dtype)


def _multi_worker():
    return isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy)


def _with_static_shape(gradient, variable):
    """`gradient` with its variable's shape as a constant where it is an embedding's tf.IndexedSlices.

    Through the R1 penalty's cond an IndexedSlices' dense_shape becomes a tensor computed in the graph, and
    Keras's Adam densifies the gradient with that shape as a segment count, which XLA cannot compile. The
    values and indices stay as they are, so the update is Keras's sparse one.
    """
    if not isinstance(gradient, tf.IndexedSlices):
        return gradient
    dtype = tf.int64 if gradient.dense_shape is None else gradient.dense_shape.dtype
    shape = tf.constant([int(size) for size in variable.shape], dtype)
    return tf.IndexedSlices(gradient.values, gradient.indices, shape)


def _share(loss):
    """A replica's share of `loss`: the optimizer sums the replicas' gradients, and each replica's loss is a
    mean over its share of the batch."""
    return loss / tf.distribute.get_strategy().num_replicas_in_sync
