"""Figures drawn with matplotlib on its Agg canvas and saved as PNG: the helpers training and evaluation share.

matplotlib comes with the tensorflow and jax extras; it is imported only inside these functions (the bare
runtime install never needs it), and pyplot never is: no window, no global figure state.
"""

import io

from kgan import fileio
from kgan.errors import KganError

DPI = 120
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titlelocation": "left",
    "axes.labelcolor": "0.2",
    "axes.edgecolor": "0.35",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "0.9",
    "grid.linewidth": 0.8,
    "xtick.color": "0.35",
    "ytick.color": "0.35",
    "xtick.labelcolor": "0.2",
    "ytick.labelcolor": "0.2",
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "figure.facecolor": "white",
}


def require_matplotlib():
    """The matplotlib module; raises KganError naming the extras that install it when it is missing."""
    try:
        import matplotlib
    except ImportError as error:
        raise KganError(
            "kgan draws its figures with matplotlib, which is not installed: "
            "pip install 'kgan[tensorflow]' or 'kgan[jax]' (or just matplotlib)"
        ) from error
    return matplotlib


def render(draw, size):
    """PNG bytes of a new figure that `draw` fills, in kgan's style.

    Args:
        draw: called with a matplotlib Figure (constrained layout, Agg canvas) to draw on.
        size: (width, height) of the figure in inches, at DPI pixels per inch; the PNG is cropped to what
            was drawn, plus a small margin.
    """
    matplotlib = require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):  # ticks and labels are made while saving: keep the style until then
        figure = Figure(figsize=size, dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        draw(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.1)  # no empty margins
    return buffer.getvalue()


def write_png(path, draw, size):
    """Writes the figure that `draw` fills to `path` as PNG, atomically (see render).

    Args:
        path: the PNG file.
        draw: called with the matplotlib Figure to draw on.
        size: (width, height) in inches.
    """
    fileio.write_bytes(path, render(draw, size))
