"""`kgan train`: train a DCGAN into a run folder."""

import functools
import sys

import click

from cli.backend import BACKENDS, select_backend
from cli.errors import reports_errors
from kgan.config import (
    AUTO_METRIC,
    CHANGEABLE_ON_RESUME,
    CLASS_CONDITIONINGS,
    GENERATOR_FORWARDS,
    IMAGES_TRAINED_PER_SCORE,
    LOSSES,
    PIXEL_SHUFFLE_MAX_SIZE,
    PRECISIONS,
    R1_AUTO,
    R1_AUTO_MIN_SIZE,
    R1_HEURISTIC,
    SUPPORTED_IMAGE_SIZES,
    UPSAMPLING_CHOICES,
    TrainConfig,
    fixed_on_resume,
)
from kgan.errors import UsageError
from kgan.formats import run_folder
from kgan.metrics.registry import RANKING

DEFAULTS = TrainConfig()  # the options' defaults are TrainConfig's, so the library and the CLI agree
NO_METRIC = "none"  # --metric's spelling of TrainConfig(metric=None)


class GammaType(click.ParamType):
    """`--r1`: a gamma (a number; TrainConfig checks its range), or auto."""

    name = "gamma"

    def convert(self, value, param, ctx):
        if value == R1_AUTO or isinstance(value, float):
            return value
        try:
            return float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a gamma (a number >= 0) nor {R1_AUTO}", param, ctx)


