"""benchmarks/gpu_check.py: its FLOP count, peak table, MFU and budget, and its CPU dry run end to end."""

import subprocess
import sys
from pathlib import Path

import keras
import pytest

from benchmarks import gpu_check
from benchmarks.gpu_check_worker import forward_flops

ROOT = Path(__file__).resolve().parents[2]


def one_layer_model(input_shape, layer):
    return keras.Sequential([keras.Input(input_shape), layer])


def test_a_convolution_costs_a_multiply_add_per_kernel_weight_at_every_output_pixel():
    # 8x8x3 in, 4 filters of 3x3x3 ("same"): 8x8 output pixels x 4 filters, each a sum of 3*3*3 products.
    model = one_layer_model((8, 8, 3), keras.layers.Conv2D(4, 3, padding="same"))
    assert forward_flops(model) == 2 * (8 * 8 * 4) * (3 * 3 * 3)
    strided = one_layer_model((8, 8, 3), keras.layers.Conv2D(4, 3, strides=2, padding="same"))
    assert forward_flops(strided) == 2 * (4 * 4 * 4) * (3 * 3 * 3)  # 4x4 output pixels


def test_a_transposed_convolution_multiplies_every_input_value_by_its_kernel_slice():
    # 4x4x4 in, 2 filters of 4x4, stride 2: each of the 4*4*4 input values is spread over a 4x4 window
    # of the 2 output channels (the cost of the strided convolution it is the gradient of).
    model = one_layer_model((4, 4, 4), keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same"))
    assert forward_flops(model) == 2 * (4 * 4 * 4) * (4 * 4 * 2)


def test_a_dense_layer_counts_once_per_position_of_its_input():
    assert forward_flops(one_layer_model((5,), keras.layers.Dense(3))) == 2 * 5 * 3
    assert forward_flops(one_layer_model((2, 5), keras.layers.Dense(3))) == 2 * (2 * 5 * 3)


def test_nested_models_are_counted_and_normalisation_embeddings_and_activations_are_not():
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6), keras.layers.BatchNormalization()])
    labels = keras.Input((), dtype="int32")
    features = keras.Input((4,))
    hidden = keras.layers.ReLU()(inner(features))
    hidden = keras.layers.Add()([hidden, keras.layers.Embedding(10, 6)(labels)])
    model = keras.Model([features, labels], keras.layers.Dense(1)(hidden))
    assert forward_flops(model) == 2 * (4 * 6) + 2 * (6 * 1)


def tiny_gan():
    """A generator 4 -> 2x2x3 -> 4x4x1 and a discriminator 4x4x1 -> 2x2x2 -> 1, counted by hand below."""
    generator = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(2 * 2 * 3),  # 4 * 12 = 48 multiply-adds
        keras.layers.Reshape((2, 2, 3)),
        keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same"),  # 2*2*3 inputs x 3*3*1 = 108
    ])  # fmt: skip
    discriminator = keras.Sequential([
        keras.Input((4, 4, 1)),
        keras.layers.Conv2D(2, 3, strides=2, padding="same"),  # 2*2 pixels x 2 filters x 3*3*1 = 72
        keras.layers.Flatten(),
        keras.layers.Dense(1),  # 8 * 1 = 8
    ])  # fmt: skip
    return generator, discriminator


def test_train_step_flops_per_image_of_a_tiny_gan_match_a_hand_count():
    generator, discriminator = tiny_gan()
    forward_g, forward_d = 2 * (48 + 108), 2 * (72 + 8)
    assert (forward_flops(generator), forward_flops(discriminator)) == (forward_g, forward_d)
    forward_and_backward = 3  # a backward pass costs two forwards
    d_step = forward_g + 2 * forward_and_backward * forward_d  # G makes fakes; D learns from reals and fakes
    g_step = forward_and_backward * (forward_g + forward_d)  # G learns through D
    assert gpu_check.step_flops_per_image(forward_g, forward_d) == d_step + g_step
    g_step_through_the_first_forward = 2 * forward_g + forward_and_backward * forward_d  # G's backward only
    assert gpu_check.step_flops_per_image(forward_g, forward_d, 1) == d_step + g_step_through_the_first_forward


def test_mfu_is_the_achieved_share_of_the_devices_peak():
    # 1,000 images/s x 1 GFLOP = 1 TFLOP/s, over 2 devices of 1 TFLOP/s peak each.
    assert gpu_check.model_flops_utilisation(1000, 1e9, devices=2, peak_tflops_per_device=1) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "gpu_name, tflops",
    [
        ("NVIDIA H200", 989),
        ("NVIDIA H100 80GB HBM3", 989),
        ("NVIDIA H100 PCIe", 756),
        ("NVIDIA A100-SXM4-80GB", 312),
        ("NVIDIA L40S", 362),
        ("NVIDIA L4", 121),
        ("NVIDIA A10", 125),
        ("NVIDIA GeForce RTX 4090", 165),
    ],
)
def test_the_peak_of_a_known_gpu_comes_from_the_table(gpu_name, tflops):
    assert gpu_check.peak_tflops(gpu_name) == (tflops, f"table, {gpu_name}")


