"""The TensorFlow half of the DCGAN trainer: gradients through tf.GradientTape."""

import tensorflow as tf


class TensorFlowGANTrainer:
    """Mixin for DCGAN on the TensorFlow backend; `fit()` wraps train_step in tf.function."""

    def train_step(self, data):
        return self._gan_step(data)

    def _gradients(self, objective, variables):
        """Runs `objective() -> (loss, aux)` and returns (d loss / d variables, aux)."""
        with tf.GradientTape() as tape:
            loss, aux = objective()
        return tape.gradient(loss, variables), aux
