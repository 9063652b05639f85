"""The recipe options: hinge loss, R1 with its lazy schedule, spectral normalisation, two learning rates, the
mode-seeking term, class-conditional batch norm, and a `kgan train` run with all of them that resumes and exports.

The train step itself, with the hinge loss and lazy R1, is pinned against independent gradients in
test_train_step.py.
"""

import json

import keras
import numpy as np
import pytest
from keras import ops

from kgan.config import TrainConfig
from kgan.gan import DCGAN, losses
from kgan.networks import build_discriminator, build_generator
from kgan.networks.discriminator import SpectralNormalization
from kgan.training.builder import build_model, prepare_data
from kgan.training.run import start_run
from tests.conftest import TINY, train_arguments
from tests.helpers import checkpoint_arrays, run_kgan
from tests.test_config import RECIPE
from tests.tiny_models import gradients, to_numpy


def test_hinge_losses_match_hand_computed_values():
    real = np.array([2.0, 0.5, -1.0], np.float32)  # relu(1 - real): 0, 0.5, 2
    fake = np.array([-3.0, 0.25], np.float32)  # relu(1 + fake): 0, 1.25

    assert float(losses.hinge_discriminator_loss(real, fake)) == pytest.approx(2.5 / 3 + 1.25 / 2)
    assert float(losses.hinge_generator_loss(fake)) == pytest.approx(1.375)


def mode_seeking_by_hand(images, latents, pairs, epsilon=1e-5):
    """1 / (sum of mean |x_i - x_j| / sum of mean |z_i - z_j| + epsilon) over the listed pairs (i, j)."""
    image_gaps = sum(np.mean(np.abs(images[i] - images[j])) for i, j in pairs)
    latent_gaps = sum(np.mean(np.abs(latents[i] - latents[j])) for i, j in pairs)
    return 1 / (image_gaps / latent_gaps + epsilon)


def test_mode_seeking_pairs_each_sample_with_the_next_of_its_label():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (7, 3, 3, 2)).astype(np.float32)
    latents = rng.standard_normal((7, 4)).astype(np.float32)
    labels = np.array([2, 0, 2, 1, 0, 2, 3], np.int32)  # pairs: label 0 (1, 4); label 2 (0, 2), (2, 5)

    conditional = float(losses.mode_seeking_loss(images, latents, labels))
    unconditional = float(losses.mode_seeking_loss(images, latents))
    no_pair = float(losses.mode_seeking_loss(images[:3], latents[:3], np.array([0, 1, 2], np.int32)))

    assert conditional == pytest.approx(mode_seeking_by_hand(images, latents, [(1, 4), (0, 2), (2, 5)]), rel=1e-5)
    assert unconditional == pytest.approx(mode_seeking_by_hand(images, latents, [(i, i + 1) for i in range(6)]),
                                          rel=1e-5)  # fmt: skip
    assert no_pair == 0.0


def test_mode_seeking_pushes_the_images_of_a_pair_apart():
    images = np.array([[[[0.1]]], [[[0.2]]]], np.float32)
    latents = np.array([[0.0], [1.0]], np.float32)

    (slope,) = gradients(lambda values: losses.mode_seeking_loss(values[0], latents), [images])

    assert slope[0].item() > 0 > slope[1].item()  # lowering image 0 and raising image 1 widens their gap


@pytest.mark.parametrize("options, message", [
    (dict(mode_seeking=-1.0), "mode_seeking must be a weight >= 0, not -1.0"),
    (dict(gan_loss="hinge", label_smoothing=0.1), "label smoothing applies to the non-saturating loss only"),
    (dict(gan_loss="wasserstein"), "gan_loss must be one of"),
    (dict(r1_gamma=1.0, r1_every=0), "R1 needs r1_gamma >= 0 and an integer r1_every >= 1, not 1.0, 0"),
])  # fmt: skip
def test_the_dcgan_refuses_what_the_recipe_cannot_do(options, message):
    with pytest.raises(ValueError, match=message):
        DCGAN(None, None, latent_dim=8, **options)


def linear_discriminator():
    """D(x) = w . x + b on 16 x 16 x 1 images: d D(x) / d x is w for every x."""
    image = keras.Input((16, 16, 1))
    return keras.Model(image, keras.layers.Dense(1)(keras.layers.Flatten()(image)))


