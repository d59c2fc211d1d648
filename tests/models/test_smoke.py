"""The tiny smoke models: real Diffusers layout, loaded like real models, deterministic, cached."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from wan.errors import ModelError, WanError
from wan.models import smoke, smoke_qwen
from wan.models.smoke import (
    SMOKE_IDS,
    SMOKE_MARKER,
    WAN_SMOKE_IDS,
    ensure_smoke_model,
    is_smoke_folder,
    is_smoke_id,
    smoke_dir,
)

WAN_IDS = WAN_SMOKE_IDS
PIPELINES = {
    "tiny-t2v": "WanPipeline",
    "tiny-t2v-a14b": "WanPipeline",
    "tiny-i2v": "WanImageToVideoPipeline",
    "tiny-i2v-a14b": "WanImageToVideoPipeline",
    "tiny-ti2v": "WanPipeline",
    "tiny-vace": "WanVACEPipeline",
    "tiny-flf2v": "WanImageToVideoPipeline",
}
BOUNDARY = {"tiny-t2v-a14b": 0.875, "tiny-i2v-a14b": 0.9}
SIZE, FRAMES, STEPS = 64, 5, 2


def _image(color: tuple[int, int, int] = (200, 80, 40)) -> Image.Image:
    return Image.new("RGB", (SIZE, SIZE), color)


def _inputs(model_id: str) -> dict[str, Any]:
    """The extra inputs each architecture needs besides the prompt."""
    if model_id in ("tiny-i2v", "tiny-i2v-a14b"):
        return {"image": _image()}
    if model_id == "tiny-flf2v":  # its image position embedding needs both images
        return {"image": _image(), "last_image": _image((40, 80, 200))}
    if model_id == "tiny-vace":
        video = [_image((i * 40, 100, 200)) for i in range(FRAMES)]
        mask = [Image.new("L", (SIZE, SIZE), 0 if i == 0 else 255) for i in range(FRAMES)]
        return {"video": video, "mask": mask}
    return {}


def _generate(pipe: Any, **inputs: Any) -> np.ndarray:
    pipe.set_progress_bar_config(disable=True)
    out = pipe(
        prompt="a red fox runs through the snow",
        negative_prompt="blurry",
        height=SIZE,
        width=SIZE,
        num_frames=FRAMES,
        num_inference_steps=STEPS,
        output_type="np",
        generator=torch.Generator().manual_seed(0),
        **inputs,
    )
    return np.asarray(out.frames)


@pytest.mark.parametrize("model_id", WAN_IDS)
def test_wan_smoke_model_loads_and_generates(model_id: str, smoke_root: Path) -> None:
    from diffusers import DiffusionPipeline

    folder = ensure_smoke_model(model_id, root=smoke_root)
    assert folder == smoke_root / model_id
    assert is_smoke_folder(folder)
    marker = json.loads((folder / SMOKE_MARKER).read_text())
    assert marker["id"] == model_id and "noise" in marker["note"]
    assert (folder / "model_index.json").is_file()
    assert (folder / "transformer" / "diffusion_pytorch_model.safetensors").is_file()

    pipe = DiffusionPipeline.from_pretrained(folder)
    assert type(pipe).__name__ == PIPELINES[model_id]
    assert (pipe.transformer_2 is not None) == (model_id in BOUNDARY)
    assert pipe.config.boundary_ratio == BOUNDARY.get(model_id)

    frames = _generate(pipe, **_inputs(model_id))
    assert frames.shape == (1, FRAMES, SIZE, SIZE, 3)
    assert np.isfinite(frames).all()


def test_i2v_has_clip_image_encoder(smoke_root: Path) -> None:
    from diffusers import DiffusionPipeline
    from transformers import CLIPImageProcessor, CLIPVisionModel

    pipe = DiffusionPipeline.from_pretrained(ensure_smoke_model("tiny-i2v", root=smoke_root))
    assert isinstance(pipe.image_encoder, CLIPVisionModel)
    assert isinstance(pipe.image_processor, CLIPImageProcessor)
    config = pipe.transformer.config
    assert config.in_channels == 36
    assert config.image_dim == pipe.image_encoder.config.hidden_size
    assert config.added_kv_proj_dim == config.num_attention_heads * config.attention_head_dim


def test_ti2v_text_and_image_modes(smoke_root: Path) -> None:
    from diffusers import WanImageToVideoPipeline

    folder = ensure_smoke_model("tiny-ti2v", root=smoke_root)
    pipe = WanImageToVideoPipeline.from_pretrained(folder)
    assert pipe.config.expand_timesteps is True
    assert pipe.vae.config.z_dim == 48
    assert pipe.transformer.config.in_channels == 48
    frames = _generate(pipe, image=_image())
    assert frames.shape == (1, FRAMES, SIZE, SIZE, 3)


def test_qwen_chat_model(smoke_root: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = ensure_smoke_model("tiny-qwen", root=smoke_root)
    assert is_smoke_folder(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert type(model).__name__ == "Qwen2ForCausalLM"
    assert 50_000 < sum(p.numel() for p in model.parameters()) < 200_000

    messages = [
        {"role": "system", "content": "Rewrite the prompt."},
        {"role": "user", "content": "a fox in the snow"},
    ]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == (
        "<|im_start|>system\nRewrite the prompt.<|im_end|>\n"
        "<|im_start|>user\na fox in the snow<|im_end|>\n<|im_start|>assistant\n"
    )
    inputs = tokenizer(text, return_tensors="pt")
    assert tokenizer.decode(inputs.input_ids[0]) == text  # byte-level BPE round-trips
    out = model.generate(**inputs, max_new_tokens=5, do_sample=False)
    assert (
        out.shape[0] == 1
        and inputs.input_ids.shape[1] < out.shape[1] <= inputs.input_ids.shape[1] + 5
    )
    # Built to answer one sentence (weights by construction, see wan.models.smoke_qwen), then stop.
    out = model.generate(**inputs, max_new_tokens=64, do_sample=False)
    answer = out[0, inputs.input_ids.shape[1] :]
    assert answer[-1] == tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert tokenizer.decode(answer, skip_special_tokens=True) == smoke_qwen.QWEN_ANSWER


def _latent_grid(folder: Path, width: int, height: int, frames: int) -> tuple[int, int, int]:
    """The transformer's patch grid (frames, height, width) for a video of that size."""
    vae = json.loads((folder / "vae" / "config.json").read_text())
    transformer = json.loads((folder / "transformer" / "config.json").read_text())
    spatial = vae.get("scale_factor_spatial") or 2 ** len(vae["temperal_downsample"])
    p_t, p_h, p_w = transformer["patch_size"]
    latent_frames = (frames - 1) // 4 + 1
    return latent_frames // p_t, height // spatial // p_h, width // spatial // p_w


