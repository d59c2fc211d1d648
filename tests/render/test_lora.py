"""LoRAs through diffusers' loader, with a tiny LoRA made here for the tiny T2V transformer."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from wan.errors import RenderError
from wan.render.generate import ClipRequest, generate_clip
from wan.render.loaded_model import LoadedModel
from wan.render.lora import adapter_name, load_loras, lora_file_hash

pytest.importorskip("peft", reason="diffusers loads LoRAs through peft")

CLIP = ClipRequest("t2v", "a cat sleeps on a wooden table", "", 5, 64, 64, 2, 5.0, None, 3)


@pytest.fixture(scope="module")
def folders(smoke_root: Path) -> dict[str, Path]:
    from wan.models.smoke import ensure_smoke_model

    return {m: ensure_smoke_model(m, smoke_root) for m in ("tiny-t2v", "tiny-t2v-a14b")}


@pytest.fixture(scope="module")
def tiny_lora(folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rank-4 LoRA on every attention projection, saved in diffusers' Wan LoRA format."""
    import diffusers
    import torch
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    transformer = diffusers.WanTransformer3DModel.from_pretrained(
        folders["tiny-t2v"] / "transformer"
    )
    config = LoraConfig(
        r=4,
        lora_alpha=4,
        target_modules=["to_q", "to_k", "to_v", "to_out.0"],
        init_lora_weights=False,  # random B: the adapter changes the output
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        transformer.add_adapter(config)
    folder = tmp_path_factory.mktemp("loras")
    diffusers.WanPipeline.save_lora_weights(
        folder,
        transformer_lora_layers=get_peft_model_state_dict(transformer),
        weight_name="tiny_style.safetensors",
    )
    return folder / "tiny_style.safetensors"


def _pipe(folder: Path) -> Any:
    from wan.models.detect import detect_model
    from wan.models.loader import load_pipeline

    pipe = load_pipeline(detect_model(folder), dtype="float32")
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _frames(pipe: Any) -> np.ndarray:
    return generate_clip(LoadedModel(pipe, "t2v"), CLIP).frames


def test_lora_changes_the_output_and_strength_zero_does_not(folders, tiny_lora) -> None:
    plain = _frames(_pipe(folders["tiny-t2v"]))

    pipe = _pipe(folders["tiny-t2v"])
    names = load_loras(pipe, [(tiny_lora, 1.0)], two_experts=False)
    assert names == ("lora0_tiny_style",)
    assert pipe.get_list_adapters() == {"transformer": list(names)}
    styled = _frames(pipe)
    assert not np.array_equal(styled, plain)

    pipe.set_adapters(list(names), [0.0])
    assert np.array_equal(_frames(pipe), plain)

    zero = _pipe(folders["tiny-t2v"])
    load_loras(zero, [(tiny_lora, 0.0)], two_experts=False)
    assert np.array_equal(_frames(zero), plain)


def test_two_experts_get_the_lora_on_both_at_its_strength(folders, tiny_lora) -> None:
    pipe = _pipe(folders["tiny-t2v-a14b"])
    names = load_loras(pipe, [(tiny_lora, 0.7)], two_experts=True)
    assert pipe.get_list_adapters() == {"transformer": list(names), "transformer_2": list(names)}
    for expert in (pipe.transformer, pipe.transformer_2):
        scalings = [m.scaling[names[0]] for m in expert.modules() if hasattr(m, "scaling")]
        assert scalings and all(s == pytest.approx(0.7) for s in scalings)
    model = LoadedModel(pipe, "t2v")
    assert model.v2v_pipe.transformer is pipe.transformer_2  # video-to-video sees it too
    # loading again (e.g. a second render on the same pipeline) replaces the adapter
    assert load_loras(pipe, [(tiny_lora, 0.5)], two_experts=True) == names


def test_only_existing_safetensors_files_are_read(tmp_path: Path) -> None:
    pickled = tmp_path / "style.ckpt"
    pickled.write_bytes(b"not read")
    with pytest.raises(RenderError, match=r"only \.safetensors") as info:
        load_loras(object(), [(pickled, 1.0)], two_experts=False)
    assert "style.ckpt" in str(info.value)
    missing = tmp_path / "gone.safetensors"
    with pytest.raises(RenderError, match=r"gone\.safetensors does not exist"):
        load_loras(object(), [(missing, 1.0)], two_experts=False)
    assert load_loras(object(), [], two_experts=False) == ()


# peft warns that the failed adapter left its (empty) config behind; loading still works
@pytest.mark.filterwarnings("ignore:Already found a `peft_config`:UserWarning")
def test_a_lora_for_another_model_is_refused_and_the_pipeline_kept(
    folders, tiny_lora, tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import save_file

    wrong = tmp_path / "wan14b_style.safetensors"
    save_file(
        {
            "transformer.blocks.0.attn1.to_q.lora_A.weight": torch.zeros(4, 5120),
            "transformer.blocks.0.attn1.to_q.lora_B.weight": torch.zeros(5120, 4),
        },
        wrong,
    )
    pipe = _pipe(folders["tiny-t2v"])
    with pytest.raises(RenderError, match=r"wan14b_style\.safetensors cannot be loaded") as info:
        load_loras(pipe, [(wrong, 1.0)], two_experts=False)
    assert "size mismatch" in str(info.value)
    assert load_loras(pipe, [(tiny_lora, 1.0)], two_experts=False) == ("lora0_tiny_style",)


def test_file_hash_and_adapter_names(tmp_path: Path) -> None:
    path = tmp_path / "My Style v1.2.safetensors"
    path.write_bytes(b"lora bytes" * 1000)
    assert lora_file_hash(path) == hashlib.sha256(b"lora bytes" * 1000).hexdigest()
    with pytest.raises(RenderError, match="does not exist"):
        lora_file_hash(tmp_path / "nope.safetensors")
    assert adapter_name(2, path) == "lora2_My_Style_v1_2"
    assert "." not in adapter_name(0, Path("a.b.c.safetensors"))


@pytest.mark.parametrize("kind", ["wrong width", "not a lora", "pickled"])
def test_a_lora_that_cannot_fit_is_refused_before_the_model_loads(
    folders, tmp_path: Path, monkeypatch, kind: str
) -> None:
    """It was refused only after the model had loaded (13-22 s), diffusers' size mismatch first."""
    import torch
    from safetensors.torch import save_file

    from tests.render.test_runner import SETTINGS
    from wan.core.deforum.settings import parse_settings
    from wan.core.plan import CONTINUATION_OVERLAP, build_plan
    from wan.host.standalone import StandaloneHost
    from wan.models.identify import profile_for
    from wan.options.render_options import parse_options
    from wan.render import model_session
    from wan.render.runner import Runner

    path = tmp_path / ("style.pt" if kind == "pickled" else "style.safetensors")
    if kind == "wrong width":  # a LoRA for a model 5120 wide (14B)
        save_file({"blocks.0.self_attn.q.lora_down.weight": torch.zeros(4, 5120),
                   "blocks.0.self_attn.q.lora_up.weight": torch.zeros(5120, 4)}, path)  # fmt: skip
    elif kind == "not a lora":
        save_file({"model.layers.0.weight": torch.zeros(4, 4)}, path)
    else:
        path.write_bytes(b"pickled")

    def never(*args, **kwargs):
        raise AssertionError("the model was loaded before the LoRA was checked")

    monkeypatch.setattr(model_session.ModelSession, "open", never)
    data = parse_settings(SETTINGS)
    plan = build_plan(data, profile_for("tiny-t2v"), seed=1, overlap=CONTINUATION_OVERLAP)
    options = parse_options({"model": "tiny-t2v", "size": "64x64", "steps": 2,
                             "loras": [{"path": str(path), "strength": 1.0}]})  # fmt: skip
    host = StandaloneHost(output_dir=str(tmp_path / "outputs"))
    expected = {
        "wrong width": "made for a model 5120 wide, this model is",
        "not a lora": "no LoRA weights in it",
        "pickled": r"only \.safetensors",
    }
    with pytest.raises(RenderError, match=expected[kind]):
        Runner().run(plan, options, host, run_dir=tmp_path / "run")


def test_a_lora_made_for_the_model_passes_the_check(folders, tiny_lora) -> None:
    from wan.models.detect import detect_model
    from wan.render.lora import check_lora_fits

    signature = detect_model(folders["tiny-t2v"]).signature
    check_lora_fits(tiny_lora, signature.transformer.hidden_size)
