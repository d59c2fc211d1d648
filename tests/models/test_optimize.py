"""The optimisation plan: choices per machine, overrides, pipeline calls, and applying them."""

from __future__ import annotations

import json
import logging

import pytest
import torch
from PIL import Image

from wan.errors import MemoryPlanError
from wan.models.apply_plan import (
    AppliedPlan,
    apply_plan,
    available_attention_backends,
    encode_prompts,
    perform_call,
)
from wan.models.catalog import get_entry, wan_entries
from wan.models.memory import GB
from wan.models.memory_estimate import estimate_memory
from wan.models.optimize import HEADROOM, choose_plan, max_fitting_frames
from wan.models.pipeline_calls import plan_calls
from wan.models.smoke import ensure_smoke_model

RTX_4080 = {"free_vram_bytes": 16 * GB, "free_ram_bytes": 56 * GB}  # 64 GB RAM, 8 GB in use


def plan_for(model, vram_gb, ram_gb, overrides=None, accelerator=True, **kw):
    entry = get_entry(model)
    width, height = entry.default_size
    return choose_plan(
        entry,
        width,
        height,
        entry.max_clip_frames,
        int(vram_gb * GB),
        int(ram_gb * GB),
        accelerator,
        overrides,
        **kw,
    )


# ----------------------------------------------------------------------------------------------
# Choosing


@pytest.mark.parametrize("entry", [e for e in wan_entries() if not e.smoke], ids=lambda e: e.id)
def test_rtx_4080_plans_fit(entry):
    """Every catalog model at its default size and full clip length fits a 16 GB / 64 GB PC."""
    width, height = entry.default_size
    plan = choose_plan(
        entry, width, height, entry.max_clip_frames, has_accelerator=True, **RTX_4080
    )
    assert plan.estimate.peak_vram <= HEADROOM * 16 * GB
    assert plan.estimate.peak_ram <= HEADROOM * 56 * GB
    assert plan.offload != "none"  # nothing but the smoke models fits without offloading


def test_vace_14b_at_720p_is_refused_on_an_rtx_4080_and_capped_to_a_clip_that_fits():
    """At 1280x720 x 81 its activations alone (~15.5 GB) exceed the card: 480p is the default."""
    entry = get_entry("Wan2.1-VACE-14B")
    assert entry.default_size == (832, 480)
    assert {(1280, 720), (720, 1280)} <= set(entry.sizes)
    phases = estimate_memory(entry, 1280, 720, 81).phases
    activations = next(p for p in phases if p.name == "denoise").working.bytes
    assert activations == pytest.approx(15.5 * GB, rel=0.01) and activations > 16 * GB * HEADROOM
    with pytest.raises(MemoryPlanError) as error:
        choose_plan(entry, 1280, 720, 81, has_accelerator=True, **RTX_4080)
    message = str(error.value)
    assert "Wan2.1-VACE-14B at 1280x720, 81 frames does not fit in any placement" in message
    assert "VRAM (denoise) > 14.40 GB usable" in message
    assert "Lower the size or the frames per clip" in message
    frames = max_fitting_frames(entry, 1280, 720, 81, has_accelerator=True, **RTX_4080)
    assert frames is not None and 61 <= frames < 81 and (frames - 1) % 4 == 0
    plan = choose_plan(entry, 1280, 720, frames, has_accelerator=True, **RTX_4080)
    assert plan.estimate.fits(16 * GB, 56 * GB, HEADROOM)
    with pytest.raises(MemoryPlanError):  # the longest: one step (4 frames) more does not fit
        choose_plan(entry, 1280, 720, frames + 4, has_accelerator=True, **RTX_4080)


