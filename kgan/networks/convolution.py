"""Conv2D whose kernel gradient, on JAX's CPU backend, is one matrix product per kernel tap.

XLA:CPU computes the kernel gradient of a convolution as another convolution whose window is the
whole image, 5x slower than per-tap products for the generator's 3x3 convolutions on the AVX2 CPUs
measured here (kgan/networks/jax_convolution.py). Other backends, devices and options run keras's own
code. What kgan saves (generator.keras) holds keras's own Conv2D instead (`plain_keras_model`).
"""

import keras

if keras.config.backend() == "jax":
    from kgan.networks.jax_convolution import convolution as tapwise_convolution
    from kgan.networks.jax_convolution import runs_on_cpu
else:
    tapwise_convolution, runs_on_cpu = None, None


@keras.saving.register_keras_serializable(package="kgan")
class TapwiseGradientConv2D(keras.layers.Conv2D):
    """keras.layers.Conv2D with the same arguments, weights and results; on JAX's CPU backend its kernel
    gradient is summed tap by tap."""

    def convolution_op(self, inputs, kernel):
        if self._tapwise():
            kernel = keras.ops.convert_to_tensor(kernel)
            inputs = keras.ops.cast(inputs, kernel.dtype)
            return tapwise_convolution(inputs, kernel, tuple(self.strides), self.padding.upper())
        return super().convolution_op(inputs, kernel)

    def _tapwise(self):
        return (
            tapwise_convolution is not None
            and runs_on_cpu()
            and self.data_format == "channels_last"
            and tuple(self.dilation_rate) == (1, 1)
            and self.groups == 1
        )
