"""The DCGAN training model: a keras.Model whose one train step runs under `fit()` on TensorFlow and JAX.

- `dcgan`: the model and its shared step (D on real and fake, then G against the updated D, then the EMA).
- `losses`, `optimizers`, `diffaugment`: what the step is made of.
- `jax_trainer`, `tensorflow_trainer`: how each backend carries state and takes gradients.
"""

from kgan.gan.dcgan import DCGAN
from kgan.gan.optimizers import FusedAdam, OptimizerPair, default_optimizer

__all__ = ["DCGAN", "FusedAdam", "OptimizerPair", "default_optimizer"]
