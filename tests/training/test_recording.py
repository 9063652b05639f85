"""What a run records besides its checkpoint: history.png after every epoch, TensorBoard logs with --tensorboard."""

import importlib.util
import io

import numpy as np
import pytest
from PIL import Image

from kgan.config import TrainConfig
from kgan.training.callbacks import TENSORBOARD_NEEDS, RunRecorder
from kgan.training.run import start_run
from tests.conftest import TINY
from tests.helpers import drawn_by_matplotlib


def test_history_png_is_drawn_after_every_epoch(tmp_path, monkeypatch):
    drawn = []
    record = RunRecorder.on_epoch_end

    def record_and_look(self, epoch, logs=None):
        record(self, epoch, logs)
        drawn.append((self.run_dir / "history.png").read_bytes())

    monkeypatch.setattr(RunRecorder, "on_epoch_end", record_and_look)
    start_run(TrainConfig(**{**TINY, "epochs": 2}), tmp_path / "run", verbose=0)
    assert len(drawn) == 2 and drawn[0] != drawn[1]  # redrawn with the second epoch
    assert all(drawn_by_matplotlib(png) for png in drawn)
    assert not list((tmp_path / "run").rglob(".*tmp*")), "temporary files left behind"


@pytest.mark.skipif(
    not all(importlib.util.find_spec(name) for name in TENSORBOARD_NEEDS),
    reason="--tensorboard writes through TensorFlow and tensorboard, not installed here (tox's jax env)",
)
def test_tensorboard_logs_the_scalars_and_the_sample_grids(tmp_path):
    import tensorflow as tf

    run_dir = tmp_path / "run"
    start_run(TrainConfig(**{**TINY, "epochs": 2, "tensorboard": True}), run_dir, verbose=0)
    steps, images = {}, {}
    for path in (run_dir / "tensorboard").rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                steps.setdefault((path.parent.name, value.tag), []).append(event.step)
                if value.tag == "samples":
                    width, height, png = tf.make_ndarray(value.tensor)
                    images[event.step] = (int(width), int(height), np.asarray(Image.open(io.BytesIO(png))))
    for tag in ("epoch_d_loss", "epoch_g_loss", "epoch_d_real", "epoch_d_fake"):
        assert steps[("train", tag)] == [0, 1], tag
    assert steps[("samples", "samples")] == [0, 1]  # Keras's epoch steps, as the scalars
    width, height, grid = images[1]
    np.testing.assert_array_equal(grid, np.asarray(Image.open(run_dir / "samples" / "epoch_002.png")))
    assert (width, height) == (grid.shape[1], grid.shape[0])
