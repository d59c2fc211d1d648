"""mp4 writing with the bundled ffmpeg: sizes, frame rates, streaming, soundtracks, and keeping
every frame when encoding fails."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import wave
import weakref
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from wan.errors import RenderError, WanError
from wan.render.video import (
    VideoInfo,
    even_size,
    read_video_frames,
    read_video_info,
    write_video,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="the fake ffmpeg is a shell script")


def make_frame(index: int, height: int = 64, width: int = 64) -> np.ndarray:
    """Smooth, distinct frames (H.264 keeps them close): a gradient that shifts with index."""
    y, x = np.mgrid[0:height, 0:width]
    frame = np.empty((height, width, 3), np.uint8)
    frame[..., 0] = (x * 255 // max(width - 1, 1) + index * 8) % 256
    frame[..., 1] = y * 255 // max(height - 1, 1)
    frame[..., 2] = (40 + index * 10) % 256
    return frame


def frames(count: int, height: int = 64, width: int = 64) -> Iterator[np.ndarray]:
    for index in range(count):
        yield make_frame(index, height, width)


def ffmpeg_probe(path: Path) -> str:
    """`ffmpeg -i` prints the streams on stderr (ffprobe is not bundled)."""
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
    )
    return result.stderr


def duration(path: Path) -> float:
    hours, minutes, seconds = re.search(
        r"Duration: (\d+):(\d+):([\d.]+)", ffmpeg_probe(path)
    ).groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def make_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    samples = (np.sin(np.arange(int(seconds * rate)) * 2 * np.pi * 440 / rate) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def fake_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    script = tmp_path / "fake-ffmpeg"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(script))
    return script


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_writes_and_reads_back_a_clip(tmp_path):
    path = tmp_path / "video.mp4"
    info = write_video(frames(17), path, 16)
    assert info == VideoInfo(path, 17, 16.0, 64, 64, audio=False)
    assert read_video_info(path) == info
    assert "h264" in ffmpeg_probe(path) and "yuv420p" in ffmpeg_probe(path)
    back = list(read_video_frames(path))
    assert len(back) == 17 and back[0].shape == (64, 64, 3) and back[0].dtype == np.uint8
    for index, frame in enumerate(back):  # lossy, but close: CRF 18
        assert np.abs(frame.astype(int) - make_frame(index)).mean() < 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.mp4"]


def test_colours_survive_bt709_round_trip(tmp_path):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (40, 120, 200), (128, 64, 32)]
    frame = np.zeros((32, 16 * len(colours), 3), np.uint8)
    for i, colour in enumerate(colours):
        frame[:, i * 16 : (i + 1) * 16] = colour
    write_video([frame] * 5, tmp_path / "c.mp4", 16)
    back = next(read_video_frames(tmp_path / "c.mp4"))
    assert "bt709" in ffmpeg_probe(tmp_path / "c.mp4")
    for i, colour in enumerate(colours):
        assert np.abs(back[16, i * 16 + 8].astype(int) - colour).max() <= 4


def test_odd_size_is_padded_by_repeating_the_edge(tmp_path):
    path = tmp_path / "odd.mp4"
    info = write_video(frames(6, height=33, width=65), path, 16)
    assert (info.width, info.height, info.frames) == (66, 34, 6)
    assert "65x33" in info.warnings[0] and "66x34" in info.warnings[0]
    back_info = read_video_info(path)
    assert (back_info.frames, back_info.fps, back_info.width, back_info.height) == (6, 16, 66, 34)
    back = next(read_video_frames(path)).astype(int)
    source = make_frame(0, 33, 65).astype(int)
    assert np.abs(back[:33, :65] - source).mean() < 3
    assert np.abs(back[:, 65] - back[:, 64]).max() <= 6  # the repeated column, not black
    assert np.abs(back[33, :] - back[32, :]).max() <= 6


@pytest.mark.parametrize(
    ("width", "height", "expected"), [(64, 64, (64, 64)), (65, 33, (66, 34)), (1, 2, (2, 2))]
)
def test_even_size(width, height, expected):
    assert even_size(width, height) == expected


def test_fractional_fps(tmp_path):
    path = tmp_path / "ntsc.mp4"
    info = write_video(frames(10), path, 29.97)
    assert info.fps == 29.97
    back = read_video_info(path)
    assert back.frames == 10 and back.fps == pytest.approx(29.97, abs=0.005)
    assert "29.97 fps" in ffmpeg_probe(path)


def test_streams_a_generator_without_holding_its_frames(tmp_path):
    alive: list[weakref.ref] = []
    most = 0

    def tracked() -> Iterator[np.ndarray]:
        nonlocal most
        for index in range(40):
            gc.collect()
            most = max(most, sum(ref() is not None for ref in alive))
            frame = make_frame(index)
            alive.append(weakref.ref(frame))
            yield frame

    info = write_video(tracked(), tmp_path / "stream.mp4", 16)
    assert info.frames == 40
    assert most <= 2  # the frame being written and perhaps the one before: never all 40
    assert leftovers(tmp_path) == []  # the spool of raw frames is gone


def test_accepts_an_array_of_frames(tmp_path):
    clip = np.stack(list(frames(9)))
    assert write_video(clip, tmp_path / "a.mp4", 8).frames == 9


def test_soundtrack_is_muxed_and_never_shortens_the_video(tmp_path):
    short = make_wav(tmp_path / "short.wav", 0.4)  # the video lasts 17 / 16 = 1.06 s
    info = write_video(frames(17), tmp_path / "short.mp4", 16, soundtrack=short)
    assert info.audio and info.warnings == ()
    probe = ffmpeg_probe(tmp_path / "short.mp4")
    assert re.search(r"Stream #0:\d.*Audio: aac", probe)
    assert read_video_info(tmp_path / "short.mp4").frames == 17
    assert read_video_info(tmp_path / "short.mp4").audio

    long = make_wav(tmp_path / "long.wav", 3.0)
    info = write_video(frames(17), tmp_path / "long.mp4", 16, soundtrack=str(long))
    assert info.audio
    assert read_video_info(tmp_path / "long.mp4").frames == 17
    assert duration(tmp_path / "long.mp4") < 1.3  # cut to the video, not 3 s
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("soundtrack", "words"),
    [("missing.wav", "does not exist"), ("https://deforum.github.io/a1/A1.mp3", "not fetched")],
)
def test_unusable_soundtrack_warns_and_writes_a_silent_video(tmp_path, soundtrack, words):
    if not soundtrack.startswith("http"):
        soundtrack = str(tmp_path / soundtrack)
    info = write_video(frames(5), tmp_path / "v.mp4", 16, soundtrack=soundtrack)
    assert not info.audio and info.frames == 5
    assert len(info.warnings) == 1 and words in info.warnings[0] and soundtrack in info.warnings[0]
    assert not read_video_info(tmp_path / "v.mp4").audio


def test_soundtrack_that_is_not_audio_warns(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not audio")
    info = write_video(frames(5), tmp_path / "v.mp4", 16, soundtrack=bogus)
    assert not info.audio and "could not be added" in info.warnings[0]
    assert read_video_info(tmp_path / "v.mp4").frames == 5
    assert leftovers(tmp_path) == []


def assert_frames_kept(folder: Path, count: int, height: int = 64, width: int = 64) -> None:
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"frame_{i:06d}.png" for i in range(count)]
    for index in (0, count // 2, count - 1):  # PNG is lossless: the exact frames
        kept = np.asarray(Image.open(folder / f"frame_{index:06d}.png"))
        assert np.array_equal(kept, make_frame(index, height, width))


def test_missing_ffmpeg_keeps_every_frame_as_png(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-such-ffmpeg"))
    path = tmp_path / "out" / "video.mp4"
    with pytest.raises(RenderError) as caught:
        write_video(frames(17), path, 16)
    message = str(caught.value)
    assert "could not be started" in message and "no-such-ffmpeg" in message
    assert str(tmp_path / "out" / "video_frames") in message and "17 frames" in message
    assert_frames_kept(tmp_path / "out" / "video_frames", 17)
    assert sorted(p.name for p in path.parent.iterdir()) == ["video_frames"]


@posix_only
def test_ffmpeg_failing_at_the_end_keeps_every_streamed_frame(tmp_path, monkeypatch):
    # reads every frame, then fails: all 17 frames were consumed from the generator
    fake_ffmpeg(
        tmp_path, monkeypatch, "cat > /dev/null\necho 'Unknown encoder libx264' >&2\nexit 1"
    )
    path = tmp_path / "video.mp4"
    with pytest.raises(RenderError) as caught:
        write_video(frames(17, 33, 65), path, 16)
    assert "status 1" in str(caught.value) and "Unknown encoder libx264" in str(caught.value)
    assert_frames_kept(tmp_path / "video_frames", 17, 33, 65)  # PNGs keep the odd size
    assert not path.exists() and leftovers(tmp_path) == []


@posix_only
def test_ffmpeg_failing_at_once_keeps_every_frame(tmp_path, monkeypatch):
    # exits without reading: writing the frames (200 kB, more than a pipe holds) breaks the pipe
    fake_ffmpeg(tmp_path, monkeypatch, "echo 'boom: cannot encode' >&2\nexit 1")
    path = tmp_path / "video.mp4"
    with pytest.raises(RenderError) as caught:
        write_video(frames(17), path, 16)
    assert "boom: cannot encode" in str(caught.value)
    assert_frames_kept(tmp_path / "video_frames", 17)
    assert not path.exists() and leftovers(tmp_path) == []


@posix_only
def test_failed_encode_never_replaces_the_previous_video(tmp_path, monkeypatch):
    path = tmp_path / "video.mp4"
    write_video(frames(5), path, 16)
    before = path.read_bytes()
    (tmp_path / "video_frames").mkdir()
    (tmp_path / "video_frames" / "frame_000099.png").write_bytes(b"stale")
    fake_ffmpeg(tmp_path, monkeypatch, "cat > /dev/null\nexit 1")
    with pytest.raises(RenderError):
        write_video([make_frame(i) for i in range(3)], path, 16)  # a list is re-read
    assert path.read_bytes() == before
    assert_frames_kept(tmp_path / "video_frames", 3)  # stale frames of an older failure removed


def test_failure_without_keep_frames_writes_no_png(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-such-ffmpeg"))
    with pytest.raises(RenderError, match="encoding failed"):
        write_video(frames(3), tmp_path / "p.mp4", 16, keep_frames=False)
    assert list(tmp_path.iterdir()) == []


def test_error_in_the_frame_source_propagates_and_leaves_nothing(tmp_path):
    def broken() -> Iterator[np.ndarray]:
        yield from frames(4)
        raise KeyError("clip 3 missing")

    with pytest.raises(KeyError, match="clip 3 missing"):
        write_video(broken(), tmp_path / "v.mp4", 16)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "bad",
    [
        [],
        [np.zeros((8, 8, 3), np.float32)],
        [np.zeros((8, 8), np.uint8)],
        [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 10, 3), np.uint8)],
    ],
    ids=["empty", "float", "grey", "size-change"],
)
def test_bad_frames_are_a_bug(tmp_path, bad):
    with pytest.raises(ValueError):
        write_video(iter(bad), tmp_path / "v.mp4", 16)
    assert not (tmp_path / "v.mp4").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("fps", [0, -1, float("nan")])
def test_bad_fps(tmp_path, fps):
    with pytest.raises(ValueError, match="fps"):
        write_video(frames(2), tmp_path / "v.mp4", fps)


def test_reading_what_is_not_a_video(tmp_path):
    with pytest.raises(RenderError, match="no such file"):
        read_video_info(tmp_path / "missing.mp4")
    with pytest.raises(RenderError, match="no such file"):
        next(read_video_frames(tmp_path / "missing.mp4"))
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(WanError, match="cannot be read as a video"):
        read_video_info(text)


def test_truncated_video_reads_back_short(tmp_path):
    # what a resume check relies on: a cut file shows fewer frames, it does not pass for whole
    path = tmp_path / "cut.mp4"
    rng = np.random.default_rng(0)
    write_video([rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(30)], path, 16)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert read_video_info(path).frames < 30
    assert len(list(read_video_frames(path))) < 30


def test_written_videos_and_clips_are_readable_like_any_new_file(tmp_path):
    """Videos and clip files came out 0o600 (tempfile's mode): a web server or another user of
    a shared output folder could not read them."""
    from wan.paths import new_file_mode
    from wan.render.checkpoints import atomic_write_bytes
    from wan.render.video import write_video

    frames = np.zeros((3, 16, 16, 3), np.uint8)
    video = write_video(frames, tmp_path / "v.mp4", 8)
    atomic_write_bytes(tmp_path / "clip.json", b"{}")
    expected = new_file_mode()
    assert expected == 0o666 & ~_umask()
    for path in (video.path, tmp_path / "clip.json"):
        assert os.stat(path).st_mode & 0o777 == expected, oct(os.stat(path).st_mode)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
