"""The presets' data and arithmetic without weights: MagCache's resampling (by hand), the merge
rule, the per-expert catalog LoRAs, the estimate's accounting and the expected times."""

from __future__ import annotations

import pytest

from wan.models.catalog import get_entry, lora_entries
from wan.models.magcache import mag_ratios, ratio_set_for, resample
from wan.models.memory import GB, MemorySetup
from wan.models.memory_estimate import estimate_memory
from wan.models.optimize import choose_plan
from wan.models.preset_values import fast_loras, preset_seconds, preset_values
from wan.models.speed_estimate import clip_seconds, device_tflops
from wan.models.system import SystemInfo
from wan.options.presets import PresetValues, merge_preset
from wan.options.render_options import parse_options
from wan.ui.memory_view import memory_text


def test_resampling_picks_the_nearest_published_step_as_magcache_does():
    five = (1.0, 2.0, 3.0, 4.0, 5.0)
    # scale (5-1)/(3-1) = 2: indices 0, 2, 4
    assert resample(five, 3) == (1.0, 3.0, 5.0)
    # scale 4/3: 0, 1.33 -> 1, 2.67 -> 3, 4
    assert resample(five, 4) == (1.0, 2.0, 4.0, 5.0)
    # scale 0.5: 0, 0.5 -> 0 (halves to even, as numpy and torch round), 1, 1.5 -> 2, 2
    assert resample((1.0, 2.0, 3.0), 5) == (1.0, 1.0, 2.0, 3.0, 3.0)
    assert resample(five, 1) == (5.0,)
    assert resample(five, 5) == five


def test_resampling_agrees_with_diffusers_and_uses_the_conditional_stream():
    import torch
    from diffusers.hooks.mag_cache import nearest_interp

    published = ratio_set_for("Wan2.1-T2V-1.3B")
    assert published is not None and len(published.ratios) == 2 * published.steps == 100
    cond = published.ratios[0::2]
    # 50 values to 4 steps: scale 49/3, indices 0, 16.33 -> 16, 32.67 -> 33, 49
    assert mag_ratios("Wan2.1-T2V-1.3B", 4) == (cond[0], cond[16], cond[33], cond[49])
    assert mag_ratios("tiny-t2v", 4) == mag_ratios("Wan2.1-T2V-1.3B", 4)  # the smoke borrows it
    for steps in (1, 4, 7, 30, 50, 80):
        ours = mag_ratios("Wan2.1-I2V-14B-480P", steps)
        theirs = nearest_interp(
            torch.tensor(ratio_set_for("Wan2.1-I2V-14B-480P").conditional), steps
        )
        assert ours == pytest.approx(theirs.tolist())


def test_explicit_values_win_over_the_preset():
    values = PresetValues(
        "fast", steps=4, guidance=1.0, flow_shift=5.0, cache="mag", cache_threshold=0.12,
        loras=(("/loras/distill.safetensors", 1.0), ("/loras/mine.safetensors", 1.0)),
    )  # fmt: skip
    given = parse_options(
        {"preset": "fast", "steps": 6, "loras": [{"path": "/x/mine.safetensors", "strength": 0.5}]}
    )
    merged = merge_preset(given, values)
    assert (merged.steps, merged.guidance, merged.flow_shift) == (6, 1.0, 5.0)
    assert (merged.cache, merged.cache_threshold) == ("mag", 0.12)
    assert [(lora.path, lora.strength) for lora in merged.loras] == [
        ("/x/mine.safetensors", 0.5),
        ("/loras/distill.safetensors", 1.0),
    ]
    own_cache = merge_preset(parse_options({"cache": "first_block"}), values)
    assert (own_cache.cache, own_cache.cache_threshold) == ("first_block", None)


def test_every_distilled_lora_fits_its_models_and_a14b_gets_a_pair():
    for model in ("Wan2.1-T2V-14B", "Wan2.1-I2V-14B-480P", "Wan2.1-I2V-14B-720P"):
        (lora,) = fast_loras(get_entry(model))
        assert lora.lora.expert == "both"
    for model in ("Wan2.2-T2V-A14B", "Wan2.2-I2V-A14B"):
        assert sorted(e.lora.expert for e in fast_loras(get_entry(model))) == [
            "high_noise",
            "low_noise",
        ]
        values = preset_values("fast", get_entry(model), locate=False)
        assert (values.steps, values.guidance, values.guidance_2, values.flow_shift) == (
            4, 1.0, 1.0, 5.0,
        )  # fmt: skip
    assert all(e.lora.sha256 is None or len(e.lora.sha256) == 64 for e in lora_entries())
    assert preset_values("balanced", get_entry("Wan2.1-T2V-14B")).cache == "mag"
    assert preset_values("balanced", get_entry("Wan2.2-TI2V-5B")).cache == "first_block"


