"""The benchmark scripts keep working (their figures are read by people, not asserted here)."""

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from tests.conftest import ROOT
from wan.models.system import process_vram_cap

GB = 10**9


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
    assert "guide cost per clip, smoke model: " in result.stdout
    assert "guide cost per clip, Wan2.1-T2V-1.3B (estimated): " in result.stdout


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


def test_gpu_acceptance_tiny_runs_every_family_through_both_paths(tmp_path):
    out = tmp_path / "acceptance.json"
    result = subprocess.run(
        [sys.executable, "benchmarks/gpu_acceptance.py", "--tiny", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "est VRAM" in result.stdout and "our path failed on: none" in result.stdout
    records = json.loads(out.read_text())["records"]
    imitated = {
        "Wan2.1-T2V-1.3B": "tiny-t2v",
        "Wan2.1-VACE-1.3B": "tiny-vace",
        "Wan2.2-TI2V-5B": "tiny-ti2v",
        "Wan2.2-T2V-A14B": "tiny-t2v-a14b",
    }
    assert {r["model"]: r["build"]["detected"] for r in records} == imitated
    for record in records:
        assert record["ours"]["ok"] and record["bare"]["ok"], record
        assert record["same_frames"], record["model"]  # same seed, same plan, on the CPU
        assert record["clip"] == {
            "size": [64, 64], "frames": 5, "steps": 2, "guidance": 5.0, "dtype": "float32"
        }  # fmt: skip
        assert record["plan"] and set(record["ratios"]) == {"load", "step", "decode", "total"}
    a14b = next(r for r in records if r["model"] == "Wan2.2-T2V-A14B")
    assert "transformer_2" in a14b["build"]["linked"]  # the experts share their files


def test_gpu_acceptance_quick_needs_cuda(monkeypatch, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is here: --quick would run")
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import gpu_acceptance  # in this process: no second import of torch and diffusers

    assert gpu_acceptance.main(["--quick"]) == 2
    assert "--quick needs CUDA" in capsys.readouterr().err


def test_the_vram_probe_plans_for_a_process_memory_cap():
    """gpu_acceptance emulates a 16 GB card through torch's per-process cap: the probe's hook."""
    cap = SimpleNamespace(fraction=0.2, reserved=1 * GB)
    cuda = SimpleNamespace(
        get_per_process_memory_fraction=lambda device: cap.fraction,
        memory_reserved=lambda device: cap.reserved,
    )
    stand_in = SimpleNamespace(cuda=cuda)  # torch's two calls, as on a 80 GB card
    assert process_vram_cap(stand_in, 70 * GB, 80 * GB) == (15 * GB, 16 * GB)
    assert process_vram_cap(stand_in, 10 * GB, 80 * GB) == (10 * GB, 16 * GB)
    cap.fraction = 1.0
    assert process_vram_cap(stand_in, 70 * GB, 80 * GB) == (70 * GB, 80 * GB)
