"""Image sizes the networks support, and the checks on them (pure Python)."""

from kgan.errors import UsageError

MIN_IMAGE_SIZE = 16
MAX_IMAGE_SIZE = 256
BASE_RESOLUTIONS = (4, 7)


def base_resolution(image_size):
    """The generator's starting resolution (4 or 7) for an image size of base * 2**k."""
    for base in BASE_RESOLUTIONS:
        size = image_size
        while size > base and size % 2 == 0:
            size //= 2
        if size == base:
            return base
    return None


SUPPORTED_IMAGE_SIZES = tuple(
    size for size in range(MIN_IMAGE_SIZE, MAX_IMAGE_SIZE + 1) if base_resolution(size)
)


def check_image_size(image_size):
    """Raises UsageError unless `image_size` is supported; returns it."""
    if image_size not in SUPPORTED_IMAGE_SIZES:
        sizes = ", ".join(map(str, SUPPORTED_IMAGE_SIZES))
        raise UsageError(
            f"image size {image_size} is not supported: use one of {sizes} "
            "(4 or 7 times a power of two, 16 to 256)"
        )
    return image_size


def check_channels(channels):
    if channels not in (1, 3):
        raise UsageError(f"channels must be 1 (grayscale) or 3 (RGB), not {channels}")
    return channels
