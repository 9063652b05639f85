"""A Conv2D whose gradient a gradient penalty can differentiate again at about the cost of a backward.

R1 differentiates D's input gradient with respect to D's weights. On JAX, XLA:CPU computed that second
derivative of D's strided convolutions at 6.6x the cost it has through convolutions of the forward's and
backward's kinds, which this layer uses instead (kgan/networks/jax_convolution.py). On TensorFlow it is keras's
layer: TensorFlow's own rules measured as fast, with XLA and without (docs/measurements.md, "R1's second
derivatives on XLA:CPU"). Same arguments, weights and results as keras's Conv2D, which it saves as
(kgan/networks/plain.py).
"""

import keras

if keras.config.backend() == "jax":
    from kgan.networks.jax_convolution import bilinear_with_transposed_derivatives
else:
    bilinear_with_transposed_derivatives = None


@keras.saving.register_keras_serializable(package="kgan")
class GradientPenaltyConv2D(keras.layers.Conv2D):
    """keras.layers.Conv2D whose second derivatives, on JAX, are convolutions of its forward's and backward's kinds."""

    def convolution_op(self, inputs, kernel):
        if bilinear_with_transposed_derivatives is None:
            return super().convolution_op(inputs, kernel)
        kernel = keras.ops.convert_to_tensor(kernel)
        inputs = keras.ops.cast(inputs, kernel.dtype)
        return bilinear_with_transposed_derivatives(super().convolution_op, inputs, kernel)
