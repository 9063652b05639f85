"""The JAX half of GradientPenaltyConv2D: a convolution whose derivatives of every order are convolutions of the
kinds its own forward and backward run.

A gradient penalty differentiates the discriminator's input gradient again. For a strided convolution, JAX's
own rules turn the kernel derivative of the input gradient (an input-dilated convolution) into a convolution
with a dilated window as large as the image, which XLA:CPU computes slowly: R1's gradient of the 64 px
discriminator cost 6.6x what it costs written as below (docs/measurements.md, "R1's second derivatives on
XLA:CPU").
A convolution is bilinear in its input and kernel, so each derivative is the convolution itself or one of its
two transposes, with the arguments exchanged: written so, no other kind of convolution appears.
"""

import jax


def bilinear_with_transposed_derivatives(bilinear, a, b):
    """`bilinear(a, b)`, differentiable to any order through `bilinear` and its transposes alone.

    Args:
        bilinear: a function of two arrays, linear in each (a convolution of an input by a kernel).
        a, b: its arguments.
    """
    a_like = jax.ShapeDtypeStruct(a.shape, a.dtype)
    b_like = jax.ShapeDtypeStruct(b.shape, b.dtype)

    def transpose_to_a(upstream, b):
        return jax.linear_transpose(lambda a: bilinear(a, b), a_like)(upstream)[0]

    def transpose_to_b(upstream, a):
        return jax.linear_transpose(lambda b: bilinear(a, b), b_like)(upstream)[0]

    @jax.custom_vjp
    def apply(a, b):
        return bilinear(a, b)

    @jax.custom_vjp
    def to_a(upstream, b):
        return transpose_to_a(upstream, b)

    @jax.custom_vjp
    def to_b(upstream, a):
        return transpose_to_b(upstream, a)

    # <to_a(u, b), a'> = <u, bilinear(a', b)> = <to_b(u, a'), b>, and likewise for to_b.
    apply.defvjp(
        lambda a, b: (bilinear(a, b), (a, b)),
        lambda saved, upstream: (to_a(upstream, saved[1]), to_b(upstream, saved[0])),
    )
    to_a.defvjp(
        lambda upstream, b: (transpose_to_a(upstream, b), (upstream, b)),
        lambda saved, a_bar: (apply(a_bar, saved[1]), to_b(saved[0], a_bar)),
    )
    to_b.defvjp(
        lambda upstream, a: (transpose_to_b(upstream, a), (upstream, a)),
        lambda saved, b_bar: (apply(saved[1], b_bar), to_a(saved[0], b_bar)),
    )
    return apply(a, b)
