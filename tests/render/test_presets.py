"""Speed presets end to end with smoke models: fast with a tiny LoRA in lightx2v's key layout
(read through diffusers' conversion of original Wan LoRAs) and MagCache from the shipped ratios
without calibration in one render, per-expert LoRAs on a two-expert model, and the error for a
missing distilled LoRA (the balanced preset's cache: tests/models/test_presets_data.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wan.core.deforum.settings import parse_settings
from wan.core.plan import CONTINUATION_OVERLAP, build_plan
from wan.errors import ModelError
from wan.host.standalone import StandaloneHost
from wan.models import store
from wan.models.catalog import get_entry
from wan.models.identify import profile_for
from wan.models.preset_values import preset_values
from wan.options.render_options import parse_options
from wan.render.lora import load_loras, lora_bytes_per_expert
from wan.render.runner import Runner

pytest.importorskip("peft", reason="diffusers loads LoRAs through peft")

SETTINGS = {"max_frames": 5, "fps": 16, "W": 64, "H": 64, "seed": 3, "prompts": {"0": "a fox"}}


def lightx2v_lora(path: Path, layers: int = 2, dim: int = 24, ffn: int = 32, rank: int = 4):
    """A LoRA with the keys lightx2v publishes (the original Wan layout: `diffusion_model.`
    prefix, self_attn/cross_attn q k v o, ffn.0/ffn.2, lora_down/lora_up and an alpha each),
    shaped for the tiny transformer (hidden 24, feed-forward 32)."""
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(len(path.name))
    tensors = {}

    def add(name: str, inp: int, out: int) -> None:
        tensors[f"diffusion_model.{name}.lora_down.weight"] = torch.randn(
            rank, inp, generator=generator
        )
        tensors[f"diffusion_model.{name}.lora_up.weight"] = torch.randn(
            out, rank, generator=generator
        )
        tensors[f"diffusion_model.{name}.alpha"] = torch.tensor(float(rank))

    for i in range(layers):
        for attn in ("self_attn", "cross_attn"):
            for proj in "qkvo":
                add(f"blocks.{i}.{attn}.{proj}", dim, dim)
        add(f"blocks.{i}.ffn.0", dim, ffn)
        add(f"blocks.{i}.ffn.2", ffn, dim)
    save_file(tensors, path)
    return path


def render(tmp_path: Path, model: str, lora_dir: Path, **options):
    data = parse_settings(SETTINGS)
    plan = build_plan(data, profile_for(model), seed=data.seed, overlap=CONTINUATION_OVERLAP)
    opts = parse_options({"model": model, "size": "64x64", **options})
    host = StandaloneHost(output_dir=str(tmp_path / "out"), lora_folders=[str(lora_dir)])
    result = Runner().run(plan, opts, host, run_dir=tmp_path / "run")
    assert result.status == "done"
    return json.loads((result.run_dir / "metadata.json").read_text())


def test_preset_fast_renders_with_the_distilled_lora_and_magcache_from_shipped_ratios(
    tmp_path, smoke_root
):
    """One render for both: the fast preset's LoRA and sampler, and MagCache (set explicitly,
    which the preset leaves alone) from the ratios shipped for the model tiny-t2v imitates."""
    loras = tmp_path / "loras"
    loras.mkdir()
    lightx2v_lora(loras / "tiny-lightx2v-4step.safetensors")
    metadata = render(tmp_path, "tiny-t2v", loras, preset="fast", cache="mag")
    options = metadata["options"]
    assert options["preset"] == "fast"
    assert (options["steps"], options["guidance"], options["flow_shift"]) == (4, 1.0, 5.0)
    assert [Path(lora["path"]).name for lora in options["loras"]] == [
        "tiny-lightx2v-4step.safetensors"
    ]
    assert options["cache"] == "mag"
    text = json.dumps(metadata)
    assert "enable_cache" in text and "calibrat" not in text


def test_a14b_experts_each_get_their_own_lora(tmp_path, smoke_root):
    from wan.models.detect import detect_model
    from wan.models.loader import load_pipeline
    from wan.models.smoke import ensure_smoke_model

    pipe = load_pipeline(detect_model(ensure_smoke_model("tiny-t2v-a14b", smoke_root)), "float32")
    high = lightx2v_lora(tmp_path / "tiny-lightx2v-4step-high.safetensors")
    low = lightx2v_lora(tmp_path / "tiny-lightx2v-4step-low.safetensors")
    names = load_loras(pipe, [(high, 1.0), (low, 1.0)], two_experts=True)
    assert pipe.get_list_adapters() == {"transformer": [names[0]], "transformer_2": [names[1]]}
    # the memory plan counts the busier expert's LoRA weights only
    sizes = [p.stat().st_size for p in (high, low)]
    assert lora_bytes_per_expert([(high, 1.0), (low, 1.0)]) == max(sizes)


def test_a_missing_distilled_lora_names_the_file_and_the_download(tmp_path):
    config = store.StoreConfig(models_dir_flag=str(tmp_path / "models"), hf_cache_dir=str(tmp_path))
    entry = get_entry("Wan2.2-T2V-A14B")
    with pytest.raises(ModelError) as info:
        preset_values("fast", entry, config, [tmp_path / "Lora"])
    text = str(info.value)
    assert "wan2.2_t2v_A14b_high_noise_lora_rank64_lightx2v_4step_1217.safetensors" in text
    assert "python -m wan download lightx2v-Wan2.2-T2V-A14B-4step-high" in text
    assert str(tmp_path / "Lora") in text
    with pytest.raises(ModelError, match=r"no distilled LoRA is known for Wan2\.1-T2V-1\.3B"):
        preset_values("fast", get_entry("Wan2.1-T2V-1.3B"), config, [])
