"""A 3D render follows the camera guide: each clip's source gets its depth from the depth model
(tiny-depth, through from_pretrained), the guide and its mask reach the model, progress names the
depth, guide and encoding phases, and metadata.json records how each clip followed the camera."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.render.test_runner import init_image
from wan.core.deforum.settings import parse_settings
from wan.core.plan import CONTINUATION_OVERLAP, build_plan
from wan.host.base import DEPTH, GUIDE, GUIDE_ENCODING
from wan.host.standalone import StandaloneHost
from wan.models.identify import profile_for
from wan.options.render_options import parse_options
from wan.planning.plan_service import plan_payload
from wan.render import generate as generate_module
from wan.render.runner import Runner

ORBIT = {
    "animation_mode": "3D",
    "max_frames": 24,
    "fps": 16,
    "W": 64,
    "H": 64,
    "seed": 5,
    "translation_x": "0: (-3)",
    "rotation_3d_y": "0: (1.5)",
    "prompts": {"0": "a lighthouse on a cliff", "12": "a lighthouse at dusk"},
}


def render_orbit(tmp_path, monkeypatch, model="tiny-i2v", **options):
    seen, events = [], []
    original = generate_module.generate_clip
    monkeypatch.setattr(
        "wan.render.model_session.generate_clip",
        lambda m, r, **k: seen.append(r) or original(m, r, **k),
    )
    settings = parse_settings(ORBIT)
    plan = build_plan(settings, profile_for(model), seed=5, overlap=CONTINUATION_OVERLAP)
    opts = parse_options({
        "model": model, "size": "64x64", "steps": 4, "depth_model": "tiny-depth",
        "init_image": str(init_image(tmp_path)), **options,
    })  # fmt: skip
    host = StandaloneHost(output_dir=str(tmp_path / "outputs"))
    result = Runner().run(plan, opts, host, progress=events.append, run_dir=tmp_path / "run")
    metadata = json.loads((result.run_dir / "metadata.json").read_text())
    return plan, seen, [e.phase for e in events], metadata


def test_a_3d_render_follows_the_guide_with_depth(tmp_path, smoke_root, monkeypatch):
    plan, seen, phases, metadata = render_orbit(tmp_path, monkeypatch)
    assert len(plan.clips) >= 2 and len(seen) == len(plan.clips)
    for request in seen:  # the init image starts clip 1: every clip is guided
        assert request.mode == "i2v" and request.guide is not None
        assert np.array_equal(request.guide[0], request.image)
        assert request.guide_mask.shape == request.guide.shape[:3]
        assert (request.camera_weak, request.camera_strong) == pytest.approx((0.04, 0.10))
    assert not np.array_equal(seen[1].guide[-1], seen[1].guide[0])  # the camera moved
    assert phases.count(DEPTH) == len(plan.clips) and GUIDE in phases and GUIDE_ENCODING in phases
    for clip in metadata["clips"]:
        follow = clip["camera_follow"]
        assert follow["mode"] == "guide" and follow["weak"] == pytest.approx(0.04)
        assert follow["steps"] == [0, 0]  # 4 steps: 0.04 and 0.10 of them round to step 0
        assert clip["camera"]["adherence"] is not None
    assert metadata["options"]["camera"] == "guide"


def test_camera_words_renders_without_a_guide_or_depth(tmp_path, smoke_root, monkeypatch):
    _, seen, phases, metadata = render_orbit(tmp_path, monkeypatch, camera="words")
    assert all(r.guide is None for r in seen) and DEPTH not in phases
    assert all(
        c["camera_follow"] == {"mode": "words", "init_video": False} for c in metadata["clips"]
    )


def test_vace_and_first_last_frame_models_follow_the_guide(tmp_path, smoke_root, monkeypatch):
    for name in ("vace", "flf"):
        (tmp_path / name).mkdir()
    _, seen, _, metadata = render_orbit(tmp_path / "vace", monkeypatch, "tiny-vace")
    assert all(r.mode == "vace" and r.guide is not None for r in seen)
    assert all(r.vace_camera == "control" for r in seen)
    last = init_image(tmp_path)  # the user's last frame, for the last clip only
    _, seen, _, metadata = render_orbit(
        tmp_path / "flf", monkeypatch, "tiny-flf2v", last_image=str(last)
    )
    assert all(r.mode == "i2v" and r.guide is not None for r in seen)
    assert np.array_equal(seen[0].last_image, seen[0].guide[-1])  # where the camera ends
    assert not np.array_equal(seen[-1].last_image, seen[-1].guide[-1])  # the user's image
    assert metadata["options"]["last_image"]


def test_the_plan_says_how_each_clip_follows_the_camera():
    settings = parse_settings({**ORBIT, "strength_schedule": "0: (0.6)"})

    def follows(model, **options):
        profile, image = profile_for(model), options.get("init_image")
        plan = build_plan(settings, profile, seed=5, overlap=1, init_image=image)
        payload = plan_payload(plan, parse_options({"model": model, **options}))
        return [clip["camera_follow"] for clip in payload["clips"]]

    text_only = follows("tiny-t2v")
    assert text_only[0]["mode"] == "text"  # no init image: nothing to guide the first clip
    assert text_only[1]["mode"] == "guide"
    assert (text_only[1]["weak"], text_only[1]["strong"]) == pytest.approx((0.6, 0.66))
    image = follows("tiny-i2v", init_image="x.png", camera_strong=0.2)
    assert all(f["mode"] == "guide" for f in image) and image[0]["strong"] == 0.2
    assert follows("tiny-vace", init_image="x.png")[0]["describe"] == "guide: VACE control video"
    assert follows("tiny-i2v", init_image="x.png", camera="words")[1]["describe"] == "words"
    worded = follows("tiny-t2v", camera="words")[1]["describe"]
    assert worded == "words + the guide as init video"
