"""A mixture of generators: z's extra entries choose the generator of each image."""

import keras
import numpy as np
import pytest

from kgan.networks import build_generator
from kgan.networks.mixture import build_mixture

LATENT_DIM = 6


def generators(count, num_classes, **kwargs):
    made = []
    for seed in range(count):
        keras.utils.set_random_seed(seed)  # different weights per member
        made.append(build_generator(16, 1, latent_dim=LATENT_DIM, num_classes=num_classes, width=4, **kwargs))
    return made


def predict(model, z, labels):
    return np.asarray(model.predict_on_batch([z, labels] if labels is not None else z))


@pytest.mark.parametrize("num_classes", [0, 10])
def test_each_image_is_the_chosen_generators_own(num_classes):
    members = generators(3, num_classes)
    mixture = build_mixture(members)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((9, LATENT_DIM + 3)).astype(np.float32)
    z[np.arange(9), LATENT_DIM + np.arange(9) % 3] = 10.0  # image i from member i % 3
    labels = rng.integers(0, 10, 9).astype(np.int32) if num_classes else None

    images = predict(mixture, z, labels)

    assert mixture.inputs[0].shape == (None, LATENT_DIM + 3)
    assert len(mixture.inputs) == (2 if num_classes else 1)
    for index, member in enumerate(members):
        own = predict(member, z[:, :LATENT_DIM], labels)
        chosen = np.arange(9) % 3 == index
        np.testing.assert_array_equal(images[chosen], own[chosen])
        assert np.abs(images[~chosen] - own[~chosen]).max() > 0.1 * np.abs(own).max()  # the members do differ


def test_the_largest_extra_entry_chooses():
    members = generators(2, 0)
    z = np.zeros((3, LATENT_DIM + 2), np.float32)
    z[:, LATENT_DIM:] = [[0.1, -2.0], [-0.3, -0.2], [1.0, 1.0]]  # a tie goes to the first member

    images = predict(build_mixture(members), z, None)

    first, second = (predict(member, z[:, :LATENT_DIM], None) for member in members)
    np.testing.assert_array_equal(images, np.stack([first[0], second[1], first[2]]))


def test_members_may_differ_in_width_but_not_in_interface():
    keras.utils.set_random_seed(0)
    narrow = build_generator(16, 1, latent_dim=LATENT_DIM, num_classes=10, width=4)
    wide = build_generator(16, 1, latent_dim=LATENT_DIM, num_classes=10, width=8, upsampling="resize")
    assert build_mixture([narrow, wide]).output_shape == (None, 16, 16, 1)

    for other in (
        build_generator(16, 1, latent_dim=LATENT_DIM + 1, num_classes=10, width=4),
        build_generator(16, 1, latent_dim=LATENT_DIM, num_classes=0, width=4),
        build_generator(32, 1, latent_dim=LATENT_DIM, num_classes=10, width=4),
        build_generator(16, 3, latent_dim=LATENT_DIM, num_classes=10, width=4),
    ):
        with pytest.raises(ValueError, match="must share their inputs and image shape"):
            build_mixture([narrow, other])
    with pytest.raises(ValueError, match="at least two generators"):
        build_mixture([narrow])
