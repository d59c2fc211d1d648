"""Tiny randomly initialised models of every architecture, built locally on first use.

Tests and the demo need every model family without downloading tens of gigabytes. Each smoke model
is written in the real on-disk Diffusers (or transformers) layout, so it goes through exactly the
same detection and loading code as a real model: `DiffusionPipeline.from_pretrained(folder)`.
The weights are random: a smoke video model's output is noise. tiny-qwen's weights are set by
construction instead: it answers one fixed sentence (`wan.models.smoke_qwen`). tiny-depth is a
random Depth-Anything depth estimator (`wan.models.smoke_depth`).

Building is deterministic (fixed seeds, locally built tokenizers) and atomic: a model is built in
a temporary folder beside its target and renamed into place, so concurrent builders never leave a
half-written folder behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.errors import ModelError
from wan.models.smoke_depth import build_depth
from wan.models.smoke_qwen import build_qwen

log = logging.getLogger(__name__)

SMOKE_IDS: tuple[str, ...] = (
    "tiny-t2v",
    "tiny-t2v-a14b",
    "tiny-i2v",
    "tiny-i2v-a14b",
    "tiny-ti2v",
    "tiny-vace",
    "tiny-flf2v",
    "tiny-qwen",
    "tiny-depth",
)
WAN_SMOKE_IDS: tuple[str, ...] = tuple(i for i in SMOKE_IDS if i not in ("tiny-qwen", "tiny-depth"))
SMOKE_MARKER = "wan_smoke.json"
SMOKE_VERSION = 2  # bump when any built model changes: existing folders are then rebuilt
SMOKE_NOTE = "tiny random model: its output is noise"
ENV_SMOKE_DIR = "WAN_SMOKE_DIR"

# Shared tiny sizes (see docs/FACTS.md section 2); text width links UMT5 and the transformer.
TEXT_DIM = 32
HEADS = 2
HEAD_DIM = 12
CLIP_DIM = 16
CLIP_IMAGE_SIZE = 32
CLIP_PATCH = 4
# the tokens of one image the pipeline takes from the tiny CLIP (its patches and the class token);
# an FLF2V transformer's image position embedding covers the first and the last image's
CLIP_TOKENS = (CLIP_IMAGE_SIZE // CLIP_PATCH) ** 2 + 1
ROPE_MAX_SEQ_LEN = 1024  # as the real models: covers the patch grid of 1280x720 and more

# Built-in English text: vocabulary of the T5-style tokenizer and training text of the Qwen one.
_TEXT = """\
A cinematic shot of a red fox running through a snowy forest at sunrise, soft golden light.
The camera slowly pans left over a quiet lake with mountains and clouds in the background.
A small boat drifts on calm blue water while birds fly across the bright evening sky.
Close up portrait of an old man smiling, warm light, shallow depth of field, film grain.
A busy city street at night with neon signs, rain on the ground and people walking by.
Aerial view of green hills, a winding river and a village with white houses and red roofs.
An astronaut walks on the surface of the moon, the earth rising above the dark horizon.
A cat sleeps on a wooden table next to a window, sunlight and plants, cozy room.
Waves crash against black rocks on a stormy beach, dramatic sky, slow motion, high detail.
A dancer in a flowing white dress spins in an empty studio, soft shadows, elegant movement.
You are a helpful assistant. Rewrite the user's prompt as a rich, detailed video description.
Describe the subject, the scene, the lighting, the colors, the camera and the motion clearly.
Keep the meaning of the original prompt and answer with the new prompt only, in one paragraph.
"""


@dataclass(frozen=True)
class _WanSpec:
    """The architecture of one Wan smoke model."""

    pipeline: str  # WanPipeline | WanImageToVideoPipeline | WanVACEPipeline
    in_channels: int = 16
    out_channels: int = 16
    experts: int = 1
    boundary_ratio: float | None = None
    clip: bool = False  # CLIP image encoder + image processor (Wan 2.1 I2V)
    first_last: bool = False  # FLF2V: position embedding over both images' CLIP tokens
    vae22: bool = False  # Wan 2.2 VAE (z_dim 48)
    expand_timesteps: bool = False  # Wan 2.2 TI2V
    vace: bool = False


_WAN_SPECS: dict[str, _WanSpec] = {
    "tiny-t2v": _WanSpec("WanPipeline"),
    "tiny-t2v-a14b": _WanSpec("WanPipeline", experts=2, boundary_ratio=0.875),
    "tiny-i2v": _WanSpec("WanImageToVideoPipeline", in_channels=36, clip=True),
    "tiny-i2v-a14b": _WanSpec(
        "WanImageToVideoPipeline", in_channels=36, experts=2, boundary_ratio=0.9
    ),
    "tiny-ti2v": _WanSpec(
        "WanPipeline", in_channels=48, out_channels=48, vae22=True, expand_timesteps=True
    ),
    "tiny-vace": _WanSpec("WanVACEPipeline", vace=True),
    "tiny-flf2v": _WanSpec("WanImageToVideoPipeline", in_channels=36, clip=True, first_last=True),
}


# ----------------------------------------------------------------------------------------------
# Public API


def is_smoke_id(model_id: str) -> bool:
    """True for the id of a built-in smoke model (any case, surrounding spaces ignored)."""
    return _normalize(model_id) in SMOKE_IDS


def smoke_dir() -> Path:
    """Where smoke models are cached: $WAN_SMOKE_DIR, else ~/.cache/wan-deforum/smoke."""
    env = os.environ.get(ENV_SMOKE_DIR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "wan-deforum" / "smoke"


def is_smoke_folder(path: Path) -> bool:
    """True if `path` is a smoke model folder (its marker file is present)."""
    return (Path(path) / SMOKE_MARKER).is_file()


def ensure_smoke_model(model_id: str, root: Path | None = None) -> Path:
    """The folder of a smoke model, built on first use (or when its build version changed)."""
    name = _checked_id(model_id)
    root = Path(root) if root is not None else smoke_dir()
    folder = root / name
    if _is_current(folder, name):
        return folder
    if folder.exists() and not is_smoke_folder(folder):
        raise ModelError(
            f"{folder} exists but is not a smoke model (no {SMOKE_MARKER}); move it away or set "
            f"{ENV_SMOKE_DIR} to another folder"
        )
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.building-", dir=root))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache is an ordinary folder
        build_smoke_model(name, tmp)
        _install(tmp, folder, name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def build_smoke_model(model_id: str, folder: Path) -> None:
    """Write the smoke model `model_id` into `folder` (created if missing), marker last."""
    name = _checked_id(model_id)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    log.info(
        "building smoke model %s in %s (tiny random weights: its output is noise)", name, folder
    )
    start = time.perf_counter()
    if name == "tiny-qwen":
        build_qwen(folder, _TEXT, lambda: _seeded("tiny-qwen", "model"))
    elif name == "tiny-depth":
        build_depth(folder, lambda: _seeded("tiny-depth", "model"))
    else:
        _build_wan(_WAN_SPECS[name], name, folder)
    _write_marker(folder, name)
    log.info("built smoke model %s in %.1f s", name, time.perf_counter() - start)


# ----------------------------------------------------------------------------------------------
# Ids, marker and atomic install


def _normalize(model_id: str) -> str:
    return str(model_id).strip().lower()


def _checked_id(model_id: str) -> str:
    name = _normalize(model_id)
    if name not in SMOKE_IDS:
        raise ModelError(f"unknown smoke model id {model_id!r}; use one of: {', '.join(SMOKE_IDS)}")
    return name


def _read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / SMOKE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_current(folder: Path, name: str) -> bool:
    marker = _read_marker(folder)
    return (
        marker is not None and marker.get("id") == name and marker.get("version") == SMOKE_VERSION
    )


def _write_marker(folder: Path, name: str) -> None:
    data = {"id": name, "version": SMOKE_VERSION, "note": SMOKE_NOTE}
    (folder / SMOKE_MARKER).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _install(tmp: Path, folder: Path, name: str) -> None:
    """Rename a finished build into place; a current folder built meanwhile by another wins."""
    if folder.exists():
        if _is_current(folder, name):
            log.info("smoke model %s was built meanwhile by another process; keeping it", name)
            return
        _discard_stale(folder)
    try:
        os.replace(tmp, folder)
    except OSError:
        if not _is_current(folder, name):
            raise
        log.info("smoke model %s was built meanwhile by another process; keeping it", name)


def _discard_stale(folder: Path) -> None:
    """Move an outdated smoke folder aside (atomically) and delete it."""
    aside = folder.with_name(f".{folder.name}.stale-{os.getpid()}-{time.monotonic_ns()}")
    try:
        os.replace(folder, aside)
    except FileNotFoundError:
        return  # another process moved it first
    log.info("replacing outdated smoke model %s", folder)
    shutil.rmtree(aside, ignore_errors=True)


@contextmanager
def _seeded(name: str, component: str) -> Iterator[None]:
    """Seed torch for one component without disturbing the caller's random state."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(zlib.crc32(f"{name}/{component}".encode()))
        yield