@pytest.mark.parametrize(
    ("model", "vram", "ram", "summary"),
    [
        ("Wan2.1-T2V-1.3B", 8, 32, "group offload by block + VAE tiling"),
        ("Wan2.1-T2V-1.3B", 12, 32, "group offload by block"),
        ("Wan2.1-T2V-1.3B", 16, 64, "model CPU offload + VAE tiling"),
        ("Wan2.1-T2V-1.3B", 24, 64, "no offload + VAE tiling"),
        ("Wan2.1-T2V-1.3B", 48, 64, "no offload"),
        ("Wan2.1-T2V-1.3B", 16, 16, None),  # UMT5 alone is 11.4 GB of RAM
        ("Wan2.1-T2V-14B", 8, 64, None),  # 720p activations alone are 8.6 GB
        ("Wan2.1-T2V-14B", 12, 64, "group offload by block + VAE tiling"),
        ("Wan2.1-T2V-14B", 24, 64, "group offload by block"),
        ("Wan2.1-T2V-14B", 48, 64, "model CPU offload"),
        ("Wan2.1-T2V-14B", 80, 64, "no offload"),
        ("Wan2.1-T2V-14B", 16, 32, None),
        ("Wan2.1-I2V-14B-480P", 8, 64, "group offload by block + VAE tiling"),
        ("Wan2.1-I2V-14B-480P", 48, 64, "model CPU offload"),
        ("Wan2.2-T2V-A14B", 16, 64, "group offload by block + fp8 weights + VAE tiling"),
        ("Wan2.2-T2V-A14B", 24, 64, "group offload by block + fp8 weights"),
        ("Wan2.2-T2V-A14B", 48, 64, "model CPU offload + fp8 weights"),
        ("Wan2.2-T2V-A14B", 80, 64, "no offload + fp8 weights"),  # two bf16 experts: 57 GB RAM
        ("Wan2.2-TI2V-5B", 8, 32, "group offload by block + VAE tiling"),
        ("Wan2.2-TI2V-5B", 24, 64, "model CPU offload + VAE tiling"),
        ("Wan2.2-TI2V-5B", 48, 32, "model CPU offload"),
        ("Wan2.2-TI2V-5B", 80, 64, "no offload"),
    ],
)
def test_machine_table(model, vram, ram, summary):
    if summary is None:
        with pytest.raises(MemoryPlanError, match="does not fit in any placement"):
            plan_for(model, vram, ram)
        return
    plan = plan_for(model, vram, ram)
    assert plan.summary == summary
    assert plan.estimate.fits(vram * GB, ram * GB, HEADROOM)


def test_reasons_explain_every_choice():
    plan = plan_for("Wan2.2-T2V-A14B", 16, 64)
    fields = ("offload", "fp8", "vae_tiling", "text_encoder_on_cpu", "use_stream", "attention")
    assert {name for name, _ in plan.reasons} >= {*fields, "cache"}
    assert plan.reason("offload").startswith("group offload by block: with model CPU offload")
    assert "RAM" in plan.reason("fp8")  # two bf16 experts do not fit in RAM
    assert "decode" in plan.reason("vae_tiling") or "encode" in plan.reason("vae_tiling")
    assert plan.reason("use_stream").startswith("prefetch")
    assert plan.reason("attention").startswith("PyTorch SDPA")
    assert plan.reason("cache").startswith("no step cache")
    assert plan.use_stream and plan.accelerator
    assert any("one expert at a time" in w for w in plan.warnings)
    json.dumps(plan.to_dict())


def test_cpu_only_machine():
    plan = plan_for("tiny-t2v", 0, 8, accelerator=False)
    assert (plan.offload, plan.fp8, plan.use_stream, plan.estimate.peak_vram) == (
        "none",
        False,
        False,
        0,
    )
    assert plan.reason("offload") == "no accelerator: everything runs on the CPU"
    with pytest.raises(MemoryPlanError, match="without an accelerator"):
        plan_for("tiny-t2v", 0, 8, {"offload": "model"}, accelerator=False)
    big = plan_for("Wan2.1-T2V-14B", 0, 48, accelerator=False)  # RAM only: fp8 makes it fit
    assert big.fp8 and "RAM" in big.reason("fp8")


# ----------------------------------------------------------------------------------------------
# Overrides


def test_override_that_does_not_fit_is_an_error_with_the_estimate():
    with pytest.raises(MemoryPlanError) as error:
        plan_for("Wan2.1-T2V-14B", 16, 64, {"offload": "none"})
    message = str(error.value)
    assert "with offload=none" in message and "GB VRAM (" in message
    assert "14.40 GB usable" in message and "drop the override" in message


def test_force_runs_anyway_with_a_warning():
    plan = plan_for("Wan2.1-T2V-14B", 16, 64, {"offload": "none", "force": True})
    assert plan.offload == "none" and plan.estimate.peak_vram > 16 * GB
    assert any("forced" in w for w in plan.warnings)
    assert plan.overridden == ("offload", "force")


