"""Several generators as one model: extra entries of z choose, per image, which generator makes it."""

import keras
from keras import ops

from kgan.networks.blocks import label_input


def build_mixture(generators, name="mixture"):
    """A functional model that runs every generator and keeps, per image, the one its z chooses.

    The mixture's z is the members' z followed by one entry per member; the member whose
    entry is the largest makes the image. Those entries are drawn like the rest of z, so each
    member makes an equal share of the images at any sampling temperature or truncation, and
    each sees z exactly as it would alone. Every member runs on every image: a mixture of k
    costs k times the compute of one generator.

    Args:
        generators: two or more generators of `build_generator`, with the same latent size,
            classes and image shape (they may differ in width, upsampling or weights).
        name: the model's name.
    """
    if len(generators) < 2:
        raise ValueError(f"a mixture needs at least two generators, got {len(generators)}")
    first = generators[0]
    for generator in generators[1:]:
        if [tuple(tensor.shape) for tensor in generator.inputs] != [tuple(tensor.shape) for tensor in first.inputs] \
                or tuple(generator.output.shape) != tuple(first.output.shape):  # fmt: skip
            raise ValueError("the generators of a mixture must share their inputs and image shape")
    latent_dim, count = first.inputs[0].shape[-1], len(generators)
    z = keras.Input(shape=(latent_dim + count,), name="z")
    inputs = [z, label_input()] if len(first.inputs) > 1 else [z]
    member_inputs = [z[:, :latent_dim], *inputs[1:]]
    images = [
        keras.Model(generator.inputs, generator.output, name=f"member_{index}")(member_inputs)
        for index, generator in enumerate(generators)
    ]
    _, member = ops.top_k(z[:, latent_dim:], 1)
    chosen = ops.one_hot(member[:, 0], count, dtype=images[0].dtype)
    image = ops.einsum("nkhwc,nk->nhwc", ops.stack(images, axis=1), chosen)
    return keras.Model(inputs if len(inputs) > 1 else z, image, name=name)
