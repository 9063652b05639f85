"""kgan.imaging's PNG encoder, read back by pillow (a runtime dependency)."""

import io

import numpy as np
import pytest
from PIL import Image

from kgan import imaging


@pytest.mark.parametrize("shape", [(28, 28, 1), (5, 7, 3), (1, 1, 1), (64, 64, 3)])
def test_png_bytes_decode_to_the_same_pixels(shape):
    rng = np.random.default_rng(sum(shape))
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    image[0, :] = 255  # rows whose Sub-filtered bytes wrap around 256
    decoded = Image.open(io.BytesIO(imaging.png_bytes(image)))
    decoded.load()  # checks every chunk's CRC and the zlib stream
    assert decoded.mode == ("L" if shape[-1] == 1 else "RGB")
    np.testing.assert_array_equal(np.asarray(decoded).reshape(shape), image)


def test_png_bytes_compress_smooth_images():
    ramp = np.tile(np.arange(64, dtype=np.uint8), (64, 1))[..., None]
    assert len(imaging.png_bytes(ramp)) < ramp.size / 10