@pytest.mark.parametrize("model_id", WAN_IDS)
def test_rope_covers_720p(model_id: str, smoke_root: Path) -> None:
    folder = ensure_smoke_model(model_id, root=smoke_root)
    config = json.loads((folder / "transformer" / "config.json").read_text())
    for width, height in ((1280, 720), (720, 1280)):
        assert config["rope_max_seq_len"] >= max(_latent_grid(folder, width, height, 121))


def test_rope_runs_on_a_720p_grid(smoke_root: Path) -> None:
    """The position embedding (not the whole model) accepts a 1280x720, 81-frame latent."""
    from diffusers import WanTransformer3DModel

    folder = ensure_smoke_model("tiny-t2v", root=smoke_root)
    transformer = WanTransformer3DModel.from_pretrained(folder / "transformer")
    cos, _ = transformer.rope(torch.empty(1, 1, 21, 90, 160))
    assert cos.shape[1] == 21 * 45 * 80


def test_ensure_is_idempotent(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="wan.models.smoke"):
        folder = ensure_smoke_model("tiny-t2v", root=tmp_path)
    assert "noise" in caplog.text
    stamp = (folder / SMOKE_MARKER).stat().st_mtime_ns
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="wan.models.smoke"):
        assert ensure_smoke_model("tiny-t2v", root=tmp_path) == folder
    assert "building" not in caplog.text
    assert (folder / SMOKE_MARKER).stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-t2v"]  # no temp folders left


