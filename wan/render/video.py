"""mp4 writing and reading with imageio-ffmpeg's bundled ffmpeg.

`write_video` streams uint8 RGB frames (H, W, 3) into an H.264 yuv420p mp4 without holding them:
- odd widths/heights are padded to even by repeating the last column/row (yuv420p needs even
  sizes). Padding rather than cropping keeps every rendered pixel; one repeated edge line is
  invisible, a lost one may cut detail at the border;
- the RGB -> YUV conversion uses BT.709 and the file is tagged so, so players agree on colours;
- fractional frame rates (29.97) are passed to ffmpeg as exact fractions;
- the file is written under a temporary name beside the target and renamed when complete: a
  crash never leaves a half-written `video.mp4`;
- a soundtrack (a local file) is muxed in afterwards; the audio is cut or padded with silence to
  the video's length, never the other way round, so no frame is lost. A URL or a missing file is
  not fetched: the video is written silent and the returned info carries a warning;
- if encoding fails, no frame is lost: they are written as PNG files into
  `<path without suffix>_frames/` and `RenderError` says why and where they are.

The writer is our own `subprocess` call of `imageio_ffmpeg.get_ffmpeg_exe()` rather than
`imageio_ffmpeg.write_frames`, because that helper neither reports ffmpeg's exit status nor
captures its error output, and only offers a 1-10 quality scale instead of x264's CRF.
Reading uses `imageio_ffmpeg.read_frames` and `count_frames_and_secs`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO

import imageio_ffmpeg
import numpy as np
from PIL import Image

from wan.errors import RenderError
from wan.paths import new_file_mode

log = logging.getLogger(__name__)

DEFAULT_CRF = 18  # x264 constant rate factor: 18 is visually lossless, 23 is x264's default
AUDIO_BITRATE = "192k"
STDERR_TAIL_LINES = 12  # lines of ffmpeg's error output quoted in messages

# BT.709 conversion and tags: without them ffmpeg converts with BT.601 and leaves the stream
# untagged, and players guess (differently) which matrix to undo.
_COLOUR_FILTER = (
    "scale=out_color_matrix=bt709:out_range=tv,"
    "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
)
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_POPEN_FLAGS = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    frames: int
    fps: float
    width: int  # as encoded (even)
    height: int
    audio: bool
    warnings: tuple[str, ...] = ()

    @property
    def seconds(self) -> float:
        return self.frames / self.fps if self.fps else 0.0


class _EncodingFailed(Exception):
    """Internal: ffmpeg could not produce the file; the message says why."""


def even_size(width: int, height: int) -> tuple[int, int]:
    """The smallest even width and height that hold (width, height): H.264 yuv420p needs them."""
    return width + width % 2, height + height % 2


def ffmpeg_exe() -> str:
    """imageio-ffmpeg's ffmpeg (or the one IMAGEIO_FFMPEG_EXE names)."""
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise _EncodingFailed(f"no ffmpeg found ({exc})") from None


