"""Helpers shared by the tests. Keras-free: tests/runtime imports them in tox's runtime env, which has no keras,
tensorflow or jax (keras-side helpers live in tests/tiny_models.py)."""

import errno
import io
import itertools
import json
import subprocess
import sys

import numpy as np
from click.testing import CliRunner
from PIL import Image

from cli.main import cli
from kgan import imaging
from kgan.formats import run_folder
from tests.conftest import ROOT


def run_kgan(*args):
    """Runs the `kgan` command line in-process with `args` (turned into strings); returns click's Result."""
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def assert_one_line_error(result, exit_code=2):
    """Asserts that the command exited with `exit_code` after printing one "Error: ..." line (on stderr, no
    traceback) and nothing else; returns that line."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # click's exit, not an escaped exception
    assert result.stdout == ""
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def modules_loaded_by(code):
    """The names of the modules a fresh Python process in the repository has loaded after running `code`."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


def fill_the_disk_after(monkeypatch, images):
    """Makes kgan.imaging.png_bytes, which the writer threads call, fail as on a full disk after `images` images."""
    encode, calls = imaging.png_bytes, itertools.count()

    def png_bytes_until_the_disk_is_full(image):
        if next(calls) >= images:
            raise OSError(errno.ENOSPC, "No space left on device")
        return encode(image)

    monkeypatch.setattr(imaging, "png_bytes", png_bytes_until_the_disk_is_full)


def checkpoint_arrays(run_dir):
    """{variable path: array} of the run folder's last checkpoint, its training history left out."""
    with np.load(run_dir / run_folder.CHECKPOINT_FILE) as archive:
        return {key: archive[key] for key in archive.files if key != "history"}


def real_arrays(count=12, dtype="uint8"):
    """(images, labels) shaped for tests/runtime/data/conditional.onnx (8 x 8 x 1, three classes) that no
    generator makes: image j holds j + 1 at its first pixel and 0 elsewhere (divided by 255 for float32);
    its label is j % 3."""
    images = np.zeros((count, 8, 8, 1), np.uint8)
    images[:, 0, 0, 0] = np.arange(1, count + 1)
    return (images if dtype == "uint8" else (images / 255).astype(dtype)), np.arange(count) % 3


def leftovers(folder):
    """Staging folders left beside `folder` by an interrupted write."""
    return sorted(path.name for path in folder.parent.glob(f".{folder.name}.*"))


def file_tree(folder):
    """{relative path: bytes} of every file under `folder`."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def drawn_by_matplotlib(png):
    """Whether PNG bytes were written by matplotlib, which names itself in the "Software" text chunk."""
    with Image.open(io.BytesIO(png)) as picture:
        return picture.format == "PNG" and picture.info.get("Software", "").startswith("Matplotlib")
