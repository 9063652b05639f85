"""The TensorFlow half of the DCGAN trainer: gradients through tf.GradientTape, replicas of tf.distribute."""

import tensorflow as tf

REPLICA_SEED_STRIDE = 1_000_003  # replica r draws with the step's seed + r * this


class TensorFlowGANTrainer:
    """Mixin for DCGAN on the TensorFlow backend; `fit()` wraps train_step in tf.function.

    Under a tf.distribute strategy every replica runs train_step on its share of the batch.
    """

    def train_step(self, data):
        return self._gan_step(data)

    def _gradients(self, objective, variables):
        """Runs `objective() -> (loss, aux)` and returns (d loss / d variables, aux).

        The optimizer sums the replicas' gradients, so each replica's loss, a mean over its
        share of the batch, is divided by the number of replicas.
        """
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            loss, aux = objective()
            share = loss / replicas
        return tape.gradient(share, variables), aux

    def _replica_seed(self, seed):
        """The seed of a random draw on this replica: replicas of a step must not draw the same noise."""
        if tf.distribute.get_strategy().num_replicas_in_sync == 1:
            return seed
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        return seed + tf.cast(tf.stack([replica * REPLICA_SEED_STRIDE, 0]), seed.dtype)
