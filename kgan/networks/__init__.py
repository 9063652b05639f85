"""The DCGAN networks: generator and discriminator builders, layer recipes, batch-norm calibration (keras)."""

from kgan.networks.calibration import batch_norm_layers, calibrate_batch_norm
from kgan.networks.discriminator import build_discriminator
from kgan.networks.generator import UPSAMPLING_MODES, build_generator

__all__ = ["UPSAMPLING_MODES", "batch_norm_layers", "build_discriminator", "build_generator", "calibrate_batch_norm"]
