"""Clip checkpoints and run state: atomic, verified, contiguous, never pickled."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wan.errors import CheckpointError, RenderError
from wan.render import checkpoints
from wan.render.checkpoints import (
    clip_paths,
    clip_preview,
    compare_hashes,
    finished_clips,
    load_clip,
    read_run_state,
    save_clip,
    write_run_state,
)
from wan.render.video import read_video_info


def clip(seed: int, count: int = 5, height: int = 16, width: int = 24) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, height, width, 3), dtype=np.uint8)


def hidden(run_dir: Path) -> list[str]:
    return sorted(p.name for p in run_dir.rglob(".*"))


def test_save_and_load_round_trip(tmp_path):
    frames = clip(1)
    meta = {"seed": 7, "prompt": "a cat", "seconds": 1.5, "notes": ["x"]}
    npz = save_clip(tmp_path, 0, frames, meta)
    assert npz == tmp_path / "clips" / "clip_0000.npz"
    loaded, loaded_meta = load_clip(tmp_path, 0)
    assert loaded.dtype == np.uint8 and np.array_equal(loaded, frames)  # lossless
    assert loaded_meta == meta
    record = json.loads((tmp_path / "clips" / "clip_0000.json").read_text())
    assert record["frames"] == 5 and record["shape"] == [5, 16, 24, 3]
    assert len(record["sha256"]) == 64 and record["npz_bytes"] == npz.stat().st_size
    assert finished_clips(tmp_path) == ([0], [])
    assert hidden(tmp_path) == []  # no temporary files left


def test_meta_json_cannot_hold_is_kept_as_text(tmp_path):
    save_clip(tmp_path, 0, clip(1), {"lora": Path("/loras/x.safetensors")})
    assert load_clip(tmp_path, 0)[1] == {"lora": "/loras/x.safetensors"}


def test_crash_between_npz_and_json_leaves_the_clip_unfinished(tmp_path):
    save_clip(tmp_path, 0, clip(0), {})
    save_clip(tmp_path, 1, clip(1), {})
    np.savez(clip_paths(tmp_path, 2)[0], frames=clip(2))  # the run died before the JSON
    scan = finished_clips(tmp_path)
    assert scan.finished == [0, 1]
    assert len(scan.warnings) == 1 and "clip_0002.npz" in scan.warnings[0]
    assert "interrupted" in scan.warnings[0]
    with pytest.raises(CheckpointError, match="not finished"):
        load_clip(tmp_path, 2)


def test_crash_while_replacing_a_clip_never_mixes_old_and_new(tmp_path, monkeypatch):
    save_clip(tmp_path, 0, clip(0), {"take": 1})
    real = checkpoints.atomic_write_bytes

    def crash_on_record(path, data):
        if str(path).endswith(".json"):
            raise SystemExit("power cut")  # not an OSError: nothing handles it
        real(path, data)

    monkeypatch.setattr(checkpoints, "atomic_write_bytes", crash_on_record)
    with pytest.raises(SystemExit):
        save_clip(tmp_path, 0, clip(9), {"take": 2})
    assert finished_clips(tmp_path).finished == []  # unfinished, not the old meta on new frames
    monkeypatch.undo()
    save_clip(tmp_path, 0, clip(9), {"take": 2})
    frames, meta = load_clip(tmp_path, 0)
    assert np.array_equal(frames, clip(9)) and meta == {"take": 2}


def test_full_disk_is_a_render_error_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    save_clip(tmp_path, 0, clip(0), {})

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints.np, "savez", no_space)
    with pytest.raises(RenderError, match="No space left on device") as caught:
        save_clip(tmp_path, 1, clip(1), {})
    assert "clip 1" in str(caught.value) and "resume" in str(caught.value)
    assert finished_clips(tmp_path) == ([0], [])
    assert hidden(tmp_path) == []


def test_stale_temporary_files_are_removed_when_saving(tmp_path):
    (tmp_path / "clips").mkdir()
    stale = tmp_path / "clips" / ".clip_0000.npz.abc123.tmp"
    stale.write_bytes(b"half a clip")
    save_clip(tmp_path, 0, clip(0), {})
    assert not stale.exists()


def test_truncated_npz_is_detected(tmp_path):
    save_clip(tmp_path, 0, clip(0), {})
    save_clip(tmp_path, 1, clip(1), {})
    npz = clip_paths(tmp_path, 1)[0]
    npz.write_bytes(npz.read_bytes()[:100])
    for verify in (True, False):  # the size check alone catches truncation
        scan = finished_clips(tmp_path, verify=verify)
        assert scan.finished == [0] and "clip 1" in scan.warnings[0]
    with pytest.raises(CheckpointError, match=r"clip_0001\.npz"):
        load_clip(tmp_path, 1)


def test_checksum_mismatch_is_detected(tmp_path):
    save_clip(tmp_path, 0, clip(0), {})
    npz = clip_paths(tmp_path, 0)[0]
    data = bytearray(npz.read_bytes())
    data[-200] ^= 0xFF  # same size, one byte flipped
    npz.write_bytes(bytes(data))
    scan = finished_clips(tmp_path)
    assert scan.finished == [] and "checksum" in scan.warnings[0]
    assert finished_clips(tmp_path, verify=False).finished == [0]  # sizes only: a quick look
    with pytest.raises(CheckpointError, match="checksum") as caught:
        load_clip(tmp_path, 0)
    assert "rendered again" in str(caught.value)


def test_broken_or_foreign_record_is_detected(tmp_path):
    save_clip(tmp_path, 0, clip(0), {})
    save_clip(tmp_path, 1, clip(1), {})
    record = clip_paths(tmp_path, 1)[1]
    record.write_text(clip_paths(tmp_path, 0)[1].read_text())  # clip 0's record under clip 1
    scan = finished_clips(tmp_path)
    assert scan.finished == [0] and "for clip 0" in scan.warnings[0]
    record.write_text('{"index": 1, "sha')
    assert "cannot be read" in finished_clips(tmp_path).warnings[0]
    record.write_text('{"index": 1}')
    assert "incomplete" in finished_clips(tmp_path).warnings[0]


def test_finished_clips_are_contiguous_from_zero(tmp_path):
    assert finished_clips(tmp_path) == ([], [])  # no clips folder yet
    for index in (0, 1, 3, 4):
        save_clip(tmp_path, index, clip(index), {})
    scan = finished_clips(tmp_path)
    assert scan.finished == [0, 1]
    assert len(scan.warnings) == 1 and "clips 3, 4" in scan.warnings[0]
    assert "rendered again" in scan.warnings[0]


def test_loading_never_unpickles(tmp_path):
    # An npz holding a pickled object array, with a record that matches it byte for byte:
    # only allow_pickle=False stands between this file and arbitrary code.
    npz, record_path = clip_paths(tmp_path, 0)
    npz.parent.mkdir(parents=True)
    objects = np.empty(2, dtype=object)
    objects[:] = [{"a": 1}, [2]]
    np.savez(npz, frames=objects)
    digest, size = checkpoints._file_digest(npz)
    record = {"index": 0, "shape": [2], "npz_bytes": size, "sha256": digest, "meta": {}}
    record_path.write_text(json.dumps(record))
    assert finished_clips(tmp_path).finished == [0]  # the files agree...
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_clip(tmp_path, 0)  # ...but the content is refused


@pytest.mark.parametrize(
    "frames",
    [np.zeros((2, 4, 4, 3), np.float32), np.zeros((4, 4, 3), np.uint8), np.zeros((0, 4, 4, 3))],
    ids=["float", "3d", "empty"],
)
def test_save_refuses_what_is_not_a_clip(tmp_path, frames):
    with pytest.raises(ValueError, match="clip 0"):
        save_clip(tmp_path, 0, frames, {})


def test_clip_preview(tmp_path):
    save_clip(tmp_path, 0, clip(0, count=9, height=32, width=48), {"fps": 16})
    preview = clip_preview(tmp_path, 0)
    assert preview == tmp_path / "clips" / "clip_0000.mp4"
    info = read_video_info(preview)
    assert (info.frames, info.fps, info.width, info.height) == (9, 16.0, 48, 32)
    save_clip(tmp_path, 1, clip(1), {})
    with pytest.raises(ValueError, match="fps"):
        clip_preview(tmp_path, 1)
    assert read_video_info(clip_preview(tmp_path, 1, fps=24)).fps == 24


def test_run_state_round_trip(tmp_path):
    assert read_run_state(tmp_path) is None
    state = {"status": "running", "hash": "abc", "hash_parts": {"plan": "1", "model": "2"}}
    assert write_run_state(tmp_path, state) == tmp_path / "run.json"
    assert read_run_state(tmp_path) == state
    write_run_state(tmp_path, {**state, "status": "done"})
    assert read_run_state(tmp_path)["status"] == "done"
    assert hidden(tmp_path) == []


def test_run_state_status_is_checked(tmp_path):
    with pytest.raises(ValueError, match="running, cancelled, failed, done"):
        write_run_state(tmp_path, {"status": "finished"})
    assert not (tmp_path / "run.json").exists()


@pytest.mark.parametrize("content", ['{"status": "runn', "[1, 2]", "\udcff"], ids=str)
def test_damaged_run_state_is_a_render_error(tmp_path, content):
    (tmp_path / "run.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(RenderError, match=r"run\.json") as caught:
        read_run_state(tmp_path)
    assert "new folder" in str(caught.value)


def test_compare_hashes():
    old = {"plan": "a", "options": "b", "model": "c", "loras": "d"}
    assert compare_hashes(old, dict(old)) == []
    new = {"plan": "a", "options": "B", "model": "c", "prompts": "p"}
    assert compare_hashes(old, new) == ["options", "prompts", "loras"]
    assert compare_hashes({}, {"model_revision": "r"}) == ["model_revision"]
