"""Batch normalization whose training pass is one fused kernel on TensorFlow.

keras's BatchNormalization trains with separate ops for the batch moments and the
normalization, in float32 (bfloat16 activations are cast up and back), forward and backward.
TensorFlow's FusedBatchNormV3 does each direction in one oneDNN kernel that reads bfloat16
directly: on this project's CPU the default training step ran about 12% faster at 28x28 and
20% at 64x64 with it (docs/measurements.md). Inference, the JAX backend and the options the
fused kernel does not cover run keras's own code. What kgan saves (generator.keras, snapshots)
holds keras's own layer instead (kgan/networks/plain.py), so it loads with keras alone.
"""

import keras

if keras.config.backend() == "tensorflow":
    from kgan.networks.tensorflow_batch_norm import MIN_EPSILON, fused_training_call
else:
    MIN_EPSILON, fused_training_call = None, None


@keras.saving.register_keras_serializable(package="kgan")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """keras.layers.BatchNormalization that trains through a fused kernel where the backend has one.

    Same arguments, weights and results as keras's layer: the moving variance is the batch's
    biased variance, as keras keeps it.
    """

    def call(self, inputs, training=None, mask=None):
        if training and self.trainable and mask is None and self._fusable(inputs):
            return fused_training_call(self, inputs)
        return super().call(inputs, training=training, mask=mask)

    def _fusable(self, inputs):
        rank = len(inputs.shape)
        return (
            fused_training_call is not None
            and rank == 4
            and self.axis in (-1, rank - 1)
            and self.center
            and self.scale
            and not self.renorm
            and not self.synchronized
            and self.epsilon >= MIN_EPSILON
        )

