"""The report's figures: PNGs that matplotlib drew, from small made-up inputs (no keras, no training)."""

import io
import sys

import numpy as np
import pytest
from PIL import Image

from kgan import plots
from kgan.errors import KganError
from kgan.evaluation import figures
from kgan.evaluation.report import HEADER
from tests.helpers import drawn_by_matplotlib, modules_loaded_by

PADDING = 255  # what image_rows_png fills between the images (see kgan.imaging.make_grid)


@pytest.fixture
def drawn(monkeypatch):
    """draw(figure_function, *args): calls it and returns the PNG it made, decoded to RGB pixels, and the
    matplotlib Figure drawn for it."""
    kept = []
    render = plots.render

    def render_and_keep(draw, size):
        def draw_and_keep(figure):
            draw(figure)
            kept.append(figure)

        return render(draw_and_keep, size)

    monkeypatch.setattr(plots, "render", render_and_keep)

    def draw(figure_function, *args):
        png = figure_function(*args)
        assert drawn_by_matplotlib(png)
        with Image.open(io.BytesIO(png)) as picture:
            pixels = np.asarray(picture.convert("RGB"))
        (figure,) = kept
        kept.clear()
        return pixels, figure

    return draw


def numbered_images(count):
    """uint8 [count, 16, 16, 1] images, each one grey level of its own (10, 12, 14, ...), never the padding's."""
    return np.repeat(10 + 2 * np.arange(count, dtype=np.uint8), 16 * 16).reshape(count, 16, 16, 1)


def levels_along(grid, row):
    """The grey levels of the images that a row of pixels of an image grid crosses, left to right."""
    line = grid[int(row)]
    starts = np.flatnonzero(np.r_[True, line[1:] != line[:-1]])
    return [int(level) for level in line[starts] if level != PADDING]


def solid_pixels(pixels, colour):
    return int(np.all(pixels == colour, axis=-1).sum())


def grey(level):
    """The RGB colour matplotlib's "gray" colormap paints grey level `level` (of 0 to 255) in; some come out one
    lower."""
    import matplotlib

    return tuple(matplotlib.colormaps["gray"](level / 255, bytes=True)[:3])


def runs(mean, std):
    return {"mean": mean, "std": std, "runs": [mean - std, mean + std]}


def test_sample_grid_shows_each_class_in_the_row_named_after_it(drawn):
    images, labels = numbered_images(30), np.arange(30) % 3

    pixels, figure = drawn(figures.sample_grid_png, images, labels, ["cat", "dog", "hot dog/bun"])

    (axes,) = figure.axes
    assert figure.get_suptitle() == "Generated samples, one row per class"
    assert [label.get_text() for label in axes.get_yticklabels()] == ["cat", "dog", "hot dog/bun"]
    (shown,) = axes.get_images()
    grid = shown.get_array()
    for label, row in enumerate(axes.get_yticks()):
        assert levels_along(grid, row) == images[labels == label, 0, 0, 0].tolist()
    for level in images[:, 0, 0, 0]:
        assert solid_pixels(pixels, grey(level)) >= 16 * 16  # every sample drawn whole


def test_unconditional_sample_grid_shows_the_first_hundred_in_rows_of_ten(drawn):
    images = numbered_images(110)

    pixels, figure = drawn(figures.sample_grid_png, images, np.full(110, -1), [])

    (axes,) = figure.axes
    assert figure.get_suptitle() == "Generated samples"
    assert [label.get_text() for label in axes.get_yticklabels()] == [""] * 10
    grid = axes.get_images()[0].get_array()
    for index, row in enumerate(axes.get_yticks()):
        assert levels_along(grid, row) == images[10 * index : 10 * index + 10, 0, 0, 0].tolist()
    assert np.unique(grid).tolist() == [*images[:100, 0, 0, 0].tolist(), PADDING]
    assert solid_pixels(pixels, grey(images[99, 0, 0, 0])) >= 16 * 16


