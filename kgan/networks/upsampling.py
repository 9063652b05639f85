"""Nearest-neighbour x2 upsampling and a 3x3 convolution, computed at the input's resolution.

After a nearest x2 upsampling each output pixel's 3x3 window covers only a 2x2 block of input
pixels, so the 3x3 convolution of the upsampled map equals, for each of the four output
phases (row parity a, column parity b), a 2x2 convolution of the input whose taps are sums of
the 3x3 kernel's: 16 multiply-adds per input pixel and channel pair where the upsampled
convolution spends 36 (2.25x fewer), forward and backward. The layer holds the same kernel as
`UpSampling2D(2)` then `Conv2D(filters, 3, padding="same")`, and saves as those two keras
layers (kgan/networks/plain.py).
"""

import keras
from keras import ops

# PHASE_TAPS[a][r][y]: kernel row y lands on tap r (input row i - 1 + a + r) of output row 2i + a.
PHASE_TAPS = ((1.0, 0.0, 0.0), (0.0, 1.0, 1.0)), ((1.0, 1.0, 0.0), (0.0, 0.0, 1.0))
# Inputs at least this high run the four phases as one convolution over the padded input, whose
# extra border row and column of outputs costs (H + 1)^2 / H^2 - 1 of it (13% at 16 px); smaller
# ones run four 2x2 convolutions, each on its own window. Measured faster that way on an AVX2 CPU
# (docs/measurements.md, "Nearest upsampling and convolution at the input's resolution").
ONE_CONVOLUTION_FROM = 12
# Conv2D arguments the phases assume; values given for them are ignored, and get_config leaves them out.
FIXED_ARGUMENTS = ("kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups")


@keras.saving.register_keras_serializable(package="kgan")
class NearestUpsampleConv2D(keras.layers.Conv2D):
    """`UpSampling2D(2, "nearest")` then a 3x3 "same" `Conv2D`, in one layer that never builds the upsampled map.

    Args:
        filters: output channels.
        **kwargs: Conv2D's other arguments; kernel_size 3, strides 1, "same" padding,
            channels_last, no dilation and one group are fixed (FIXED_ARGUMENTS).
    """

    def __init__(self, filters, **kwargs):
        for fixed in FIXED_ARGUMENTS:
            kwargs.pop(fixed, None)
        super().__init__(filters, 3, padding="same", data_format="channels_last", **kwargs)

    def build(self, input_shape):
        if input_shape[1] is None or input_shape[2] is None:
            raise ValueError(f"{self.name} needs a fixed height and width, not {input_shape}")
        super().build(input_shape)

    def convolution_op(self, inputs, kernel):
        _, height, width, _ = inputs.shape
        taps = ops.convert_to_tensor(PHASE_TAPS, dtype="float32")
        # (2, 2, C_in, 4 * filters), output channels ordered by phase (a, b), then filter; summed in float32.
        phase_kernels = ops.einsum("ary,bcx,yxio->rciabo", taps, taps, ops.cast(kernel, "float32"))
        phase_kernels = ops.cast(ops.reshape(phase_kernels, (2, 2, kernel.shape[2], 4 * self.filters)), inputs.dtype)
        padded = ops.pad(inputs, ((0, 0), (1, 1), (1, 1), (0, 0)))
        if height < ONE_CONVOLUTION_FROM:

            def phase(a, b):
                first = (2 * a + b) * self.filters
                window = padded[:, a : a + height + 1, b : b + width + 1]
                return ops.conv(window, phase_kernels[..., first : first + self.filters], padding="valid")

        else:
            phases = ops.conv(padded, phase_kernels, padding="valid")  # (N, H + 1, W + 1, 4 * filters)

            def phase(a, b):
                first = (2 * a + b) * self.filters
                return phases[:, a : a + height, b : b + width, first : first + self.filters]

        rows = [
            ops.reshape(ops.stack([phase(a, 0), phase(a, 1)], axis=3), (-1, height, 2 * width, self.filters))
            for a in (0, 1)
        ]
        return ops.reshape(ops.stack(rows, axis=2), (-1, 2 * height, 2 * width, self.filters))

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        return (batch, 2 * height, 2 * width, self.filters)

    def get_config(self):
        config = super().get_config()
        for fixed in FIXED_ARGUMENTS:
            config.pop(fixed)
        return config


def plain_upsample_conv(layer):
    """The keras layers that compute what `layer` (a NearestUpsampleConv2D) computes: upsampling then Conv2D."""
    convolution = keras.layers.Conv2D.from_config({**layer.get_config(), "kernel_size": 3, "padding": "same"})
    resize = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{layer.name}_resize")
    return keras.Sequential([resize, convolution], name=layer.name)