@click.command()
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Keras backend (default: $KERAS_BACKEND, else tensorflow; with --resume, the run's).")
@click.option("--dataset", default=DEFAULTS.dataset, show_default=True,
              help="digits, mnist, fashion_mnist, cifar10, or a PATH: IDX folder, .npz, or image folder "
                   "with one subfolder per class.")
@click.option("--image-size", type=int, default=None,
              help=f"Image side, one of {', '.join(map(str, SUPPORTED_IMAGE_SIZES))} (default: the dataset's; "
                   "64 for image folders, 28 for digits).")
@click.option("--channels", type=click.Choice(["1", "3"]), default=None,
              help="1 grayscale or 3 RGB (default: the dataset's).")
@click.option("--conditional/--unconditional", default=None,
              help="Class-conditional GAN (default: when the dataset has labels).")
@click.option("--epochs", type=int, default=DEFAULTS.epochs, show_default=True,
              help="Total epochs (with --resume: the new total).")
@click.option("--steps-per-epoch", type=int, default=None, help="Batches per epoch (default: one pass over the data).")
@click.option("--batch-size", type=int, default=DEFAULTS.batch_size, show_default=True)
@click.option("--latent-dim", type=int, default=DEFAULTS.latent_dim, show_default=True)
@click.option("--width", type=int, default=DEFAULTS.width, show_default=True,
              help="Generator feature maps at full resolution.")
@click.option("--d-width", type=int, default=DEFAULTS.d_width,
              help="Discriminator feature maps after its first convolution (default: --width).")
@click.option("--upsampling", type=click.Choice(UPSAMPLING_CHOICES), default=DEFAULTS.upsampling, show_default=True,
              help=f"Generator upsampling. auto: pixel_shuffle up to {PIXEL_SHUFFLE_MAX_SIZE} px, resize (nearest x2 "
                   "+ conv) above, where pixel shuffle collapsed.")
@click.option("--class-conditioning", type=click.Choice(CLASS_CONDITIONINGS), default=DEFAULTS.class_conditioning,
              show_default=True,
              help="How a conditional generator hears the label. input: an embedding joins z. batch_norm: also a "
                   "per-class scale and offset in every batch norm (class-conditional batch norm).")
@click.option("--lr", type=float, default=DEFAULTS.lr, show_default=True,
              help="Adam learning rate (both networks, unless --d-lr).")
@click.option("--d-lr", type=float, default=DEFAULTS.d_lr,
              help="Adam learning rate of the discriminator, for two time-scales (TTUR; default: --lr).")
@click.option("--beta1", "beta_1", type=float, default=DEFAULTS.beta_1, show_default=True, help="Adam beta_1.")
@click.option("--beta2", "beta_2", type=float, default=DEFAULTS.beta_2, show_default=True,
              help="Adam beta_2 (SNGAN: --beta1 0 --beta2 0.9).")
@click.option("--ema/--no-ema", default=DEFAULTS.ema, show_default=True,
              help="Sample and export an EMA of the generator.")
@click.option("--ema-decay", type=float, default=DEFAULTS.ema_decay, show_default=True)
@click.option("--label-smoothing", type=float, default=DEFAULTS.label_smoothing, show_default=True,
              help="One-sided; 0.1 is common. Non-saturating loss only.")
@click.option("--loss", type=click.Choice(LOSSES), default=DEFAULTS.loss, show_default=True,
              help="nonsaturating: binary cross-entropy on D's logits. hinge: relu(1 - D(x)) + relu(1 + D(G(z))) for "
                   "D, -D(G(z)) for G (SNGAN, BigGAN).")
@click.option("--r1", type=GammaType(), default=DEFAULTS.r1, show_default=True,
              help="R1 penalty gamma/2 * E|grad_x D(x)|^2 on real images (0 = off; DiffAugment: on the augmented "
                   f"ones). auto: StyleGAN2-ADA's gamma = {R1_HEURISTIC:g} x size^2 / batch from {R1_AUTO_MIN_SIZE} "
                   "px on, off below.")
@click.option("--r1-every", type=int, default=DEFAULTS.r1_every, show_default=True, metavar="K",
              help="Apply --r1 every K discriminator steps, times K (lazy regularisation, as StyleGAN2).")
@click.option("--mode-seeking", type=float, default=DEFAULTS.mode_seeking, show_default=True, metavar="WEIGHT",
              help="Weight of MSGAN's mode-seeking term in G's loss, 1 / (|G(z1) - G(z2)| / |z1 - z2|) over pairs of "
                   "the batch with the same label: rewards variety within a class (0 = off).")
@click.option("--spectral-norm/--no-spectral-norm", default=DEFAULTS.spectral_norm, show_default=True,
              help="Spectrally normalise the discriminator's weights, without its batch norm (SNGAN).")
@click.option("--diffaugment", default=DEFAULTS.diffaugment,
              help="DiffAugment policy for small datasets, e.g. color,translation,cutout.")
@click.option("--generator-forwards", type=click.IntRange(min(GENERATOR_FORWARDS), max(GENERATOR_FORWARDS)),
              default=DEFAULTS.generator_forwards, show_default=True, metavar="1|2",
              help="Generator forward passes per step. 2: G's update runs the generator again on fresh z. "
                   "1: G's update backpropagates through the fake batch D has just trained on, scored by the "
                   "updated D (as pytorch/examples' DCGAN): one generator forward fewer per step.")
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True)
@click.option("--jit/--no-jit", default=None, help="jit-compile the step (default: by backend, device and precision).")
@click.option("--precision", type=click.Choice(PRECISIONS), default=DEFAULTS.precision, show_default=True,
              help="Compute dtype; variables stay float32. auto: bfloat16 on GPUs of compute capability 8.0+, "
                   "TPUs, and CPUs with AMX/AVX512-BF16 under TensorFlow; float32 elsewhere.")
@click.option("--devices", callback=lambda ctx, param, value: _device_count(value), default=str(DEFAULTS.devices),
              show_default=True, metavar="N|all",
              help="Train data-parallel on N devices (GPUs, TPUs; CPU devices when there are none), each batch "
                   "split over them; all: every one visible, of every process. With --resume: the run's, or "
                   "as many as this machine has if fewer.")
@click.option("--coordinator", default=None, metavar="HOST:PORT",
              help="JAX, several processes: process 0's address, the same for every process (default: "
                   "$JAX_COORDINATOR_ADDRESS). TensorFlow's processes come from TF_CONFIG.")