def write_video(
    frames: Iterable[np.ndarray],
    path: str | Path,
    fps: float,
    soundtrack: str | Path | None = None,
    crf: int = DEFAULT_CRF,
    keep_frames: bool = True,
) -> VideoInfo:
    """Stream `frames` (uint8 RGB, all the same size) into an H.264 mp4 at `path`.

    With `keep_frames`, frames from a one-shot iterator are also spooled raw to a temporary file
    beside the video while encoding (deleted on success), so that a failing ffmpeg loses none;
    a list or array is simply read again. `keep_frames=False` is for previews of frames that are
    kept elsewhere.
    """
    path = Path(path)
    fps = _check_fps(fps)
    if not 0 <= crf <= 51:
        raise ValueError(f"crf {crf}: x264 takes 0 (lossless) to 51")
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise ValueError(f"{path}: no frames to write")
    shape = _check_frame(first, None, 0)
    width, height = even_size(shape[1], shape[0])
    warnings: list[str] = []
    if (width, height) != (shape[1], shape[0]):
        warnings.append(
            f"{shape[1]}x{shape[0]} is odd-sized: padded to {width}x{height} by repeating the "
            "edge (H.264 needs even sizes)"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"cannot create the folder for {path}: {exc.strerror or exc}") from None

    reiterable = isinstance(frames, (Sequence, np.ndarray))
    remove_leftovers(path)
    encoded = _temporary_beside(path, ".part")
    spool: _Spool | None = None
    written = 0
    audio = False
    try:
        try:
            if keep_frames and not reiterable:
                spool = _Spool(path, shape)
                spool.add(first)
            with _Encoder(encoded, (width, height), fps, crf) as encoder:
                frame: np.ndarray | None = first
                while frame is not None:
                    encoder.write(_pad_even(frame))
                    written += 1
                    frame = next(iterator, None)
                    if frame is not None:
                        _check_frame(frame, shape, written)
                        if spool is not None:
                            spool.add(frame)
                encoder.finish()
        except _EncodingFailed as failure:
            if not keep_frames:
                raise RenderError(f"{path}: encoding failed: {failure}") from None
            rest: Iterator[np.ndarray] = (
                iter(frames) if spool is None else itertools.chain(spool.frames(), iterator)
            )
            raise _kept_as_png(path, failure, rest, shape) from None
        finally:
            if spool is not None:
                spool.remove()
        if soundtrack is not None and str(soundtrack).strip():
            audio = _add_soundtrack(encoded, soundtrack, warnings)
        _publish(encoded, path)
    except BaseException:
        with contextlib.suppress(OSError):
            encoded.unlink()
        raise
    for warning in warnings:
        log.warning("%s: %s", path.name, warning)
    log.info("wrote %s: %d frames at %g fps, %dx%d", path, written, fps, width, height)
    return VideoInfo(path, written, float(fps), width, height, audio, tuple(warnings))


def read_video_info(path: str | Path) -> VideoInfo:
    """Frame count, fps, size and audio of an existing video, read back with ffmpeg."""
    path = Path(path)
    meta = _read_meta(path)
    try:
        count, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc) from None
    width, height = meta["size"]
    return VideoInfo(path, int(count), float(meta["fps"]), width, height, "audio_codec" in meta)


def read_video_frames(path: str | Path) -> Iterator[np.ndarray]:
    """The frames of a video as uint8 RGB arrays (H, W, 3), one at a time."""
    path = Path(path)
    if not path.is_file():
        raise _unreadable(path, "no such file")
    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        width, height = next(reader)["size"]
        for data in reader:
            yield np.frombuffer(data, np.uint8).reshape(height, width, 3).copy()
    except _READ_ERRORS as exc:  # e.g. a truncated file
        raise _unreadable(path, exc) from None
    finally:
        reader.close()


# imageio-ffmpeg parses ffmpeg's log and reports unreadable files with assorted exceptions (a
# file without a video stream fails while parsing, with IndexError).
_READ_ERRORS = (RuntimeError, OSError, IndexError, ValueError, AttributeError)


def _read_meta(path: Path) -> dict:
    if not path.is_file():
        raise _unreadable(path, "no such file")
    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        return next(reader)
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc) from None
    finally:
        reader.close()


def _unreadable(path: Path, why: object) -> RenderError:
    first_line = str(why).strip().splitlines()[0] if str(why).strip() else type(why).__name__
    return RenderError(f"{path}: cannot be read as a video ({first_line}); check the file")


def _check_fps(fps: float) -> float:
    value = float(fps)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"fps {fps!r}: must be a positive number")
    return value


