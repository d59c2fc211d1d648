"""Wan models of real (or smoke) size with random weights, in the Diffusers layout, built fast.

Why: a GPU machine lent for minutes has no network and no weights, and full-size behaviour
(memory plans, offload, VAE tiling, load times) cannot be seen with kilobyte smoke models. So the
real architectures are rebuilt from the catalog's `signature` (and its parameter counts, checked
here): each component is created on the meta device (no memory, no init), materialised on the
target device with `to_empty` and filled in place by a cheap generator (uniform with the variance
of a fan-in init, unit norm scales, zero biases: finite activations through 40 blocks), written
once by its own `save_pretrained` as safetensors shards of at most SHARD (like the Hub's), then
freed before the next component. `model_index.json` comes from the pipeline class built around
meta-device components, the tokenizer and scheduler from `wan.models.smoke` (a T5-style tokenizer
made locally; the embedding keeps UMT5's real vocabulary of 256384 rows). Models that share a
component (every Wan model's UMT5-XXL, the two A14B experts) hard-link its files: one copy on
disk. The output is noise; detection (`wan.models.detect`) still names the model imitated.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wan.models.catalog import CatalogEntry, get_entry, wan_entries
from wan.models.detect import detect_model
from wan.models.smoke import TEXT_DIM, _scheduler, _t5_tokenizer, _vae

SHARD = "5GB"
UMT5_XXL = {  # google/umt5-xxl, as Wan-AI's Diffusers repos ship it (encoder only)
    "vocab_size": 256384,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
}
SMOKE_UMT5 = {  # as wan.models.smoke's tiny text encoder (vocab: the tokenizer's size)
    "d_model": TEXT_DIM,
    "d_kv": 8,
    "d_ff": 64,
    "num_layers": 2,
    "num_heads": 4,
    "relative_attention_num_buckets": 8,
    "relative_attention_max_distance": 16,
}
# A stand-in for UMT5-XXL where only the transformer's width matters (the CPU overhead run:
# the text encoder is the same on both sides): 4096 wide, one layer, a small vocabulary.
NARROW_UMT5 = {
    "d_model": 4096,
    "d_kv": 8,
    "d_ff": 64,
    "num_layers": 1,
    "num_heads": 1,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
}
WAN22_VAE = {  # Wan-AI/Wan2.2-TI2V-5B-Diffusers vae/config.json (latent statistics: 0 and 1)
    "base_dim": 160,
    "decoder_base_dim": 256,
    "z_dim": 48,
    "is_residual": True,
    "in_channels": 12,
    "out_channels": 12,
    "patch_size": 2,
    "scale_factor_spatial": 16,
    "latents_mean": [0.0] * 48,
    "latents_std": [1.0] * 48,
}


@dataclass
class BuildReport:
    """What one build wrote and how long each part took (seconds)."""

    model_id: str
    folder: str
    detected: str | None = None
    bytes_written: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    linked: list[str] = field(default_factory=list)

    def add(self, part: str, seconds: float) -> None:
        self.seconds[part] = self.seconds.get(part, 0.0) + seconds


# ----------------------------------------------------------------------------------------------
# Configs (pure)


def transformer_config(entry: CatalogEntry) -> tuple[str, dict[str, Any]]:
    """(diffusers class name, constructor kwargs) of the entry's transformer (one expert)."""
    shape = entry.signature.transformer
    kwargs: dict[str, Any] = {
        "patch_size": (1, 2, 2),
        "num_attention_heads": shape.num_attention_heads,
        "attention_head_dim": shape.attention_head_dim,
        "in_channels": shape.in_channels,
        "out_channels": shape.out_channels,
        "text_dim": shape.text_dim,
        "freq_dim": 256,
        "ffn_dim": shape.ffn_dim,
        "num_layers": shape.num_layers,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "eps": 1e-6,
        "rope_max_seq_len": 1024,
    }
    if shape.image_dim:
        kwargs |= {"image_dim": shape.image_dim, "added_kv_proj_dim": shape.hidden_size}
    if shape.pos_embed_seq_len:
        kwargs["pos_embed_seq_len"] = shape.pos_embed_seq_len
    if shape.vace_layers:
        kwargs |= {"vace_layers": list(shape.vace_layers), "vace_in_channels": 96}
        return "WanVACETransformer3DModel", kwargs
    return "WanTransformer3DModel", kwargs


