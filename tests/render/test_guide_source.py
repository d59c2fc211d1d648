"""A Deforum run's own frames and a Video Input video as the clips' guide (issue 16 items 7, 8):
`render RUN --init-frame N` starts an image model from the run's frame N, `--guide-from run`
re-renders the run with its frames as every clip's guide (mask all ones, the first clip too), a
Video Input animation renders as video-to-video from its local video, and bad input exits 2
with one line naming what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import jobs_in
from wan.cli.main import main
from wan.core.deforum.settings import load_settings
from wan.errors import SettingsError
from wan.planning.guide_preview import write_guide_preview
from wan.planning.plan_service import plan_for, plan_payload
from wan.render import generate as generate_module
from wan.render.guide_source import (
    extracted_frames,
    first_frame,
    model_frame_items,
    run_source,
    source_guide,
    video_source,
)
from wan.render.video import read_video_frames, write_video

# Deforum's timestring: <timestring>_settings.txt and the frames <timestring>_<f:09>.png
STAMP = "20240101120000"
FRAMES = 5  # Deforum frames of the run (one 5-frame clip at tiny models' 16 fps)
TINY = ("--size", "64x64", "--steps", "2", "--quiet")
SETTINGS = {
    "animation_mode": "2D",
    "max_frames": FRAMES,
    "fps": 16,
    "W": 64,
    "H": 48,
    "seed": 11,
    "zoom": "0: (1.04)",
    "prompts": {"0": "a harbour at dawn"},
    "positive_prompts": "",
    "negative_prompts": "",
}


def frame(index: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """A frame unlike its neighbours: a bar that moves, a tint that changes."""
    width, height = size
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = 12 * index
    image[:, 3 * index : 3 * index + 12, 1] = 255
    return image


def run_folder(root: Path, frames: int = FRAMES) -> Path:
    folder = root / f"Deforum_{STAMP}"
    folder.mkdir()
    (folder / f"{STAMP}_settings.txt").write_text(json.dumps(SETTINGS))
    for index in range(frames):
        Image.fromarray(frame(index)).save(folder / f"{STAMP}_{index:09}.png")
    (folder / f"{STAMP}_depth_000000000.png").write_bytes(b"not a frame")  # not counted
    return folder


def video_settings(root: Path, **extra) -> Path:
    path = root / "input.mp4"
    write_video(iter([frame(i) for i in range(20)]), path, 16)
    settings = {**SETTINGS, "animation_mode": "Video Input", "video_init_path": "input.mp4"}
    file = root / "video-input.json"
    file.write_text(json.dumps({**settings, **extra}))
    return file


def spy(monkeypatch) -> list:
    seen: list = []
    original = generate_module.generate_clip
    monkeypatch.setattr(
        "wan.render.model_session.generate_clip",
        lambda m, r, **k: seen.append(r) or original(m, r, **k),
    )
    return seen


# ----------------------------------------------------------------------------------------------
# Renders with the smoke models


def test_init_frame_starts_an_image_model_from_the_runs_frame(
    tmp_path, data_dir, smoke_root, monkeypatch, capsys
):
    folder, seen = run_folder(tmp_path), spy(monkeypatch)
    out = tmp_path / "out"
    argv = ["render", str(folder), "--model", "tiny-i2v", "--init-frame", "3", *TINY]
    assert main([*argv, "--out", str(out)]) == 0, capsys.readouterr().err
    decoded = np.asarray(Image.fromarray(frame(3)).resize((64, 64), Image.LANCZOS))
    assert seen[0].mode == "i2v" and np.array_equal(seen[0].image, decoded)
    plan = json.loads((out / "plan.json").read_text())
    assert plan["clips"][0]["conditioning"] == "init_image"
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["options"]["init_frame"] == 3


def test_a_rerender_guides_every_clip_with_the_runs_frames(
    tmp_path, data_dir, smoke_root, monkeypatch, capsys
):
    folder, seen = run_folder(tmp_path), spy(monkeypatch)
    out = tmp_path / "out"
    argv = ["render", str(folder), "--model", "tiny-t2v", "--guide-from", "run", *TINY]
    assert main([*argv, "--out", str(out)]) == 0, capsys.readouterr().err
    request = seen[0]  # the first clip is guided too: from the run's first frame
    assert request.mode == "t2v" and request.guide is not None
    assert request.guide.shape == (FRAMES, 64, 64, 3) and request.guide_mask.min() == 1
    source = run_source(load_settings(folder), "test")
    expected = source_guide(source, 0, FRAMES, 16, 16, (64, 64)).frames
    assert np.array_equal(request.guide, expected)
    assert not np.array_equal(request.guide[0], request.guide[-1])  # the run's motion
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["clips"][0]["camera_follow"]["mode"] == "guide"


def test_a_video_input_animation_renders_from_its_video(
    tmp_path, data_dir, smoke_root, monkeypatch, capsys
):
    file, seen = video_settings(tmp_path, extract_nth_frame=2), spy(monkeypatch)
    out = tmp_path / "out"
    assert main(["render", str(file), "--model", "tiny-t2v", *TINY, "--out", str(out)]) == 0
    request = seen[0]
    assert request.guide is not None and request.guide_mask.min() == 1
    video = list(read_video_frames(tmp_path / "input.mp4"))
    # Deforum frame f is the f-th extracted frame: every 2nd frame of the video
    red = [int(request.guide[m, :, :, 0].mean()) for m in range(FRAMES)]
    assert red == pytest.approx([int(video[2 * m][..., 0].mean()) for m in range(FRAMES)], abs=3)
    plan = json.loads((out / "plan.json").read_text())
    assert plan["mode"] == "Video Input" and plan["clips"][0]["motion"]["phrase"] == ""


# ----------------------------------------------------------------------------------------------
# Bad input: exit 2, one line, nothing queued


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("no-such-frame", "--init-frame 42: the run in {folder} has no frame 42; it has 5 "
                          "frame(s), numbered 0 to 4"),
        ("not-a-run", "is not a Deforum run folder: it has no numbered frames"),
        ("missing-video", "setting 'video_init_path': nowhere.mp4 does not exist"),
        ("url-video", "setting 'video_init_path' is a URL ('https://example.com/v.mp4'); it is "
                      "not downloaded"),
        ("extract-range", "extract_to_frame 3 is not after extract_from_frame 5"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_naming_what_is_wrong(tmp_path, data_dir, capsys, case, words):
    folder = run_folder(tmp_path)
    model = ["--model", "tiny-t2v"]
    if case == "no-such-frame":
        argv = [str(folder), "--model", "tiny-i2v", "--init-frame", "42"]
    elif case == "not-a-run":
        plain = tmp_path / "plain.json"
        plain.write_text(json.dumps(SETTINGS))
        argv = [str(plain), *model, "--guide-from", "run"]
    else:
        extra = {
            "missing-video": {"video_init_path": "nowhere.mp4"},
            "url-video": {"video_init_path": "https://example.com/v.mp4"},
            "extract-range": {"extract_from_frame": 5, "extract_to_frame": 3},
        }[case]
        argv = [str(video_settings(tmp_path, **extra)), *model]
    assert main(["render", *argv, *TINY]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words.format(folder=folder) in err, err
    assert jobs_in(data_dir) == []


# ----------------------------------------------------------------------------------------------
# The parts


def test_frames_are_extracted_as_deforum_extracts_them():
    # from the from-frame on, indices that are multiples of n (counted from the video's start)
    assert extracted_frames(10, 2, 7, 3, "v") == (3, 6)
    assert extracted_frames(10, 0, -1, 1, "v") == tuple(range(10))
    assert extracted_frames(10, 0, -1, 0, "v") == tuple(range(10))  # n below 1 is 1
    with pytest.raises(SettingsError, match="skips more frames than the video has"):
        extracted_frames(4, 0, -1, 4, "v")


def test_model_frames_map_to_deforum_frames_clipped_to_the_source(tmp_path):
    source = run_source(load_settings(run_folder(tmp_path, frames=5)), "test")
    # 8 fps Deforum frames at a 16 fps model: each frame twice, then the last one held
    assert model_frame_items(source, 0, 13, 8, 16) == [0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 4, 4]
    assert first_frame(source, (32, 24)).shape == (24, 32, 3)


def test_the_plan_of_a_video_input_file_has_no_camera_and_follows_the_video(tmp_path):
    settings = load_settings(video_settings(tmp_path))
    plan = plan_for(settings, {"model": "tiny-t2v"})
    payload = plan_payload(plan)
    clip = payload["clips"][0]
    assert clip["motion"]["axes"] == {} and clip["camera_follow"]["mode"] == "guide"
    assert "the input video" in clip["camera_follow"]["describe"]
    assert video_source(settings).count == 20


def test_the_camera_preview_of_a_video_input_file_shows_its_video(tmp_path):
    settings = load_settings(video_settings(tmp_path))
    preview = write_guide_preview(settings, {"model": "tiny-t2v"}, tmp_path / "guide.mp4")
    assert preview.frames > 1 and preview.kept == 1.0  # every pixel comes from the video
    shown = np.stack(list(read_video_frames(preview.video)))
    assert shown[1].mean() != shown[0].mean()  # the video's frames, not a still