@pytest.mark.parametrize(
    ("model_id", "files"),
    [
        (
            "tiny-t2v-a14b",
            [
                "transformer/diffusion_pytorch_model.safetensors",
                "transformer_2/diffusion_pytorch_model.safetensors",
                "text_encoder/model.safetensors",
                "tokenizer/tokenizer.json",
            ],
        ),
        ("tiny-qwen", ["model.safetensors", "tokenizer.json"]),
    ],
)
def test_builds_are_deterministic(model_id: str, files: list[str], tmp_path: Path) -> None:
    a = ensure_smoke_model(model_id, root=tmp_path / "a")
    b = ensure_smoke_model(model_id, root=tmp_path / "b")
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    if model_id == "tiny-t2v-a14b":  # the two experts are different networks
        first, second = files[0], files[1]
        assert (a / first).read_bytes() != (a / second).read_bytes()


def test_outdated_version_is_rebuilt(tmp_path: Path) -> None:
    folder = ensure_smoke_model("tiny-vace", root=tmp_path)
    marker = folder / SMOKE_MARKER
    marker.write_text(json.dumps({"id": "tiny-vace", "version": -1, "note": "old"}))
    assert ensure_smoke_model("tiny-vace", root=tmp_path) == folder
    assert json.loads(marker.read_text())["version"] == smoke.SMOKE_VERSION
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-vace"]


def test_foreign_folder_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "tiny-t2v").mkdir()
    (tmp_path / "tiny-t2v" / "mine.txt").write_text("keep")
    with pytest.raises(ModelError, match="not a smoke model"):
        ensure_smoke_model("tiny-t2v", root=tmp_path)
    assert (tmp_path / "tiny-t2v" / "mine.txt").read_text() == "keep"


def test_a_folder_built_meanwhile_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process finishing first wins; our own build is discarded, nothing is left over."""
    real_build = smoke.build_smoke_model
    stamps: list[int] = []

    def racing_build(model_id: str, folder: Path) -> None:
        real_build(model_id, folder)
        if not stamps:  # the other process builds and installs while we are still busy
            stamps.append(0)
            monkeypatch.setattr(smoke, "build_smoke_model", real_build)
            other = ensure_smoke_model(model_id, root=tmp_path)
            stamps[0] = (other / SMOKE_MARKER).stat().st_mtime_ns

    monkeypatch.setattr(smoke, "build_smoke_model", racing_build)
    folder = ensure_smoke_model("tiny-i2v-a14b", root=tmp_path)
    assert is_smoke_folder(folder)
    assert stamps[0] and (folder / SMOKE_MARKER).stat().st_mtime_ns == stamps[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-i2v-a14b"]


def test_concurrent_builders(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        folders = list(pool.map(lambda _: ensure_smoke_model("tiny-t2v", root=tmp_path), range(3)))
    assert len(set(folders)) == 1 and is_smoke_folder(folders[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-t2v"]


def test_unknown_id_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        ensure_smoke_model("tiny-nope", root=tmp_path)
    message = str(info.value)
    assert "tiny-nope" in message and all(i in message for i in SMOKE_IDS)
    assert isinstance(info.value, WanError)
    assert not any(tmp_path.iterdir())


def test_ids_and_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(is_smoke_id(i) for i in SMOKE_IDS)
    assert is_smoke_id(" Tiny-T2V ") and not is_smoke_id("Wan2.1-T2V-1.3B")
    monkeypatch.setenv("WAN_SMOKE_DIR", str(tmp_path))
    assert smoke_dir() == tmp_path
    monkeypatch.delenv("WAN_SMOKE_DIR")
    assert smoke_dir() == Path.home() / ".cache" / "wan-deforum" / "smoke"
    assert not is_smoke_folder(tmp_path)


def test_env_dir_is_the_default_root(smoke_root: Path) -> None:
    assert smoke_dir() == smoke_root
    assert ensure_smoke_model("tiny-qwen") == smoke_root / "tiny-qwen"