def test_r1_is_gamma_over_two_times_the_squared_slope_times_k_on_every_kth_d_step():
    gamma, every = 3.0, 4
    model = DCGAN(
        build_generator(16, 1, latent_dim=8, width=4), linear_discriminator(), latent_dim=8,
        r1_gamma=gamma, r1_every=every,
    )  # fmt: skip
    w = np.random.default_rng(0).standard_normal((256, 1)).astype(np.float32)
    model.discriminator.layers[-1].kernel.assign(w)
    real = ops.convert_to_tensor(np.random.default_rng(1).uniform(-1, 1, (5, 16, 16, 1)).astype(np.float32))

    penalties = [float(model._r1_penalty(real, None, ops.convert_to_tensor(step))) for step in range(2 * every + 1)]

    expected = every * gamma / 2 * float(np.sum(w**2))
    assert penalties == pytest.approx([expected if step % every == 0 else 0.0 for step in range(2 * every + 1)])


def power_iterate(layer, inputs, calls):
    """Calls `layer` on `inputs` in training mode `calls` times: a power iteration each."""
    for _ in range(calls):
        layer(inputs, training=True)


def spectrally_normalised(kind):
    """(a spectrally normalised layer of `kind`, conv, dense or embedding, built on its input; that input)."""
    keras.utils.set_random_seed(0)  # u's start
    rng = np.random.default_rng(0)
    init = keras.initializers.RandomNormal(stddev=0.02, seed=0)
    layer, inputs = {
        "conv": (keras.layers.Conv2D(8, 4, kernel_initializer=init), rng.standard_normal((2, 8, 8, 3))),
        "dense": (keras.layers.Dense(5, kernel_initializer=init), rng.standard_normal((2, 12))),
        "embedding": (keras.layers.Embedding(4, 6, embeddings_initializer=init), np.array([0, 3])),
    }[kind]
    inputs = inputs.astype(np.int32 if kind == "embedding" else np.float32)
    layer = SpectralNormalization(layer)
    layer(inputs)
    return layer, inputs


@pytest.mark.parametrize("kind", ["conv", "dense", "embedding"])
def test_spectral_normalisation_brings_the_largest_singular_value_to_one(kind):
    layer, inputs = spectrally_normalised(kind)
    kernel = to_numpy([layer.kernel])[0]
    u = to_numpy([layer.vector_u])[0]

    power_iterate(layer, inputs, 1)
    assert not np.array_equal(to_numpy([layer.vector_u])[0], u)  # a training call moves u...
    np.testing.assert_array_equal(to_numpy([layer.kernel])[0], kernel)  # ...and keeps W
    u = to_numpy([layer.vector_u])[0]
    layer(inputs, training=False)
    np.testing.assert_array_equal(to_numpy([layer.vector_u])[0], u)  # inference leaves u alone

    power_iterate(layer, inputs, 200)  # the estimate's error falls as (sigma_2 / sigma_1) ** (2 * calls)
    _, normalised = layer.normalized_weights()
    matrix = ops.convert_to_numpy(normalised).reshape(-1, kernel.shape[-1])  # as the layer reshapes it
    assert np.linalg.svd(matrix, compute_uv=False)[0] == pytest.approx(1.0, abs=1e-4)
    assert np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0] < 0.5  # not 1 by itself


def test_spectral_normalisation_differentiates_through_sigma():
    """W / sigma(W) does not change with the scale of W, so the gradient has no component along W (with sigma
    held constant it would have one)."""
    layer, inputs = spectrally_normalised("conv")
    power_iterate(layer, inputs, 5)
    kernel = layer.kernel
    index = next(i for i, variable in enumerate(layer.trainable_variables) if variable is kernel)
    fixed = to_numpy(layer.non_trainable_variables)

    def output_sum(values):
        return ops.sum(ops.square(layer.stateless_call(values, fixed, inputs, training=True)[0]))

    gradient = gradients(output_sum, to_numpy(layer.trainable_variables))[index]
    along_w = np.sum(gradient * to_numpy([kernel])[0]) / np.linalg.norm(to_numpy([kernel])[0])
    assert abs(along_w) < 1e-4 * np.linalg.norm(gradient)


