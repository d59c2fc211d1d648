"""The Outputs tab reads run folders: gallery items, metadata, and loading a run back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from tests.ui.conftest import SHORT
from wan.render.video import write_video
from wan.ui.options_form import FIELDS
from wan.ui.outputs import rendered_runs, run_request, thumbnail
from wan.ui.outputs_tab import GENERATE_TAB, gallery_items, load_values, show_run
from wan.ui.sources import SOURCE_JSON

OPTIONS = {"model": "tiny-t2v", "size": "64x64", "steps": 3, "memory": {"fp8": False}}


def make_run(output_root: Path, name: str, mtime: float, with_metadata: bool = True) -> Path:
    folder = output_root / "wan-videos" / name
    folder.mkdir(parents=True)
    frames = np.zeros((5, 64, 64, 3), np.uint8)
    frames[:, :, :, 0] = 180
    write_video(frames, folder / "video.mp4", 16)
    os.utime(folder / "video.mp4", (mtime, mtime))
    (folder / "deforum_settings.json").write_text(json.dumps(SHORT))
    (folder / "plan.json").write_text(json.dumps({"model": {"id": "tiny-ti2v"}, "size": [64, 64]}))
    if with_metadata:
        metadata = {
            "model": {"catalog_id": "tiny-t2v", "path": "/smoke/tiny-t2v"},
            "size": [64, 64],
            "video": {"path": str(folder / "video.mp4"), "frames": 5, "fps": 16},
            "options": OPTIONS,
            "clips": [{"prompt_used": "a red lighthouse"}],
            "timings": {"load": 1.0},
        }
        (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


def test_runs_are_listed_newest_first_with_captions(tmp_path):
    old = make_run(tmp_path, "20260101-000000-aaaa", 1_000)
    new = make_run(tmp_path, "20260102-000000-bbbb", 2_000)
    (tmp_path / "wan-videos" / "unfinished").mkdir()
    runs = rendered_runs(tmp_path)
    assert [r.folder for r in runs] == [new, old]
    assert runs[0].caption == "20260102-000000-bbbb · tiny-t2v · 64x64 · 5 frames at 16 fps"
    summary = runs[0].summary()
    assert summary["prompts"] == ["a red lighthouse"] and summary["options"] == OPTIONS
    assert rendered_runs(tmp_path / "nothing") == []


def test_the_thumbnail_is_the_first_frame(tmp_path):
    make_run(tmp_path, "run", 1_000)
    run = rendered_runs(tmp_path)[0]
    from PIL import Image

    first = thumbnail(run, tmp_path / "thumbs")
    assert first is not None and first == thumbnail(run, tmp_path / "thumbs")
    pixel = np.asarray(Image.open(first))[32, 32]
    assert abs(int(pixel[0]) - 180) < 12 and pixel[1] < 20


def test_a_run_loads_back_with_its_settings_and_options(tmp_path, host):
    folder = make_run(Path(host.output_root()), "run", 1_000)
    settings, options = run_request(folder)
    assert settings == SHORT and options == OPTIONS
    items, folders = gallery_items(host.output_root())
    assert len(items) == 1 and folders == [str(folder)]
    assert Path(items[0][0]).is_file() and items[0][1].startswith("run · tiny-t2v")

    class Clicked:
        index = 0

    video, summary, chosen = show_run(folders, Clicked())
    assert video == str(folder / "video.mp4") and chosen == str(folder) and summary["size"]
    loaded = load_values(host, chosen)
    assert loaded[0] == SOURCE_JSON and json.loads(loaded[1]) == SHORT
    values = dict(zip(FIELDS, loaded[2:-2], strict=True))
    assert values["model"].startswith("tiny-t2v · ") and values["steps"] == 3
    assert values["size"]["value"] == "64x64" and values["size"]["choices"] == ["auto", "64x64"]
    assert values["fp8"] == "off" and values["offload"] == "auto"
    assert "Loaded the settings and options of `run`" in loaded[-2]
    assert loaded[-1]["selected"] == GENERATE_TAB


def test_a_run_without_metadata_takes_its_options_from_the_plan(tmp_path):
    folder = make_run(tmp_path, "run", 1_000, with_metadata=False)
    assert run_request(folder)[1] == {"model": "tiny-ti2v", "size": "64x64"}


def test_loading_nothing_or_a_broken_run_is_a_message(tmp_path, host):
    assert load_values(host, None)[-2].startswith("**Error:** pick a video")
    (tmp_path / "empty").mkdir()
    broken = load_values(host, str(tmp_path / "empty"))
    assert "no deforum_settings.json" in broken[-2]
    assert "selected" not in broken[-1]  # an error stays on the Outputs tab


def test_a_picked_run_shows_its_camera_adherence(tmp_path):
    """Each clip's figure as a table row and adherence.png (issue 14 item 5); a run without
    them says so instead of failing."""
    from wan.ui.outputs_tab import show_adherence

    folder = make_run(tmp_path, "run", 1_000)
    metadata = json.loads((folder / "metadata.json").read_text())
    figure = {"error_px": 0.42, "motion_px": 3.1, "fit_px": 0.0, "score": 0.86, "frames": 15,
              "excluded": 1, "worst_frame": 3, "worst_error_px": 1.0, "bias": {}}  # fmt: skip
    flat = {**figure, "error_px": None, "score": None, "frames": 0, "excluded": 16}
    metadata["clips"] = [
        {"index": 0, "camera": {"requested": [], "measured": [], "adherence": figure}},
        {"index": 1, "camera": {"requested": [], "measured": [], "adherence": flat}},
    ]
    (folder / "metadata.json").write_text(json.dumps(metadata))

    class Clicked:
        index = 0

    plot, text = show_adherence([str(folder)], Clicked())
    assert plot is None and text.startswith("| clip |")  # no picture, the figures still shown
    (folder / "adherence.png").write_bytes(b"\x89PNG")
    plot, text = show_adherence([str(folder)], Clicked())
    assert plot == str(folder / "adherence.png")
    assert "| 0 | 0.42 | 3.10 | 0.86 | 15 of 16 |" in text
    assert "| 1 | not measurable | 3.10 | - | 0 of 16 |" in text
    run = rendered_runs(tmp_path)[0]
    assert [f["clip"] for f in run.summary()["camera_adherence"]] == [0, 1]
    bare = make_run(tmp_path, "bare", 2_000)
    assert show_adherence([str(bare)], Clicked()) == (
        None,
        "No camera adherence recorded for this run.",
    )