def _check_frame(frame: np.ndarray, shape: tuple[int, ...] | None, index: int) -> tuple[int, ...]:
    """Frames are uint8 RGB (H, W, 3) and all the size of the first; anything else is a bug."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3:
        raise ValueError(f"frame {index}: expected a uint8 array (H, W, 3), got {_describe(frame)}")
    if frame.shape[2] != 3 or frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"frame {index}: expected (H, W, 3), got shape {frame.shape}")
    if shape is not None and frame.shape != shape:
        raise ValueError(f"frame {index}: shape {frame.shape} differs from frame 0's {shape}")
    return frame.shape


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


def _pad_even(frame: np.ndarray) -> np.ndarray:
    height, width = frame.shape[:2]
    if width % 2 == 0 and height % 2 == 0:
        return np.ascontiguousarray(frame)
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def _fps_text(fps: float) -> str:
    """fps as an exact fraction for ffmpeg (29.97 -> 2997/100), not a rounded float."""
    fraction = Fraction(fps).limit_denominator(1_000_000)
    return str(fraction.numerator) if fraction.denominator == 1 else str(fraction)


def remove_leftovers(path: Path) -> list[Path]:
    """Delete the temporary files an earlier write of `path` left when its process was killed
    (`.NAME.*.part`, `.NAME.*.frames.part`: raw frames, large at real sizes); the removed."""
    removed = []
    for leftover in Path(path).parent.glob(f".{Path(path).name}.*.part"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed.append(leftover)
    if removed:
        log.info("removed %d unfinished file(s) of an earlier write of %s", len(removed), path)
    return removed


def _temporary_beside(path: Path, suffix: str) -> Path:
    """A fresh hidden name in the target's folder, so the final rename stays on one disk."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as exc:
        raise RenderError(
            f"cannot write in {path.parent} ({exc.strerror or exc}); choose a writable folder"
        ) from None
    os.close(handle)
    os.chmod(name, new_file_mode())  # readable as any file written here, not mkstemp's 0o600
    return Path(name)


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0)
    lines = stream.read().decode("utf-8", "replace").strip().splitlines()
    return "\n".join(lines[-STDERR_TAIL_LINES:])


class _Encoder:
    """One ffmpeg process encoding raw RGB frames from its stdin into an mp4."""

    def __init__(self, target: Path, size: tuple[int, int], fps: float, crf: int) -> None:
        self.target = target
        self.frames = 0
        exe = ffmpeg_exe()
        command = [
            exe, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}",
            "-framerate", _fps_text(fps), "-i", "-",
            "-an", "-vf", _COLOUR_FILTER,
            "-c:v", "libx264", "-preset", "medium", "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", "-f", "mp4", str(target),
        ]  # fmt: skip
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self.stderr,
                creationflags=_POPEN_FLAGS,
            )
        except OSError as exc:
            self.stderr.close()
            raise _EncodingFailed(f"ffmpeg could not be started ({exe}: {exc})") from None

    def __enter__(self) -> _Encoder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:  # left early (an error): stop ffmpeg, keep no output
            self.process.kill()
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # type: ignore[union-attr]
        self.process.wait()
        self.stderr.close()

    def write(self, frame: np.ndarray) -> None:
        try:
            self.process.stdin.write(frame.data)  # type: ignore[union-attr]
        except OSError:  # broken pipe: ffmpeg has stopped
            self.process.wait()
            raise _EncodingFailed(self._why(f"ffmpeg stopped at frame {self.frames}")) from None
        self.frames += 1

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # a broken pipe here shows in the exit status
            self.process.stdin.close()  # type: ignore[union-attr]
        if self.process.wait() != 0:
            raise _EncodingFailed(self._why(f"ffmpeg exited with status {self.process.returncode}"))
        if not self.target.is_file() or self.target.stat().st_size == 0:
            raise _EncodingFailed(self._why("ffmpeg wrote no video"))
        _fsync(self.target)

    def _why(self, what: str) -> str:
        details = _tail(self.stderr)
        return f"{what}: {details}" if details else what


