"""The benchmark scripts keep working (their figures are read by people, not asserted here)."""

import subprocess
import sys

from tests.conftest import ROOT


def test_schedules_benchmark_runs_and_values_are_identical():
    result = subprocess.run(
        [sys.executable, "benchmarks/schedules.py", "--frames", "400", "--repeat", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "identical values: True" in result.stdout and "x faster" in result.stdout


def test_render_overhead_benchmark_quick_run_prints_both_ratios():
    result = subprocess.run(
        [sys.executable, "benchmarks/render_overhead.py", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "quick run" in result.stdout
    assert "runner overhead ratio (ours / direct): " in result.stdout
    assert "memory growth ratio (12 clips / 2 clips peak RSS): " in result.stdout


def test_host_threads_benchmark_runs_every_case():
    result = subprocess.run(
        [sys.executable, "benchmarks/host_threads.py", "--repeats", "1", "--idle"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for case in ("a1111", "a1111+ours", "forge", "forge+ours", "(the fix in A1111)"):
        assert case in result.stdout


def test_camera_guide_benchmark_prints_both_times():
    result = subprocess.run(
        [sys.executable, "benchmarks/camera_guide.py", "--size", "64x48", "--frames", "3",
         "--repeat", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Deforum 3D warp, one frame: " in result.stdout
    assert "camera guide, per model frame (3 frames): " in result.stdout


def test_camera_follow_benchmark_runs_both_camera_modes_on_a_smoke_model():
    result = subprocess.run(
        [sys.executable, "benchmarks/camera_follow.py", "--move", "pan", "--size", "64x64",
         "--frames", "20", "--steps", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "smoke model: its output is noise" in result.stdout
    assert "pan    guide" in result.stdout and "pan    words" in result.stdout