def test_overrides_that_fit_are_kept_and_the_rest_is_chosen_around_them():
    plan = plan_for("Wan2.1-T2V-1.3B", 16, 64, {"offload": "group_leaf"})
    assert plan.offload == "group_leaf" and not plan.vae_tiling
    assert plan.reason("offload").startswith("set by you")
    plan = plan_for("Wan2.1-T2V-1.3B", 16, 64, {"vae_tiling": False})
    assert plan.summary == "group offload by block"  # ties text-on-CPU (3), lower peak
    plan = plan_for("Wan2.1-T2V-1.3B", 16, 64, {"use_stream": False, "offload": "group_block"})
    assert not plan.use_stream


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"offlaod": "none"}, "unknown optimisation setting"),
        ({"offload": "cpu"}, "offload 'cpu'"),
        ({"fp8": "yes"}, "fp8 must be true or false"),
        ({"attention": "xformers"}, "attention 'xformers'"),
        ({"attention": "flash"}, "not available here"),
        ({"cache": "tea"}, "cache 'tea'"),
        ({"cache": "first_block", "cache_threshold": 2}, "cache_threshold"),
        ({"offload": "none", "text_encoder_on_cpu": True}, "offload=model only"),
    ],
)
def test_bad_overrides(overrides, message):
    with pytest.raises(MemoryPlanError, match=message):
        plan_for("Wan2.1-T2V-1.3B", 24, 64, overrides)


def test_attention_and_caches_are_opt_in():
    available = frozenset({"native", "flash", "sage"})
    plan = plan_for("Wan2.1-T2V-1.3B", 24, 64, attention_available=available)
    assert plan.attention == "native" and "also available: flash, sage" in plan.reason("attention")
    plan = plan_for("Wan2.1-T2V-1.3B", 24, 64, {"attention": "sage"}, attention_available=available)
    assert plan.attention == "sage" and plan.summary.endswith("sage attention")
    with pytest.raises(MemoryPlanError, match="not available here"):
        plan_for("tiny-t2v", 0, 8, {"attention": "sage"}, False, attention_available=available)
    plan = plan_for("Wan2.1-T2V-1.3B", 24, 64, {"cache": "first_block"})
    assert (plan.cache, plan.cache_threshold) == ("first_block", 0.05)
    assert any("step cache" in w for w in plan.warnings)
    plan = plan_for("Wan2.1-T2V-1.3B", 24, 64, {"cache": "mag", "mag_ratios": [1.0] * 4})
    assert (plan.cache_threshold, plan.mag_ratios, plan.cache_steps) == (0.06, (1.0,) * 4, 4)


def test_available_attention_backends_here():
    assert "native" in available_attention_backends()


def test_max_fitting_frames():
    entry = get_entry("Wan2.1-T2V-14B")
    assert max_fitting_frames(entry, 1280, 720, 81, 80 * GB, 64 * GB, True) == 81
    frames = max_fitting_frames(entry, 1280, 720, 81, 8 * GB, 64 * GB, True)
    assert frames is not None and 5 <= frames < 81 and (frames - 1) % 4 == 0
    plan = choose_plan(entry, 1280, 720, frames, 8 * GB, 64 * GB, True)
    assert plan.estimate.fits(8 * GB, 64 * GB, HEADROOM)
    assert max_fitting_frames(entry, 1280, 720, 81, 1 * GB, 64 * GB, True) is None


# ----------------------------------------------------------------------------------------------
# Calls


GROUP_BLOCK = (
    ("onload_device", "cuda"),
    ("offload_device", "cpu"),
    ("use_stream", True),
    ("non_blocking", True),
    ("offload_type", "block_level"),
    ("num_blocks_per_group", 1),
)