def test_a_spectral_norm_discriminator_has_no_batch_norm_and_normalises_every_weight():
    plain = build_discriminator(16, 1, num_classes=3, width=4)
    normalised = build_discriminator(16, 1, num_classes=3, width=4, spectral_norm=True)

    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in plain.layers)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in normalised.layers)
    wrapped = sorted(layer.layer.name for layer in normalised.layers if isinstance(layer, SpectralNormalization))
    assert wrapped == ["down_4x4", "down_8x8", "label_projection", "logit_unconditional"]
    assert {layer.name for layer in plain.layers} - {layer.name for layer in normalised.layers} == {
        "bn_4x4", "down_4x4", "down_8x8", "label_projection", "logit_unconditional",
    }  # fmt: skip


def test_a_dcgan_with_the_recipe_round_trips_through_a_keras_file(tmp_path):
    model = DCGAN(
        build_generator(16, 1, latent_dim=4, num_classes=2, width=2),
        build_discriminator(16, 1, num_classes=2, width=2, spectral_norm=True),
        latent_dim=4, num_classes=2, gan_loss="hinge", r1_gamma=0.5, r1_every=4, mode_seeking=0.25,
    )  # fmt: skip
    model.compile()
    model.save(tmp_path / "dcgan.keras")

    loaded = keras.saving.load_model(tmp_path / "dcgan.keras")

    assert (loaded.gan_loss, loaded.r1_gamma, loaded.r1_every, loaded.mode_seeking) == ("hinge", 0.5, 4, 0.25)
    assert [layer.name for layer in loaded.discriminator.layers] == [layer.name for layer in model.discriminator.layers]
    for original, restored in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(original), ops.convert_to_numpy(restored))


@pytest.mark.parametrize("d_lr", [None, 4e-4])
def test_each_optimizer_gets_its_learning_rate_and_betas_from_the_config(d_lr):
    dataset, config = prepare_data(TrainConfig(**TINY, lr=1e-4, d_lr=d_lr, beta_1=0.0, beta_2=0.9))

    model = build_model(config, dataset)

    assert float(ops.convert_to_numpy(model.g_optimizer.learning_rate)) == pytest.approx(1e-4)
    assert float(ops.convert_to_numpy(model.d_optimizer.learning_rate)) == pytest.approx(d_lr or 1e-4)
    for optimizer in (model.g_optimizer, model.d_optimizer):
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)


def test_a_run_with_every_recipe_option_records_resumes_exactly_and_exports(tmp_path):
    """The resumed run ends as an uninterrupted one: the spectral-norm vectors and the D step count (R1 is due
    on the second epoch's first step) come back from the checkpoint."""
    run_dir = tmp_path / "recipe"
    tiny = train_arguments(TINY)
    recipe = ["--loss", "hinge", "--r1", 0.5, "--r1-every", 2, "--spectral-norm", "--d-lr", 4e-4, "--beta2", 0.9,
              "--mode-seeking", 0.5, "--class-conditioning", "batch_norm"]  # fmt: skip

    started = run_kgan("train", *tiny, *recipe, "--diffaugment", "translation", "--out", run_dir)

    assert started.exit_code == 0, started.output
    description = json.loads((run_dir / "config.json").read_text())
    assert {key: description["train"][key] for key in RECIPE} == RECIPE
    assert description["discriminator"]["spectral_norm"] is True
    refused = run_kgan("train", "--resume", "--epochs", 2, "--loss", "nonsaturating", "--out", run_dir)
    assert refused.exit_code == 2 and "--loss cannot change on --resume" in refused.output

    resumed = run_kgan("train", "--resume", "--epochs", 2, "--out", run_dir)

    assert resumed.exit_code == 0, resumed.output
    assert "Trained 2 epochs" in resumed.output
    start_run(TrainConfig(**{**TINY, **RECIPE, "epochs": 2, "diffaugment": "translation"}), tmp_path / "whole")
    uninterrupted, continued = checkpoint_arrays(tmp_path / "whole"), checkpoint_arrays(run_dir)
    assert any(key.startswith("discriminator/") and value.shape[:1] == (1,) and value.ndim == 2
               for key, value in continued.items())  # a spectral-norm vector u, shaped (1, units)
    for key in uninterrupted:
        np.testing.assert_allclose(uninterrupted[key], continued[key], rtol=1e-6, atol=1e-7, err_msg=key)
    assert {key: json.loads((run_dir / "config.json").read_text())["train"][key] for key in RECIPE} == RECIPE
    exported = run_kgan("export", "onnx", run_dir)
    assert exported.exit_code == 0, exported.output
    assert (run_dir / "recipe.onnx").is_file()
