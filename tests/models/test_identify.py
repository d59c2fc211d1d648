import json
import shutil

import pytest

from wan.errors import ModelError
from wan.models.catalog import get_entry
from wan.models.identify import profile_for
from wan.models.smoke import ensure_smoke_model


def test_ids_need_nothing_on_disk():
    assert profile_for(None).id == "Wan2.1-T2V-1.3B"
    assert profile_for("Wan-AI/Wan2.2-TI2V-5B-Diffusers").native_fps == 24
    assert profile_for("tiny-vace").task == "vace"


def test_a_folder_takes_its_catalog_profile(smoke_root):
    folder = ensure_smoke_model("tiny-ti2v", root=smoke_root)
    profile = profile_for(str(folder))
    assert profile.id == str(folder)
    assert profile.native_fps == 24 and profile.size_multiple == 32


def test_fine_tune_and_unknown_architecture(smoke_root, tmp_path):
    base = ensure_smoke_model("tiny-t2v", root=smoke_root)
    tuned = tmp_path / "tuned"
    shutil.copytree(base, tuned)
    config = json.loads((tuned / "transformer" / "config.json").read_text())
    config["num_layers"] = 7  # a deeper fine-tune: compatible with tiny-t2v, not equal
    (tuned / "transformer" / "config.json").write_text(json.dumps(config))
    profile = profile_for(str(tuned))
    assert (
        profile.task == "t2v" and profile.max_clip_frames == get_entry("tiny-t2v").max_clip_frames
    )


def test_not_a_wan_model_and_missing_paths(tmp_path):
    sd = tmp_path / "sd"
    sd.mkdir()
    (sd / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    with pytest.raises(ModelError, match="not a Wan model"):
        profile_for(str(sd))
    with pytest.raises(ModelError, match="no such model folder"):
        profile_for(str(tmp_path / "missing" / "wan.safetensors"))
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        profile_for("nope")
