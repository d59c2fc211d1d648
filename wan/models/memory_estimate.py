"""Peak VRAM and RAM of one Wan generation, estimated before any weight is loaded (pure).

Units are bytes; `GB` is 1e9 bytes. The official figures the model is calibrated against (Wan 2.1
T2V-1.3B 480p: 8.19 GB; Wan 2.2 TI2V-5B 720p: 22.9 GB) are read as GB; the estimates are also
within the tests' 15 % of them read as GiB (8.92 GB and 23.8 GB estimated). The options it takes
and the estimate it gives are plain data in `wan.models.memory`.

The model
---------
peak VRAM = max over the phases of one generation of
            (weights on the GPU in that phase + that phase's working memory + RUNTIME_OVERHEAD).

Phases, in the pipeline's order: `text` (UMT5 encodes the prompts), `image` (CLIP encodes the
image, Wan 2.1 I2V/FLF2V), `encode` (the VAE encodes the conditioning frames: I2V/FLF2V/VACE and
video-to-video continuation encode every frame, TI2V one image), `denoise` (one transformer
forward; classifier-free guidance runs its two passes one after the other), `decode`.

Working memory was traced at real sizes on the meta device (live tensor bytes of diffusers' eager
code, attention as a memory-efficient kernel; `benchmarks/memory_estimate.py --trace` reproduces
every constant below):

- denoise: `tokens x bytes_per_token`, tokens = ((F-1)/4+1) x H/(s*2) x W/(s*2) with s the VAE's
  spatial factor (8; 16 for the Wan 2.2 VAE) and a 2x2 patch. With d the hidden size and f the
  feed-forward width, in bf16: `max(22.2 d, 4 f + 9 d)` (the attention half keeps a few float32
  copies of the residual stream; the feed-forward half two f-wide tensors), `+ 36 d` with
  per-token timesteps (TI2V), `+ (2 n + 2) d` for VACE's n control hints held through the pass.
- decode: `c_dec x H x W + 2 x video` untiled (one 4-frame chunk at full resolution; the output
  is concatenated chunk by chunk, so it exists twice at the end), `c_dec x 256 x 256 + k x video`
  tiled (one 256x256 tile, plus the decoded tiles and their blending).
- encode: `c_enc x H x W + k x input + input` (same structure; tiled: one tile).
- text, image: small constants (512 text tokens; one 224 px image).
- depth (3D camera guide with a depth model): the depth model (float16) stays on the GPU beside
  Wan in every phase; its own pass is DEPTH_WORK (Depth-Anything-V2-Small on one frame resized
  to 518 px: a ViT-S over ~2,400 tokens and the DPT head; an estimate, not traced).
- the camera guide's latents, noise and mask (3 latent-sized tensors, ~25 MB at 832x480x81) are
  within RUNTIME_OVERHEAD.

Weights on the GPU in each phase depend on the placement:

- `none`: every component all the time (the text encoder too, unless kept on the CPU).
- `model` (accelerate hooks): the component that runs, plus what the hook chain leaves behind: a
  model goes back to the CPU only when the next one in `model_cpu_offload_seq` starts, so the text
  encoder (or CLIP) is still there while the VAE encodes, and a VAE used for encoding stays
  through denoising. Two experts are never resident together.
- `group_block` / `group_leaf` (diffusers group offload): the transformer's non-block weights and
  two blocks (the running one, the prefetched one), or its two largest layers; the text encoder,
  VAE and CLIP are offloaded leaf by leaf (UMT5's largest leaf is its token embedding).

fp8 storage (layerwise casting) stores the transformer blocks in 1 byte per weight; the rest of
the transformer stays in bf16 and activations are computed in bf16.

peak RAM = RAM_BASELINE + every weight in its storage dtype (all components pass through RAM when
loading; offloaded ones stay there) + the fp8 cast transient + working memory of what runs on the
CPU + the decoded video on the host (float32, twice). With fp8, experts are loaded and cast one at
a time before anything else, so loading peaks at the cast experts plus one expert in bf16; that
counts only where it exceeds the final weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wan.errors import MemoryPlanError
from wan.models.memory import (
    DTYPE_BYTES,
    GB,
    MemoryEstimate,
    MemoryModel,
    MemorySetup,
    Part,
    PhaseMemory,
    gb,
)
from wan.models.params import block_parameters
from wan.models.signature import ModelSignature, TransformerShape

PATCH = 2  # every Wan transformer patchifies latents 1x2x2
TEMPORAL = 4  # and every Wan VAE compresses time 4x (4n+1 frames)
TEXT_TOKENS = 512

DEPTH_WORK = int(0.25 * GB)  # one frame through the depth model (estimate, see the module doc)
RUNTIME_OVERHEAD = int(0.25 * GB)  # CUDA allocator rounding, cuBLAS/cuDNN workspaces, latents
RAM_BASELINE_GPU = int(1.5 * GB)  # Python, torch, CUDA runtime host memory, diffusers imports
RAM_BASELINE_CPU = int(0.5 * GB)  # the same without CUDA (measured 0.36 GB after the imports)
LEAF_FRACTION_TEXT = 0.185  # UMT5-XXL's token embedding (256384 x 4096) among 5.68e9 parameters
LEAF_FRACTION_OTHER = 0.05  # VAE / CLIP: their largest single layer is a few % of the model

# Per-token activation bytes of one transformer forward, in units of the hidden size d (bf16).
TOKEN_ATTENTION = 22.2
TOKEN_FFN_PER_D = 9.0  # plus 4 bytes per feed-forward channel (two bf16 f-wide tensors)
TOKEN_EXPANDED_TIMESTEPS = 36.0  # float32 (tokens, 6, d) modulation + bf16 (tokens, 6d) projection

REFERENCE_TEXT_ENCODER = 5_680_910_336  # UMT5-XXL
TEXT_WORK = int(0.2 * GB)  # UMT5-XXL on 512 tokens: attention scores and position bias in float32
REFERENCE_IMAGE_ENCODER = 630_766_080  # CLIP ViT-H/14
IMAGE_WORK = int(0.1 * GB)


@dataclass(frozen=True)
class VaeConstants:
    """Traced working memory of one Wan VAE (float32), per output pixel and per video tensor."""

    name: str
    reference_params: int
    spatial: int  # pixels per latent pixel
    decode_per_pixel: float  # bytes per output pixel: one chunk through the decoder
    decode_video: float  # x video bytes, untiled
    decode_tiled_video: float  # x video bytes, tiled
    encode_per_pixel: float
    encode_video: float  # x input bytes, untiled (the input itself comes on top)
    encode_tiled_video: float


WAN21_VAE = VaeConstants("Wan 2.1 VAE", 126_892_531, 8, 18.5e3, 2.0, 3.3, 12.0e3, 2.2, 0.1)
WAN22_VAE = VaeConstants("Wan 2.2 VAE", 704_688_668, 16, 20.1e3, 2.0, 3.7, 1.9e3, 4.7, 0.1)
TILE = 256  # diffusers' AutoencoderKLWan tile_sample_min_height / _width


def _blocks(shape: TransformerShape) -> int:
    """Number of offloadable blocks: the main blocks and the VACE blocks."""
    return shape.num_layers + (len(shape.vace_layers) if shape.vace_layers else 0)


# ----------------------------------------------------------------------------------------------
# The estimate


@dataclass(frozen=True)
class _Geometry:
    width: int
    height: int
    frames: int
    latent_frames: int
    tokens: int
    encode_frames: int


def estimate_memory(
    model: MemoryModel,
    width: int,
    height: int,
    frames: int,
    options: MemorySetup | None = None,
) -> MemoryEstimate:
    """Peak VRAM and RAM of one clip of `frames` frames at `width` x `height` (module doc)."""
    opts = options or MemorySetup()
    sig = model.signature
    if sig is None:
        raise MemoryPlanError(f"{model.id} is not a video model: no memory estimate")
    if width <= 0 or height <= 0 or frames < 1:
        raise MemoryPlanError(f"size {width}x{height} and {frames} frames: all must be positive")
    vae = WAN22_VAE if sig.vae_z_dim == 48 else WAN21_VAE
    geo = _geometry(model, sig, vae, width, height, frames, opts)
    sizes = _weights(model, sig, opts)
    resident = _resident_sizes(model, sig, sizes, opts)
    work = _working(model, sig, vae, geo, opts)
    phases = tuple(
        PhaseMemory(
            name,
            tuple(Part(n, resident[n]) for n in _on_gpu(name, sig, geo, opts) if resident.get(n)),
            work[name],
            RUNTIME_OVERHEAD if opts.accelerator else 0,
        )
        for name in _phase_names(sig, geo, opts)
    )
    weights = tuple(Part(n, b, note) for n, (b, note) in sizes.items())
    ram = _ram(sizes, work, phases, model, geo, opts)
    return MemoryEstimate(
        model_id=model.id,
        width=width,
        height=height,
        frames=frames,
        tokens=geo.tokens,
        options=opts,
        phases=phases,
        weights=weights,
        ram=ram,
        notes=_notes(sig, geo, opts),
    )


def _geometry(model, sig, vae, width, height, frames, opts) -> _Geometry:
    latent_frames = (frames - 1) // TEMPORAL + 1
    step = vae.spatial * PATCH
    tokens = latent_frames * math.ceil(height / step) * math.ceil(width / step)
    conditioning = opts.conditioning or default_conditioning(model.task)
    encode_frames = {"text": 0, "image": 1, "video": frames}[conditioning]
    return _Geometry(width, height, frames, latent_frames, tokens, encode_frames)


def default_conditioning(task: str | None) -> str:
    """The heaviest conditioning a clip of this task gets in our renders.

    Clips continue one another and follow the camera guide (the default), whose frames the VAE
    encodes for every family; I2V/FLF2V/VACE encode every frame anyway. (TI2V following the
    camera in words only encodes one image: the estimate keeps the guide's case.)
    """
    return "video"


def _weights(model, sig: ModelSignature, opts: MemorySetup) -> dict[str, tuple[int, str]]:
    """Every component's full size in its storage dtype: {name: (bytes, note)}."""
    params = model.params
    t_dtype = opts.transformer_dtype
    out: dict[str, tuple[int, str]] = {}
    expert = _transformer_bytes(sig.transformer, params.transformer, opts) + opts.lora_bytes
    kind = "fp8 blocks, bf16 rest" if opts.fp8 else t_dtype
    if opts.lora_bytes:
        kind += f", + LoRA {gb(opts.lora_bytes)}"
    names = ["transformer", "transformer_2"][: sig.experts]
    for name in names:
        out[name] = (expert, f"{params.transformer / 1e9:.2f}e9 params, {kind}")
    dt = opts.text_encoder_dtype
    out["text_encoder"] = (params.text_encoder * DTYPE_BYTES[dt], f"UMT5, {dt}")
    out["vae"] = (params.vae * DTYPE_BYTES[opts.vae_dtype], opts.vae_dtype)
    if sig.image_encoder and params.image_encoder:
        di = opts.image_encoder_dtype
        out["image_encoder"] = (params.image_encoder * DTYPE_BYTES[di], f"CLIP, {di}")
    if opts.depth_model_params:
        dd = "float16" if opts.accelerator else "float32"
        out["depth_model"] = (opts.depth_model_params * DTYPE_BYTES[dd], f"depth model, {dd}")
    return out


def _transformer_bytes(shape: TransformerShape, params: int, opts: MemorySetup) -> int:
    if not opts.fp8:
        return params * DTYPE_BYTES[opts.transformer_dtype]
    blocks = min(params, _blocks(shape) * block_parameters(shape))
    return blocks * 1 + (params - blocks) * DTYPE_BYTES["bfloat16"]


def _resident_sizes(model, sig, sizes, opts: MemorySetup) -> dict[str, int]:
    """What each component keeps on the GPU while it runs under this placement."""
    full = {name: b for name, (b, _) in sizes.items()}
    if not opts.offload.startswith("group"):
        return full
    shape = sig.transformer
    out = dict(full)
    per_weight = 1 if opts.fp8 else DTYPE_BYTES[opts.transformer_dtype]
    block = block_parameters(shape) * per_weight
    for name in ("transformer", "transformer_2"):
        if name not in full:
            continue
        if opts.offload == "group_block":  # a LoRA's layers live in the blocks
            lora_block = opts.lora_bytes // max(1, _blocks(shape))
            non_block = max(0, full[name] - opts.lora_bytes - _blocks(shape) * block)
            out[name] = non_block + 2 * (block + lora_block)
        else:
            d = shape.hidden_size
            largest = max(6 * d * d, d * shape.ffn_dim, shape.text_dim * d)
            out[name] = 2 * largest * DTYPE_BYTES["bfloat16"]
    out["text_encoder"] = int(full["text_encoder"] * LEAF_FRACTION_TEXT)
    for name in ("vae", "image_encoder"):
        if name in full:
            out[name] = int(2 * full[name] * LEAF_FRACTION_OTHER)
    return out


def _phase_names(sig: ModelSignature, geo: _Geometry, opts: MemorySetup) -> tuple[str, ...]:
    names = ["depth"] if opts.depth_model_params else []
    names.append("text")
    if sig.image_encoder:
        names.append("image")
    if geo.encode_frames:
        names.append("encode")
    return (*names, "denoise", "decode")


def _on_gpu(phase: str, sig: ModelSignature, geo: _Geometry, opts: MemorySetup) -> list[str]:
    """Components on the GPU during `phase` (see the module doc for the rules)."""
    if not opts.accelerator:
        return []
    depth = ["depth_model"] if opts.depth_model_params else []
    return [*_wan_on_gpu(phase, sig, geo, opts), *depth]


def _wan_on_gpu(phase: str, sig: ModelSignature, geo: _Geometry, opts: MemorySetup) -> list[str]:
    """Wan's components on the GPU during `phase`; the depth pass runs between clips, after
    the previous clip's decode left the VAE there."""
    text = [] if opts.text_encoder_on_cpu else ["text_encoder"]
    clip = ["image_encoder"] if sig.image_encoder else []
    if opts.offload == "none":
        experts = ["transformer", "transformer_2"][: sig.experts]
        return [*text, *clip, *experts, "vae"]
    if opts.offload.startswith("group"):
        active = {"depth": [], "text": text, "image": clip, "encode": ["vae"], "decode": ["vae"]}
        return active.get(phase, ["transformer"])
    chain = {
        "depth": ["vae"],
        "text": text,
        "image": clip,
        "encode": ["vae", *(clip or text)],
        "denoise": ["transformer", *(["vae"] if geo.encode_frames else [])],
        "decode": ["vae"],
    }
    return chain[phase]


def _working(model, sig, vae: VaeConstants, geo: _Geometry, opts) -> dict[str, Part]:
    """Each phase's working memory (activations), with the one-line reason."""
    params = model.params
    text_scale = _scale(params.text_encoder, REFERENCE_TEXT_ENCODER)
    text_dt = DTYPE_BYTES[opts.text_encoder_dtype] / 2
    image_scale = _scale(params.image_encoder or 0, REFERENCE_IMAGE_ENCODER)
    work = {
        "text": Part(
            "working",
            int(TEXT_WORK * text_scale * text_dt),
            f"{TEXT_TOKENS} text tokens through UMT5",
        ),
        "image": Part("working", int(IMAGE_WORK * image_scale), "one image through CLIP"),
        "denoise": _denoise_work(sig, geo, opts),
        "decode": _decode_work(vae, params.vae, geo, opts),
    }
    if geo.encode_frames:
        work["encode"] = _encode_work(vae, params.vae, geo, opts)
    if opts.depth_model_params:
        work["depth"] = Part("working", DEPTH_WORK, "one frame through the depth model")
    if opts.text_encoder_on_cpu and opts.accelerator:
        work["text"] = Part("working", 0, "prompts are encoded on the CPU")
    return work


def _scale(params: int, reference: int) -> float:
    """Working sets of convolution/attention stacks grow with channel width ~ sqrt(params)."""
    return min(1.0, math.sqrt(params / reference)) if reference else 1.0


def token_bytes(shape: TransformerShape, expand_timesteps: bool) -> float:
    """Activation bytes per token of one forward in bf16 (see the module doc)."""
    d = shape.hidden_size
    per_token = max(TOKEN_ATTENTION * d, 4 * shape.ffn_dim + TOKEN_FFN_PER_D * d)
    if expand_timesteps:
        per_token += TOKEN_EXPANDED_TIMESTEPS * d
    if shape.vace_layers is not None:
        per_token += (2 * len(shape.vace_layers) + 2) * d
    return per_token


def _denoise_work(sig: ModelSignature, geo: _Geometry, opts: MemorySetup) -> Part:
    compute = "bfloat16" if opts.fp8 else opts.transformer_dtype
    per_token = token_bytes(sig.transformer, sig.expand_timesteps) * DTYPE_BYTES[compute] / 2
    note = f"{geo.tokens} tokens x {per_token / 1e3:.1f} kB ({compute} activations)"
    cache = step_cache_bytes(sig, geo.tokens, opts)
    if cache:
        note += f" + {opts.step_cache} cache {gb(cache)}"
    return Part("working", int(geo.tokens * per_token) + cache, note)


# Hidden-state tensors a step cache keeps between steps, per cache context (diffusers runs one
# per "cond" and "uncond" pass): MagCache the last residual; FirstBlockCache the first block's
# residual and the tail's.
CACHE_BUFFERS = {"none": 0, "mag": 1, "first_block": 2}
CACHE_CONTEXTS = 2  # guidance > 1 runs both passes (the worst case; distilled runs have one)


def step_cache_bytes(sig: ModelSignature, tokens: int, opts: MemorySetup) -> int:
    """What a step cache holds on the device for the whole denoise phase."""
    compute = "bfloat16" if opts.fp8 else opts.transformer_dtype
    per_tensor = tokens * sig.transformer.hidden_size * DTYPE_BYTES[compute]
    return CACHE_BUFFERS.get(opts.step_cache, 0) * CACHE_CONTEXTS * per_tensor


def _video_bytes(frames: int, width: int, height: int, dtype_bytes: int) -> int:
    return 3 * frames * width * height * dtype_bytes


def _decode_work(vae: VaeConstants, params: int, geo: _Geometry, opts: MemorySetup) -> Part:
    dt = DTYPE_BYTES[opts.vae_dtype]
    per_pixel = vae.decode_per_pixel * _scale(params, vae.reference_params) * dt / 4
    video = _video_bytes(geo.frames, geo.width, geo.height, dt)
    tiled = opts.vae_tiling and (geo.width > TILE or geo.height > TILE)
    if tiled:
        area = min(geo.width, TILE) * min(geo.height, TILE)
        total = per_pixel * area + vae.decode_tiled_video * video
        note = f"tiled decode: one {TILE}x{TILE} tile + {vae.decode_tiled_video:g} x the video"
    else:
        total = per_pixel * geo.width * geo.height + vae.decode_video * video
        note = f"untiled decode: one 4-frame chunk at {geo.width}x{geo.height} + the video twice"
    return Part("working", int(total), f"{note} ({vae.name}, {opts.vae_dtype})")


def _encode_work(vae: VaeConstants, params: int, geo: _Geometry, opts: MemorySetup) -> Part:
    dt = DTYPE_BYTES[opts.vae_dtype]
    per_pixel = vae.encode_per_pixel * _scale(params, vae.reference_params) * dt / 4
    source = _video_bytes(geo.encode_frames, geo.width, geo.height, dt)
    tiled = opts.vae_tiling and (geo.width > TILE or geo.height > TILE)
    if tiled:
        area = min(geo.width, TILE) * min(geo.height, TILE)
        total = per_pixel * area + (vae.encode_tiled_video + 1) * source
        how = f"tiled encode: one {TILE}x{TILE} tile"
    else:
        total = per_pixel * geo.width * geo.height + (vae.encode_video + 1) * source
        how = "untiled encode: one chunk at full size"
    note = f"{how} + {geo.encode_frames} input frame(s) ({vae.name}, {opts.vae_dtype})"
    return Part("working", int(total), note)


def _ram(sizes, work, phases, model, geo: _Geometry, opts: MemorySetup) -> tuple[Part, ...]:
    baseline = RAM_BASELINE_GPU if opts.accelerator else RAM_BASELINE_CPU
    parts = [Part("baseline", baseline, "Python, torch, CUDA runtime and libraries")]
    weights = sum(b for b, _ in sizes.values())
    where = "loaded through RAM; offloaded ones stay" if opts.accelerator else "all on the CPU"
    parts.append(Part("weights", weights, f"every component in its storage dtype ({where})"))
    if opts.fp8:
        # Experts are loaded and cast one at a time, before the other components.
        expert = sizes["transformer"][0]
        loading = (model.signature.experts - 1) * expert
        loading += model.params.transformer * DTYPE_BYTES["bfloat16"]
        note = "the last expert in bf16 while it is cast (experts load first, one at a time)"
        parts.append(Part("fp8 cast", max(0, loading - weights), note))
    if not opts.accelerator:
        peak = max((p.working.bytes for p in phases), default=0)
        parts.append(Part("working", peak, "the largest phase's activations, on the CPU"))
    elif opts.text_encoder_on_cpu:
        text = int(TEXT_WORK * _scale(model.params.text_encoder, REFERENCE_TEXT_ENCODER))
        parts.append(Part("text working", text, "prompt encoding on the CPU"))
    video = 2 * _video_bytes(geo.frames, geo.width, geo.height, 4)
    parts.append(Part("video", video, "decoded frames on the host (float32, twice)"))
    return tuple(parts)


def _notes(sig: ModelSignature, geo: _Geometry, opts: MemorySetup) -> tuple[str, ...]:
    notes = []
    if sig.experts == 2 and opts.offload != "none":
        notes.append("two experts: only the running one is on the GPU")
    if sig.experts == 2 and opts.offload == "none":
        notes.append("two experts: both stay on the GPU")
    if opts.fp8:
        notes.append("fp8: load and cast one expert at a time, before the other components")
    if opts.text_encoder_on_cpu:
        notes.append("text encoder on the CPU: prompts are encoded there, then moved")
    if not opts.accelerator:
        notes.append("no accelerator: everything runs in RAM")
    return tuple(notes)