# ----------------------------------------------------------------------------------------------
# Wan pipelines


def _build_wan(spec: _WanSpec, name: str, folder: Path) -> None:
    """Assemble the tiny pipeline in memory and save it in the Diffusers layout."""
    import diffusers

    components: dict[str, Any] = {
        "tokenizer": _t5_tokenizer(),
        "scheduler": _scheduler(),
    }
    with _seeded(name, "text_encoder"):
        components["text_encoder"] = _text_encoder(len(components["tokenizer"]))
    with _seeded(name, "vae"):
        components["vae"] = _vae(spec.vae22)
    with _seeded(name, "transformer"):
        components["transformer"] = _transformer(spec)
    components["transformer_2"] = None
    if spec.experts == 2:
        with _seeded(name, "transformer_2"):
            components["transformer_2"] = _transformer(spec)
    components["boundary_ratio"] = spec.boundary_ratio
    if spec.pipeline != "WanVACEPipeline":
        components["expand_timesteps"] = spec.expand_timesteps
    if spec.pipeline == "WanImageToVideoPipeline":
        components["image_encoder"] = None
        components["image_processor"] = None
        if spec.clip:
            with _seeded(name, "image_encoder"):
                components["image_encoder"] = _clip_encoder()
            components["image_processor"] = _clip_processor()
    pipe = getattr(diffusers, spec.pipeline)(**components)
    pipe.save_pretrained(folder, safe_serialization=True)


