"""`kgan export`: export a run's generator (formats: onnx)."""

from pathlib import Path

import click

from cli.backend import BACKENDS, select_backend
from cli.errors import reports_errors
from cli.params import EPOCH, EPOCH_HELP
from kgan.errors import UsageError
from kgan.formats import run_folder
from kgan.formats.onnx_contract import DEFAULT_OPSET


@click.group()
def export():
    """Export a trained generator."""


@export.command("onnx")
@click.argument("run_dirs", metavar="RUN_DIR...", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The .onnx file to write (default: RUN_DIR/<RUN_DIR name>.onnx, "
                   "or <first RUN_DIR>/<its name>-mixtureK.onnx for K of them).")
@click.option("--opset", type=click.IntRange(min=1), default=None,
              help=f"ONNX opset version (default: {DEFAULT_OPSET}).")
@click.option("--uint8", is_flag=True, help="Output uint8 images in [0, 255] instead of float32 in [-1, 1].")
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Keras backend that converts: tensorflow (tf2onnx) or jax (jax2onnx) "
                   "(default: $KERAS_BACKEND, else tensorflow). Either exports a run trained on either.")
@click.option("--epoch", type=EPOCH, default=None, help=EPOCH_HELP)
@click.option("--temperature", type=float, default=None,
              help="Sampling temperature (standard deviation of z) to record in the file: kgan generate, "
                   "kgan.runtime and kgan evaluate use it unless told otherwise. Choose it on held-out data "
                   "with kgan evaluate --temperature (default: 1).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@reports_errors
def export_onnx_command(run_dirs, output, opset, uint8, backend, epoch, temperature, overwrite):
    """Export the generator of RUN_DIR to ONNX, for `kgan generate` and onnxruntime.

    The file follows docs/onnx-contract.md. It is written only after onnxruntime has
    reproduced the keras generator on random inputs (max abs difference <= 1e-4).
    Several RUN_DIRs (e.g. the same recipe trained with other --seed values) make one
    file that mixes their generators: each image comes from one of them, chosen by z.

    Example: kgan export onnx runs/mnist -o mnist.onnx
    """
    select_backend(backend)
    from kgan.export import default_output, export_onnx

    output = default_output(run_dirs, epoch) if output is None else output
    if output.exists() and not overwrite:
        raise UsageError(f"{output} already exists: pass --overwrite to replace it, or choose another --output")
    result = export_onnx(run_dirs, output, opset, uint8, epoch, temperature)
    click.echo(
        f"Exported {result.path} ({_file_size(result.path)}): max abs diff vs keras "
        f"{result.max_abs_diff:.1e}, {result.seconds:.1f} s."
    )
    if epoch is None and len(run_dirs) == 1:
        _mention_best(run_dirs[0])


def _mention_best(run_dir):
    """Says so when the run kept a generator that scored better than the last one just exported."""
    scores = run_folder.best_and_last_scores(run_dir)
    if scores is None or scores[0]["epoch"] == scores[1]["epoch"]:
        return
    best, last = scores
    click.echo(
        f"{run_dir} also keeps the generator of epoch {best['epoch']}, its best by {best['metric']} "
        f"({best['value']:.4g}, against {last['value']:.4g} at epoch {last['epoch']}): "
        f"kgan export onnx {run_dir} --epoch best"
    )


def _file_size(path):
    size = path.stat().st_size
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 2**10:.0f} KiB"
