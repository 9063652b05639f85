"""A 2-D convolution for JAX on CPU whose kernel gradient is one matrix product per kernel tap.

XLA:CPU computes a convolution's kernel gradient as another convolution with a window the size of
the image, which on the AVX2 CPUs measured here ran 5x (3x3) to 11x (transposed 4x4) slower than
summing, for each tap (u, v), the product of the input window shifted by (u, v) with the output
gradient (benchmarks/jax_conv_gradients.py, docs/measurements.md). The forward pass and the input
gradient stay XLA's own convolution; only the kernel gradient changes formulation, not value.
"""

import functools

import jax
import jax.numpy as jnp

DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def _xla_convolution(inputs, kernel, strides, padding):
    return jax.lax.conv_general_dilated(inputs, kernel, strides, padding, dimension_numbers=DIMENSIONS)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def convolution(inputs, kernel, strides, padding):
    """`jax.lax.conv_general_dilated` of channels-last `inputs` and an HWIO `kernel`.

    Args:
        inputs: (batch, height, width, in channels).
        kernel: (kernel height, kernel width, in channels, out channels).
        strides: (row stride, column stride).
        padding: "SAME" or "VALID".
    """
    return _xla_convolution(inputs, kernel, strides, padding)


def _forward(inputs, kernel, strides, padding):
    return _xla_convolution(inputs, kernel, strides, padding), (inputs, kernel)


def _backward(strides, padding, residuals, output_gradient):
    inputs, kernel = residuals
    _, input_pullback = jax.vjp(lambda x: _xla_convolution(x, kernel, strides, padding), inputs)
    (input_gradient,) = input_pullback(output_gradient)
    kernel_gradient = kernel_gradient_by_taps(inputs, output_gradient, kernel.shape, strides, padding)
    return input_gradient, kernel_gradient.astype(kernel.dtype)


def kernel_gradient_by_taps(inputs, output_gradient, kernel_shape, strides, padding):
    """The gradient of `convolution` with respect to its kernel: for each tap, the shifted input window
    contracted with `output_gradient` over batch and positions."""
    spatial_padding = jax.lax.padtype_to_pads(inputs.shape[1:3], kernel_shape[:2], strides, padding)
    padded = jnp.pad(inputs, ((0, 0), *spatial_padding, (0, 0)))
    rows, columns = output_gradient.shape[1:3]
    row_stride, column_stride = strides
    taps = [
        [
            jnp.einsum(
                "bhwi,bhwo->io",
                padded[:, u:u + (rows - 1) * row_stride + 1:row_stride,
                       v:v + (columns - 1) * column_stride + 1:column_stride],
                output_gradient,
            )
            for v in range(kernel_shape[1])
        ]
        for u in range(kernel_shape[0])
    ]  # fmt: skip
    return jnp.stack([jnp.stack(row) for row in taps])


convolution.defvjp(_forward, _backward)


def runs_on_cpu():
    """Whether JAX computes on the CPU (its default device's platform)."""
    return jax.default_backend() == "cpu"
