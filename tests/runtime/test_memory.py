"""`kgan generate` streams: its peak memory for 10n images is within a small margin of that for n."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(__file__).parent / "data" / "stream_rgb.onnx"  # 32 x 32 x 3: 3 KiB an image
N = 1_000
# 10n images hold 27 MiB more pixels than n; a run that kept them (or their float32
# batches, four times as much) would exceed this margin many times over.
MARGIN_KIB = 8 * 1024

# The child's own peak: VmHWM belongs to the process image (getrusage's ru_maxrss would
# carry over the peak of the forking test process).
PEAK = "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')))"
PEAK_OF_ONE_GENERATE = f"""
import sys
from cli.main import cli
cli.main(sys.argv[1:], standalone_mode=False)
{PEAK}
"""


def peak_kib(tmp_path, count, output_format):
    out = tmp_path / f"{output_format}-{count}"
    arguments = ["generate", str(MODEL), "-n", str(count), "--out", str(out), "--format", output_format]
    result = subprocess.run(
        [sys.executable, "-c", PEAK_OF_ONE_GENERATE, *arguments],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from /proc/self/status (Linux)")
@pytest.mark.parametrize("output_format", ["png", "npz"])
def test_peak_memory_does_not_grow_with_the_number_of_images(tmp_path, output_format):
    small, large = peak_kib(tmp_path, N, output_format), peak_kib(tmp_path, 10 * N, output_format)
    assert large - small < MARGIN_KIB, f"peak {small} KiB for {N} images, {large} KiB for {10 * N}"


PEAK_OF_ONE_IN_MEMORY_GENERATION = f"""
import sys
from kgan.runtime import OnnxGenerator
OnnxGenerator(sys.argv[1]).generate(int(sys.argv[2]))
{PEAK}
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from /proc/self/status (Linux)")
def test_the_margin_catches_a_generation_that_holds_every_image():
    """OnnxGenerator.generate returns all images at once: its peak must grow past the margin."""

    def peak(count):
        command = [sys.executable, "-c", PEAK_OF_ONE_IN_MEMORY_GENERATION, str(MODEL), str(count)]
        return int(subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout)

    assert peak(10 * N) - peak(N) > MARGIN_KIB
