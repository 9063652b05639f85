"""The PNG figures of an evaluation report, drawn with matplotlib: samples, metric table, augmentation curve."""

import math

import numpy as np

from kgan import imaging, plots

SAMPLES_PER_CLASS = 10
UNCONDITIONAL_ROWS = 10
MIN_CELL = 48  # small images are shown at least this many pixels wide (nearest neighbour)
GRID_PADDING = 2
CHARACTER_WIDTH = 0.08  # inches per character of text, generously, at the style's font sizes
TITLE_MARGIN = 0.35  # inches above an image grid, for its title
TABLE_ROW_HEIGHT = 0.27  # inches
TABLE_SHADE = "#f2f4f7"
SERIES = (("real", "real only", "#c8553d"), ("augmented", "real + generated", "#2f6fb0"))
SERIES_OFFSET = 0.06  # the two series sit this far left and right of each k: their error bars never overlap


def sample_grid_png(images, labels, class_names):
    """One row of samples per class, named on the left (a plain grid when unconditional), as PNG bytes.

    Args:
        images: uint8 [N, H, W, C] generated images.
        labels: int64 [N] their classes (-1 when unconditional).
        class_names: one name per class (may be empty).
    """
    if labels[0] < 0:
        shown = images[: SAMPLES_PER_CLASS * UNCONDITIONAL_ROWS]
        rows = [shown[start : start + SAMPLES_PER_CLASS] for start in range(0, len(shown), SAMPLES_PER_CLASS)]
        return image_rows_png(rows, [""] * len(rows), "Generated samples")
    classes = np.unique(labels)
    names = [class_names[label] if label < len(class_names) else str(label) for label in classes]
    rows = [images[labels == label][:SAMPLES_PER_CLASS] for label in classes]
    return image_rows_png(rows, names, "Generated samples, one row per class")


def image_rows_png(rows, names, title, column_labels=(), column_title=""):
    """Rows of images, each named on the left, as PNG bytes; short rows are padded with black.

    Args:
        rows: uint8 [n_i, H, W, C] image stacks, one per row.
        names: one name per row.
        title: the figure's title.
        column_labels: optional text under each column.
        column_title: what the column labels are.
    """
    columns = max(len(row) for row in rows)
    blank = np.zeros_like(rows[0][:1])
    padded = [np.concatenate([row, np.repeat(blank, columns - len(row), axis=0)]) for row in rows]
    grid = imaging.make_grid(np.concatenate(padded), rows=len(rows), padding=GRID_PADDING, fill=255)
    height, width = rows[0].shape[1:3]
    scale = max(1, math.ceil(MIN_CELL / height))

    def draw(figure):
        axes = figure.subplots()
        axes.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=255,
                    interpolation="nearest")  # fmt: skip
        axes.set_yticks(_cell_centres(len(rows), height), names)
        axes.set_xticks(_cell_centres(len(column_labels), width), column_labels)
        axes.tick_params(length=0)
        axes.set_anchor("N")  # right under the title; the PNG's crop takes the room left below
        axes.grid(False)
        axes.spines[:].set_visible(False)
        figure.suptitle(title, x=0.02, ha="left", size=plots.STYLE["axes.titlesize"])  # over the names too
        axes.set_xlabel(column_title)

    grid_width = grid.shape[1] * scale / plots.DPI + CHARACTER_WIDTH * max(map(len, names)) + 0.4
    figure_width = max(grid_width, CHARACTER_WIDTH * len(title) + 0.2)  # a narrow grid still shows its title
    figure_height = grid.shape[0] * scale / plots.DPI + TITLE_MARGIN + (0.55 if len(column_labels) else 0.1)
    return plots.render(draw, (figure_width, figure_height))


def table_png(header, rows):
    """A table of strings (a header, then rows with alternate shading), as PNG bytes.

    Args:
        header: column titles.
        rows: lists of strings, as many as the header.
    """
    characters = [max(len(str(line[column])) for line in [header, *rows]) + 2 for column in range(len(header))]

    def draw(figure):
        axes = figure.subplots()
        axes.set_axis_off()
        table = axes.table(
            cellText=[[str(cell) for cell in row] for row in rows], colLabels=header,
            colWidths=[count / sum(characters) for count in characters],
            cellLoc="left", colLoc="left", bbox=(0, 0, 1, 1),
        )  # fmt: skip
        table.auto_set_font_size(False)
        table.set_fontsize(plots.STYLE["font.size"])
        for (row, _), cell in table.get_celld().items():
            cell.PAD = 0.02
            if row == 0:
                cell.set_text_props(weight="bold")
                cell.visible_edges = "B"
            else:
                cell.set(linewidth=0, facecolor=TABLE_SHADE if row % 2 == 0 else "white")

    size = (sum(characters) * CHARACTER_WIDTH, (len(rows) + 1) * TABLE_ROW_HEIGHT + 0.2)
    return plots.render(draw, size)


def augmentation_png(results):
    """Test accuracy against k (real images per class), without and with generated images, as PNG bytes.

    Args:
        results: the list returned by kgan.evaluation.augmentation.augmentation_gain: the points are the
            means over the classifier seeds, the bars ± their standard deviation.
    """
    from matplotlib.ticker import MaxNLocator

    seeds = len(results[0]["real"]["runs"])

    def draw(figure):
        axes = figure.subplots()
        positions = np.arange(len(results))
        for index, (key, label, colour) in enumerate(SERIES):
            axes.errorbar(
                positions + (2 * index - 1) * SERIES_OFFSET,
                [100 * entry[key]["mean"] for entry in results], yerr=[100 * entry[key]["std"] for entry in results],
                label=label, color=colour, marker="o", markersize=6, capsize=4, elinewidth=1.4,
            )  # fmt: skip
        axes.set_xticks(positions, [str(entry["k"]) for entry in results])
        axes.set_xlim(-0.5, len(results) - 0.5)
        axes.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        axes.grid(axis="x", visible=False)
        axes.set_xlabel("real training images per class (k)")
        axes.set_ylabel("test accuracy of the classifier (%)")
        axes.set_title(f"Augmenting real data with generated images (mean ± std over {seeds} "
                       f"seed{'s' if seeds > 1 else ''})")  # fmt: skip
        figure.legend(loc="outside lower center", ncols=len(SERIES))

    return plots.render(draw, (6.4, 4.2))


def _cell_centres(count, side):
    # Pixel coordinates of the centres of the first `count` cells of a make_grid grid, along one axis.
    return GRID_PADDING + (side + GRID_PADDING) * np.arange(count) + (side - 1) / 2