@pytest.mark.parametrize(
    ("model", "overrides", "device", "expected"),
    [
        (
            "Wan2.2-T2V-A14B",
            {"offload": "group_block", "fp8": True, "vae_tiling": True},
            "cuda",
            [
                ("transformer.enable_layerwise_casting", False),
                ("transformer_2.enable_layerwise_casting", False),
                ("vae.enable_tiling", False),
                ("text_encoder.apply_group_offloading", True),
                ("transformer.enable_group_offload", True),
                ("transformer_2.enable_group_offload", True),
                ("vae.enable_group_offload", True),
            ],
        ),
        (
            "Wan2.1-T2V-1.3B",
            {"offload": "model", "text_encoder_on_cpu": True},
            "cuda",
            [
                ("enable_model_cpu_offload", True),
                ("text_encoder.remove_hook_from_module", True),
                ("text_encoder.to", True),
            ],
        ),
        (
            "Wan2.1-I2V-14B-480P",
            {"offload": "none", "force": True},
            "cpu",
            [
                ("text_encoder.to", False),
                ("image_encoder.to", False),
                ("transformer.to", False),
                ("vae.to", False),
            ],
        ),
        (
            "Wan2.1-T2V-1.3B",
            {"offload": "none", "attention": "flash", "cache": "first_block"},
            "cuda:1",
            [
                ("transformer.set_attention_backend", True),
                ("transformer.enable_cache", False),
                ("text_encoder.to", False),
                ("transformer.to", False),
                ("vae.to", False),
            ],
        ),
    ],
)
def test_plan_calls_table(model, overrides, device, expected):
    plan = plan_for(model, 80, 256, overrides, attention_available={"native", "flash"})
    entry = get_entry(model)
    components = ["text_encoder", "transformer", "vae"]
    components += ["transformer_2"] * (entry.experts == 2)
    components += ["image_encoder"] * entry.signature.image_encoder
    calls = plan_calls(plan, components, device)
    assert [(c.name, c.needs_accelerator) for c in calls] == expected
    for call in calls:
        assert call.reason and json.dumps(call.to_dict())


def test_group_offload_calls_for_cuda_and_cpu():
    plan = plan_for("Wan2.2-T2V-A14B", 16, 64)
    cuda = {c.name: c for c in plan_calls(plan, ["text_encoder", "transformer", "vae"], "cuda")}
    assert cuda["transformer.enable_group_offload"].kwargs == GROUP_BLOCK
    assert cuda["vae.enable_group_offload"].kwargs_dict()["offload_type"] == "leaf_level"
    assert cuda["transformer.enable_layerwise_casting"].kwargs_dict() == {
        "storage_dtype": "float8_e4m3fn",
        "compute_dtype": "bfloat16",
    }
    cpu = {c.name: c for c in plan_calls(plan, ["text_encoder", "transformer", "vae"], "cpu")}
    assert cpu["transformer.enable_group_offload"].kwargs_dict()["use_stream"] is False
    assert cpu["transformer.enable_group_offload"].kwargs_dict()["onload_device"] == "cpu"
    assert "transformer_2.enable_group_offload" not in cpu  # only components that exist


def test_cache_calls_carry_their_config():
    plan = plan_for("Wan2.1-T2V-1.3B", 48, 64, {"cache": "mag", "mag_ratios": [1.0, 0.9]})
    (call,) = [c for c in plan_calls(plan, ["transformer"], "cuda") if c.method == "enable_cache"]
    assert call.kwargs_dict() == {
        "kind": "mag",
        "threshold": 0.06,
        "mag_ratios": (1.0, 0.9),
        "num_inference_steps": 2,
    }


# ----------------------------------------------------------------------------------------------
# Applying plans to tiny pipelines that then generate (CPU)

PLAN_KINDS = {
    "none": {"offload": "none"},
    "model": {"offload": "model"},
    "model+text_cpu": {"offload": "model", "text_encoder_on_cpu": True},
    "group_block+fp8+tiling": {"offload": "group_block", "fp8": True, "vae_tiling": True},
    "group_leaf": {"offload": "group_leaf"},
    "none+fp8+first_block": {"offload": "none", "fp8": True, "cache": "first_block"},
}
SMOKE_CASES = [("tiny-t2v-a14b", kind) for kind in PLAN_KINDS] + [
    (model, kind)
    for model in ("tiny-t2v", "tiny-i2v", "tiny-i2v-a14b", "tiny-ti2v", "tiny-vace")
    for kind in ("model+text_cpu", "none+fp8+first_block")
]


def load_tiny(model: str, smoke_root):
    from diffusers import DiffusionPipeline

    folder = ensure_smoke_model(model, root=smoke_root)
    pipe = DiffusionPipeline.from_pretrained(folder, torch_dtype=torch.bfloat16)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def generate(pipe, model: str, **prompt):
    kwargs = {"height": 64, "width": 64, "num_frames": 5, "num_inference_steps": 2}
    if model in ("tiny-i2v", "tiny-i2v-a14b"):
        kwargs["image"] = Image.new("RGB", (64, 64), (200, 80, 40))
    if model == "tiny-vace":
        kwargs["video"] = [Image.new("RGB", (64, 64), (40, 80, 200))] * 5
    prompt = prompt or {"prompt": "a red fox in the snow"}
    generator = torch.Generator().manual_seed(0)
    return pipe(**prompt, **kwargs, output_type="np", generator=generator).frames[0]


