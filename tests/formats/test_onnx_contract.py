"""The ONNX contract's metadata: what export writes, the runtime reads back; broken metadata is refused."""

import json

import pytest

import kgan
from kgan.errors import UsageError
from kgan.formats import onnx_contract
from kgan.formats.onnx_contract import GeneratorMetadata, metadata_props, read_metadata


def test_names_and_keys_are_the_documented_ones():
    assert onnx_contract.input_names(conditional=True) == ("z", "label")
    assert onnx_contract.input_names(conditional=False) == ("z",)
    assert onnx_contract.IMAGE_OUTPUT == "image"
    props = metadata_props(GeneratorMetadata(100, 10, tuple("0123456789"), (28, 28, 1)), "mnist", {"train": {}})
    assert sorted(props) == sorted(
        f"kgan.{key}" for key in ("version", "latent_dim", "num_classes", "class_names", "image_shape",
                                  "channel_order", "value_range", "dataset", "training_config", "temperature",
                                  "members")
    )  # fmt: skip
    assert props["kgan.version"] == kgan.__version__
    assert props["kgan.channel_order"] == "L" and props["kgan.value_range"] == "[-1, 1]"
    assert props["kgan.temperature"] == "1.0" and props["kgan.members"] == "1"
    assert all(isinstance(value, str) for value in props.values())


@pytest.mark.parametrize("value_range", [onnx_contract.FLOAT_RANGE, onnx_contract.UINT8_RANGE])
def test_written_metadata_reads_back(value_range):
    written = GeneratorMetadata(8, 3, ("cat", "dog", "hot dog/bun"), (64, 64, 3), value_range, temperature=1.25)
    props = metadata_props(written, "pets/", {"train": {"dataset": "pets/"}})
    assert props["kgan.channel_order"] == "RGB"
    assert json.loads(props["kgan.training_config"]) == {"train": {"dataset": "pets/"}}
    assert read_metadata(props, "pets.onnx") == written
    del props["kgan.temperature"], props["kgan.members"]  # files exported before these keys existed
    assert read_metadata(props, "pets.onnx").temperature == 1.0
    assert read_metadata(props, "pets.onnx").members == 1
    mixture = GeneratorMetadata(10, 3, (), (8, 8, 1), members=2)
    assert read_metadata(metadata_props(mixture, "d", {}), "mix.onnx") == mixture


def test_a_file_without_kgan_metadata_is_refused():
    message = r"^x.onnx was not exported by kgan export onnx \(no kgan\.\* metadata_props\)$"
    with pytest.raises(UsageError, match=message):
        read_metadata({"producer": "someone"}, "x.onnx")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"kgan.latent_dim": "many"}, "broken kgan metadata (ValueError"),
        ({"kgan.image_shape": "[28, 28]"}, "inconsistent kgan metadata (image_shape [28, 28]"),
        ({"kgan.class_names": '["only one"]'}, "3 classes, 1 class names"),
        ({"kgan.members": "0"}, "(0 members for latent_dim 8)"),
        ({"kgan.members": "8"}, "(8 members for latent_dim 8)"),
    ],
)
def test_broken_metadata_is_refused(change, message):
    props = metadata_props(GeneratorMetadata(8, 3, ("a", "b", "c"), (8, 8, 1)), "d", {})
    with pytest.raises(UsageError, match="re-export it") as error:
        read_metadata({**props, **change}, "x.onnx")
    assert message in str(error.value)
