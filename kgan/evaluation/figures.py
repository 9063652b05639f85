"""The PNG figures of an evaluation report, drawn with pillow: samples, metric table, augmentation curve."""

import math

import numpy as np

from kgan import imaging

SAMPLES_PER_CLASS = 10
UNCONDITIONAL_ROWS = 10
MIN_CELL = 48  # small images are enlarged (nearest neighbour) to at least this many pixels
FONT_SIZE = 14
PADDING = 8
LINE_HEIGHT = 20
CURVE_SIZE = (640, 400)
CURVE_MARGINS = (70, 30, 30, 60)  # left, top, right, bottom
SERIES = (("real", "real only", (200, 80, 40)), ("augmented", "real + generated", (40, 110, 200)))


def sample_grid(images, labels, class_names):
    """One row of samples per class, named on the left (a plain grid when unconditional).

    Args:
        images: uint8 [N, H, W, C] generated images.
        labels: int64 [N] their classes (-1 when unconditional).
        class_names: one name per class (may be empty).

    Returns:
        uint8 RGB image.
    """
    if labels[0] < 0:
        shown = _enlarge(images[: SAMPLES_PER_CLASS * UNCONDITIONAL_ROWS])
        return imaging.convert_channels(imaging.make_grid(shown, rows=math.ceil(len(shown) / SAMPLES_PER_CLASS)), 3)
    classes = np.unique(labels)
    names = [class_names[label] if label < len(class_names) else str(label) for label in classes]
    return labelled_rows([images[labels == label][:SAMPLES_PER_CLASS] for label in classes], names)


def labelled_rows(rows, names):
    """Rows of images, each named on the left; short rows are padded with black.

    Args:
        rows: uint8 [n_i, H, W, C] image stacks, one per row.
        names: one name per row.

    Returns:
        uint8 RGB image.
    """
    from PIL import Image, ImageDraw

    columns = max(len(row) for row in rows)
    blank = np.zeros_like(rows[0][:1])
    padded = [np.concatenate([row, np.repeat(blank, columns - len(row), axis=0)]) for row in rows]
    grid = imaging.convert_channels(imaging.make_grid(_enlarge(np.concatenate(padded)), rows=len(rows)), 3)
    font = _font()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    name_width = int(max(probe.textlength(name, font=font) for name in names)) + 2 * PADDING
    canvas = Image.new("RGB", (name_width + grid.shape[1], grid.shape[0]), "white")
    canvas.paste(imaging.to_pil(grid), (name_width, 0))
    draw = ImageDraw.Draw(canvas)
    row_height = grid.shape[0] / len(rows)
    for index, name in enumerate(names):
        draw.text((PADDING, (index + 0.5) * row_height), name, fill="black", font=font, anchor="lm")
    return np.asarray(canvas)


def table_picture(header, rows):
    """A table of strings as an image, one line per row.

    Args:
        header: column titles.
        rows: lists of strings, as many as the header.

    Returns:
        uint8 RGB image.
    """
    from PIL import Image, ImageDraw

    font = _font()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widths = [int(max(probe.textlength(str(line[column]), font=font) for line in [header, *rows])) + 2 * PADDING
              for column in range(len(header))]  # fmt: skip
    canvas = Image.new("RGB", (sum(widths) + 2 * PADDING, (len(rows) + 1) * LINE_HEIGHT + 3 * PADDING), "white")
    draw = ImageDraw.Draw(canvas)
    for line_index, line in enumerate([header, *rows]):
        top = PADDING + line_index * LINE_HEIGHT + (PADDING if line_index else 0)
        left = PADDING
        for column, text in enumerate(line):
            draw.text((left + PADDING, top), str(text), fill="black", font=font)
            left += widths[column]
    rule = PADDING + LINE_HEIGHT + PADDING // 2
    draw.line([(PADDING, rule), (canvas.width - PADDING, rule)], fill="gray")
    return np.asarray(canvas)


def augmentation_curve(results):
    """Test accuracy against k (real images per class), without and with generated images.

    Args:
        results: the list returned by kgan.evaluation.augmentation.augmentation_gain.

    Returns:
        uint8 RGB image: mean accuracy over seeds, with ± std error bars.
    """
    from PIL import Image, ImageDraw

    width, height = CURVE_SIZE
    left, top, right, bottom = CURVE_MARGINS
    values = [(entry[key]["mean"], entry[key]["std"]) for entry in results for key, _, _ in SERIES]
    low = max(0.0, min(mean - std for mean, std in values) - 0.02)
    high = min(1.0, max(mean + std for mean, std in values) + 0.02)
    high = high if high > low else low + 0.05
    canvas = Image.new("RGB", CURVE_SIZE, "white")
    draw, font = ImageDraw.Draw(canvas), _font()

    def x_of(index):
        return left + (index + 0.5) * (width - left - right) / len(results)

    def y_of(value):
        return top + (high - value) / (high - low) * (height - top - bottom)

    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    for tick in np.linspace(low, high, 5):
        draw.line([(left - 4, y_of(tick)), (left, y_of(tick))], fill="black")
        draw.text((left - 6, y_of(tick)), f"{tick:.3f}", fill="black", font=font, anchor="rm")
    for index, entry in enumerate(results):
        draw.text((x_of(index), height - bottom + 6), f"k={entry['k']}", fill="black", font=font, anchor="ma")
    draw.text((width / 2, height - 22), "real images per class", fill="black", font=font, anchor="ma")
    draw.text((8, top - 22), "test accuracy (mean ± std over seeds)", fill="black", font=font)
    for series_index, (key, label, colour) in enumerate(SERIES):
        points = [(x_of(index), y_of(entry[key]["mean"])) for index, entry in enumerate(results)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for (x, y), entry in zip(points, results):
            low_y, high_y = (y_of(entry[key]["mean"] + sign * entry[key]["std"]) for sign in (-1, 1))
            draw.line([(x, low_y), (x, high_y)], fill=colour, width=2)
            for cap_y in (low_y, high_y):
                draw.line([(x - 5, cap_y), (x + 5, cap_y)], fill=colour, width=2)
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
        legend_y = top + 10 + series_index * LINE_HEIGHT
        draw.line([(left + 12, legend_y), (left + 36, legend_y)], fill=colour, width=3)
        draw.text((left + 42, legend_y), label, fill="black", font=font, anchor="lm")
    return np.asarray(canvas)


def _enlarge(images):
    # Nearest-neighbour enlargement of an image stack, so that small images stay visible.
    factor = max(1, math.ceil(MIN_CELL / images.shape[1]))
    return np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)


def _font():
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=FONT_SIZE)
    except TypeError:  # pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()
