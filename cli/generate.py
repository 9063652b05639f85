"""`kgan generate`: labelled synthetic images from an exported ONNX generator, no training stack."""

import contextlib
import time
from pathlib import Path

import click

from cli.errors import reports_errors


@click.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-n", "--num-images", type=int, required=True, help="Number of images to generate.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output folder (created whole).")
@click.option(
    "--label",
    "labels",
    multiple=True,
    help="Class index or name; repeat it or give a comma list to cycle through. Default: balanced over all classes.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same images.")
@click.option("--batch-size", type=int, default=256, show_default=True, help="Images per run.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["png", "npz"]),
    default="png",
    show_default=True,
    help="png: one folder per class; npz: samples.npz with x and y.",
)
@click.option("--truncation", type=float, help="Redraw latent entries until every |z| <= this.")
@click.option("--temperature", type=float, default=None,
              help="Standard deviation of z: above 1 more varied images, below 1 more typical ones "
                   "(default: the temperature MODEL was exported with, 1 when none).")
@click.option(
    "--provider",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="onnxruntime execution provider; auto picks CUDA when available.",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it already holds files.")
@click.option("--threads", type=int,
              help="Threads encoding and writing PNG files (same files whatever the number). Default: one per CPU "
                   "core, at most 8.")
@reports_errors
def generate(model, num_images, out, labels, seed, batch_size, output_format, truncation, temperature, provider,
             overwrite, threads):  # fmt: skip
    """Generate labelled images from MODEL, a .onnx file written by `kgan export onnx`.

    Writes OUT/<class>/<index>.png (or OUT/samples.npz) and OUT/manifest.csv.

    Example: kgan generate mnist.onnx -n 6000 --label 3,7 --out synthetic/
    """
    from kgan.runtime import OnnxGenerator, write_samples

    generator = OnnxGenerator(model, provider=provider)
    tokens = [token.strip() for value in labels for token in value.split(",") if token.strip()]
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        bar = None

        def show_progress(count):
            nonlocal bar
            if bar is None:  # opened late so that errors found before any image print alone
                progressbar = click.progressbar(
                    length=num_images, label="Generating", file=click.get_text_stream("stderr")
                )
                bar = stack.enter_context(progressbar)
            bar.update(count)

        write_samples(
            generator,
            out,
            num_images,
            labels=tokens or None,
            seed=seed,
            truncation=truncation,
            temperature=temperature,
            batch_size=batch_size,
            format=output_format,
            overwrite=overwrite,
            progress=show_progress,
            threads=threads,
        )
    rate = num_images / (time.perf_counter() - started)
    used = generator.temperature if temperature is None else temperature
    click.echo(f"Wrote {num_images} images to {out} ({output_format}, temperature {used:g}, {rate:.0f} images/s)")
