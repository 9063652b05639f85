"""SampleStream: sample i depends on i alone; exact mixing; real passes; class weights and counts."""

import pickle

import numpy as np
import pytest

from kgan.errors import UsageError
from kgan.runtime import OnnxGenerator, SampleStream, counts_to_balance
from tests.helpers import real_arrays


@pytest.fixture
def generator(conditional_model):
    return OnnxGenerator(conditional_model)  # 8 x 8 x 1, classes cat / dog / "hot dog/bun"


def is_real(images):
    return images.reshape(len(images), -1)[:, 1:].max(axis=1) == 0


def test_a_synthetic_stream_is_what_generate_makes(generator):
    images, labels = SampleStream(generator, seed=4).take(0, 20)
    expected_images, expected_labels = generator.generate(20, seed=4)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_any_batching_reads_the_same_samples(generator, batch_size):
    stream = SampleStream(generator, real=real_arrays(), synthetic_fraction=0.4, class_weights=[1, 2, 3], seed=9)
    whole = stream.take(0, 100)
    parts = [stream.take(start, min(start + batch_size, 100)) for start in range(0, 100, batch_size)]
    for got, want in zip((np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])), whole):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(stream.take(37, 41)[0], whole[0][37:41])  # out of order, too


def test_mixing_is_exact_and_even(generator):
    stream = SampleStream(generator, real=real_arrays(), synthetic_fraction=0.25, seed=0)
    images, _ = stream.take(0, 400)
    synthetic = ~is_real(images)
    assert synthetic.sum() == 100
    assert (synthetic.reshape(-1, 4).sum(axis=1) == 1).all()  # one in every four, spread evenly


def test_every_real_image_once_per_pass_in_a_new_order(generator):
    real = real_arrays(12)
    stream = SampleStream(generator, real=real, synthetic_fraction=0.5, seed=1)
    images, labels = stream.take(0, 48)  # 24 real samples: two passes over 12 images
    real_ids = images[is_real(images)][:, 0, 0, 0].astype(int) - 1
    first, second = real_ids[:12], real_ids[12:]
    assert sorted(first) == sorted(second) == list(range(12))
    assert list(first) != list(second)
    np.testing.assert_array_equal(labels[is_real(images)], real[1][real_ids])


def test_class_weights_and_counts(generator):
    weighted = SampleStream(generator, class_weights={"cat": 0, "dog": 1, "hot dog/bun": 3}, seed=2)
    labels = weighted.take(0, 4000)[1]
    assert (labels != 0).all()
    assert np.mean(labels == 2) == pytest.approx(0.75, abs=0.03)
    counted = SampleStream(generator, class_counts=[2, 0, 5], seed=2)
    blocks = counted.take(0, 70)[1].reshape(10, 7)
    assert all(np.bincount(block, minlength=3).tolist() == [2, 0, 5] for block in blocks)
    assert len({tuple(block) for block in blocks}) > 1  # each block in its own order
    assert counts_to_balance([0, 0, 0, 1, 2, 2], 3) == [0, 2, 1]


def test_float_output_in_the_users_range(generator):
    as_uint8 = SampleStream(generator, seed=5).take(0, 10)[0]
    as_float = SampleStream(generator, seed=5, dtype="float32", value_range=(-1, 1)).take(0, 10)[0]
    assert as_float.dtype == np.float32
    np.testing.assert_allclose(as_float, as_uint8 / 127.5 - 1, atol=1e-6)


def test_a_stream_pickles_without_its_session(generator):
    stream = SampleStream(generator, real=real_arrays(), synthetic_fraction=0.5, seed=3)
    copy = pickle.loads(pickle.dumps(stream))
    assert copy._generator is None
    for got, want in zip(copy.take(5, 25), stream.take(5, 25)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(synthetic_fraction=0), "synthetic_fraction must lie in (0, 1]"),
        (dict(synthetic_fraction=0.5), "pass real=(images, labels)"),
        (dict(real=real_arrays()), "synthetic_fraction is 1"),
        (dict(real=(np.zeros((4, 9, 9, 1), np.uint8), [0] * 4), synthetic_fraction=0.5), "must be [N, 8, 8, 1]"),
        (dict(real=(np.zeros((4, 8, 8, 1)), [0] * 4), synthetic_fraction=0.5), "real images are float64"),
        (dict(class_weights=[1, 2]), "class weights or counts need 3 non-negative numbers"),
        (dict(class_weights=[1, 1, 1], class_counts=[1, 1, 1]), "not both"),
        (dict(dtype="float16"), "dtype must be one of uint8, float32"),
        (dict(temperature=0), "temperature must be a positive number"),
    ],
)
def test_bad_settings_are_usage_errors(generator, options, message):
    with pytest.raises(UsageError) as error:
        SampleStream(generator, **options)
    assert message in str(error.value)


def test_an_unconditional_generator_makes_no_labelled_stream(rgb_model):
    with pytest.raises(UsageError, match="needs a conditional generator"):
        SampleStream(rgb_model)


def test_a_stream_samples_at_the_generator_s_recorded_temperature(generator):
    tempered = SampleStream(generator.path.parent / "tempered.onnx", seed=1)  # exported with temperature 1.5
    assert tempered.temperature == 1.5
    explicit = SampleStream(generator, seed=1, temperature=1.5)
    np.testing.assert_array_equal(tempered.take(0, 9)[0], explicit.take(0, 9)[0])
