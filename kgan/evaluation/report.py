"""The report folder of `kgan evaluate` (report.json and PNG figures) and its summary table."""

import json

from kgan import fileio
from kgan.evaluation import figures

REPORT_FILE = "report.json"
SAMPLES_FILE = "samples.png"
METRICS_FILE = "metrics.png"
AUGMENTATION_FILE = "augmentation.png"
MEMORISATION_FILE = "memorisation.png"
HEADER = ("metric", "generated", "real", "how to read")
SCORE_ROWS = (
    ("fid", "FID (classifier)", "lower is better; real = real-vs-real floor"),
    ("kid", "KID (classifier)", "lower is better; real = real-vs-real floor"),
    ("is", "IS (classifier)", "higher is better, at most the number of classes"),
    ("precision", "precision", "fidelity: share of samples on the real manifold"),
    ("recall", "recall", "diversity: share of real images the samples reach"),
    ("density", "density", "about 1 for real; above 1 = samples crowd dense regions"),
    ("coverage", "coverage", "share of real neighbourhoods holding a sample"),
    ("accuracy", "accuracy (classifier)", "share recognised as the class they were made for"),
    ("inception_fid", "FID (InceptionV3)", "lower is better; real = real-vs-real floor"),
    ("inception_is", "IS (InceptionV3)", "higher is better"),
)


def write_report(out_dir, evaluation, class_names):
    """Writes report.json and the figures into `out_dir`, all at once (staged, then moved).

    Args:
        out_dir: the output folder; what was there is replaced.
        evaluation: a kgan.evaluation.pipeline.Evaluation.
        class_names: names of the classes, for the sample grid.

    Returns:
        The report as written, with its "figures" list.
    """
    pairs = evaluation.report["memorisation"]["pixel"]["pairs"]
    pictures = {
        SAMPLES_FILE: figures.sample_grid_png(*evaluation.samples, class_names),
        METRICS_FILE: figures.table_png(HEADER, summary_rows(evaluation.report)),
        MEMORISATION_FILE: figures.image_rows_png(
            list(evaluation.memorised), ["generated", "nearest real"],
            title=f"The {len(pairs)} generated samples closest to a training image",
            column_labels=[f"{pair['distance']:.3f}" for pair in pairs], column_title="pixel RMS distance",
        ),
    }  # fmt: skip
    augmentation = evaluation.report["metrics"].get("augmentation")
    if augmentation:
        pictures[AUGMENTATION_FILE] = figures.augmentation_png(augmentation)
    report = {**evaluation.report, "figures": sorted(pictures)}
    with fileio.staged_directory(out_dir) as staging:  # the folder is atomic, so its files need not be
        (staging / REPORT_FILE).write_text(json.dumps(report, indent=2))
        for name, png in pictures.items():
            (staging / name).write_bytes(png)
    return report


def summary_rows(report):
    """The rows of the summary table: (metric, generated, real, how to read), as strings.

    Args:
        report: the report dict of an evaluation.
    """
    metrics = report["metrics"]
    rows = [("classifier accuracy", "", _number(report["classifier"]["test_accuracy"]), "reference CNN on real test")]
    for key, title, reading in SCORE_ROWS:
        if key in metrics:
            rows.append((title, _number(metrics[key]["generated"]), _number(metrics[key]["real"]), reading))
    if "cas" in metrics:
        cas = metrics["cas"]
        reading = "trained on generated only; real = trained on the real training split"
        rows.append(("CAS", _number(cas["generated"]), _number(cas["real"]), reading))
    for entry in metrics.get("augmentation", []):
        gain = entry["gain"]
        rows.append(
            (
                f"augment k={entry['k']}",
                _number(entry["augmented"]),
                _number(entry["real"]),
                f"gain {gain['mean']:+.3f} ± {gain['std']:.3f} (real + generated vs real only)",
            )
        )
    for space, check in report["memorisation"].items():
        ratio = "n/a" if check["ratio"] is None else f"{check['ratio']:.2f}"
        rows.append(
            (
                f"nearest-train distance ({space})",
                _number(check["median_distance"]["generated"]),
                _number(check["median_distance"]["real"]),
                f"median; ratio {ratio}, well below 1 = copying",
            )
        )
    return rows


def format_table(rows, header=HEADER):
    """The rows as an aligned plain-text table.

    Args:
        rows: lists of strings.
        header: column titles.
    """
    lines = [header, *rows]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header) - 1)]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1] for line in lines]
    text.insert(1, "-" * max(len(line) for line in text))
    return "\n".join(line.rstrip() for line in text)


def _number(value):
    if isinstance(value, dict):
        return f"{value['mean']:.4g} ± {value['std']:.2g}"
    return f"{value:.4g}"
