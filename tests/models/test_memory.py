"""The memory estimate: calibration against the official figures and the traced working sets."""

from __future__ import annotations

import pytest

from wan.errors import MemoryPlanError
from wan.models.catalog import get_entry, wan_entries
from wan.models.memory import GB, GiB, MemorySetup, ModelSpec, ParamSpec
from wan.models.memory_estimate import (
    RUNTIME_OVERHEAD,
    WAN21_VAE,
    WAN22_VAE,
    estimate_memory,
    token_bytes,
)

T2V = get_entry("Wan2.1-T2V-1.3B")
T14 = get_entry("Wan2.1-T2V-14B")
I2V = get_entry("Wan2.1-I2V-14B-480P")
A14B = get_entry("Wan2.2-T2V-A14B")
I2V_A14B = get_entry("Wan2.2-I2V-A14B")
TI2V = get_entry("Wan2.2-TI2V-5B")
VACE = get_entry("Wan2.1-VACE-1.3B")

# Live tensor bytes of diffusers' eager code at real sizes, traced on the meta device
# (`benchmarks/memory_estimate.py --trace` prints them again).
TRACED_TOKEN_BYTES = {
    "Wan2.1-T2V-1.3B": 48_690,
    "Wan2.1-T2V-14B": 113_642,
    "Wan2.1-I2V-14B-480P": 113_803,
    "Wan2.1-VACE-1.3B": 97_842,
    "Wan2.1-VACE-14B": 205_802,
    "Wan2.2-TI2V-5B": 199_291,
}
TRACED_DECODE = {  # (vae, width, height, frames, tiled) -> bytes, float32
    ("2.1", 832, 480, 81, False): 8.167e9,
    ("2.1", 1280, 720, 81, False): 18.842e9,
    ("2.1", 1280, 720, 81, True): 4.180e9,
    ("2.2", 1280, 704, 121, False): 20.704e9,
    ("2.2", 1280, 704, 121, True): 6.114e9,
}
TRACED_ENCODE = {  # (vae, width, height, frames) -> bytes without the input video, float32
    ("2.1", 832, 480, 81): 5.639e9,
    ("2.1", 1280, 720, 81): 13.009e9,
    ("2.2", 1280, 704, 1): 1.756e9,
}


def phase(estimate, name):
    return next(p for p in estimate.phases if p.name == name)


def names(estimate, phase_name):
    return [w.label for w in phase(estimate, phase_name).weights]


# ----------------------------------------------------------------------------------------------
# Calibration against the official figures


def test_official_t2v_13b_figure():
    """Wan 2.1 README: T2V-1.3B, 480p, 81 frames, model offload + T5 on CPU: 8.19 GB peak."""
    options = MemorySetup(offload="model", text_encoder_on_cpu=True, conditioning="text")
    estimate = estimate_memory(T2V, 832, 480, 81, options)
    assert estimate.peak_vram == pytest.approx(8.19 * GB, rel=0.15)
    assert estimate.peak_vram == pytest.approx(8.19 * GiB, rel=0.15)  # either reading of "GB"
    assert estimate.peak_phase.name == "decode"


def test_official_ti2v_figure():
    """Wan 2.2 README: TI2V-5B, 1280x704, 121 frames (5 s at 24 fps), model offload: 22.9 GB."""
    estimate = estimate_memory(TI2V, 1280, 704, 121, MemorySetup(offload="model"))
    assert estimate.peak_vram == pytest.approx(22.9 * GB, rel=0.15)
    assert estimate.peak_vram == pytest.approx(22.9 * GiB, rel=0.15)
    assert estimate.peak_phase.name == "decode"
    text_on_cpu = MemorySetup(offload="model", text_encoder_on_cpu=True)
    same = estimate_memory(TI2V, 1280, 704, 121, text_on_cpu)
    assert same.peak_vram == estimate.peak_vram  # the official run kept T5 on the CPU too


# ----------------------------------------------------------------------------------------------
# Working sets against the traces


