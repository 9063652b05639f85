import numpy as np
import onnxruntime
import pytest

from kgan.errors import UsageError
from kgan.formats import onnx_contract
from kgan.runtime import OnnxGenerator, class_folder_names
from tests.runtime.conftest import DATA

CUDA_AVAILABLE = "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def test_reads_conditional_metadata(conditional_model):
    generator = OnnxGenerator(conditional_model)

    assert generator.latent_dim == 8
    assert generator.num_classes == 3
    assert generator.conditional
    assert generator.class_names == ("cat", "dog", "hot dog/bun")
    assert generator.image_shape == (8, 8, 1)
    assert generator.output_dtype == np.float32
    assert generator.metadata["kgan.dataset"] == "fixture"
    assert generator.metadata["kgan.channel_order"] == "L"


def test_reads_unconditional_and_uint8_metadata(rgb_model, uint8_model):
    rgb = OnnxGenerator(rgb_model, provider="cpu")
    assert (rgb.latent_dim, rgb.num_classes, rgb.conditional) == (6, 0, False)
    assert rgb.class_names == ()
    assert rgb.image_shape == (4, 4, 3)

    uint8 = OnnxGenerator(uint8_model)
    assert (uint8.num_classes, uint8.class_names, uint8.image_shape) == (2, (), (6, 5, 3))
    assert uint8.output_dtype == np.uint8


def test_latents_follow_the_contract(conditional_model):
    generator = OnnxGenerator(conditional_model)

    z = generator.latents([0, 5], seed=3)

    assert z.dtype == np.float32 and z.shape == (2, 8)
    for row, index in enumerate([0, 5]):
        expected = np.random.default_rng([3, index]).standard_normal(8).astype(np.float32)
        np.testing.assert_array_equal(z[row], expected)


def test_truncation_bounds_z_and_keeps_entries_already_inside(conditional_model):
    generator = OnnxGenerator(conditional_model)

    plain = generator.latents(range(50), seed=0)
    truncated = generator.latents(range(50), seed=0, truncation=0.5)

    assert np.abs(truncated).max() <= 0.5
    inside = np.abs(plain) <= 0.5
    np.testing.assert_array_equal(truncated[inside], plain[inside])
    assert not np.array_equal(truncated, plain)


def test_temperature_scales_z_after_truncation(conditional_model):
    generator = OnnxGenerator(conditional_model)

    plain = generator.latents(range(50), seed=0)
    truncated = generator.latents(range(50), seed=0, truncation=0.5)

    np.testing.assert_allclose(generator.latents(range(50), seed=0, temperature=1.5), 1.5 * plain, rtol=1e-6)
    np.testing.assert_allclose(generator.latents(range(50), seed=0, truncation=0.5, temperature=2), 2 * truncated)
    images, _ = generator.generate(6, seed=0)
    assert not np.array_equal(generator.generate(6, seed=0, temperature=1.5)[0], images)


@pytest.mark.parametrize("batch_size", [1, 3, 256])
def test_same_seed_gives_same_images_whatever_the_batch_size(conditional_model, batch_size):
    generator = OnnxGenerator(conditional_model)
    reference, reference_labels = generator.generate(7, seed=11, batch_size=7)

    images, labels = generator.generate(7, seed=11, batch_size=batch_size)

    np.testing.assert_array_equal(images, reference)
    np.testing.assert_array_equal(labels, reference_labels)


def test_different_seeds_give_different_images(rgb_model):
    generator = OnnxGenerator(rgb_model)

    first, _ = generator.generate(4, seed=0)
    second, _ = generator.generate(4, seed=1)

    assert first.dtype == np.uint8 and first.shape == (4, 4, 4, 3)
    assert not np.array_equal(first, second)


def test_label_changes_the_image(conditional_model):
    generator = OnnxGenerator(conditional_model)

    cats, _ = generator.generate(2, labels=0)
    dogs, _ = generator.generate(2, labels=1)

    assert not np.array_equal(cats, dogs)


