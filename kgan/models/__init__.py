"""DCGAN networks and the DCGAN training model (imports keras)."""

from kgan.models.dcgan import DCGAN
from kgan.models.discriminator import build_discriminator
from kgan.models.generator import UPSAMPLING_MODES, build_generator

__all__ = ["DCGAN", "UPSAMPLING_MODES", "build_discriminator", "build_generator"]