def test_tokens():
    assert estimate_memory(T2V, 832, 480, 81).tokens == 21 * 30 * 52 == 32760
    assert estimate_memory(T14, 1280, 720, 81).tokens == 21 * 45 * 80
    assert estimate_memory(TI2V, 1280, 704, 121).tokens == 31 * 22 * 40 == 27280
    assert estimate_memory(T2V, 64, 64, 5).tokens == 2 * 4 * 4


@pytest.mark.parametrize("model", sorted(TRACED_TOKEN_BYTES))
def test_token_bytes_match_the_trace(model):
    sig = get_entry(model).signature
    assert token_bytes(sig.transformer, sig.expand_timesteps) == pytest.approx(
        TRACED_TOKEN_BYTES[model], rel=0.03
    )


@pytest.mark.parametrize(("key", "traced"), sorted(TRACED_DECODE.items()))
def test_decode_matches_the_trace(key, traced):
    vae, width, height, frames, tiled = key
    model = TI2V if vae == "2.2" else T14
    options = MemorySetup(offload="model", vae_tiling=tiled, conditioning="text")
    work = phase(estimate_memory(model, width, height, frames, options), "decode").working.bytes
    assert traced * 0.97 <= work <= traced * (1.25 if tiled else 1.03)  # tiled: conservative


@pytest.mark.parametrize(("key", "traced"), sorted(TRACED_ENCODE.items()))
def test_encode_matches_the_trace(key, traced):
    vae, width, height, frames = key
    model = TI2V if vae == "2.2" else I2V
    conditioning = "image" if frames == 1 else "video"
    options = MemorySetup(offload="model", conditioning=conditioning)
    work = phase(estimate_memory(model, width, height, frames, options), "encode").working.bytes
    source = 3 * frames * width * height * 4  # the input video, held by the pipeline
    assert work - source == pytest.approx(traced, rel=0.05)


def test_vae_constants_are_documented():
    assert (WAN21_VAE.spatial, WAN22_VAE.spatial) == (8, 16)
    assert WAN21_VAE.reference_params == T2V.params.vae
    assert WAN22_VAE.reference_params == TI2V.params.vae


# ----------------------------------------------------------------------------------------------
# Placement rules


def test_no_offload_keeps_everything():
    estimate = estimate_memory(A14B, 832, 480, 81, MemorySetup(offload="none"))
    everything = {"text_encoder", "transformer", "transformer_2", "vae"}
    assert all(set(names(estimate, p.name)) == everything for p in estimate.phases)
    assert "both stay" in " ".join(estimate.notes)


def test_model_offload_follows_the_hook_chain():
    options = MemorySetup(offload="model")
    t2v = estimate_memory(T2V, 832, 480, 81, options)
    assert names(t2v, "text") == ["text_encoder"]
    assert set(names(t2v, "encode")) == {"vae", "text_encoder"}  # UMT5 waits for the transformer
    assert names(t2v, "denoise") == ["transformer", "vae"]  # the VAE stays once used
    assert names(t2v, "decode") == ["vae"]
    i2v = estimate_memory(I2V, 832, 480, 81, options)
    assert names(i2v, "image") == ["image_encoder"]
    assert set(names(i2v, "encode")) == {"vae", "image_encoder"}  # CLIP pushed UMT5 out
    a14b = estimate_memory(I2V_A14B, 1280, 720, 81, options)
    assert names(a14b, "denoise") == ["transformer", "vae"]  # one expert at a time
    text_only = estimate_memory(T2V, 832, 480, 81, MemorySetup("model", conditioning="text"))
    assert [p.name for p in text_only.phases] == ["text", "denoise", "decode"]
    assert names(text_only, "denoise") == ["transformer"]


