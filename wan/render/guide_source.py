"""The guide video of a clip from frames that already exist: a Deforum run's own frames (a
re-render, `guide_from: run`) or the input video of a `Video Input` animation.

The camera-guided path (`wan.render.conditioning`, `wan.render.dual_clock`) follows a guide video
and a mask. Usually the guide is built by Deforum's warp from the clip's source frame; here it is
read: the frames are Deforum frames (one per frame of the animation, at the settings' fps), so
model frame m shows Deforum frame round(m * fps / model_fps) (the plan's rule), clipped to the
frames there are, resized to the render's size, every pixel known (mask all ones). Wan then keeps
the frames' motion and composition and redraws them, without Deforum's frame-to-frame flicker.

A `FrameSource` names files, never holds pixels: it travels on the RenderJob and its digest is
part of the render hash. How Deforum names and extracts frames:
- a run folder holds `<timestring>_settings.txt` and the frames `<timestring>_<frame:09>.png`
  (Deforum's render loop; numbers are Deforum frames, 0-based);
- Video Input extracts, from the video's frame `extract_from_frame` on, every frame whose index
  is a multiple of `extract_nth_frame` (counted from the video's start) up to `extract_to_frame`
  inclusive (-1: the end); Deforum frame f is the f-th extracted frame (its vid2frames).
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wan.core.deforum.settings import DeforumSettings, setting
from wan.core.motion import VIDEO_INPUT
from wan.errors import OptionsError, SettingsError, excerpt
from wan.render.camera_guide import CameraGuide

RUN = "run"
VIDEO = "video"
SETTINGS_SUFFIX = "_settings.txt"
_URL_PREFIXES = ("http://", "https://", "ftp://")


@dataclass(frozen=True)
class FrameSource:
    """Frames that stand for the animation's Deforum frames 0, 1, 2, ... (see the module)."""

    kind: str  # RUN | VIDEO
    path: str  # the run folder, or the video file
    frames: tuple[str, ...] = ()  # RUN: the frame files, by frame number
    numbers: tuple[int, ...] = ()  # RUN: their Deforum frame numbers, ascending
    picks: tuple[int, ...] = ()  # VIDEO: the extracted frames' indices in the video
    digest: str = ""  # sha256 of the files' bytes (the render hash)

    @property
    def count(self) -> int:
        return len(self.numbers) if self.kind == RUN else len(self.picks)

    def describe(self) -> str:
        if self.kind == RUN:
            return f"the frames of the Deforum run {self.path}"
        return f"the input video {self.path}"

    def item(self, deforum_frame: int) -> int:
        """The position of the frame standing for Deforum frame `deforum_frame`: a run's frame
        of that number, else the last one before it (a run resumed with gaps); clipped to the
        frames there are."""
        if self.kind == RUN:
            return max(0, bisect.bisect_right(self.numbers, deforum_frame) - 1)
        return min(max(deforum_frame, 0), len(self.picks) - 1)


def frame_source(settings: DeforumSettings, options, digest: bool = True) -> FrameSource | None:
    """The frames the clips follow instead of the warp-built guide: the run's own frames when
    `options.guide_from` is run, the input video in Video Input mode, else None. `digest`:
    hash the files (the render hash); a check before queueing leaves it out."""
    if options.guide_from == RUN:
        return run_source(settings, "--guide-from run", digest)
    if settings.mode == VIDEO_INPUT:
        return video_source(settings, digest)
    return None


# ----------------------------------------------------------------------------------------------
# A Deforum run folder


