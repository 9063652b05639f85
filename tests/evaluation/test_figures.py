"""The report's figures: PNGs that matplotlib drew, from small made-up inputs (no keras, no training)."""

import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from kgan import plots
from kgan.errors import KganError
from kgan.evaluation import figures
from kgan.evaluation.report import HEADER
from tests.conftest import ROOT


def drawn_by_matplotlib(png):
    """Whether PNG bytes were written by matplotlib, which names itself in the "Software" text chunk."""
    with Image.open(io.BytesIO(png)) as picture:
        return picture.format == "PNG" and picture.info.get("Software", "").startswith("Matplotlib")


def runs(mean, std):
    return {"mean": mean, "std": std, "runs": [mean - std, mean + std]}


def digits(count, classes=10):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (count, 16, 16, 1), dtype=np.uint8), np.arange(count) % classes


def test_every_figure_is_a_matplotlib_png():
    images, labels = digits(40)
    results = [{"k": k, "real": runs(0.7, 0.02), "augmented": runs(0.75, 0.03)} for k in (10, 100, "all")]
    pngs = [
        figures.sample_grid_png(images, labels, [str(label) for label in range(10)]),
        figures.sample_grid_png(images, np.full(40, -1), []),
        figures.image_rows_png([images[:5], images[5:10]], ["generated", "nearest real"], "pairs", ["0.1"] * 5, "d"),
        figures.table_png(HEADER, [("FID", "22.8", "0.69", "lower is better")]),
        figures.augmentation_png(results),
    ]
    for png in pngs:
        assert drawn_by_matplotlib(png)


def test_sample_grid_is_large_enough_to_see_small_images():
    images, labels = digits(100)
    with Image.open(io.BytesIO(figures.sample_grid_png(images, labels, []))) as picture:
        width, height = picture.size
    assert width >= 10 * figures.MIN_CELL and height >= 10 * figures.MIN_CELL  # 16px digits, 10 x 10


def test_figures_import_matplotlib_only_when_they_draw():
    script = textwrap.dedent("""
        import sys
        import kgan.evaluation.report, kgan.plots
        assert "matplotlib" not in sys.modules, "importing the figure modules imported matplotlib"
        """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_missing_matplotlib_is_a_one_line_kgan_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails as if not installed
    with pytest.raises(KganError, match=r"matplotlib, which is not installed: pip install 'kgan\[tensorflow\]'"):
        plots.render(lambda figure: None, (1, 1))


def test_write_png_leaves_no_temporary_file(tmp_path):
    plots.write_png(tmp_path / "figure.png", lambda figure: figure.subplots().plot([1, 2]), (2, 2))
    assert [path.name for path in tmp_path.iterdir()] == ["figure.png"]
    assert drawn_by_matplotlib((tmp_path / "figure.png").read_bytes())
