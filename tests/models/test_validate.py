"""Validation of hand-made folders: complete, broken in each way a download breaks, pickled
weights, and checksums recorded by huggingface_hub (HF cache blobs and local_dir metadata)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from wan.models.validate import Problem, ValidationReport, file_hash, validate_model

REPO = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
SHARDS = (
    "diffusion_pytorch_model-00001-of-00002.safetensors",
    "diffusion_pytorch_model-00002-of-00002.safetensors",
)
FILES = 11  # model_index, 2 scheduler/tokenizer configs, 3 configs, shard index, 4 weights


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def write_tensors(path: Path, names: list[str], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({n: rng.standard_normal((4, 8)).astype(np.float32) for n in names}, str(path))


def make_model(root: Path) -> Path:
    """A complete Diffusers folder: sharded transformer, single-file vae and text encoder."""
    write_json(
        root / "model_index.json",
        {
            "_class_name": "WanPipeline",
            "scheduler": ["diffusers", "UniPCMultistepScheduler"],
            "text_encoder": ["transformers", "UMT5EncoderModel"],
            "tokenizer": ["transformers", "T5TokenizerFast"],
            "transformer": ["diffusers", "WanTransformer3DModel"],
            "transformer_2": [None, None],
            "vae": ["diffusers", "AutoencoderKLWan"],
        },
    )
    write_json(root / "scheduler" / "scheduler_config.json", {"flow_shift": 3.0})
    write_json(root / "tokenizer" / "tokenizer_config.json", {})
    for name in ("transformer", "vae", "text_encoder"):
        write_json(root / name / "config.json", {"_class_name": name})
    weight_map = {"a.weight": SHARDS[0], "b.weight": SHARDS[0], "c.weight": SHARDS[1]}
    write_json(
        root / "transformer" / "diffusion_pytorch_model.safetensors.index.json",
        {"metadata": {"total_size": 384}, "weight_map": weight_map},
    )
    write_tensors(root / "transformer" / SHARDS[0], ["a.weight", "b.weight"])
    write_tensors(root / "transformer" / SHARDS[1], ["c.weight"], seed=1)
    write_tensors(root / "vae" / "diffusion_pytorch_model.safetensors", ["vae.w"])
    write_tensors(root / "text_encoder" / "model.safetensors", ["shared.weight"])
    return root


def only(report: ValidationReport) -> Problem:
    assert len(report.problems) == 1, report.summary()
    return report.problems[0]


def test_a_complete_folder_is_ok(tmp_path: Path) -> None:
    report = validate_model(make_model(tmp_path / "m"))
    assert report.ok, report.summary()
    assert report.files_checked == FILES
    assert report.checksums_recorded == 0
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] and data["problems"] == []
    assert "OK" in report.summary()


def test_missing_component_folder_and_config(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    shutil.rmtree(root / "vae")
    problem = only(validate_model(root))
    assert (problem.component, problem.file) == ("vae", "vae/")
    assert "AutoencoderKLWan" in problem.what and "download" in problem.fix

    root = make_model(tmp_path / "m2")
    (root / "text_encoder" / "config.json").unlink()
    problem = only(validate_model(root))
    assert (problem.file, problem.what) == ("text_encoder/config.json", "is missing")

    root = make_model(tmp_path / "m3")
    (root / "scheduler" / "scheduler_config.json").write_text("{oops")
    assert "not readable JSON" in only(validate_model(root)).what


def test_missing_model_index_and_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert "model_index.json is missing" in only(validate_model(tmp_path / "empty")).what
    assert "does not exist" in only(validate_model(tmp_path / "nowhere")).what


def test_missing_shard(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    (root / "transformer" / SHARDS[1]).unlink()
    problem = only(validate_model(root))
    assert problem.component == "transformer"
    assert problem.file == f"transformer/{SHARDS[1]}"
    assert "listed in diffusion_pytorch_model.safetensors.index.json is missing" in problem.what
    assert "download" in problem.fix


def test_truncated_and_oversized_shards(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    shard = root / "transformer" / SHARDS[0]
    shard.write_bytes(shard.read_bytes()[:-10])
    problem = only(validate_model(root))
    assert problem.file == f"transformer/{SHARDS[0]}" and "is truncated" in problem.what

    root = make_model(tmp_path / "m2")
    shard = root / "transformer" / SHARDS[1]
    shard.write_bytes(shard.read_bytes() + b"junk")
    assert "4 more than its header" in only(validate_model(root)).what


def test_corrupt_header(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    vae = root / "vae" / "diffusion_pytorch_model.safetensors"
    data = bytearray(vae.read_bytes())
    data[8:12] = b"\xff\xfe{{"
    vae.write_bytes(bytes(data))
    problem = only(validate_model(root))
    assert problem.component == "vae" and "not valid JSON" in problem.what
    assert "download" in problem.fix


def test_shard_from_another_version(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    write_tensors(root / "transformer" / SHARDS[1], ["renamed.weight"])
    problem = only(validate_model(root))
    assert "lacks 1 tensors" in problem.what and "c.weight" in problem.what


def test_no_weights(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    (root / "text_encoder" / "model.safetensors").unlink()
    problem = only(validate_model(root))
    assert (problem.component, problem.what) == (
        "text_encoder",
        "has no weights (no .safetensors file)",
    )


class _Tripwire:
    """Unpickling this creates a marker file: proof that validation never unpickles."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def test_pickled_weights_are_refused_unless_allowed_and_never_opened(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    (root / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    marker = tmp_path / "unpickled"
    (root / "vae" / "diffusion_pytorch_model.bin").write_bytes(pickle.dumps(_Tripwire(marker)))

    problem = only(validate_model(root))
    assert problem.file == "vae/diffusion_pytorch_model.bin"
    assert "pickle" in problem.what and "allow_unsafe_weights" in problem.fix

    allowed = validate_model(root, allow_unsafe_weights=True, verify_checksums=True)
    assert allowed.ok, allowed.summary()
    assert any("allowed by allow_unsafe_weights" in note for note in allowed.notes)
    assert not marker.exists()


