"""`kgan evaluate`: score a generator's images and their use as training data, against real data."""

import logging
import time
from pathlib import Path

import click

from cli.backend import BACKENDS, select_backend, share_gpu_memory
from cli.errors import reports_errors
from cli.params import CLASSIFIER_EPOCHS, EPOCH, EPOCH_HELP
from kgan.evaluation.options import METRICS


@click.command()
@click.argument("generator", type=click.Path(path_type=Path))
@click.option("--epoch", type=EPOCH, default=None, help=f"Of a RUN_DIR: {EPOCH_HELP[0].lower()}{EPOCH_HELP[1:]}")
@click.option("--dataset", required=True, help="The real data the generator learnt: a --dataset spec as in kgan train.")
@click.option("--test-dataset", default=None,
              help="A separate real test set (same classes); all of --dataset then trains the classifiers.")
@click.option("--test-size", type=click.IntRange(min=1), default=None,
              help="Held-out real test images, from the end of each class (default: the last 1/8).")
@click.option("-n", "--num-samples", type=click.IntRange(min=1), default=None,
              help="Generated images (default: as many as the real training split).")
@click.option("--temperature", type=float, default=None,
              help="Standard deviation of the generated images' z, as in kgan generate (default: the one an "
                   ".onnx GENERATOR was exported with; 1 for a run folder).")
@click.option("--seeds", default="0,1,2", show_default=True, help="Seeds of the CAS and augmentation classifiers.")
@click.option("--metrics", default=None,
              help=f"Comma list among {','.join(METRICS)} (default: all but accuracy and inception; "
                   "cas and augment only for conditional generators).")
@click.option("--k", "k_values", default="10,100,all", show_default=True,
              help="Real images per class of the augmentation study (integers or all).")
@click.option("--classifier-epochs", type=CLASSIFIER_EPOCHS, default=10, show_default=True,
              help="Training of every classifier: this many passes over the real training split, or auto: as many "
                   "as it takes the accuracy on held-out real images to stop rising (found once, then cached).")
@click.option("--inception-weights", type=click.Path(path_type=Path), default=None,
              help="Keras InceptionV3 weights file (.h5, with top) for --metrics inception; never downloaded.")
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Keras backend (default: $KERAS_BACKEND, else tensorflow).")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Report folder: report.json and PNG figures (written whole).")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it already holds files.")
@reports_errors
def evaluate(generator, epoch, dataset, test_dataset, test_size, num_samples, temperature, seeds, metrics, k_values,
             classifier_epochs, inception_weights, backend, out, overwrite):  # fmt: skip
    """Evaluate GENERATOR (a .onnx file or a RUN_DIR) against the real images of --dataset.

    Scores FID, KID, IS and precision/recall/density/coverage in the feature space of a
    small reference classifier trained on the real training split, next to the same
    scores of held-out real images (the floor); CAS; and the accuracy gained by adding
    generated images to k real images per class.

    Example: kgan evaluate runs/mnist --dataset mnist --out eval/
    """
    select_backend(backend)
    share_gpu_memory()
    # Every classifier compiles its own predict function; TensorFlow calls that "retracing".
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    from kgan import fileio
    from kgan.evaluation import ClassifierSettings, EvaluationSettings, load_real_splits, open_generator
    from kgan.evaluation import evaluate as run_evaluation
    from kgan.evaluation import report as report_folder
    from kgan.evaluation.options import parse_k, parse_metrics, parse_seeds
    from kgan.evaluation.pipeline import check_settings
    from kgan.judge.classifier import check_cache_dir

    fileio.check_output_folder(out, overwrite)
    check_cache_dir()
    seed_values, k = parse_seeds(seeds), parse_k(k_values)
    source = open_generator(generator, epoch)
    settings = EvaluationSettings(
        num_samples=num_samples,
        seeds=seed_values,
        metrics=parse_metrics(metrics, conditional=source.num_classes > 0),
        k=k,
        classifier=ClassifierSettings(epochs=classifier_epochs),
        inception_weights=inception_weights,
        temperature=temperature,
    )
    splits = load_real_splits(dataset, source.image_shape, test_dataset, test_size)
    check_settings(settings, source, splits)
    started = time.perf_counter()

    def progress(message):
        click.echo(f"[{time.perf_counter() - started:6.1f}s] {message}", err=True)

    evaluation = run_evaluation(source, splits, settings, progress=progress)
    written = report_folder.write_report(out, evaluation, splits.train.class_names)
    click.echo(report_folder.format_table(report_folder.summary_rows(written)))
    click.echo(f"Wrote {out}/{report_folder.REPORT_FILE} and {', '.join(written['figures'])}")