def test_float_output_is_mapped_from_minus_one_one(conditional_model):
    generator = OnnxGenerator(conditional_model)
    session = onnxruntime.InferenceSession(str(conditional_model))
    z = generator.latents(range(3), seed=0)
    labels = np.array([0, 1, 2])
    (raw,) = session.run(["image"], {"z": z, "label": labels})

    images, _ = generator.generate(3, labels=[0, 1, 2])

    np.testing.assert_array_equal(images, np.rint((raw + 1) * 127.5).astype(np.uint8))


def test_uint8_output_passes_through(uint8_model):
    generator = OnnxGenerator(uint8_model)
    session = onnxruntime.InferenceSession(str(uint8_model))
    z = generator.latents(range(4), seed=2)
    (raw,) = session.run(["image"], {"z": z, "label": np.array([0, 1, 0, 1])})

    images, labels = generator.generate(4, seed=2)

    assert raw.dtype == np.uint8
    np.testing.assert_array_equal(images, raw)
    np.testing.assert_array_equal(labels, [0, 1, 0, 1])


def test_iter_batches_streams_in_index_order(conditional_model):
    generator = OnnxGenerator(conditional_model)
    images, labels = generator.generate(7, seed=4)

    batches = list(generator.iter_batches(7, seed=4, batch_size=3))

    assert [len(batch_images) for batch_images, _ in batches] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([b for b, _ in batches]), images)
    np.testing.assert_array_equal(np.concatenate([l for _, l in batches]), labels)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (None, [0, 1, 2, 0, 1, 2, 0]),
        (2, [2] * 7),
        ("dog", [1] * 7),
        ([1, 0], [1, 0, 1, 0, 1, 0, 1]),
        (["hot dog/bun", "0", 1], [2, 0, 1, 2, 0, 1, 2]),
        (np.array([2, 1]), [2, 1, 2, 1, 2, 1, 2]),
    ],
)
def test_resolve_labels(conditional_model, labels, expected):
    resolved = OnnxGenerator(conditional_model).resolve_labels(7, labels)

    assert resolved.dtype == np.int64
    assert resolved.tolist() == expected


def test_unconditional_labels_are_minus_one(rgb_model):
    _, labels = OnnxGenerator(rgb_model).generate(3)

    assert labels.dtype == np.int64
    assert labels.tolist() == [-1, -1, -1]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (3, "label 3 is out of range: conditional.onnx has classes 0 to 2"),
        ([0, -1], "label -1 is out of range"),
        ("bird", "unknown class name 'bird': class names are cat, dog, hot dog/bun"),
        ([], "labels is empty"),
        (1.5, "a label must be a class index or name"),
    ],
)
def test_bad_labels(conditional_model, labels, message):
    with pytest.raises(UsageError, match=message):
        OnnxGenerator(conditional_model).resolve_labels(4, labels)


def test_labels_for_an_unconditional_model(rgb_model):
    with pytest.raises(UsageError, match="unconditional generator: it takes no labels"):
        OnnxGenerator(rgb_model).generate(2, labels=0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (dict(n=0), "number of images must be a positive integer, not 0"),
        (dict(n=-2), "number of images must be a positive integer"),
        (dict(n=2, truncation=0), "truncation must be a positive number, not 0"),
        (dict(n=2, truncation=-1.0), "truncation must be a positive number"),
        (dict(n=2, truncation=float("nan")), "truncation must be a positive number"),
        (dict(n=2, temperature=0), "temperature must be a positive number, not 0"),
        (dict(n=2, temperature=float("nan")), "temperature must be a positive number"),
        (dict(n=2, batch_size=0), "batch size must be a positive integer, not 0"),
        (dict(n=2, seed=-1), "seed must be a non-negative integer, not -1"),
    ],
)
def test_bad_arguments_fail_before_the_first_batch(conditional_model, arguments, message):
    generator = OnnxGenerator(conditional_model)

    with pytest.raises(UsageError, match=message):
        generator.iter_batches(**arguments)  # not iterated: checks are eager


