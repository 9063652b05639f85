"""`kgan export`: export a run's generator (formats: onnx)."""

import click


@click.group()
def export():
    """Export a trained generator."""
