"""Standard Inception FID and IS: keras.applications.InceptionV3 loaded from a local weights file.

Weights are never downloaded. Images go through one fixed resizer before the network:
grayscale repeated to RGB, then bilinear (pillow, `Image.Resampling.BILINEAR`) to
299 x 299, then InceptionV3's scaling to [-1, 1]. Features are the 2048-d global
average pool; probabilities are the 1000-way softmax.
"""

from pathlib import Path

import numpy as np

from kgan import imaging
from kgan.errors import UsageError
from kgan.judge.classifier import predict_in_batches

INCEPTION_SIZE = 299
FEATURE_LAYER = "avg_pool"
BATCH_SIZE = 32
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_HINT = (
    f"--metrics inception needs --inception-weights FILE: download Keras' {WEIGHTS_FILE} "
    "(the ImageNet InceptionV3 with its top, from the keras-applications releases on GitHub, or "
    f"~/.keras/models/{WEIGHTS_FILE} of a machine where keras.applications.InceptionV3() ran) and pass its path"
)


def check_weights_file(path):
    """Returns `path` as a Path, or raises UsageError saying how to get the weights.

    Args:
        path: the --inception-weights value, or None.
    """
    if path is None:
        raise UsageError(WEIGHTS_HINT)
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"inception weights file {path} not found; {WEIGHTS_HINT}")
    return path


def inception_inputs(images):
    """uint8 [N, H, W, C] images as InceptionV3 inputs: RGB, bilinear to 299 x 299, [-1, 1].

    Args:
        images: uint8 images with 1 or 3 channels.

    Returns:
        float32 [N, 299, 299, 3].
    """
    from PIL import Image

    resized = np.empty((len(images), INCEPTION_SIZE, INCEPTION_SIZE, 3), np.float32)
    for index, image in enumerate(imaging.convert_channels(np.asarray(images, np.uint8), 3)):
        resized[index] = np.asarray(
            Image.fromarray(image).resize((INCEPTION_SIZE, INCEPTION_SIZE), Image.Resampling.BILINEAR)
        )
    return imaging.from_uint8(resized)


class InceptionNetwork:
    """InceptionV3 with ImageNet weights from `weights_file`.

    Args:
        weights_file: the Keras InceptionV3 .h5 weights with the top (see WEIGHTS_HINT).
    """

    def __init__(self, weights_file):
        import keras

        weights_file = check_weights_file(weights_file)
        try:
            network = keras.applications.InceptionV3(weights=str(weights_file), include_top=True)
        except (ValueError, OSError) as error:
            raise UsageError(
                f"cannot load InceptionV3 weights from {weights_file} ({error}); {WEIGHTS_HINT}"
            ) from error
        self._model = keras.Model(network.inputs, [network.get_layer(FEATURE_LAYER).output, network.output])

    def features_and_probabilities(self, images):
        """(features float64 [N, 2048], probabilities float64 [N, 1000]) of uint8 images."""
        return predict_in_batches(self._model, images, inception_inputs, BATCH_SIZE)