def test_missing_file(tmp_path):
    with pytest.raises(UsageError, match="model file not found: .*absent.onnx"):
        OnnxGenerator(tmp_path / "absent.onnx")


def test_not_an_onnx_file(tmp_path):
    text = tmp_path / "notes.onnx"
    text.write_text("not a model\n")

    with pytest.raises(UsageError, match=r"^onnxruntime cannot load .*notes.onnx \(not an ONNX file, truncated"):
        OnnxGenerator(text)


def test_truncated_onnx_file(tmp_path, conditional_model):
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(conditional_model.read_bytes()[:1000])

    with pytest.raises(UsageError, match=r"^onnxruntime cannot load .*truncated.onnx"):
        OnnxGenerator(truncated)


def test_onnx_without_kgan_metadata(no_metadata_model):
    with pytest.raises(UsageError, match=r"was not exported by kgan export onnx \(no kgan\.\*"):
        OnnxGenerator(no_metadata_model)


def test_unknown_provider(conditional_model):
    with pytest.raises(UsageError, match="^provider must be auto, cpu or cuda, not 'tpu'$"):
        OnnxGenerator(conditional_model, provider="tpu")


@pytest.mark.skipif(CUDA_AVAILABLE, reason="onnxruntime here has the CUDA provider")
def test_cuda_provider_unavailable(conditional_model):
    with pytest.raises(UsageError, match="^onnxruntime here has no CUDAExecutionProvider: install onnxruntime-gpu"):
        OnnxGenerator(conditional_model, provider="cuda")


def test_auto_provider(conditional_model):
    expected = "CUDAExecutionProvider" if CUDA_AVAILABLE else "CPUExecutionProvider"

    assert OnnxGenerator(conditional_model).provider == expected


def test_class_folder_names_sort_in_class_order():
    names = [f"class {index}" for index in range(12)]

    folders = class_folder_names(12, names)

    assert folders[:2] == ["00_class_0", "01_class_1"]
    assert sorted(folders) == folders


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["a/b", "../up", "été"], ["0_a_b", "1_up", "2_été"]),
        ([], ["0", "1", "2"]),
        (["0", "1", "x"], ["0", "1", "2_x"]),  # a name that is its index adds nothing
        (["", "...", "ok"], ["0", "1", "2_ok"]),
    ],
)
def test_class_folder_names_are_filesystem_safe(names, expected):
    assert class_folder_names(3, names) == expected


def test_the_exported_temperature_is_the_default(conditional_model):
    tempered = OnnxGenerator(DATA / "tempered.onnx")  # conditional.onnx's network, exported with temperature 1.5
    plain = OnnxGenerator(conditional_model)
    assert (tempered.temperature, plain.temperature) == (1.5, 1.0)
    np.testing.assert_array_equal(tempered.latents(range(4), seed=3), plain.latents(range(4), seed=3, temperature=1.5))
    images = tempered.generate(6, seed=2)[0]
    np.testing.assert_array_equal(images, plain.generate(6, seed=2, temperature=1.5)[0])
    assert not np.array_equal(images, plain.generate(6, seed=2)[0])
    np.testing.assert_array_equal(tempered.generate(6, seed=2, temperature=1.0)[0], plain.generate(6, seed=2)[0])


@pytest.mark.parametrize("recorded", ["0", "-1", "nan", "warm"])
def test_a_broken_recorded_temperature_is_refused(recorded):
    props = {"kgan.latent_dim": "8", "kgan.num_classes": "0", "kgan.image_shape": "[8, 8, 1]",
             "kgan.temperature": recorded}  # fmt: skip
    with pytest.raises(UsageError, match="broken kgan metadata"):
        onnx_contract.read_metadata(props, "model.onnx")
