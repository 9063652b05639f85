"""Run configuration and the image sizes the networks support (pure Python, no keras)."""

import dataclasses
import math

from kgan.errors import UsageError

MIN_IMAGE_SIZE = 16
MAX_IMAGE_SIZE = 256
BASE_RESOLUTIONS = (4, 7)
UPSAMPLING_MODES = ("pixel_shuffle", "resize", "transposed")
UPSAMPLING_CHOICES = ("auto", *UPSAMPLING_MODES)
CLASS_CONDITIONINGS = ("input", "batch_norm")  # kgan.networks.build_generator
# The largest side at which "auto" upsampling is pixel shuffle (fastest on XLA:CPU; what the 28 px figures were
# measured with); above it, resize: at 64 px with DiffAugment pixel shuffle was still one repeated texture after
# 348 steps where resize learned within 150, and without it pixel shuffle started slower at every size
# (benchmarks/upsampling_by_size.py, docs/training.md).
PIXEL_SHUFFLE_MAX_SIZE = 28
PRECISIONS = ("auto", "float32", "bfloat16")
GENERATOR_FORWARDS = (1, 2)  # per train step: see TrainConfig and kgan.gan.DCGAN
LOSSES = ("nonsaturating", "hinge")  # kgan.gan.losses
# What a config.json "train" entry written before an option existed trained with; the options' defaults may move on.
BEFORE_OPTIONS_EXISTED = {"loss": "nonsaturating", "r1": 0.0, "r1_every": 16, "spectral_norm": False, "d_lr": None,
                          "metric": None, "keep_best": False, "metric_every": 1, "beta_2": 0.999,
                          "mode_seeking": 0.0, "class_conditioning": "input"}
# --r1's default: StyleGAN2-ADA's gamma = R1_HEURISTIC x size^2 / batch from R1_AUTO_MIN_SIZE px on, off below.
# On the aerial scenes after 1,200 steps (two seeds) it kept CAS, cut FID from 133 to 88 at 64 px and lowered
# KID in every seed at 32 and 64 px (docs/measurements.md, "Recipes at a fixed step budget"); 28 px was chosen
# without it.
R1_AUTO = "auto"
R1_HEURISTIC = 0.0002
R1_AUTO_MIN_SIZE = 32
# --metric's default: a score chosen by what the run's data allows, resolved when the run starts
# (kgan.judge.epoch_score.resolve_metric); config.json records what it resolved to.
AUTO_METRIC = "auto"
# Scoring 1,000 images (kgan.judge.epoch_score) cost as much as training on 230-380 images at 28, 32 and 64 px
# (docs/measurements.md, "The best generator during training"): one score per this many trained images keeps it
# near 5% of training.
IMAGES_TRAINED_PER_SCORE = 7500
# What `--resume` may change: how long, how the step is compiled, in what precision and on how many devices
# it computes, and what is recorded besides the run's own files (TensorBoard logs, generator snapshots).
# Everything else defines the run (its data, networks, optimisation and noise) and stays as config.json has it.
CHANGEABLE_ON_RESUME = ("epochs", "jit", "precision", "devices", "tensorboard", "keep_every")


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


def resolve_upsampling(upsampling, image_size):
    """The generator's upsampling: `upsampling`, or for "auto" pixel shuffle up to PIXEL_SHUFFLE_MAX_SIZE px
    and resize (nearest x2, then a convolution) above."""
    if upsampling != "auto":
        return upsampling
    return "pixel_shuffle" if image_size <= PIXEL_SHUFFLE_MAX_SIZE else "resize"


def resolve_r1(r1, image_size, batch_size):
    """The R1 gamma of a run: `r1`, or for "auto" R1_HEURISTIC x image_size² / batch_size from
    R1_AUTO_MIN_SIZE px on and 0 (off) below."""
    if r1 != R1_AUTO:
        return r1
    return R1_HEURISTIC * image_size**2 / batch_size if image_size >= R1_AUTO_MIN_SIZE else 0.0


