import json
import os
from pathlib import Path

import pytest

from wan.errors import ModelError
from wan.models import store
from wan.models.catalog import get_entry
from wan.models.store import StoreConfig


def write_model(folder: Path, pipeline: str = "WanPipeline") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": pipeline}))
    return folder


def fake_hf_cache(root: Path, repo_id: str, commit: str = "a" * 40) -> Path:
    repo = root / ("models--" + repo_id.replace("/", "--"))
    blob = repo / "blobs" / ("b" * 64)
    blob.parent.mkdir(parents=True)
    blob.write_text(json.dumps({"_class_name": "WanPipeline"}))
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "model_index.json").symlink_to(os.path.relpath(blob, snapshot))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return snapshot


def test_models_dir_precedence(tmp_path):
    env = {"WAN_MODELS_DIR": "/env"}
    assert StoreConfig("/flag", "/setting", "/host", env=env).models_dir() == Path("/flag")
    assert StoreConfig(None, "/setting", "/host", env=env).models_dir() == Path("/env")
    assert StoreConfig(None, "/setting", "/host", env={}).models_dir() == Path("/setting")
    assert StoreConfig(None, None, "/host", env={}).models_dir() == Path("/host/models/Wan")
    assert StoreConfig(env={}).models_dir() == store.REPO_ROOT / "models" / "Wan"


def test_discover_models_dir_hf_cache_and_paths(tmp_path):
    models = tmp_path / "models"
    write_model(models / "Wan2.1-T2V-1.3B-Diffusers")
    renamed = write_model(models / "my-favourite")
    (renamed / "wan_origin.json").write_text(json.dumps({"id": "Wan2.2-TI2V-5B"}))
    write_model(models / "some-finetune")
    (models / "wan_single.safetensors").write_bytes(b"")
    (models / "notes").mkdir()
    cache = tmp_path / "hf"
    snapshot = fake_hf_cache(cache, "Wan-AI/Wan2.2-T2V-A14B-Diffusers")
    extra = write_model(tmp_path / "elsewhere")
    config = StoreConfig(str(models), hf_cache_dir=str(cache), env={})
    found = {m.path.name: m for m in store.discover(config, [extra])}
    assert found["Wan2.1-T2V-1.3B-Diffusers"].entry_id == "Wan2.1-T2V-1.3B"
    assert found["my-favourite"].entry_id == "Wan2.2-TI2V-5B"
    assert found["some-finetune"].entry_id is None
    assert found["wan_single.safetensors"].source == "models_dir"
    assert "notes" not in found
    cached = found[snapshot.name]
    assert (cached.source, cached.entry_id, cached.revision) == (
        "hf_cache",
        "Wan2.2-T2V-A14B",
        "a" * 40,
    )
    assert found["elsewhere"].source == "path"


def test_resolve_catalog_id_path_and_revision(tmp_path):
    models = tmp_path / "models"
    folder = write_model(models / "Wan2.1-T2V-1.3B")
    config = StoreConfig(str(models), hf_cache_dir=str(tmp_path / "nocache"), env={})
    assert store.resolve("Wan2.1-T2V-1.3B", config).path == folder
    assert store.resolve("wan-ai/wan2.1-t2v-1.3b-diffusers", config).path == folder
    assert store.resolve(str(folder), config).source == "path"


def test_resolve_not_installed_says_how_to_fix(tmp_path):
    config = StoreConfig(str(tmp_path / "models"), hf_cache_dir=str(tmp_path / "nocache"), env={})
    with pytest.raises(ModelError) as info:
        store.resolve("Wan2.2-TI2V-5B", config)
    message = str(info.value)
    assert "python -m wan download Wan2.2-TI2V-5B" in message
    assert "Wan-AI/Wan2.2-TI2V-5B-Diffusers" in message and str(tmp_path / "models") in message