@pytest.mark.parametrize("gpu_name", ["NVIDIA H100 NVL", "Tesla T4", "NVIDIA A40"])
def test_an_unknown_gpu_has_no_peak_and_says_how_to_give_one(gpu_name):
    assert gpu_check.peak_tflops(gpu_name) == (None, f"{gpu_name} is not in the table; give --peak-tflops")


def test_a_given_peak_wins_and_cpu_has_none():
    assert gpu_check.peak_tflops("NVIDIA H200", given=500) == (500, "--peak-tflops")
    assert gpu_check.peak_tflops(None, given=2) == (2, "--peak-tflops")
    assert gpu_check.peak_tflops(None) == (None, "CPU; give --peak-tflops")


def test_only_64_pixels_on_an_h100_class_gpu_is_held_to_the_aim():
    assert gpu_check.held_to_the_aim(64, "NVIDIA H100 80GB HBM3")
    assert gpu_check.held_to_the_aim(64, "NVIDIA H200")
    assert not gpu_check.held_to_the_aim(28, "NVIDIA H200")
    assert not gpu_check.held_to_the_aim(64, "NVIDIA A100-SXM4-80GB")
    assert not gpu_check.held_to_the_aim(64, None)


def test_the_verdict_names_failed_checks_and_whether_the_aim_was_met():
    ok = ("4", "jax", "train 64x64x3, devices 1", "25,000 images/s", "")
    failed = ("5", "tensorflow", "kgan export", "FAILED", "exit 1")
    timed_out = ("3", "jax", "tests", "timeout", "")
    assert gpu_check.verdict([ok], {}) == (
        "Verdict: no check failed; the 35% MFU aim at 64x64 not judged "
        "(no throughput of that size measured on an H100/H200-class GPU)"
    )
    assert gpu_check.verdict([ok, failed, timed_out], {"jax train 64x64x3, devices 1": 0.41}) == (
        "Verdict: 2 check(s) failed (tensorflow kgan export, jax tests); "
        "the 35% MFU aim at 64x64 met (jax train 64x64x3, devices 1 41.0%)"
    )
    one_below = {"jax train 64x64x3, devices 1": 0.41, "jax train 64x64x3, devices all": 0.3}
    assert gpu_check.verdict([ok], one_below).endswith(
        "aim at 64x64 NOT met (jax train 64x64x3, devices 1 41.0%, jax train 64x64x3, devices all 30.0%)"
    )


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_budget_counts_from_its_start_and_lets_a_late_check_run_its_grace():
    clock = FakeClock()
    budget = gpu_check.Budget(450, clock=clock)
    clock.now += 600  # the install, before start(), is not counted
    budget.start()
    clock.now += 100
    assert budget.remaining() == 350
    assert budget.allows("devices (jax)")
    assert budget.timeout() == 350 + gpu_check.GRACE_S
    clock.now += 345
    assert budget.timeout() == 5 + gpu_check.GRACE_S
    clock.now += 5  # the budget is spent: no new check, though a running one keeps its grace
    assert not budget.allows("kgan export (jax)")
    assert budget.timeout() == gpu_check.GRACE_S
    clock.now += 1000
    assert budget.timeout() == gpu_check.MIN_TIMEOUT_S
    assert budget.skipped == ["kgan export (jax)"]


def test_stages_and_shapes_are_parsed_and_checked():
    assert gpu_check.parse_stages("export, devices") == ("devices", "export")
    assert gpu_check.parse_shapes("28x1, 64x3") == ((28, 1), (64, 3))
    with pytest.raises(ValueError, match="not install"):
        gpu_check.parse_stages("install")
    with pytest.raises(ValueError, match="'64x2' is not SIZExCHANNELS"):
        gpu_check.parse_shapes("64x2")
    options = gpu_check.parse_options(["--allow-cpu", "--backends", "jax", "--shapes", "16x1"])
    assert (options.backends, options.shapes, options.steps, options.batch_size) == (["jax"], ((16, 1),), 2, 16)
    assert options.stages == gpu_check.STAGES


def test_the_cpu_dry_run_passes_and_prints_its_verdict():
    backend = keras.config.backend()
    # On 2 cores JAX compiles `kgan train` and `kgan export` for over a minute: its run stops at throughput.
    stages = ",".join(gpu_check.STAGES) if backend == "tensorflow" else "devices,tests,throughput"
    tiny = ["--shapes", "16x1", "--steps", "1", "--batch-size", "8", "--width", "4", "--peak-tflops", "1"]
    command = [sys.executable, "benchmarks/gpu_check.py", "--allow-cpu", "--backends", backend, "--stages", stages]
    result = subprocess.run([*command, *tiny], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("Verdict: no check failed; the 35% MFU aim at 64x64 not judged"), lines[-1]
    assert any(line.startswith(f"| 3 | {backend} | tests | ok | ") for line in lines), result.stdout
    throughput = [line for line in lines if line.startswith(f"| 4 | {backend} | train 16x16x1, devices 1 | ")]
    assert throughput and "MFU " in throughput[0] and "MFU unknown" not in throughput[0], result.stdout
    if backend == "tensorflow":
        assert any(line.startswith('| 5 | tensorflow | OnnxGenerator(provider="cpu") | CPUExecutionProvider')
                   for line in lines), result.stdout  # fmt: skip