def test_the_depth_model_stays_beside_wan_and_has_its_own_pass():
    """3D camera guide: Depth-Anything-V2-Small (24.8e6 parameters) in float16 on the GPU in
    every phase, one frame through it before each clip; every family encodes its guide."""
    options = MemorySetup(offload="model", depth_model_params=24_785_089)
    plain = estimate_memory(TI2V, 1280, 704, 121, MemorySetup(offload="model"))
    guided = estimate_memory(TI2V, 1280, 704, 121, options)
    assert [p.name for p in guided.phases][:2] == ["depth", "text"]
    assert "encode" in [p.name for p in plain.phases]  # TI2V encodes its guide video too
    assert all("depth_model" in names(guided, p.name) for p in guided.phases)
    assert names(guided, "depth") == ["vae", "depth_model"]  # after the previous decode
    extra = guided.peak_vram - plain.peak_vram
    assert 49e6 < extra < 50e6  # the weights; the depth pass itself is far below the peak
    assert "depth_model" not in names(plain, "denoise")


def test_text_encoder_on_cpu_moves_its_weights_and_work_to_ram():
    on_gpu = estimate_memory(T2V, 832, 480, 81, MemorySetup("model"))
    on_cpu = estimate_memory(T2V, 832, 480, 81, MemorySetup("model", text_encoder_on_cpu=True))
    assert phase(on_cpu, "text").total == RUNTIME_OVERHEAD
    assert "text_encoder" not in names(on_cpu, "encode")
    assert on_cpu.peak_ram > on_gpu.peak_ram
    assert on_cpu.peak_vram < on_gpu.peak_vram


def test_group_offload_keeps_a_few_blocks():
    full = estimate_memory(T14, 1280, 720, 81, MemorySetup("model", conditioning="text"))
    block = estimate_memory(T14, 1280, 720, 81, MemorySetup("group_block", conditioning="text"))
    leaf = estimate_memory(T14, 1280, 720, 81, MemorySetup("group_leaf", conditioning="text"))
    weights = [phase(e, "denoise").weights[0].bytes for e in (full, block, leaf)]
    assert weights[0] == T14.params.transformer * 2
    assert 1.0 * GB < weights[1] < 2.5 * GB  # non-block layers + 2 blocks of ~0.7 GB
    assert weights[2] < 0.7 * GB  # two of its largest layers (the 6d x d time projection)
    assert phase(block, "text").weights[0].bytes < 2.5 * GB  # UMT5 leaf by leaf: its embedding
    assert block.peak_ram == full.peak_ram  # the same weights live in RAM either way


def test_fp8_halves_the_blocks_and_costs_a_cast_in_ram():
    bf16 = estimate_memory(A14B, 1280, 720, 81, MemorySetup("group_block"))
    fp8 = estimate_memory(A14B, 1280, 720, 81, MemorySetup("group_block", fp8=True))
    weights = {w.label: w.bytes for w in fp8.weights}
    assert weights["transformer"] == pytest.approx(A14B.params.transformer, rel=0.02)
    assert fp8.peak_ram < bf16.peak_ram - 25 * GB
    assert any(p.label == "fp8 cast" and p.bytes > 0 for p in fp8.ram)
    assert phase(fp8, "denoise").working == phase(bf16, "denoise").working  # computed in bf16


def test_tiling_bounds_the_vae():
    plain = estimate_memory(T14, 1280, 720, 81, MemorySetup("group_block"))
    tiled = estimate_memory(T14, 1280, 720, 81, MemorySetup("group_block", vae_tiling=True))
    assert phase(tiled, "decode").total < phase(plain, "decode").total / 3
    assert phase(tiled, "encode").total < phase(plain, "encode").total / 3
    small = MemorySetup("none", vae_tiling=True)  # under one tile: tiling changes nothing
    assert (
        estimate_memory(T2V, 256, 256, 17, small).peak_vram
        == estimate_memory(T2V, 256, 256, 17, MemorySetup("none")).peak_vram
    )


def test_estimates_grow_with_the_clip():
    peaks = [
        estimate_memory(T14, 1280, 720, f, MemorySetup("model")).peak_vram for f in (5, 41, 81)
    ]
    assert peaks == sorted(peaks) and peaks[0] < peaks[-1]
    sizes = [estimate_memory(T14, w, h, 81).peak_vram for w, h in ((832, 480), (1280, 720))]
    assert sizes[0] < sizes[1]


