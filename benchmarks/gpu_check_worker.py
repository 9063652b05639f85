"""The checks gpu_check.py runs in a process of their own, one per backend (the Keras backend is fixed at import).

    python -m benchmarks.gpu_check_worker devices
    python -m benchmarks.gpu_check_worker throughput '{"image_size": 64, "channels": 3, ...}'
    python -m benchmarks.gpu_check_worker provider MODEL.onnx cuda 2000

Run from the repository root with KERAS_BACKEND set; each prints one line "RESULT <json>".
"""

import argparse
import importlib.metadata
import json
import math
import time

import keras
import numpy as np

RESULT_PREFIX = "RESULT "


def describe_devices():
    """What the backend sees, and what kgan chooses on it: precision, jit, devices, onnxruntime's providers."""
    import onnxruntime

    from kgan.devices import resolve_jit, resolve_precision
    from kgan.training.parallel import resolve_devices

    info = {"keras": keras.__version__}
    if keras.config.backend() == "jax":
        import jax

        info["version"] = f"jax {jax.__version__}"
        info["sees"] = f"jax.devices() = {jax.devices()}"
    else:
        import tensorflow as tf

        info["version"] = f"tensorflow {tf.__version__} (built with CUDA: {tf.test.is_built_with_cuda()})"
        info["sees"] = f"GPUs = {[gpu.name for gpu in tf.config.list_physical_devices('GPU')]}"
    info["precision"] = resolve_precision("auto")
    info["jit"] = resolve_jit(None)
    info["devices"] = resolve_devices("all")
    installed = []
    for name in ("onnxruntime", "onnxruntime-gpu"):
        try:
            installed.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    info["onnxruntime"] = f"{', '.join(installed)}; providers {onnxruntime.get_available_providers()}"
    return info


def forward_flops(model):
    """FLOPs of one image through `model`: 2 x the multiply-adds of its convolutions and dense layers.

    Embeddings, batch norm and elementwise operations are left out; nested models are counted.

    Args:
        model: a built functional or Sequential Keras model.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
        elif isinstance(layer, keras.layers.Conv2DTranspose):  # each input pixel meets the whole kernel
            total += 2 * math.prod(layer.input.shape[1:3]) * math.prod(layer.kernel.shape)
        elif isinstance(layer, keras.layers.Conv2D):  # kernel (kh, kw, C_in / groups, C_out)
            total += 2 * math.prod(layer.output.shape[1:3]) * math.prod(layer.kernel.shape)
        elif isinstance(layer, keras.layers.Dense):  # kernel (in, out), over any inner axes of the input
            total += 2 * math.prod(layer.input.shape[1:-1]) * math.prod(layer.kernel.shape)
    return total


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch, in `seconds`."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        _ = [float(value) for value in (logs or {}).values()]  # waits for the epoch's last step
        self.seconds.append(time.perf_counter() - self.started)


def measure_throughput(image_size, channels, num_classes, devices, batch_size, width, steps, epochs, work_dir):
    """Images/s of the train step under fit(), the model built as `kgan train` builds it, on random data.

    Args:
        image_size, channels, num_classes: the shape of the random dataset.
        devices: a device count or "all" (kgan.training.parallel.resolve_devices).
        batch_size: images per device per step.
        width: the networks' width.
        steps, epochs: steps per epoch and epochs; the first epoch (compilation) is not a rate.
        work_dir: a folder for the random dataset's .npz file.
    """
    from kgan.config import TrainConfig
    from kgan.training.builder import batch_feeder, build_model, fit_inputs, prepare_data
    from kgan.training.parallel import check_batch_split, data_parallel, resolve_devices

    chosen = resolve_devices(devices)
    global_batch = batch_size * len(chosen)
    count = max(2 * global_batch, 512)
    npz = f"{work_dir}/random_{image_size}x{image_size}x{channels}.npz"
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, image_size, image_size, channels), dtype=np.uint8)
    np.savez(npz, x=images, y=np.arange(count) % num_classes)
    config = TrainConfig(dataset=npz, image_size=image_size, channels=channels, batch_size=global_batch, width=width,
                         steps_per_epoch=steps, epochs=epochs, devices=devices)  # fmt: skip
    dataset, config = prepare_data(config)
    check_batch_split(config.batch_size, chosen)
    timer = EpochTimer()
    with data_parallel(chosen):
        model = build_model(config, dataset)
        feeder = batch_feeder(config, dataset)
        model.fit(**fit_inputs(feeder), epochs=config.epochs, shuffle=False, verbose=0, callbacks=[timer])
    images_per_epoch = config.batch_size * config.steps_per_epoch
    return {
        "rates": [images_per_epoch / seconds for seconds in timer.seconds[1:]],
        "first_epoch_s": timer.seconds[0],
        "devices": len(chosen),
        "batch_size": config.batch_size,
        "precision": config.precision,
        "jit": bool(model.jit_compile),
        "generator_flops": forward_flops(model.generator),
        "discriminator_flops": forward_flops(model.discriminator),
        "generator_forwards": model.generator_forwards,
    }


def measure_provider(model_path, provider, num_images):
    """The provider onnxruntime really runs an exported generator on, and its images/s in memory."""
    from kgan.runtime import OnnxGenerator

    generator = OnnxGenerator(model_path, provider=provider)
    generator.generate(256, seed=1)  # warm-up: onnxruntime allocates on the first run
    started = time.perf_counter()
    generator.generate(num_images, seed=0, batch_size=256)
    return {"provider": generator.provider, "rate": num_images / (time.perf_counter() - started)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    checks = parser.add_subparsers(dest="check", required=True)
    checks.add_parser("devices")
    throughput = checks.add_parser("throughput")
    throughput.add_argument("settings", type=json.loads, help="measure_throughput's arguments as a JSON object")
    provider = checks.add_parser("provider")
    provider.add_argument("model_path")
    provider.add_argument("provider")
    provider.add_argument("num_images", type=int)
    args = parser.parse_args(argv)
    if args.check == "devices":
        result = describe_devices()
    elif args.check == "throughput":
        result = measure_throughput(**args.settings)
    else:
        result = measure_provider(args.model_path, args.provider, args.num_images)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
