"""The depth model as a model: its catalog entry, tiny-depth built and loaded through the real
path (`AutoModelForDepthEstimation.from_pretrained` on a folder), found, downloaded, checked and
refused like the other models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from wan.errors import ModelError
from wan.models import smoke, store
from wan.models.catalog import DEFAULT_DEPTH_MODEL, depth_entries, get_entry
from wan.models.depth_folder import check_depth_folder, looks_like_depth_folder
from wan.models.depth_model import resolve_depth_model
from wan.models.store import StoreConfig

REPO = "depth-anything/Depth-Anything-V2-Small-hf"


@pytest.fixture(scope="module")
def tiny_depth(smoke_root: Path) -> Path:
    return smoke.ensure_smoke_model("tiny-depth", smoke_root)


def _offline(tmp_path: Path) -> StoreConfig:
    """A machine with nothing installed: empty models folder, empty Hugging Face cache."""
    return StoreConfig(str(tmp_path / "models"), hf_cache_dir=str(tmp_path / "hf"), env={})


def test_the_catalog_s_depth_models():
    real = get_entry(DEFAULT_DEPTH_MODEL)
    assert (real.kind, real.repo, real.smoke) == ("depth", REPO, False)
    # exact: DepthAnythingForDepthEstimation built from the repo's config on the meta device
    assert real.params.depth_model == 24_785_089
    assert get_entry(REPO) is real and get_entry("depth-anything-v2-small-hf") is real
    assert {e.id for e in depth_entries()} == {DEFAULT_DEPTH_MODEL, "tiny-depth"}
    assert real.to_dict()["params"] == {"depth_model": 24_785_089}
    with pytest.raises(ModelError, match="is a depth model, not a video model"):
        real.profile()
    patterns = store.allow_patterns(real)
    assert patterns == list(store.DEPTH_FILES) and "preprocessor_config.json" in patterns
    assert not any(p.endswith((".bin", ".pt", ".pth")) for p in patterns)


def test_tiny_depth_is_built_in_the_transformers_layout_and_loads_like_the_real_model(tiny_depth):
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    names = {p.name for p in tiny_depth.iterdir()}
    assert {"config.json", "preprocessor_config.json", "model.safetensors"} <= names
    assert not any(n.endswith((".bin", ".pt")) for n in names)
    model = AutoModelForDepthEstimation.from_pretrained(tiny_depth, use_safetensors=True)
    processor = AutoImageProcessor.from_pretrained(tiny_depth)
    assert type(model).__name__ == "DepthAnythingForDepthEstimation"
    assert type(processor).__name__ == "DPTImageProcessor"
    count = sum(p.numel() for p in model.parameters())
    assert count == get_entry("tiny-depth").params.depth_model
    assert looks_like_depth_folder(tiny_depth)
    info = check_depth_folder(tiny_depth)
    assert info.architecture == "DepthAnythingForDepthEstimation" and info.weights_bytes > 0


def test_a_depth_model_is_found_by_id_folder_or_smoke_id(tiny_depth, tmp_path):
    config = _offline(tmp_path)
    assert resolve_depth_model("tiny-depth", config).path == tiny_depth
    assert resolve_depth_model(str(tiny_depth), config).path == tiny_depth
    # a copy in the models folder under the repo's name is the catalog model
    shutil.copytree(tiny_depth, tmp_path / "models" / "Depth-Anything-V2-Small-hf")
    found = resolve_depth_model(None, config)
    assert found.entry is not None and found.entry.id == DEFAULT_DEPTH_MODEL
    assert found.params == 24_785_089


def test_offline_and_not_installed_names_the_repo_and_the_folder(tmp_path):
    with pytest.raises(ModelError) as info:
        resolve_depth_model(None, _offline(tmp_path))
    message = str(info.value)
    assert f"{DEFAULT_DEPTH_MODEL} is not installed" in message and REPO in message
    assert str(tmp_path / "models" / "Depth-Anything-V2-Small-hf") in message
    assert f"python -m wan download {DEFAULT_DEPTH_MODEL}" in message
    with pytest.raises(ModelError, match="not in the Hugging Face cache"):
        resolve_depth_model("someone/some-depth-model", _offline(tmp_path))


def test_the_download_fetches_only_a_depth_model_s_files_and_checks_them(tiny_depth, tmp_path):
    calls = []

    def fake_snapshot(**request):
        calls.append(request)
        shutil.copytree(tiny_depth, request["local_dir"], dirs_exist_ok=True)
        return request["local_dir"]

    config = _offline(tmp_path)
    path = store.download(DEFAULT_DEPTH_MODEL, config, snapshot=fake_snapshot)
    assert calls[0]["repo_id"] == REPO and calls[0]["allow_patterns"] == list(store.DEPTH_FILES)
    assert json.loads((path / store.ORIGIN_FILE).read_text())["id"] == DEFAULT_DEPTH_MODEL
    assert resolve_depth_model(DEFAULT_DEPTH_MODEL, config).path == path

    def broken_snapshot(**request):
        Path(request["local_dir"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(tiny_depth / "config.json", request["local_dir"])
        return request["local_dir"]

    other = StoreConfig(str(tmp_path / "other"), env={})
    with pytest.raises(ModelError, match=r"preprocessor_config\.json"):
        store.download(DEFAULT_DEPTH_MODEL, other, snapshot=broken_snapshot)


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("diffusers", "is a diffusers pipeline (a video model), not a depth model"),
        ("no-config", "has no config.json: it is not a depth model folder"),
        ("chat-model", "names Qwen2ForCausalLM, not a depth estimation model"),
        ("no-processor", "has no preprocessor_config.json"),
        ("pickle-only", "has no *.safetensors weights (it holds pytorch_model.bin"),
        ("truncated", "is truncated"),
        ("file", "is a single file"),
    ],
)
def test_a_folder_that_is_no_usable_depth_model_is_refused_naming_why(
    tiny_depth, tmp_path, damage, says
):
    folder = tmp_path / "model"
    shutil.copytree(tiny_depth, folder)
    weights = folder / "model.safetensors"
    if damage == "diffusers":
        (folder / "model_index.json").write_text("{}")
    elif damage == "no-config":
        (folder / "config.json").unlink()
    elif damage == "chat-model":
        (folder / "config.json").write_text(json.dumps({"architectures": ["Qwen2ForCausalLM"]}))
    elif damage == "no-processor":
        (folder / "preprocessor_config.json").unlink()
    elif damage == "pickle-only":
        weights.rename(folder / "pytorch_model.bin")
    elif damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:-100])
    elif damage == "file":
        folder = weights
    with pytest.raises(ModelError) as info:
        check_depth_folder(folder)
    assert says in str(info.value)


def test_a_video_or_prompt_model_is_no_depth_model(tmp_path):
    with pytest.raises(ModelError, match="tiny-qwen is a prompt model, not a depth model"):
        resolve_depth_model("tiny-qwen", _offline(tmp_path))
    with pytest.raises(ModelError, match="is a video model, not a depth model"):
        resolve_depth_model("Wan2.1-T2V-1.3B", _offline(tmp_path))


def test_check_and_models_report_depth_models(tiny_depth, tmp_path, capsys):
    from wan.cli.main import main

    assert main(["check", "tiny-depth", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["ok"] and said["kind"] == "depth" and said["smoke"]
    assert said["architecture"] == "DepthAnythingForDepthEstimation"
    models = str(tmp_path / "models")
    assert main(["check", DEFAULT_DEPTH_MODEL, "--models-dir", models]) == 2
    assert REPO in capsys.readouterr().err
    assert main(["models", "--json", "--models-dir", models]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)["catalog"]}
    assert rows[DEFAULT_DEPTH_MODEL]["kind"] == "depth" and not rows[DEFAULT_DEPTH_MODEL]["fit"]