def _t5_tokenizer() -> Any:
    """A T5-style Unigram tokenizer from a hand-made vocabulary (no sentencepiece file needed)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import T5TokenizerFast

    vocab = _t5_vocab()
    tok = Tokenizer(models.Unigram(vocab, unk_id=2, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    return T5TokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        extra_ids=0,
        model_max_length=512,
    )


def _t5_vocab() -> list[tuple[str, float]]:
    """(piece, log-probability) pairs: specials, the words of the built-in text, characters."""
    vocab: list[tuple[str, float]] = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    seen = {piece for piece, _ in vocab}
    words = sorted({w.strip(".,'") for w in _TEXT.lower().split()} - {""})
    chars = sorted(set(_TEXT) - set(" \n")) + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    chars += [chr(c) for c in range(ord("A"), ord("Z") + 1)] + list("0123456789.,:;!?'\"()-")
    pieces = [("\u2581", -3.0)]
    pieces += [(f"\u2581{w}", -5.0 - 0.001 * i) for i, w in enumerate(words)]
    pieces += [(c, -10.0) for c in chars]
    for piece, score in pieces:
        if piece not in seen:
            seen.add(piece)
            vocab.append((piece, score))
    return vocab


def _scheduler() -> Any:
    """UniPC with flow-matching sigmas, as in the real Wan Diffusers repos."""
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(
        num_train_timesteps=1000,
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        flow_shift=3.0,
    )


def _text_encoder(vocab_size: int) -> Any:
    from transformers import UMT5Config, UMT5EncoderModel

    config = UMT5Config(
        vocab_size=vocab_size,
        d_model=TEXT_DIM,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=16,
        feed_forward_proj="gated-gelu",
        scalable_attention=True,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return UMT5EncoderModel(config)


def _vae(wan22: bool) -> Any:
    """Tiny AutoencoderKLWan; the Wan 2.2 one has z_dim 48, patchified 12-channel pixels."""
    from diffusers import AutoencoderKLWan

    common: dict[str, Any] = {
        "base_dim": 3,
        "dim_mult": [1, 1, 1, 1],
        "num_res_blocks": 1,
        "temperal_downsample": [False, True, True],
    }
    if not wan22:
        return AutoencoderKLWan(z_dim=16, **common)
    return AutoencoderKLWan(
        z_dim=48,
        in_channels=12,
        out_channels=12,
        is_residual=True,
        patch_size=2,
        scale_factor_spatial=16,
        latents_mean=[0.0] * 48,
        latents_std=[1.0] * 48,
        **common,
    )


def _transformer(spec: _WanSpec) -> Any:
    import torch
    from diffusers import WanTransformer3DModel, WanVACETransformer3DModel

    kwargs: dict[str, Any] = {
        "patch_size": (1, 2, 2),
        "num_attention_heads": HEADS,
        "attention_head_dim": HEAD_DIM,
        "in_channels": spec.in_channels,
        "out_channels": spec.out_channels,
        "text_dim": TEXT_DIM,
        "freq_dim": 256,
        "ffn_dim": 32,
        "num_layers": 2,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "rope_max_seq_len": ROPE_MAX_SEQ_LEN,
    }
    if spec.clip:
        kwargs["image_dim"] = CLIP_DIM
        kwargs["added_kv_proj_dim"] = HEADS * HEAD_DIM
    if spec.first_last:  # the real FLF2V: 2 x 257 CLIP tokens
        kwargs["pos_embed_seq_len"] = 2 * CLIP_TOKENS
    if spec.vace:
        kwargs.update(num_layers=3, vace_layers=[0, 2], vace_in_channels=96)
        return WanVACETransformer3DModel(**kwargs)
    model = WanTransformer3DModel(**kwargs)
    if spec.first_last:  # diffusers starts it at zero: the two images would look alike
        torch.nn.init.normal_(model.condition_embedder.image_embedder.pos_embed, std=0.02)
    return model


def _clip_encoder() -> Any:
    """A tiny CLIP vision tower; the pipeline reads its penultimate hidden states."""
    from transformers import CLIPVisionConfig, CLIPVisionModel

    config = CLIPVisionConfig(
        hidden_size=CLIP_DIM,
        intermediate_size=32,
        projection_dim=CLIP_DIM,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=CLIP_IMAGE_SIZE,
        patch_size=CLIP_PATCH,
    )
    return CLIPVisionModel(config)


def _clip_processor() -> Any:
    from transformers import CLIPImageProcessor

    side = CLIP_IMAGE_SIZE
    return CLIPImageProcessor(
        size={"shortest_edge": side}, crop_size={"height": side, "width": side}
    )
