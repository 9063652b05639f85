"""kgan's default conditional DCGAN and its train step rebuilt in plain PyTorch, timed (torch, numpy only).

    python torch_peer.py --image-size 28 --channels 1 --batch-size 64 --steps 10 --epochs 6 --precision float32 \
        [--generator-forwards 1] [--memory-format contiguous] [--compile]

Prints one JSON line, the images/s of each epoch after the first (warm-up), on seeded random images
in [-1, 1] and labels. benchmarks/train_vs_pytorch.py runs it next to kgan; kgan never imports torch.

The networks are kgan.networks' with TrainConfig's defaults (width 64, latent 100, label embedding 50,
projection discriminator, 10 classes; --upsampling auto: pixel shuffle at 28 px, nearest x2 + conv at 64, as
kgan's `--upsampling auto`; pixel_shuffle or resize at either size).
Their trainable parameters, printed to stderr and checked here, are kgan's (batch-norm moving statistics
are buffers, not counted):
    28x28x1: generator 3,358,133 (pixel shuffle) or 2,252,213 (resize), discriminator 201,409
    64x64x3: generator 5,141,559 (resize), discriminator 2,847,553
The step is kgan.gan.dcgan's `_gan_step`: D on real and on detached fakes (two batch-norm batches), Adam;
G on fresh z against the updated D (whose moving statistics it updates too, as training=True does), Adam;
then the EMA update. With --generator-forwards 1, as kgan's option of that name, G's loss is on the same
fakes through the updated D, backpropagated through the one generator forward (pytorch/examples' DCGAN).
Differences that leave the work per step unchanged:
- pixel shuffle in torch's channel order (CRD) rather than kgan's DCR: a fixed permutation of the
  preceding convolution's i.i.d.-initialised filters; likewise the projection's flatten order.
- torch's Adam adds epsilon to sqrt(v) / sqrt(1 - beta_2^t), Keras's to sqrt(v): the same update up to
  a factor on epsilon that tends to 1.
- torch's batch norm keeps the unbiased variance as its moving variance, Keras the biased one.
- bfloat16: autocast runs convolutions and matmuls in bfloat16 and the ops between them in their input
  dtype, so batch norm reads and writes bfloat16; Keras's mixed_bfloat16 computes it in float32.
- the step runs eagerly (with --compile, the networks' forward passes are compiled by inductor); kgan's is a
  tf.function or a jitted JAX function.
"""

import argparse
import copy
import json
import math
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

LATENT_DIM = 100
WIDTH = 64
NUM_CLASSES = 10
LABEL_EMBEDDING_DIM = 50
MAX_WIDTH_MULTIPLIER = 8
LEAKY_SLOPE = 0.2
LEARNING_RATE, BETAS, ADAM_EPSILON = 2e-4, (0.5, 0.999), 1e-7  # keras Adam(2e-4, beta_1=0.5), its epsilon
EMA_DECAY = 0.999
BATCH_NORM = dict(eps=1e-3, momentum=0.01)  # keras BatchNormalization(epsilon=1e-3, momentum=0.99)
# --memory-format: channels_last (NHWC in memory, as kgan's tensors) or contiguous NCHW, torch's default.
MEMORY_FORMATS = {"channels_last": torch.channels_last, "contiguous": torch.contiguous_format}
KGAN_PARAMETERS = {  # (image size, channels, upsampling): generator's and discriminator's
    (28, 1, "pixel_shuffle"): (3_358_133, 201_409),
    (28, 1, "resize"): (2_252_213, 201_409),
    (64, 3, "resize"): (5_141_559, 2_847_553),
}
PIXEL_SHUFFLE_MAX_SIZE = 28  # kgan.config's: `--upsampling auto` resizes above it
UPSAMPLING_MODES = ("auto", "pixel_shuffle", "resize")