def run_frames(settings: DeforumSettings, asked_by: str) -> tuple[Path, list[tuple[int, Path]]]:
    """The run folder of `settings` (the folder of its `<timestring>_settings.txt`) and its
    numbered frames, ascending; OptionsError naming `asked_by` when there is no such run."""
    path = Path(settings.source)
    if not path.is_file():
        raise OptionsError(
            f"{asked_by}: the settings ({settings.source}) are not read from a Deforum run "
            "folder, so there are no frames to read; give the run folder (or its "
            "<timestring>_settings.txt) as the settings"
        )
    folder = path.parent.absolute()
    name = path.name
    prefix = name[: -len(SETTINGS_SUFFIX)] if name.endswith(SETTINGS_SUFFIX) else None
    pattern = re.compile(rf"^{re.escape(prefix) if prefix else '.+'}_(\d+)\.png$")
    found = []
    for item in folder.iterdir():
        match = pattern.match(item.name)
        if match and item.is_file():
            found.append((int(match.group(1)), item))
    if not found:
        expected = f"{prefix or '<timestring>'}_000000000.png"
        raise OptionsError(
            f"{asked_by}: {folder} is not a Deforum run folder: it has no numbered frames "
            f"(e.g. {expected}) beside {name}; give the folder Deforum rendered into"
        )
    found.sort()
    return folder, found


def run_source(settings: DeforumSettings, asked_by: str, digest: bool = True) -> FrameSource:
    """The run's frames as a FrameSource (with `digest`, that of every frame file)."""
    folder, found = run_frames(settings, asked_by)
    return FrameSource(
        RUN,
        str(folder),
        frames=tuple(str(p) for _, p in found),
        numbers=tuple(n for n, _ in found),
        digest=_digest([p for _, p in found]) if digest else "",
    )


def init_frame_path(settings: DeforumSettings, number: int) -> str:
    """The file of the run's frame `number` (--init-frame N)."""
    asked_by = f"--init-frame {number}"
    folder, found = run_frames(settings, asked_by)
    for frame, path in found:
        if frame == number:
            return str(path)
    raise OptionsError(
        f"{asked_by}: the run in {folder} has no frame {number}; it has {len(found)} frame(s), "
        f"numbered {_ranges([n for n, _ in found])}; give one of those"
    )