def test_vace_and_ti2v_extras():
    vace = phase(estimate_memory(VACE, 832, 480, 81, MemorySetup("model")), "denoise")
    t2v = phase(estimate_memory(T2V, 832, 480, 81, MemorySetup("model")), "denoise")
    assert vace.working.bytes > 1.9 * t2v.working.bytes  # 15 control hints held through the pass
    ti2v = estimate_memory(TI2V, 1280, 704, 121, MemorySetup("model"))
    assert phase(ti2v, "encode").working.note.count("1 input frame")  # TI2V encodes one image


def test_without_accelerator_everything_is_ram():
    estimate = estimate_memory(T2V, 832, 480, 81, MemorySetup(accelerator=False))
    assert estimate.peak_vram == 0
    labels = {p.label for p in estimate.ram}
    assert {"baseline", "weights", "working", "video"} <= labels
    assert all(not p.weights and not p.overhead for p in estimate.phases)


def test_model_spec_for_unknown_models():
    spec = ModelSpec(
        "my-finetune",
        "t2v",
        T2V.signature,
        ParamSpec(T2V.params.transformer, T2V.params.text_encoder, T2V.params.vae),
    )
    assert (
        estimate_memory(spec, 832, 480, 81).peak_vram
        == estimate_memory(T2V, 832, 480, 81).peak_vram
    )


def test_explanations_and_dict():
    estimate = estimate_memory(TI2V, 1280, 704, 121, MemorySetup("model", vae_tiling=True))
    lines = estimate.explain()
    assert lines[0].startswith("Wan2.2-TI2V-5B at 1280x704, 121 frames")
    assert any(line.startswith("peak VRAM") for line in lines)
    assert any("tiled decode" in line for line in lines)
    data = estimate.to_dict()
    assert data["peak_vram"] == estimate.peak_vram and data["peak_vram_phase"] in data["phases"]
    assert set(data["weights"]) == {"transformer", "text_encoder", "vae"}


def test_bad_inputs():
    with pytest.raises(MemoryPlanError, match="offload 'fast'"):
        MemorySetup(offload="fast")
    with pytest.raises(MemoryPlanError, match="vae dtype"):
        MemorySetup(vae_dtype="int4")
    with pytest.raises(MemoryPlanError, match="not a video model"):
        estimate_memory(get_entry("Qwen2.5-0.5B-Instruct"), 832, 480, 81)
    with pytest.raises(MemoryPlanError, match="must be positive"):
        estimate_memory(T2V, 0, 480, 81)


def test_every_catalog_model_has_an_estimate():
    for entry in wan_entries():
        width, height = entry.default_size
        estimate = estimate_memory(entry, width, height, entry.max_clip_frames)
        assert estimate.peak_vram > estimate.peak_phase.working.bytes > 0


# ----------------------------------------------------------------------------------------------
# The benchmark script (its trace re-measures the constants against the installed diffusers)


def _benchmark():
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location(
        "memory_benchmark", ROOT / "benchmarks/memory_estimate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_trace_agrees_with_the_installed_diffusers():
    bench = _benchmark()
    traced, estimated = bench.trace_transformer("Wan2.1-T2V-1.3B", 832, 480, 81)
    assert traced == pytest.approx(TRACED_TOKEN_BYTES["Wan2.1-T2V-1.3B"], rel=0.01)
    assert estimated == pytest.approx(traced, rel=0.03)
    decode = bench.trace_vae(False, 832, 480, 81, decode=True, tiled=False)
    assert decode == pytest.approx(TRACED_DECODE[("2.1", 832, 480, 81, False)], rel=0.01)


def test_benchmark_prints_the_real_plans():
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run(
        [sys.executable, "benchmarks/memory_estimate.py", "--skip-measure"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Wan2.2-TI2V-5B" in result.stdout and "group offload by block" in result.stdout