def transformer_cache(entry: CatalogEntry, dtype: str) -> str:
    """The shared folder's name for this transformer: models of one architecture (Wan2.1-T2V-14B
    and each Wan2.2-T2V-A14B expert) share one set of files."""
    cls_name, kwargs = transformer_config(entry)
    digest = zlib.crc32(json.dumps(kwargs, sort_keys=True, default=list).encode())
    return f"transformer-{cls_name}-{digest:08x}-{dtype}"


def text_encoder_config(kind: str, vocab_size: int) -> dict[str, Any]:
    """UMT5 config: "xxl" (the real one), "smoke" (wan.models.smoke's) or "narrow"."""
    sizes = {"xxl": UMT5_XXL, "smoke": SMOKE_UMT5, "narrow": NARROW_UMT5}[kind]
    config = {"vocab_size": vocab_size, **sizes}
    config |= {
        "feed_forward_proj": "gated-gelu",
        "scalable_attention": True,
        "tie_word_embeddings": False,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "decoder_start_token_id": 0,
    }
    return config


# ----------------------------------------------------------------------------------------------
# Materialising: meta -> device -> filled -> safetensors


def on_meta(factory: Callable[[], Any]) -> Any:
    """Build a module without allocating or initialising its weights."""
    import torch

    with torch.device("meta"):
        return factory()


def materialise(module: Any, device: str, dtype: Any, seed: int) -> Any:
    """Move a meta module to `device` in `dtype` with uninitialised storage, then fill it."""
    import torch

    module = torch.nn.Module.to(module, dtype=dtype).to_empty(device=device)  # no fp32 warning
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if param.ndim <= 1:
                param.fill_(0.0 if name.endswith("bias") else 1.0)
            else:
                bound = (3.0 / max(param[0].numel(), 1)) ** 0.5  # variance 1 / fan_in
                param.uniform_(-bound, bound, generator=generator)
        names = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        persistent = set(module.state_dict()) - names
        if persistent:  # would be saved with garbage values
            raise SystemExit(f"{type(module).__name__} has persistent buffers: {persistent}")
    return module


def parameter_count(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def save_component(module: Any, folder: Path) -> int:
    """save_pretrained in safetensors shards; returns the bytes written."""
    module.save_pretrained(str(folder), safe_serialization=True, max_shard_size=SHARD)
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())


def link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of `source` into `target` (a copy where links are not possible)."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file():
            dest = target / item.name
            try:
                os.link(item, dest)
            except OSError:
                shutil.copy2(item, dest)


# ----------------------------------------------------------------------------------------------
# One model


@dataclass(frozen=True)
class BuildSpec:
    """Which model to imitate and how: `text` is "xxl", "smoke" or "narrow"."""

    model_id: str  # a catalog id (real or smoke)
    text: str
    device: str = "cpu"
    dtype: str = "bfloat16"