def resolutions(image_size):
    """The square resolutions from the base (4 or 7) up to `image_size`, as kgan.networks.blocks."""
    base = 7 if image_size % 7 == 0 else 4
    return [base * 2**level for level in range(int(math.log2(image_size // base)) + 1)]


def feature_channels(image_size, resolution):
    return WIDTH * min(image_size // resolution, MAX_WIDTH_MULTIPLIER)


def resolved_upsampling(upsampling, image_size):
    """kgan.config.resolve_upsampling: `upsampling`, or for "auto" the mode by image size."""
    if upsampling != "auto":
        return upsampling
    return "pixel_shuffle" if image_size <= PIXEL_SHUFFLE_MAX_SIZE else "resize"


class Generator(nn.Module):
    """z and label to images: embed and concatenate, project, (x2 upsampling, BN, ReLU) per stage, tanh."""

    def __init__(self, image_size, channels, upsampling, memory_format=torch.channels_last):
        super().__init__()
        sizes = resolutions(image_size)
        self.memory_format = memory_format
        self.base, self.base_channels = sizes[0], feature_channels(image_size, sizes[0])
        self.embedding = nn.Embedding(NUM_CLASSES, LABEL_EMBEDDING_DIM)
        self.project = nn.Linear(LATENT_DIM + LABEL_EMBEDDING_DIM, self.base**2 * self.base_channels, bias=False)
        layers, previous = [nn.BatchNorm2d(self.base_channels, **BATCH_NORM), nn.ReLU()], self.base_channels
        for resolution in sizes[1:]:
            filters = feature_channels(image_size, resolution)
            if upsampling == "pixel_shuffle":
                layers += [nn.Conv2d(previous, 4 * filters, 3, padding=1, bias=False), nn.PixelShuffle(2)]
            else:
                upsample = nn.Upsample(scale_factor=2, mode="nearest")
                layers += [upsample, nn.Conv2d(previous, filters, 3, padding=1, bias=False)]
            layers += [nn.BatchNorm2d(filters, **BATCH_NORM), nn.ReLU()]
            previous = filters
        self.body = nn.Sequential(*layers, nn.Conv2d(previous, channels, 3, padding=1))

    def forward(self, z, labels):
        hidden = self.project(torch.cat([z, self.embedding(labels)], 1))
        hidden = hidden.view(-1, self.base, self.base, self.base_channels).permute(0, 3, 1, 2)  # NHWC as keras
        return torch.tanh(self.body(hidden.contiguous(memory_format=self.memory_format)).float())


class Discriminator(nn.Module):
    """Image and label to a logit: strided convs (BN after the first), LeakyReLU, then w.h + embed(label).h."""

    def __init__(self, image_size, channels):
        super().__init__()
        sizes = resolutions(image_size)
        layers, previous = [], channels
        for stage, resolution in enumerate(reversed(sizes[:-1])):
            filters = feature_channels(image_size, 2 * resolution)
            layers.append(nn.Conv2d(previous, filters, 4, stride=2, padding=1, bias=stage == 0))
            if stage > 0:
                layers.append(nn.BatchNorm2d(filters, **BATCH_NORM))
            layers.append(nn.LeakyReLU(LEAKY_SLOPE))
            previous = filters
        self.body = nn.Sequential(*layers)
        self.logit = nn.Linear(previous * sizes[0] ** 2, 1)
        self.projection = nn.Embedding(NUM_CLASSES, previous * sizes[0] ** 2)

    def forward(self, images, labels):
        features = self.body(images).permute(0, 2, 3, 1).flatten(1)  # NHWC order, as keras's Flatten
        projection = (self.projection(labels).to(features.dtype) * features).sum(1, keepdim=True)
        return (self.logit(features) + projection).float()


def initialise(module):
    """DCGAN's N(0, 0.02) weights and zero biases, as kgan.networks.blocks.initializer and keras."""
    if isinstance(module, (nn.Conv2d, nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)


def adam(parameters):
    return torch.optim.Adam(parameters, lr=LEARNING_RATE, betas=BETAS, eps=ADAM_EPSILON, fused=True)


class GANStep:
    """kgan's DCGAN._gan_step and _update_ema on a torch generator and discriminator."""

    def __init__(self, image_size, channels, precision, generator_forwards=2, memory_format=torch.channels_last,
                 compiled=False, upsampling="auto"):  # fmt: skip
        generator = Generator(image_size, channels, resolved_upsampling(upsampling, image_size), memory_format)
        self.generator = generator.apply(initialise).to(memory_format=memory_format)
        self.discriminator = Discriminator(image_size, channels).apply(initialise).to(memory_format=memory_format)
        self.ema_generator = copy.deepcopy(self.generator).requires_grad_(False)
        if compiled:  # the forward passes; autograd, Adam and the EMA stay eager
            self.generator, self.discriminator = torch.compile(self.generator), torch.compile(self.discriminator)
        self.g_parameters = list(self.generator.parameters())
        self.d_parameters = list(self.discriminator.parameters())
        self.g_optimizer, self.d_optimizer = adam(self.g_parameters), adam(self.d_parameters)
        self.one_forward = generator_forwards == 1
        self.updates = 0
        self.compute = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16")
        self.metric_sums = torch.zeros(4)  # d_loss, g_loss, D(x), D(G(z)): kgan's Mean trackers

    def __call__(self, real, labels):
        batch_size = real.shape[0]
        with torch.set_grad_enabled(self.one_forward), self.compute():
            fake = self.generator(torch.randn(batch_size, LATENT_DIM), labels)
        with self.compute():
            real_logits = self.discriminator(real, labels)
            fake_logits = self.discriminator(fake.detach(), labels)
            d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        apply(self.d_optimizer, d_loss, self.d_parameters)
        with self.compute():
            if not self.one_forward:
                fake = self.generator(torch.randn(batch_size, LATENT_DIM), labels)
            g_loss = F.softplus(-self.discriminator(fake, labels)).mean()
        apply(self.g_optimizer, g_loss, self.g_parameters)
        self.updates += 1
        self.update_ema()
        with torch.no_grad():
            d_real, d_fake = torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()
            self.metric_sums += torch.stack([d_loss, g_loss, d_real, d_fake])

    @torch.no_grad()
    def update_ema(self):
        """Weights averaged with decay min(0.999, (1 + step) / (10 + step)); batch-norm statistics copied."""
        decay = min(EMA_DECAY, (1.0 + self.updates) / (10.0 + self.updates))
        torch._foreach_lerp_(list(self.ema_generator.parameters()), self.g_parameters, 1.0 - decay)
        torch._foreach_copy_(list(self.ema_generator.buffers()), list(self.generator.buffers()))


def apply(optimizer, loss, parameters):
    """One Adam update from gradients of `loss` with respect to `parameters` only (as kgan's _gradients)."""
    for parameter, gradient in zip(parameters, torch.autograd.grad(loss, parameters)):
        parameter.grad = gradient
    optimizer.step()


def count(module):
    return sum(parameter.numel() for parameter in module.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, choices=(28, 64), default=28)
    parser.add_argument("--channels", type=int, choices=(1, 3), default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=6, help="epochs (the first is dropped)")
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--generator-forwards",
        type=int,
        choices=(1, 2),
        default=2,
        help="generator forwards per step: 2, G's update on fresh z; 1, on the fakes D trained on",
    )
    parser.add_argument("--upsampling", choices=UPSAMPLING_MODES, default="auto", help="the generator's, as kgan's")
    parser.add_argument("--memory-format", choices=tuple(MEMORY_FORMATS), default="channels_last")
    parser.add_argument("--compile", action="store_true", help="torch.compile both networks (inductor)")
    options = parser.parse_args()
    torch.manual_seed(options.seed)
    memory_format = MEMORY_FORMATS[options.memory_format]
    step = GANStep(options.image_size, options.channels, options.precision, options.generator_forwards,
                   memory_format, options.compile, options.upsampling)  # fmt: skip
    counts = count(step.generator), count(step.discriminator)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; parameters: generator {counts[0]:,}, "
        f"discriminator {counts[1]:,}",
        file=sys.stderr,
    )
    upsampling = resolved_upsampling(options.upsampling, options.image_size)
    expected = KGAN_PARAMETERS.get((options.image_size, options.channels, upsampling))
    if expected and counts != expected:
        sys.exit(f"parameter counts {counts} differ from kgan's {expected}")
    n, size = options.batch_size * options.steps, options.image_size
    rng = np.random.default_rng(options.seed)
    images = torch.from_numpy(rng.uniform(-1, 1, (n, size, size, options.channels)).astype(np.float32))
    images = images.permute(0, 3, 1, 2).contiguous(memory_format=memory_format)
    labels = torch.from_numpy(rng.integers(0, NUM_CLASSES, n))
    rates = []
    for _ in range(options.epochs):
        started = time.perf_counter()
        for start in range(0, n, options.batch_size):
            step(images[start : start + options.batch_size], labels[start : start + options.batch_size])
        step.metric_sums.tolist()  # what keras's epoch-end logs read
        rates.append(n / (time.perf_counter() - started))
    print(json.dumps(rates[1:]))


if __name__ == "__main__":
    main()