def test_resolve_unknown_things(tmp_path):
    config = StoreConfig(str(tmp_path), hf_cache_dir=str(tmp_path / "nocache"), env={})
    with pytest.raises(ModelError, match="no such model folder"):
        store.resolve(str(tmp_path / "missing" / "model.safetensors"), config)
    with pytest.raises(ModelError):
        store.resolve("Not-A-Model", config)


def test_resolve_smoke_id(smoke_root):
    model = store.resolve("tiny-t2v", StoreConfig(env={}))
    assert model.source == "smoke" and (model.path / "model_index.json").is_file()


def test_download_request_is_only_what_the_pipeline_needs(tmp_path):
    calls = []

    def fake_snapshot(**request):
        calls.append(request)
        write_model(Path(request["local_dir"]))
        return request["local_dir"]

    config = StoreConfig(str(tmp_path / "models"), env={})
    path = store.download("Wan2.1-T2V-1.3B@abc123", config, snapshot=fake_snapshot)
    request = calls[0]
    assert request["repo_id"] == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    assert request["revision"] == "abc123"
    assert Path(request["local_dir"]) == tmp_path / "models" / "Wan2.1-T2V-1.3B-Diffusers" == path
    patterns = request["allow_patterns"]
    assert "model_index.json" in patterns and "*/*.safetensors" in patterns
    assert not any(
        p.endswith((".bin", ".pth", ".pt", "*")) and "tokenizer" not in p for p in patterns
    )
    assert json.loads((path / "wan_origin.json").read_text())["id"] == "Wan2.1-T2V-1.3B"
    # the downloaded folder is found again by its catalog id
    again = StoreConfig(str(tmp_path / "models"), hf_cache_dir=str(tmp_path / "c"), env={})
    assert store.resolve("Wan2.1-T2V-1.3B", again).path == path


def test_download_variant_and_enhancer_patterns():
    patterns = store.allow_patterns(get_entry("Wan2.1-T2V-1.3B"), "fp16")
    assert "*/*.fp16*.safetensors" in patterns and "*/*.safetensors.index.fp16.json" in patterns
    assert "model_index.json" in patterns
    enhancer = store.allow_patterns(get_entry("Qwen2.5-0.5B-Instruct"))
    assert "config.json" in enhancer and "*.safetensors" in enhancer


def test_download_progress_is_forwarded(tmp_path):
    seen = []

    def fake_snapshot(**request):
        bar = request["tqdm_class"](total=10, desc="model.safetensors")
        bar.update(4)
        bar.update(6)
        bar.close()
        return str(write_model(Path(request["local_dir"])))

    config = StoreConfig(str(tmp_path), env={})
    store.download("Wan2.1-T2V-1.3B", config, lambda *a: seen.append(a), snapshot=fake_snapshot)
    assert seen == [("model.safetensors", 4, 10), ("model.safetensors", 10, 10)]


def test_download_offline_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    config = StoreConfig(str(tmp_path / "models"), env={})
    with pytest.raises(ModelError) as info:
        store.download("Wan2.2-TI2V-5B", config)
    message = str(info.value)
    assert "Wan-AI/Wan2.2-TI2V-5B-Diffusers" in message
    assert "model_index.json" in message and str(tmp_path / "models") in message


def test_smoke_models_are_not_downloaded(tmp_path):
    with pytest.raises(ModelError, match="built locally"):
        store.download("tiny-t2v", StoreConfig(str(tmp_path), env={}), snapshot=lambda **r: "")


def test_an_incomplete_download_is_not_done(tmp_path):
    def partial_snapshot(**request):
        folder = write_model(Path(request["local_dir"]))
        index = {
            "_class_name": "WanPipeline",
            "transformer": ["diffusers", "WanTransformer3DModel"],
        }
        (folder / "model_index.json").write_text(json.dumps(index))
        return str(folder)

    config = StoreConfig(str(tmp_path), env={})
    with pytest.raises(ModelError, match="not complete") as info:
        store.download("Wan2.1-T2V-1.3B", config, snapshot=partial_snapshot)
    assert "it resumes" in str(info.value) and "transformer" in str(info.value)
