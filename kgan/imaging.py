"""Image arrays to uint8, grids and PNG files (numpy and pillow only)."""

import io

import numpy as np

from kgan import fileio
from kgan.config import check_channels


def to_uint8(images, value_range=(-1.0, 1.0)):
    """Maps float images in `value_range` to uint8 [0, 255] (uint8 input passes through)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    low, high = value_range
    scaled = (images.astype(np.float32) - low) * (255.0 / (high - low))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def from_uint8(images):
    """Maps uint8 images to float32 in [-1, 1], the generator's range (inverse of to_uint8)."""
    return np.asarray(images, np.float32) * (2.0 / 255.0) - 1.0


def convert_channels(images, channels):
    """Converts ... x H x W x C uint8 images (a stack or one image) to 1 (luma) or 3 (repeated gray) channels."""
    check_channels(channels)
    if images.shape[-1] == channels:
        return images
    if channels == 3:
        return np.repeat(images, 3, axis=-1)
    luma = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.rint(luma)[..., None].astype(np.uint8)


def make_grid(images, rows, padding=2, fill=0):
    """Tiles N x H x W x C uint8 images into one image with `rows` rows."""
    images = np.asarray(images)
    n, h, w, c = images.shape
    cols = -(-n // rows)
    grid = np.full(
        (rows * h + (rows + 1) * padding, cols * w + (cols + 1) * padding, c), fill, np.uint8
    )
    for index, image in enumerate(images):
        row, col = divmod(index, cols)
        top = padding + row * (h + padding)
        left = padding + col * (w + padding)
        grid[top : top + h, left : left + w] = image
    return grid


def to_pil(image):
    """An H x W x C uint8 array (C = 1 or 3) as a PIL image."""
    from PIL import Image

    image = np.asarray(image)
    if image.shape[-1] == 1:
        return Image.fromarray(image[..., 0])
    return Image.fromarray(image)


def png_bytes(image):
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(path, image):
    """Writes an H x W x C uint8 image as PNG, atomically."""
    fileio.write_bytes(path, png_bytes(image))