@click.option("--num-processes", type=click.IntRange(min=1), default=None,
              help="JAX: how many processes train the model (default: $JAX_NUM_PROCESSES, else 1).")
@click.option("--process-id", type=click.IntRange(min=0), default=None,
              help="JAX: this process's index, 0 to --num-processes - 1; process 0 writes the run folder "
                   "(default: $JAX_PROCESS_ID).")
@click.option("--mixed-precision", is_flag=True, hidden=True, help="Old spelling of --precision bfloat16.")
@click.option("--tensorboard/--no-tensorboard", default=DEFAULTS.tensorboard, show_default=True,
              help="Also log losses, D outputs, learning rates and sample grids to RUN_DIR/tensorboard "
                   "(needs tensorflow and tensorboard installed, on either backend).")
@click.option("--keep-every", type=int, default=DEFAULTS.keep_every, metavar="N",
              help="Also keep the generator of every Nth epoch: RUN_DIR/snapshots/generator_epoch_NNN.keras "
                   "(default: only the last, generator.keras).")
@click.option("--metric", type=click.Choice((AUTO_METRIC, NO_METRIC, *RANKING)), default=DEFAULTS.metric,
              show_default=True, callback=lambda ctx, param, value: None if value == NO_METRIC else value,
              help="Score the generator after every epoch (or --metric-every N): 1,000 images against real ones "
                   "held out of a classifier trained on the run's data (cached), into RUN_DIR/metric-NAME.jsonl, "
                   "history.csv and history.png. "
                   "auto: accuracy (how often the classifier sees the class each image was made for) when the run "
                   "is conditional, kid (lower is better) when its images are labelled, none without labels.")
@click.option("--keep-best/--no-keep-best", default=DEFAULTS.keep_best,
              help="Keep the generator with the best --metric score as RUN_DIR/generator_best.keras "
                   "(kgan export onnx --epoch best, kgan evaluate --epoch best; default: whenever there is a score).")
@click.option("--metric-every", type=int, default=DEFAULTS.metric_every, metavar="N",
              help=f"Score every Nth epoch and the last (default: every epoch from {IMAGES_TRAINED_PER_SCORE:,} "
                   f"images per epoch, else every ceil({IMAGES_TRAINED_PER_SCORE:,} / images per epoch) epochs, "
                   "which keeps scoring near 5% of the training time).")
@click.option("--out", "run_dir", type=click.Path(file_okay=False), required=True, help="Run folder RUN_DIR.")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace an existing run in --out.")
@click.pass_context
@reports_errors
def train(ctx, backend, run_dir, resume, overwrite, channels, mixed_precision, coordinator, num_processes,
          process_id, **options):  # fmt: skip
    """Train a DCGAN; write samples, checkpoints and generator.keras to RUN_DIR."""
    trained = _trained_run(run_dir) if resume else None
    select_backend(backend or (trained.backend if trained else None))
    options["channels"] = None if channels is None else int(channels)
    explicit = {name for name in options if _given(ctx, name)}
    if mixed_precision:
        if "precision" in explicit and options["precision"] != "bfloat16":
            raise UsageError(f"--mixed-precision means --precision bfloat16, not {options['precision']}: give one")
        options["precision"] = "bfloat16"
        explicit.add("precision")
    if options["tensorboard"]:
        from kgan.training.callbacks import check_tensorboard

        check_tensorboard()  # before the run folder is touched
    verbose = 1 if sys.stdout.isatty() else 2
    if resume:
        if overwrite:
            raise UsageError("--resume and --overwrite contradict each other: choose one")
        changes = {name: value for name, value in options.items() if name in explicit}
        fixed = fixed_on_resume(changes)
        if fixed:
            allowed = ", ".join(_flag(ctx, name) for name in CHANGEABLE_ON_RESUME)
            raise UsageError(
                f"{', '.join(_flag(ctx, name) for name in fixed)} cannot change on --resume "
                f"(the run keeps its config.json); only {allowed} and --backend can"
            )
        from kgan.training.run import resume_run

        job = functools.partial(resume_run, run_dir, verbose, **changes)
    else:
        config = TrainConfig(**options)
        from kgan.training.run import start_run

        job = functools.partial(start_run, config, run_dir, overwrite, verbose)
    from kgan.training.cluster import join_cluster

    cluster = join_cluster(coordinator, num_processes, process_id)
    result = _run(lambda: job(cluster=cluster), run_dir)
    _summarise(result, cluster)
    if trained is not None:
        click.echo(_resumed_as(trained, backend, "devices" in explicit, result.devices))