def test_the_estimate_counts_the_lora_and_the_cache():
    entry = get_entry("Wan2.1-T2V-14B")
    plain = estimate_memory(entry, 832, 480, 81, MemorySetup())
    more = estimate_memory(
        entry, 832, 480, 81, MemorySetup(lora_bytes=631_000_000, step_cache="mag")
    )
    denoise = {p.name: p.total for p in plain.phases}["denoise"]
    cached = {p.name: p.total for p in more.phases}["denoise"]
    # LoRA + one bf16 residual of 21*30*52 tokens x 5120 per context (cond, uncond)
    assert cached - denoise == 631_000_000 + 2 * 32760 * 5120 * 2
    plan = choose_plan(entry, 832, 480, 81, 80 * GB, 200 * GB, True, {"cache": "mag", "steps": 8})
    assert plan.mag_ratios == mag_ratios("Wan2.1-T2V-14B", 8) and plan.cache_steps == 8


def test_expected_times_follow_the_arithmetic_and_the_presets():
    # 1e9 params, 1 layer of width 1000, 1000 tokens: 2e12 + 4e9 flops per call
    one = clip_seconds(10**9, 1, 1000, 1000, 10, 5.0, tflops=1.0)
    assert one.calls == 20
    assert one.seconds == pytest.approx(20 * 2.004e12 / (1e12 * 0.4) * 1.1)
    assert device_tflops("NVIDIA GeForce RTX 4090", True) == 165.2
    entry = get_entry("Wan2.1-T2V-14B")
    times = {p: preset_seconds(p, entry, 32760, 165.2).seconds for p in ("quality", "balanced")}
    times["fast"] = preset_seconds("fast", entry, 32760, 165.2).seconds
    assert times["fast"] < times["balanced"] < times["quality"]
    assert preset_seconds("fast", get_entry("Wan2.1-T2V-1.3B"), 32760, 165.2) is None
    system = SystemInfo("linux", "3.11", {}, "cuda", "NVIDIA GeForce RTX 4090", 24 * GB,
                        24 * GB, 64 * GB, 64 * GB)  # fmt: skip
    text = memory_text("Wan2.1-T2V-14B", "832x480", {}, system, preset="fast")
    assert "expected time per clip (estimate" in text and "**fast: ~" in text
    assert "+ LoRA" not in text  # the plan's summary; the LoRA is in the estimate's weights


def test_magcache_for_a_model_without_published_ratios_says_so():
    from wan.errors import MemoryPlanError

    entry = get_entry("Wan2.2-TI2V-5B")
    with pytest.raises(MemoryPlanError, match=r"no published ratios for Wan2\.2-TI2V-5B"):
        choose_plan(entry, 1280, 704, 121, 80 * GB, 200 * GB, True, {"cache": "mag"})


def test_the_tab_sends_the_preset_and_quality_as_no_preset():
    from wan.ui.options_form import FIELDS, build_options

    base = dict.fromkeys(FIELDS)
    assert build_options({**base, "preset": "fast"})["preset"] == "fast"
    assert "preset" not in build_options({**base, "preset": "quality"})


def test_a_catalog_lora_downloads_one_file_into_loras_and_is_checked(tmp_path):
    from wan.errors import ModelError
    from wan.models import store

    config = store.StoreConfig(models_dir_flag=str(tmp_path), hf_cache_dir=str(tmp_path / "hf"))
    entry = get_entry("lightx2v-Wan2.2-T2V-A14B-4step-low")
    asked = {}

    def fetch(**request):
        asked.update(request)
        path = tmp_path / "loras" / request["filename"]
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"not the published file")
        return str(path)

    with pytest.raises(ModelError, match="sha256 differs"):
        store.download_lora(entry, config, fetch=fetch)
    assert asked == {
        "repo_id": "lightx2v/Wan2.2-Distill-Loras",
        "filename": "wan2.2_t2v_A14b_low_noise_lora_rank64_lightx2v_4step_1217.safetensors",
        "revision": None,
        "local_dir": str(tmp_path / "loras"),
    }
    # found where it was put, before any LoRA folder is searched for anything else
    assert store.find_lora(entry, [], config) == tmp_path / "loras" / asked["filename"]
