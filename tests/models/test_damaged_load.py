"""A truncated weights file of any component is a one-line error naming the file and its fix:
before a render is queued when `--model` is the folder, and at load otherwise, never the
loader's traceback (issue 12 item 5: the text encoder raised safetensors' own error)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.jobs.conftest import settings
from wan.cli.main import main
from wan.errors import ModelError
from wan.host.standalone import StandaloneHost
from wan.jobs import JobQueue
from wan.models.detect import detect_model
from wan.models.smoke import SMOKE_MARKER, ensure_smoke_model

WEIGHTS = {
    "text_encoder": "text_encoder/model.safetensors",
    "transformer": "transformer/diffusion_pytorch_model.safetensors",
    "vae": "vae/diffusion_pytorch_model.safetensors",
}


def damaged_copy(tmp_path: Path, smoke_root: Path, component: str) -> Path:
    """tiny-t2v with the last 100 bytes of one component's weights cut off."""
    folder = tmp_path / f"broken-{component}"
    shutil.copytree(ensure_smoke_model("tiny-t2v", root=smoke_root), folder)
    (folder / SMOKE_MARKER).unlink()  # a model folder of the user's, not the smoke cache
    weights = folder / WEIGHTS[component]
    size = weights.stat().st_size
    with weights.open("r+b") as handle:
        handle.truncate(size - 100)
    return folder


@pytest.mark.parametrize("component", WEIGHTS)
def test_render_refuses_a_truncated_component_before_queueing(
    tmp_path, smoke_root, capsys, monkeypatch, component
):
    data_dir = tmp_path / "data"
    monkeypatch.setenv("WAN_DATA_DIR", str(data_dir))
    folder = damaged_copy(tmp_path, smoke_root, component)
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings()))
    out = tmp_path / "run"
    code = main(["render", str(path), "--model", str(folder), "--size", "64x64", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: {folder} cannot be loaded: {WEIGHTS[component]}: is truncated")
    assert "download this file again" in err and f"python -m wan check {folder}" in err
    assert "Traceback" not in err and not out.exists()
    queue = JobQueue(StandaloneHost(), db_path=data_dir / "jobs.sqlite3", autostart=False)
    try:
        assert queue.list() == []
    finally:
        queue.close()


def test_loading_a_truncated_text_encoder_names_the_file(tmp_path, smoke_root):
    """The guard behind every load (`check --load`, a catalog id resolved by the store)."""
    from wan.models.loader import load_pipeline

    folder = damaged_copy(tmp_path, smoke_root, "text_encoder")
    with pytest.raises(ModelError, match=r"text_encoder/model.safetensors: is truncated") as error:
        load_pipeline(detect_model(folder), dtype="float32")
    assert str(error.value).startswith(f"{folder} cannot be loaded: ")