class _Spool:
    """Raw copies of the frames handed to ffmpeg, so that a failed encode loses none."""

    def __init__(self, path: Path, shape: tuple[int, ...]) -> None:
        self.shape = shape
        self.count = 0
        self.unspooled: np.ndarray | None = None  # the frame whose copy could not be written
        self.path = _temporary_beside(path, ".frames.part")
        self.file = open(self.path, "wb")  # noqa: SIM115 (closed in remove)

    def add(self, frame: np.ndarray) -> None:
        try:
            self.file.write(np.ascontiguousarray(frame).data)
        except OSError as exc:
            self.unspooled = frame
            raise _EncodingFailed(
                f"the frames could not be spooled to {self.path} ({exc.strerror or exc})"
            ) from None
        self.count += 1

    def frames(self) -> Iterator[np.ndarray]:
        with contextlib.suppress(OSError):
            self.file.flush()
        size = int(np.prod(self.shape))
        with open(self.path, "rb") as source:
            for _ in range(self.count):
                data = source.read(size)
                if len(data) < size:  # the disk refused part of the spool: nothing more to read
                    break
                yield np.frombuffer(data, np.uint8).reshape(self.shape)
        if self.unspooled is not None:
            yield self.unspooled

    def remove(self) -> None:
        self.file.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def _kept_as_png(
    path: Path, failure: _EncodingFailed, frames: Iterator[np.ndarray], shape: tuple[int, ...]
) -> RenderError:
    """Write every frame as PNG into `<path without suffix>_frames/`; the error to raise."""
    folder = path.with_name(path.stem + "_frames")
    saved = 0
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("frame_*.png"):  # from an earlier failed attempt: ours
            stale.unlink()
        for index, frame in enumerate(frames):
            _check_frame(frame, shape, index)
            Image.fromarray(frame).save(folder / f"frame_{index:06d}.png", compress_level=1)
            saved += 1
    except OSError as exc:
        return RenderError(
            f"{path}: encoding failed: {failure}; keeping the frames as PNG in {folder} failed "
            f"too after {saved} frames ({exc.strerror or exc}); free disk space and render again"
        )
    log.error("encoding %s failed; %d frames kept in %s", path, saved, folder)
    return RenderError(
        f"{path}: encoding failed: {failure}. The {saved} frames are kept as PNG files in "
        f"{folder}; fix ffmpeg (imageio-ffmpeg's binary, or IMAGEIO_FFMPEG_EXE) and render again, "
        "or assemble them with another tool"
    )


def _add_soundtrack(video: Path, soundtrack: str | Path, warnings: list[str]) -> bool:
    """Mux a local audio file into `video` in place; on any problem, warn and stay silent."""
    if not isinstance(soundtrack, Path) and _URL.match(soundtrack.strip()):
        warnings.append(
            f"soundtrack {soundtrack} is a URL and is not fetched: the video is silent; "
            "download it and give the local file"
        )
        return False
    soundtrack = Path(soundtrack)
    if not soundtrack.is_file():
        warnings.append(f"soundtrack {soundtrack} does not exist: the video is silent")
        return False
    muxed = _temporary_beside(video, ".audio.part")
    command = [
        "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-i", str(video), "-i", str(soundtrack),
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy",
        "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-af", "apad", "-shortest",
        "-movflags", "+faststart", "-f", "mp4", str(muxed),
    ]  # fmt: skip
    try:
        result = subprocess.run(
            [ffmpeg_exe(), *command], capture_output=True, creationflags=_POPEN_FLAGS
        )
        why = result.stderr.decode("utf-8", "replace").strip().splitlines()[-STDERR_TAIL_LINES:]
        if result.returncode != 0 or not muxed.is_file() or muxed.stat().st_size == 0:
            raise _EncodingFailed(" ".join(why) or f"ffmpeg exited with {result.returncode}")
        _fsync(muxed)
        os.replace(muxed, video)
    except (OSError, _EncodingFailed) as exc:
        with contextlib.suppress(OSError):
            muxed.unlink()
        warnings.append(f"soundtrack {soundtrack} could not be added ({exc}): the video is silent")
        return False
    return True


def _publish(temporary: Path, path: Path) -> None:
    """Rename the finished file into place; it exists under its real name only when complete."""
    try:
        os.replace(temporary, path)
    except OSError as exc:
        raise RenderError(
            f"{path} could not be replaced ({exc.strerror or exc}; is it open in a player?); "
            f"the finished video is {temporary}: close the player and rename it"
        ) from None


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