def tiny_plan(model: str, overrides):
    return choose_plan(get_entry(model), 64, 64, 5, 64 * GB, 64 * GB, True, overrides)


@pytest.mark.parametrize(("model", "kind"), SMOKE_CASES)
def test_apply_plan_then_generate_on_cpu(model, kind, smoke_root, caplog):
    pipe = load_tiny(model, smoke_root)
    plan = tiny_plan(model, PLAN_KINDS[kind])
    with caplog.at_level(logging.INFO, logger="wan.models.apply_plan"):
        applied = apply_plan(pipe, plan, "cpu")
    modules = [n for n, m in pipe.components.items() if isinstance(m, torch.nn.Module)]
    made = [c.name for c in applied.applied] + [c.name for c, _ in applied.skipped]
    assert sorted(made) == sorted(c.name for c in plan_calls(plan, modules, "cpu"))
    for call, why in applied.skipped:  # only what needs an accelerator is skipped, with a reason
        assert call.needs_accelerator and "needs an accelerator" in why
    assert all(not c.needs_accelerator for c in applied.applied)
    if plan.fp8:
        weight = pipe.transformer.blocks[0].ffn.net[2].weight
        assert weight.dtype == torch.float8_e4m3fn
        if getattr(pipe, "transformer_2", None) is not None:
            assert pipe.transformer_2.blocks[0].ffn.net[2].weight.dtype == torch.float8_e4m3fn
    frames = generate(pipe, model, **encode_prompts(pipe, applied, "a red fox in the snow"))
    assert frames.shape == (5, 64, 64, 3)
    metadata = applied.to_metadata()
    json.dumps(metadata)
    assert metadata["plan"] == plan.summary
    assert len(metadata["skipped"]) == len(applied.skipped)
    if applied.skipped:
        assert "skipped" in caplog.text


@pytest.mark.parametrize(
    ("model", "kind"),
    [
        ("tiny-t2v-a14b", "group_block+fp8+tiling"),
        ("tiny-i2v", "group_block+fp8+tiling"),
        ("tiny-ti2v", "group_leaf"),
        ("tiny-vace", "group_block+fp8+tiling"),
        ("tiny-i2v-a14b", "group_leaf"),
    ],
)
def test_group_offload_calls_run(model, kind, smoke_root, monkeypatch):
    """diffusers 0.39 needs torch.accelerator to name a device; with one, the calls all work."""
    monkeypatch.setattr(
        torch.accelerator, "current_accelerator", lambda *a, **k: torch.device("cpu")
    )
    pipe = load_tiny(model, smoke_root)
    plan = tiny_plan(model, PLAN_KINDS[kind])
    components = [n for n, m in pipe.components.items() if isinstance(m, torch.nn.Module)]
    calls = plan_calls(plan, components, "cpu")
    assert sum(
        c.method in ("enable_group_offload", "apply_group_offloading") for c in calls
    ) == len(components)
    for call in calls:
        perform_call(pipe, call)
    assert generate(pipe, model).shape == (5, 64, 64, 3)


def test_prompts_encoded_on_the_cpu(smoke_root):
    """With the text encoder on the CPU, the pipeline gets embeddings instead of text."""
    pipe = load_tiny("tiny-t2v", smoke_root)
    plan = tiny_plan("tiny-t2v", PLAN_KINDS["model+text_cpu"])
    applied = AppliedPlan(plan, "cuda", (), ())  # as on a GPU machine, without the hooks
    assert applied.text_encoder_device == "cpu"
    kwargs = encode_prompts(pipe, applied, "a red fox", "blurry")
    assert set(kwargs) == {"prompt_embeds", "negative_prompt_embeds"}
    assert kwargs["prompt_embeds"].shape[0] == 1
    assert generate(pipe, "tiny-t2v", **kwargs).shape == (5, 64, 64, 3)
    on_cpu = AppliedPlan(plan, "cpu", (), ())
    assert encode_prompts(pipe, on_cpu, "a red fox") == {
        "prompt": "a red fox",
        "negative_prompt": None,
    }