def test_sample_grid_is_large_enough_to_see_small_images():
    with Image.open(io.BytesIO(figures.sample_grid_png(numbered_images(100), np.arange(100) % 10, []))) as picture:
        width, height = picture.size
    assert width >= 10 * figures.MIN_CELL and height >= 10 * figures.MIN_CELL  # 16px digits, 10 x 10


def test_image_rows_are_named_labelled_and_padded_with_black(drawn):
    images = numbered_images(8)

    _, figure = drawn(figures.image_rows_png, [images[:5], images[5:]], ["generated", "nearest real"], "Pairs",
                      ["0.1", "0.2", "0.3", "0.4", "0.5"], "distance")  # fmt: skip

    (axes,) = figure.axes
    assert figure.get_suptitle() == "Pairs"
    assert [label.get_text() for label in axes.get_yticklabels()] == ["generated", "nearest real"]
    assert [label.get_text() for label in axes.get_xticklabels()] == ["0.1", "0.2", "0.3", "0.4", "0.5"]
    assert axes.get_xlabel() == "distance"
    first, second = (levels_along(axes.get_images()[0].get_array(), row) for row in axes.get_yticks())
    assert first == [10, 12, 14, 16, 18] and second == [20, 22, 24, 0, 0]  # the two missing images black


def test_table_holds_the_header_and_rows_with_every_other_row_shaded(drawn):
    rows = [("FID", "22.8", "0.69", "lower is better"), ("KID", "0.012", "0.002", "lower is better")]

    pixels, figure = drawn(figures.table_png, HEADER, rows)

    (axes,) = figure.axes
    (table,) = axes.tables
    cells = table.get_celld()
    texts = [[cells[row, column].get_text().get_text() for column in range(4)] for row in range(3)]
    assert texts == [list(HEADER), *map(list, rows)]
    assert all(cells[0, column].get_text().get_fontweight() == "bold" for column in range(4))
    assert solid_pixels(pixels, (0xF2, 0xF4, 0xF7)) > 1000  # figures.TABLE_SHADE behind the second row
    assert np.mean(pixels.max(axis=-1) < 100) > 0.01  # dark text


def test_augmentation_plots_each_series_mean_and_spread_against_k(drawn):
    results = [
        {"k": k, "real": runs(real, 0.02), "augmented": runs(real + 0.05, 0.03)}
        for k, real in ((10, 0.6), (100, 0.7), ("all", 0.9))
    ]

    pixels, figure = drawn(figures.augmentation_png, results)

    (axes,) = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == ["10", "100", "all"]
    assert axes.get_title(loc="left") == "Augmenting real data with generated images (mean ± std over 2 seeds)"
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["real only", "real + generated"]
    real, augmented = axes.containers
    for series, means, std in ((real, [60, 70, 90], 2), (augmented, [65, 75, 95], 3)):
        points, _, (bars,) = series.lines
        np.testing.assert_allclose(np.asarray(points.get_ydata(), float), means)
        np.testing.assert_allclose(np.round(np.asarray(points.get_xdata(), float)), [0, 1, 2])
        np.testing.assert_allclose([segment[:, 1] for segment in bars.get_segments()],
                                   [[mean - std, mean + std] for mean in means])  # fmt: skip
    for colour in ((0xC8, 0x55, 0x3D), (0x2F, 0x6F, 0xB0)):  # figures.SERIES's two colours, on the markers
        assert solid_pixels(pixels, colour) > 100


def test_figures_import_matplotlib_only_when_they_draw():
    assert "matplotlib" not in modules_loaded_by("import kgan.evaluation.report, kgan.plots")


def test_missing_matplotlib_is_a_one_line_kgan_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails as if not installed
    with pytest.raises(KganError, match=r"matplotlib, which is not installed: pip install 'kgan\[tensorflow\]'"):
        plots.render(lambda figure: None, (1, 1))


def test_write_png_leaves_no_temporary_file(tmp_path):
    plots.write_png(tmp_path / "figure.png", lambda figure: figure.subplots().plot([1, 2]), (2, 2))
    assert [path.name for path in tmp_path.iterdir()] == ["figure.png"]
    assert drawn_by_matplotlib((tmp_path / "figure.png").read_bytes())