def resolve_metric_every(metric_every, images_per_epoch):
    """How many epochs apart a run scores its generator: `metric_every`, or for None every epoch from
    IMAGES_TRAINED_PER_SCORE images per epoch and every few epochs below that."""
    return metric_every or max(1, math.ceil(IMAGES_TRAINED_PER_SCORE / images_per_epoch))


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


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run; stored as config.json's "train" entry.

    Args:
        dataset: a --dataset spec (see kgan.data.load_dataset).
        image_size: side of the images; None takes the dataset's (resolved at start).
        channels: 1 or 3; None takes the dataset's (resolved at start).
        conditional: class-conditional GAN; None means "when the dataset has labels".
        epochs: total epochs of the run.
        steps_per_epoch: batches per epoch; None for one pass over the data.
        batch_size: images per batch (both networks see this many real and fake).
        latent_dim: size of z.
        width: the generator's feature maps at full resolution (see kgan.networks.build_generator).
        d_width: the discriminator's feature maps after its first convolution; None for `width`.
        upsampling: "pixel_shuffle", "resize", "transposed" or "auto" (by image size, resolved when the run
            starts, see resolve_upsampling).
        class_conditioning: how a conditional generator hears the label: "input" (an embedding joins z) or
            "batch_norm" (also a per-class scale and offset in every batch norm; see kgan.networks.build_generator).
        lr: Adam learning rate of the generator, and of the discriminator unless `d_lr` is given.
        d_lr: Adam learning rate of the discriminator (two time-scales, Heusel et al., 2017); None for `lr`.
        beta_1: Adam's beta_1.
        beta_2: Adam's beta_2 (0.9 in SNGAN's setting with beta_1 0).
        ema: keep an exponential moving average of the generator for samples and export.
        ema_decay: its decay.
        label_smoothing: one-sided smoothing of the real target (non-saturating loss only).
        loss: "nonsaturating" (binary cross-entropy on logits) or "hinge" (see kgan.gan.losses).
        r1: gamma of the R1 penalty gamma/2 * E||grad_x D(x)||^2 on real images (Mescheder et al., 2018); 0 = off;
            "auto" (resolved when the run starts, see resolve_r1) for StyleGAN2-ADA's heuristic from 32 px.
        r1_every: apply R1 every this many discriminator steps, scaled by it (lazy, as StyleGAN2).
        mode_seeking: weight of MSGAN's mode-seeking term in the generator's loss (Mao et al., 2019; see
            kgan.gan.losses.mode_seeking_loss); 0 = off.
        spectral_norm: spectrally normalise the discriminator's weights, without its batch norm (SNGAN).
        diffaugment: DiffAugment policy, e.g. "color,translation,cutout" ("" for none).
        generator_forwards: generator forward passes per train step: 1, G's update through the fake batch D
            trained on (one forward fewer, as pytorch/examples' DCGAN; the default since it measured the same
            CAS at 28, 32 and 64 px), or 2, G's update on fresh z (the DCGAN class's own default).
        seed: seed of weights, noise, augmentation and data order.
        jit: jit-compile the step; None picks by backend, device and precision (kgan.devices.resolve_jit).
        precision: "float32", "bfloat16" (compute in bfloat16, variables stay float32) or "auto"
            (bfloat16 where the hardware runs it fast; resolved when the run starts, see
            kgan.devices.resolve_precision).
        devices: how many devices train the model data-parallel (each batch split over them), or "all"
            (see kgan.training.parallel).
        tensorboard: also log scalars and sample grids for TensorBoard (needs tensorflow and tensorboard).
        keep_every: keep a generator snapshot every this many epochs; None keeps only the last.
        metric: score the generator with this metric of kgan.metrics.registry after epochs (in the feature space
            of a classifier trained on the run's real images, kgan.judge); None for none; "auto" (resolved when
            the run starts) for accuracy when the run is conditional, kid when its images are labelled, else none.
        keep_best: keep the generator with the best `metric` score as generator_best.keras; None (resolved
            when the run starts) for "whenever there is a metric".
        metric_every: score every this many epochs, and the last; None (resolved when the run starts) for as
            often as keeps the score's cost near 5% of training (resolve_metric_every).
    """

    dataset: str = "digits"
    image_size: int | None = None
    channels: int | None = None
    conditional: bool | None = None
    epochs: int = 20
    steps_per_epoch: int | None = None
    batch_size: int = 64
    latent_dim: int = 100
    width: int = 64
    d_width: int | None = None
    upsampling: str = "auto"
    class_conditioning: str = "input"
    lr: float = 2e-4
    d_lr: float | None = None
    beta_1: float = 0.5
    beta_2: float = 0.999
    ema: bool = True
    ema_decay: float = 0.999
    label_smoothing: float = 0.0
    loss: str = "nonsaturating"
    r1: float | str = R1_AUTO
    r1_every: int = 16
    mode_seeking: float = 0.0
    spectral_norm: bool = False
    diffaugment: str = ""
    generator_forwards: int = 1
    seed: int = 0
    jit: bool | None = None
    precision: str = "auto"
    devices: int | str = 1
    tensorboard: bool = False
    keep_every: int | None = None
    metric: str | None = AUTO_METRIC
    keep_best: bool | None = None
    metric_every: int | None = None

    def __post_init__(self):
        _at_least(self, "epochs", 1)
        _at_least(self, "batch_size", 2)
        _at_least(self, "latent_dim", 1)
        _at_least(self, "width", 1)
        if self.steps_per_epoch is not None:
            _at_least(self, "steps_per_epoch", 1)
        if self.d_width is not None:
            _at_least(self, "d_width", 1)
        if self.keep_every is not None:
            _at_least(self, "keep_every", 1)
        if self.metric_every is not None:
            _at_least(self, "metric_every", 1)
        for name in ("lr", "d_lr"):
            value = getattr(self, name)
            if value is not None and not 0 < value < 1:
                raise UsageError(f"{name.replace('_', '-')} must lie in (0, 1), not {value}")
        if not 0 <= self.label_smoothing < 0.5:
            raise UsageError(f"label smoothing must lie in [0, 0.5), not {self.label_smoothing}")
        if self.loss not in LOSSES:
            raise UsageError(f"loss must be one of {', '.join(LOSSES)}, not {self.loss!r}")
        if self.loss != "nonsaturating" and self.label_smoothing:
            raise UsageError(f"label smoothing applies to the non-saturating loss only, not to {self.loss}")
        if self.r1 != R1_AUTO and not 0 <= self.r1 < float("inf"):
            raise UsageError(f"r1 must be a finite gamma >= 0 (0 = off) or {R1_AUTO}, not {self.r1}")
        _at_least(self, "r1_every", 1)
        if not 0 <= self.mode_seeking < float("inf"):
            raise UsageError(f"mode-seeking must be a finite weight >= 0 (0 = off), not {self.mode_seeking}")
        if not 0 < self.ema_decay < 1:
            raise UsageError(f"EMA decay must lie in (0, 1), not {self.ema_decay}")
        for name in ("beta_1", "beta_2"):
            if not 0 <= getattr(self, name) < 1:
                raise UsageError(f"{name} must lie in [0, 1), not {getattr(self, name)}")
        if self.devices != "all":
            _at_least(self, "devices", 1)
        if self.precision not in PRECISIONS:
            raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        if self.generator_forwards not in GENERATOR_FORWARDS:
            raise UsageError(f"generator forwards must be 1 or 2, not {self.generator_forwards!r}")
        if self.upsampling not in UPSAMPLING_CHOICES:
            raise UsageError(f"upsampling must be one of {', '.join(UPSAMPLING_CHOICES)}, not {self.upsampling!r}")
        if self.class_conditioning not in CLASS_CONDITIONINGS:
            raise UsageError(f"class conditioning must be one of {', '.join(CLASS_CONDITIONINGS)}, "
                             f"not {self.class_conditioning!r}")  # fmt: skip
        if self.keep_best is True and self.metric is None:
            raise UsageError("keep-best ranks the generators by a metric: give one too, e.g. --metric kid")
        if self.image_size is not None:
            check_image_size(self.image_size)
        if self.channels is not None:
            check_channels(self.channels)

    def to_dict(self):
        return dataclasses.asdict(self)

    def resumed_with(self, **changes):
        """This config with options of CHANGEABLE_ON_RESUME changed, for a resumed run.

        Args:
            **changes: new values by field name, e.g. epochs=40.

        Raises:
            UsageError: when a change touches an option that defines the run.
        """
        fixed = fixed_on_resume(changes)
        if fixed:
            allowed = f"{', '.join(CHANGEABLE_ON_RESUME[:-1])} and {CHANGEABLE_ON_RESUME[-1]}"
            raise UsageError(
                f"{', '.join(fixed)} cannot change on resume (the run keeps its config.json); only {allowed} can"
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, values):
        """The config of a config.json "train" entry; one written before `precision` existed keeps the
        precision it trained in (its `mixed_precision` flag), one without `upsampling` pixel shuffle, one
        without `generator_forwards` the two-forward step, one without the recipe options (`loss`, `r1`,
        `spectral_norm`, `d_lr`, `beta_2`, `class_conditioning`) or the epoch score (`metric`, `keep_best`,
        `metric_every`) what it trained with (BEFORE_OPTIONS_EXISTED)."""
        known = {field.name for field in dataclasses.fields(cls)}
        config = {key: value for key, value in values.items() if key in known}
        if "precision" not in values:
            config["precision"] = "bfloat16" if values.get("mixed_precision") else "float32"
        config.setdefault("upsampling", "pixel_shuffle")
        config.setdefault("generator_forwards", 2)
        return cls(**{**BEFORE_OPTIONS_EXISTED, **config})


def fixed_on_resume(names):
    """The option names among `names` that a resumed run cannot change, in their order."""
    return [name for name in names if name not in CHANGEABLE_ON_RESUME]


def _at_least(config, name, minimum):
    value = getattr(config, name)
    if not isinstance(value, int) or value < minimum:
        raise UsageError(f"{name.replace('_', '-')} must be an integer >= {minimum}, not {value}")