def _trained_run(run_dir):
    """The RunDescription of the run to resume, read without keras; None when it cannot be read (resume_run
    then says why)."""
    try:
        trained = run_folder.read_description(run_dir)
    except UsageError:
        return None
    return trained if trained.backend in BACKENDS else None


def _resumed_as(trained, backend, devices_given, devices):
    """The line that says on what a resumed run went on: the backend and devices it trained on, unless told."""
    import keras

    if devices_given:
        source = "--devices"
    elif trained.train.devices in ("all", devices):
        source = f"config.json: {trained.train.devices}"
    else:
        source = f"config.json: {trained.train.devices}, more than this machine has"
    return (
        f"Resumed on {keras.config.backend()} ({'--backend' if backend else 'config.json'}; it last trained on "
        f"{trained.backend}) and {devices} device{'s' if devices > 1 else ''} ({source})."
    )


def _device_count(value):
    if value == "all":
        return value
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a count of devices nor all") from None


def _given(ctx, name):
    source = ctx.get_parameter_source(name)
    return source is not None and source != click.core.ParameterSource.DEFAULT


def _flag(ctx, name):
    """The command-line spelling of option `name`, e.g. --beta1 for beta_1, --jit/--no-jit for jit."""
    parameter = next(parameter for parameter in ctx.command.params if parameter.name == name)
    return "/".join(parameter.opts + parameter.secondary_opts)


def _run(job, run_dir):
    try:
        return job()
    except KeyboardInterrupt:
        click.echo(
            f"\nInterrupted. Finished epochs are saved; continue with: kgan train --resume --out {run_dir}",
            err=True,
        )
        raise SystemExit(130) from None


def _summarise(result, cluster):
    rows = result.history
    if not rows:
        return
    steady = sorted(row["images_per_s"] for row in rows[1:]) or [rows[0]["images_per_s"]]
    last = rows[-1]
    processes = f" in {cluster.count} processes" if cluster.count > 1 else ""
    into = f"into {result.run_dir}" if cluster.is_chief else f"as process {cluster.index} (process 0 wrote the run)"
    click.echo(
        f"Trained {last['epoch']} epochs {into}: d_loss {last['d_loss']:.3f}, "
        f"g_loss {last['g_loss']:.3f}, D(x) {last['d_real']:.2f}, D(G(z)) {last['d_fake']:.2f}; "
        f"{steady[len(steady) // 2]:.0f} images/s in {result.precision} on {result.devices} "
        f"device{'s' if result.devices > 1 else ''}{processes} (median epoch after the first)."
    )
    if not cluster.is_chief:
        return
    import keras

    from kgan.devices import cpu_training_note

    note = cpu_training_note(keras.config.backend(), result.precision, result.jit_compiled)
    if note:
        click.echo(note)
    click.echo(f"Samples: {result.run_dir}/samples/epoch_{last['epoch']:03d}.png")
    scored = [name for name in RANKING if name in last]
    if scored:
        name, best = scored[0], result.best_epoch
        kept = f"; best: epoch {best}, kept as {result.run_dir}/generator_best.keras" if best else ""
        if best and best != last["epoch"]:
            kept += f" (kgan export onnx {result.run_dir} --epoch best)"
        click.echo(f"Score ({name}) of the last generator: {last[name]:.4g}{kept}.")