def build_model(
    spec: BuildSpec, folder: Path, shared: Path, log: Callable[[str], None] = lambda _: None
) -> BuildReport:
    """Write `spec`'s model into `folder`; components others can share are kept in `shared`
    (built on first use, hard-linked after). Raises SystemExit when detection disagrees."""
    import diffusers

    entry = get_entry(spec.model_id)
    sig = entry.signature
    report = BuildReport(entry.id, str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    tokenizer = _t5_tokenizer()
    vocab = UMT5_XXL["vocab_size"] if spec.text == "xxl" else len(tokenizer)
    cls_name, t_kwargs = transformer_config(entry)
    t_cls = getattr(diffusers, cls_name)
    from transformers import UMT5Config, UMT5EncoderModel

    te_config = UMT5Config(**text_encoder_config(spec.text, vocab))
    vae_meta = on_meta(lambda: _vae_module(sig.vae_z_dim == 48, entry.smoke))
    components: dict[str, Any] = {
        "tokenizer": tokenizer,
        "scheduler": _scheduler(),
        "text_encoder": on_meta(lambda: UMT5EncoderModel(te_config)),
        "vae": vae_meta,
        "transformer": on_meta(lambda: t_cls(**t_kwargs)),
        "transformer_2": None,
        "boundary_ratio": sig.boundary_ratio,
    }
    if sig.experts == 2:
        components["transformer_2"] = components["transformer"]
    if sig.pipeline != "WanVACEPipeline":
        components["expand_timesteps"] = sig.expand_timesteps
    pipe = getattr(diffusers, sig.pipeline)(**components)
    pipe.save_config(str(folder))  # model_index.json
    tokenizer.save_pretrained(str(folder / "tokenizer"))
    components["scheduler"].save_pretrained(str(folder / "scheduler"))
    report.add("configs", time.perf_counter() - start)

    _check_count(entry, "transformer", components["transformer"])
    _check_count(entry, "vae", vae_meta)
    if spec.text == "xxl" or entry.smoke:
        _check_count(entry, "text_encoder", components["text_encoder"])
    parts = [
        ("text_encoder", f"umt5-{spec.text}-{vocab}-{spec.dtype}", components["text_encoder"]),
        ("vae", f"vae-z{sig.vae_z_dim}-{_size(entry)}-{spec.dtype}", vae_meta),
        ("transformer", transformer_cache(entry, spec.dtype), components["transformer"]),
    ]
    for name, key, meta in parts:
        _one_component(spec, name, shared / key, meta, folder, report, log)
    if sig.experts == 2:  # the second expert shares the first's files
        link_tree(folder / "transformer", folder / "transformer_2")
        report.linked.append("transformer_2")
    del pipe, components
    detection = detect_model(folder)
    match = detection.match(wan_entries())
    report.detected = match.model_id
    if match.status != "exact" or match.model_id != entry.id:
        raise SystemExit(
            f"{folder}: detected as {match.model_id} ({match.status}: "
            f"{'; '.join(match.differences)}), built to imitate {entry.id}"
        )
    return report


def _size(entry: CatalogEntry) -> str:
    return "smoke" if entry.smoke else "full"


def _vae_module(wan22: bool, smoke: bool) -> Any:
    from diffusers import AutoencoderKLWan

    if smoke:
        return _vae(wan22)
    return AutoencoderKLWan(**WAN22_VAE) if wan22 else AutoencoderKLWan()


def _check_count(entry: CatalogEntry, part: str, module: Any) -> None:
    want = getattr(entry.params, part)
    have = parameter_count(module)
    if have != want:
        raise SystemExit(f"{entry.id} {part}: {have} parameters built, the catalog says {want}")


def _one_component(
    spec: BuildSpec, name: str, cache: Path, meta: Any, folder: Path, report: BuildReport, log
) -> None:
    """Materialise and save one component into the shared cache (once), link it into place."""
    import torch

    if not (cache / "config.json").is_file():
        tmp = cache.with_name(cache.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        start = time.perf_counter()
        seed = sum(map(ord, cache.name))
        module = materialise(meta, spec.device, getattr(torch, spec.dtype), seed)
        if spec.device.startswith("cuda"):
            torch.cuda.synchronize()
        report.add("fill", time.perf_counter() - start)
        start = time.perf_counter()
        written = save_component(module, tmp)
        report.add("write", time.perf_counter() - start)
        report.bytes_written += written
        module.to("meta")  # frees the storage before the next component
        os.replace(tmp, cache)
        log(f"  wrote {name} ({written / 1e9:.2f} GB) in {report.seconds['write']:.1f} s")
    else:
        report.linked.append(name)
    link_tree(cache, folder / name)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