def _ranges(numbers: list[int]) -> str:
    """1, 2, 3, 7 -> '1 to 3, 7' (the first few runs)."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = [f"{a} to {b}" if b > a else f"{a}" for a, b in runs[:5]]
    return ", ".join(text) + (", ..." if len(runs) > 5 else "")


# ----------------------------------------------------------------------------------------------
# Video Input


def video_source(settings: DeforumSettings, digest: bool = True) -> FrameSource:
    """The input video of a Video Input animation, with the frames Deforum extracts from it.
    A URL is refused (not downloaded here); a relative path is read beside the settings file
    when it is not found from the working folder."""
    from wan.render.video import read_video_info

    raw = str(setting(settings, "video_init_path") or "").strip()
    where = f"{settings.source}: setting 'video_init_path'"
    if not raw:
        raise SettingsError(f"{where} is empty; set it to the input video (a local file)")
    if raw.lower().startswith(_URL_PREFIXES):
        raise SettingsError(
            f"{where} is a URL ({excerpt(raw)}); it is not downloaded: download the video and "
            "set video_init_path to its local path"
        )
    path = _local(raw, settings.source)
    if path is None:
        raise SettingsError(
            f"{where}: {raw} does not exist; set it to the input video (a local file)"
        )
    count = read_video_info(path).frames  # RenderError naming the file when it is no video
    picks = extracted_frames(
        count,
        setting(settings, "extract_from_frame"),
        setting(settings, "extract_to_frame"),
        setting(settings, "extract_nth_frame"),
        f"{settings.source}: {path}",
    )
    return FrameSource(VIDEO, str(path), picks=picks, digest=_digest([path]) if digest else "")


def _local(raw: str, source: str) -> Path | None:
    path = Path(raw).expanduser()
    if path.is_file():
        return path.absolute()
    beside = Path(source).parent / path
    if not path.is_absolute() and Path(source).is_file() and beside.is_file():
        return beside.absolute()
    return None


def extracted_frames(count: int, first: int, last: int, nth: int, where: str) -> tuple[int, ...]:
    """The video frames Deforum extracts (its vid2frames): from `first` on, every index that is
    a multiple of `nth`, up to `last` inclusive (-1: the end); `nth` below 1 counts as 1."""
    nth = max(1, nth)
    if last != -1 and last <= first:
        raise SettingsError(
            f"{where}: extract_to_frame {last} is not after extract_from_frame {first}; set "
            "extract_to_frame above it, or -1 for the end of the video"
        )
    if nth >= count:
        raise SettingsError(
            f"{where}: extract_nth_frame {nth} skips more frames than the video has ({count}); "
            "lower extract_nth_frame"
        )
    end = count - 1 if last == -1 else min(last, count - 1)
    picks = tuple(i for i in range(max(first, 0), end + 1) if i % nth == 0)
    if not picks:
        raise SettingsError(
            f"{where}: no frame is extracted (the video has {count} frames; extract_from_frame "
            f"{first}, extract_to_frame {last}, extract_nth_frame {nth}); widen the range"
        )
    return picks


# ----------------------------------------------------------------------------------------------
# The guide of a clip


def model_frame_items(
    source: FrameSource, model_start: int, num_frames: int, fps: float, model_fps: float
) -> list[int]:
    """For model frames model_start.. of a clip, the position of the source frame each shows:
    Deforum frame round(m * fps / model_fps), halves up, clipped to the source."""
    return [
        source.item(math.floor(m * fps / model_fps + 0.5))
        for m in range(model_start, model_start + num_frames)
    ]


def source_guide(
    source: FrameSource,
    model_start: int,
    num_frames: int,
    fps: float,
    model_fps: float,
    size: tuple[int, int],
    first: np.ndarray | None = None,
) -> CameraGuide:
    """The clip's guide: the source's frames at the model's fps and the render's `size`
    (width, height), every pixel known; `first` (the frame the clip continues from) replaces
    frame 0, as the warp-built guide's frame 0 is its source."""
    items = model_frame_items(source, model_start, num_frames, fps, model_fps)
    images = read_items(source, sorted(set(items)), size)
    frames = np.stack([images[i] for i in items])
    if first is not None:
        frames[0] = first
    masks = np.ones(frames.shape[:3], dtype=np.uint8)
    return CameraGuide(frames, masks)


def first_frame(source: FrameSource, size: tuple[int, int]) -> np.ndarray:
    """The source's frame for Deforum frame 0 at `size`: the first clip's source frame (and the
    init image of image models when none is given)."""
    item = source.item(0)
    return read_items(source, [item], size)[item]


def read_items(source: FrameSource, items: list[int], size: tuple[int, int]) -> dict:
    """The source's frames at positions `items` (ascending), resized to `size`."""
    if source.kind == RUN:
        from wan.render.image_header import decode_image

        return {
            i: decode_image(source.frames[i], f"frame {source.numbers[i]} of the run", size)
            for i in items
        }
    return _video_items(source, items, size)


def _video_items(source: FrameSource, items: list[int], size: tuple[int, int]) -> dict:
    """Reads the video once up to the last frame needed."""
    from wan.render.video import read_video_frames

    wanted = {source.picks[i]: i for i in items}
    last = max(wanted)
    out = {}
    with closing(read_video_frames(source.path)) as frames:
        for index, frame in enumerate(frames):
            if index in wanted:
                out[wanted[index]] = _resized(frame, size)
            if index >= last:
                break
    missing = [source.picks[i] for i in items if i not in out]
    if missing:
        raise SettingsError(
            f"{source.path}: the video ended before frame {missing[0]} (it was read as having "
            "more); check the file"
        )
    return out


def _resized(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == tuple(size):
        return frame
    from PIL import Image

    return np.asarray(Image.fromarray(frame).resize(tuple(size), Image.LANCZOS))


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).name.encode("utf-8"))
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]
