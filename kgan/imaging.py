"""Image arrays to uint8, grids and PNG files (numpy and zlib only)."""

import struct
import zlib

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


UINT8_STEP = 2.0 / 255.0  # [-1, 1] per uint8 level: x -> x * UINT8_STEP - 1


def from_uint8(images):
    """Maps uint8 images to float32 in [-1, 1], the generator's range (inverse of to_uint8)."""
    return np.asarray(images, np.float32) * UINT8_STEP - 1.0


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


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_COLOR_TYPES = {1: 0, 3: 2}  # grayscale, RGB
PNG_SUB_FILTER = 1
PNG_COMPRESSION_LEVEL = 6  # zlib's default, as pillow's


def png_bytes(image):
    """An H x W x C uint8 image (C = 1 or 3) as the bytes of an 8-bit PNG file.

    Encoded here with numpy and zlib rather than pillow: zlib releases the GIL while it
    compresses, so writer threads encode in parallel (pillow's encoder holds it).
    Every row uses PNG's Sub filter (each byte minus the one a pixel to its left).
    """
    image = np.asarray(image, np.uint8)
    height, width, channels = image.shape
    rows = image.reshape(height, width * channels)
    filtered = np.empty((height, 1 + width * channels), np.uint8)
    filtered[:, 0] = PNG_SUB_FILTER
    filtered[:, 1 : 1 + channels] = rows[:, :channels]
    np.subtract(rows[:, channels:], rows[:, :-channels], out=filtered[:, 1 + channels :])  # wraps mod 256
    header = struct.pack(">IIBBBBB", width, height, 8, PNG_COLOR_TYPES[channels], 0, 0, 0)
    return b"".join((
        PNG_SIGNATURE,
        _png_chunk(b"IHDR", header),
        _png_chunk(b"IDAT", zlib.compress(filtered.tobytes(), PNG_COMPRESSION_LEVEL)),
        _png_chunk(b"IEND", b""),
    ))  # fmt: skip


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def save_png(path, image):
    """Writes an H x W x C uint8 image as PNG, atomically."""
    fileio.write_bytes(path, png_bytes(image))