def test_stray_pickles_beside_safetensors_are_ignored(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    (root / "vae" / "diffusion_pytorch_model.bin").write_bytes(b"\x80\x04N.")
    report = validate_model(root)
    assert report.ok and any("ignored" in note for note in report.notes)


def test_a_single_safetensors_file(tmp_path: Path) -> None:
    path = tmp_path / "wan.safetensors"
    write_tensors(path, ["patch_embedding.weight"])
    assert validate_model(path).ok
    path.write_bytes(path.read_bytes()[:-1])
    assert "truncated" in only(validate_model(path)).what
    ckpt = tmp_path / "wan.ckpt"
    ckpt.write_bytes(b"x")
    assert "not a .safetensors file" in only(validate_model(ckpt)).what


# ----------------------------------------------------------------------------------------------
# Checksums: the HF cache (blob names are hashes) and local_dir metadata


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def make_hf_cache(root: Path, source: Path, wrong: str | None = None) -> Path:
    """Move `source`'s files into an HF cache layout: snapshot symlinks -> blobs/<hash>."""
    repo = root / "models--Wan-AI--Wan2.1-T2V-1.3B-Diffusers"
    snapshot = repo / "snapshots" / ("0" * 40)
    (repo / "blobs").mkdir(parents=True)
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = file.relative_to(source).as_posix()
        data = file.read_bytes()
        lfs = file.suffix == ".safetensors"
        name = hashlib.sha256(data).hexdigest() if lfs else git_sha1(data)
        if relative == wrong:
            name = hashlib.sha256(b"something else").hexdigest()
        (repo / "blobs" / name).write_bytes(data)
        link = snapshot / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(repo / "blobs" / name, link.parent))
    return snapshot


def test_hf_cache_checksums(tmp_path: Path) -> None:
    snapshot = make_hf_cache(tmp_path / "hub", make_model(tmp_path / "src"))
    quick = validate_model(snapshot)
    assert quick.ok and quick.checksums_recorded == FILES and quick.checksums_verified == 0
    assert any("verify_checksums=True" in note for note in quick.notes)
    full = validate_model(snapshot, verify_checksums=True)
    assert full.ok, full.summary()
    assert full.checksums_verified == FILES


def test_hf_cache_blob_that_is_not_its_hash(tmp_path: Path) -> None:
    bad = f"transformer/{SHARDS[1]}"
    snapshot = make_hf_cache(tmp_path / "hub", make_model(tmp_path / "src"), wrong=bad)
    assert validate_model(snapshot).ok  # sizes and headers are fine; hashing is opt-in
    problem = only(validate_model(snapshot, verify_checksums=True))
    assert (problem.component, problem.file) == ("transformer", bad)
    assert "sha256 is" in problem.what and "huggingface_hub recorded" in problem.what
    assert REPO in problem.fix


def write_local_dir_metadata(root: Path, relative: str, etag: str, when: float) -> None:
    metadata = root / ".cache" / "huggingface" / "download" / f"{relative}.metadata"
    metadata.parent.mkdir(parents=True, exist_ok=True)
    metadata.write_text(f"{'1' * 40}\n{etag}\n{when}\n")


def test_local_dir_metadata(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    later = time.time() + 10
    shard = f"transformer/{SHARDS[0]}"
    write_local_dir_metadata(root, shard, file_hash(root / shard, "sha256"), later)
    config = root / "transformer" / "config.json"
    write_local_dir_metadata(root, "transformer/config.json", git_sha1(config.read_bytes()), later)
    report = validate_model(root, verify_checksums=True)
    assert report.ok, report.summary()
    assert (report.checksums_recorded, report.checksums_verified) == (2, 2)
    assert any("no checksum recorded" in note for note in report.notes)
    # a file inside the local_dir, validated on its own, still finds the metadata
    single = validate_model(root / shard, verify_checksums=True)
    assert single.ok and single.checksums_verified == 1

    write_local_dir_metadata(root, shard, "f" * 64, time.time() - 3600)
    problem = only(validate_model(root, verify_checksums=True))
    assert problem.file == shard and "modified after the download" in problem.what


def test_summary_lists_problems_with_fixes(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    (root / "transformer" / SHARDS[1]).unlink()
    shutil.rmtree(root / "vae")
    report = validate_model(root)
    assert not report.ok and len(report.problems) == 2
    text = report.summary()
    assert "2 problem(s)" in text and f"transformer/{SHARDS[1]}" in text and "Fix:" in text


@pytest.mark.parametrize("verify", [False, True])
def test_validation_is_fast_and_reads_no_weights(tmp_path: Path, verify: bool) -> None:
    root = make_model(tmp_path / "m")
    start = time.perf_counter()
    validate_model(root, verify_checksums=verify)
    assert time.perf_counter() - start < 0.5
