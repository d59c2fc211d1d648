"""Pure image work on uint8 RGB frames: colour matching, joins between clips, frame-rate changes.

Frames are numpy uint8 arrays, one frame (H, W, 3) or a clip (T, H, W, 3). Nothing here reads or
writes files. Problems with the arrays themselves (dtype, shape, mismatched sizes) come from the
renderer, not from the user, so they raise ValueError.

- `color_match`: a new clip takes over the colours of the frames it follows (Lab statistics).
- `splice` / `drop_duplicate_start`: joins that neither repeat nor skip a moment.
- `resample_indices` / `resample_stream`: the model's fps to Deforum's fps, streaming, with
  motion-compensated (optical flow) in-betweens when upsampling.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import cv2
import numpy as np

# Colour matching ----------------------------------------------------------------------------

MAX_STD_RATIO = 3.0  # contrast correction limit: a flat new frame must not be blown up to noise
_STD_FLOOR = 1e-3  # Lab units; below this a channel is flat and keeps its contrast

# Joins --------------------------------------------------------------------------------------

DUPLICATE_THRESHOLD = (
    3.0  # mean abs difference (0-255 levels) under which two frames are "the same"
)

# Resampling ---------------------------------------------------------------------------------

_POSITION_TOLERANCE = 1e-6  # source positions this close to an integer are that frame exactly
# Farneback: pyramid scale, levels, window, iterations, poly_n, poly_sigma (OpenCV's usual values,
# with 5 levels so that a fast pan at 832 px, tens of pixels per frame, is still followed).
_FARNEBACK = (0.5, 5, 15, 3, 5, 1.2)


def _as_clip(frames: np.ndarray, name: str) -> np.ndarray:
    """A (T, H, W, 3) uint8 view of one frame or a clip; ValueError names `name` otherwise."""
    array = np.asarray(frames)
    if array.dtype != np.uint8:
        raise ValueError(f"{name}: expected uint8 RGB frames, got dtype {array.dtype}")
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != 3 or 0 in array.shape[1:3]:
        raise ValueError(f"{name}: expected shape (H, W, 3) or (T, H, W, 3), got {array.shape}")
    return array


def _as_frame(frame: np.ndarray, name: str) -> np.ndarray:
    """One (H, W, 3) uint8 frame."""
    array = np.asarray(frame)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[-1] != 3 or 0 in array.shape:
        raise ValueError(
            f"{name}: expected one uint8 RGB frame (H, W, 3), got {array.dtype} {array.shape}"
        )
    return array


def _same_size(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if a.shape[-3:] != b.shape[-3:]:
        raise ValueError(f"{what}: frame sizes differ, {a.shape[-3:]} vs {b.shape[-3:]}")


# Colour matching ----------------------------------------------------------------------------


def _to_lab(frame: np.ndarray) -> np.ndarray:
    """float32 Lab (L 0..100): float input keeps the precision uint8 Lab would lose."""
    return cv2.cvtColor(frame.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2Lab)


def _to_rgb(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)


def lab_stats(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std in Lab over all pixels of all frames (one frame at a time)."""
    clip = _as_clip(frames, "frames")
    total = np.zeros(3)
    squares = np.zeros(3)
    for frame in clip:
        lab = _to_lab(frame).reshape(-1, 3).astype(np.float64)
        total += lab.sum(axis=0)
        squares += np.square(lab).sum(axis=0)
    count = clip.shape[0] * clip.shape[1] * clip.shape[2]
    mean = total / count
    return mean, np.sqrt(np.maximum(squares / count - np.square(mean), 0.0))


def color_match(clip: np.ndarray, reference: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Give a new clip the colours of the frames it continues, so the join shows no colour jump.

    The statistics (mean and std of each Lab channel) of `reference` (the previous clip's last
    frames, any size) are compared with those of the new clip's first `len(reference)` frames;
    the per-channel transform `(x - mean_new) * std_ref / std_new + mean_ref` that makes them
    agree is applied to EVERY frame of the clip, unchanged. It is deliberately not faded out
    over the clip: a fade would let the drift come back by the clip's end and the next clip,
    matched to that end, would inherit it, so colours would wander clip after clip. The
    contrast ratio is limited to 1/MAX_STD_RATIO..MAX_STD_RATIO. `strength` 0..1 moves the
    transform from identity (0) to the full correction (1). Returns a new array, same shape.
    """
    frames = _as_clip(clip, "clip")
    ref = _as_clip(reference, "reference")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be within 0..1, got {strength}")
    if len(ref) == 0:
        raise ValueError("color_match: the reference has no frames")
    if len(frames) == 0:
        return frames.copy().reshape(np.shape(clip))
    ref_mean, ref_std = lab_stats(ref)
    new_mean, new_std = lab_stats(frames[: len(ref)])
    ratio = np.where(new_std > _STD_FLOOR, ref_std / np.maximum(new_std, _STD_FLOOR), 1.0)
    ratio = np.clip(ratio, 1 / MAX_STD_RATIO, MAX_STD_RATIO)
    scale = (1.0 + strength * (ratio - 1.0)).astype(np.float32)
    target = (new_mean + strength * (ref_mean - new_mean)).astype(np.float32)
    out = np.empty_like(frames)
    for index, frame in enumerate(frames):
        out[index] = _to_rgb((_to_lab(frame) - new_mean.astype(np.float32)) * scale + target)
    return out.reshape(np.shape(clip))


# Joins --------------------------------------------------------------------------------------


class Join(NamedTuple):
    """How a new clip continues the video written so far.

    Remove the last `len(replace_tail)` frames written, then write `replace_tail` and then
    `new_frames`. `replace_tail` is empty unless the overlap is cross-faded.
    """

    replace_tail: np.ndarray  # (k, H, W, 3), k = 0 or overlap
    new_frames: np.ndarray  # (T - overlap, H, W, 3)


def splice(
    previous_tail: np.ndarray, clip: np.ndarray, overlap: int, crossfade: bool = False
) -> Join:
    """Join a clip whose first `overlap` frames show the same moments as `previous_tail`'s last.

    Showing those moments twice would make the video stutter, so they appear once: by default the
    new clip's copies are dropped (the frames already written stay); with `crossfade` they are
    blended linearly with the written ones, the new clip's weight rising (j+1)/(overlap+1) over
    the overlap so neither side is cut off abruptly, and the blend replaces the tail.
    """
    tail = _as_clip(previous_tail, "previous_tail")
    frames = _as_clip(clip, "clip")
    _same_size(tail, frames, "splice")
    if not 0 <= overlap <= len(frames) or (overlap and overlap > len(tail)):
        raise ValueError(
            f"overlap {overlap} must be within 0..{len(frames)} (clip) and "
            f"0..{len(tail)} (previous tail)"
        )
    if overlap == 0 or not crossfade:
        return Join(frames[:0].copy(), frames[overlap:].copy())
    weights = (np.arange(1, overlap + 1, dtype=np.float32) / (overlap + 1))[:, None, None, None]
    old = tail[len(tail) - overlap :].astype(np.float32)
    blended = old + weights * (frames[:overlap].astype(np.float32) - old)
    return Join(np.rint(blended).astype(np.uint8), frames[overlap:].copy())


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two same-size frames, in 0-255 levels."""
    _same_size(a, b, "mean_abs_diff")
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


def drop_duplicate_start(
    previous_last: np.ndarray, clip: np.ndarray, threshold: float = DUPLICATE_THRESHOLD
) -> np.ndarray:
    """The clip without its first frame when that frame repeats `previous_last`.

    An image-conditioned continuation starts by reproducing its conditioning image (the previous
    clip's last frame); kept, that moment would show twice and the join would stutter. The first
    frame is dropped when its mean abs difference from `previous_last` is under `threshold`
    (0-255 levels), so a first frame that already moved on is kept. A shorter result tells the
    caller a frame was dropped.
    """
    last = _as_frame(previous_last, "previous_last")
    frames = _as_clip(clip, "clip")
    _same_size(last, frames, "drop_duplicate_start")
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    if len(frames) and mean_abs_diff(last, frames[0]) < threshold:
        return frames[1:]
    return frames


# Frame-rate resampling ----------------------------------------------------------------------


def _check_rates(src_fps: float, dst_fps: float, dst_count: int) -> None:
    for name, fps in (("src_fps", src_fps), ("dst_fps", dst_fps)):
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"{name} must be a positive number, got {fps}")
    if dst_count < 0:
        raise ValueError(f"dst_count must be >= 0, got {dst_count}")


def _sample(k: int, src_fps: float, dst_fps: float) -> tuple[int, int, float]:
    """(i0, i1, t) for output frame k, before clamping to the source's end.

    Output k shows source time k / dst_fps, i.e. position k * src_fps / dst_fps. Downsampling
    takes the nearest source frame (halves up, as plan.to_model_frame), never a blend, so frames
    are dropped evenly and stay sharp; upsampling interpolates between the two neighbours.
    """
    position = k * src_fps / dst_fps
    nearest = math.floor(position + 0.5)
    if abs(position - nearest) < _POSITION_TOLERANCE or dst_fps < src_fps:
        return nearest, nearest, 0.0
    i0 = math.floor(position)
    return i0, i0 + 1, position - i0


def _clamp(sample: tuple[int, int, float], last: int) -> tuple[int, int, float]:
    """Past the source's last frame the last frame is held."""
    i0, i1, t = sample
    return (last, last, 0.0) if i1 > last else (i0, i1, t)


def resample_indices(
    src_count: int, src_fps: float, dst_fps: float, dst_count: int
) -> list[tuple[int, int, float]]:
    """What each output frame shows: (i0, i1, t) = source frames i0 and i1 mixed at t (0..1).

    Output k samples the source at position k * src_fps / dst_fps, clamped to the last frame;
    integer positions (and every downsampled frame) give i0 == i1 and t == 0.
    """
    _check_rates(src_fps, dst_fps, dst_count)
    if src_count < 1:
        raise ValueError(f"src_count must be >= 1, got {src_count}")
    return [_clamp(_sample(k, src_fps, dst_fps), src_count - 1) for k in range(dst_count)]


def optical_flows(frame0: np.ndarray, frame1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense Farneback flow 0 -> 1 and 1 -> 0 (float32 (H, W, 2), pixels)."""
    gray0 = cv2.cvtColor(frame0, cv2.COLOR_RGB2GRAY)
    gray1 = cv2.cvtColor(frame1, cv2.COLOR_RGB2GRAY)
    forward = cv2.calcOpticalFlowFarneback(gray0, gray1, None, *_FARNEBACK, 0)
    backward = cv2.calcOpticalFlowFarneback(gray1, gray0, None, *_FARNEBACK, 0)
    return forward, backward


def _warp_by_flow(frame: np.ndarray, flow: np.ndarray, fraction: float) -> np.ndarray:
    """Backward warp: output(x) = frame(x - fraction * flow(x)), flow leaving `frame`."""
    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(
        np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    )
    map_x = grid_x - np.float32(fraction) * flow[..., 0]
    map_y = grid_y - np.float32(fraction) * flow[..., 1]
    return cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def interpolate(
    frame0: np.ndarray,
    frame1: np.ndarray,
    t: float,
    flows: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The in-between frame at t (0..1): both frames warped along the flow to t, then blended.

    A plain cross-fade would show two ghosted copies of anything that moves; warping each side
    to time t puts them on top of each other. Each side is wrong only where it has no source
    (what the motion uncovers); weighting by closeness in time, (1 - t) and t, splits those
    errors evenly across the object's edges. `flows` from optical_flows may be passed to reuse.
    """
    forward, backward = flows if flows is not None else optical_flows(frame0, frame1)
    from0 = _warp_by_flow(frame0, forward, t).astype(np.float32)
    from1 = _warp_by_flow(frame1, backward, 1.0 - t).astype(np.float32)
    return np.rint(from0 + np.float32(t) * (from1 - from0)).astype(np.uint8)


class _Window:
    """The last two source frames read, and the flows between them once needed."""

    def __init__(self, source: Iterable[np.ndarray]) -> None:
        self._source = iter(source)
        self.frames: dict[int, np.ndarray] = {}
        self.last = -1  # index of the newest frame read
        self.exhausted = False
        self._flows: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None

    def read_until(self, index: int) -> None:
        while self.last < index and not self.exhausted:
            frame = next(self._source, None)
            if frame is None:
                self.exhausted = True
                break
            frame = _as_frame(frame, f"source frame {self.last + 1}")
            if self.frames:
                _same_size(self.frames[self.last], frame, "resample_stream")
            self.last += 1
            self.frames = {i: f for i, f in self.frames.items() if i == self.last - 1}
            self.frames[self.last] = frame

    def flows(self, i0: int) -> tuple[np.ndarray, np.ndarray]:
        if self._flows is None or self._flows[0] != i0:
            self._flows = (i0, optical_flows(self.frames[i0], self.frames[i0 + 1]))
        return self._flows[1]


def resample_stream(
    frames: Iterable[np.ndarray], src_fps: float, dst_fps: float, dst_count: int
) -> Iterator[np.ndarray]:
    """Yield exactly `dst_count` frames at `dst_fps` from frames at `src_fps`, streaming.

    Reads the source lazily and holds at most two source frames (plus the flows between them),
    so a video longer than memory can be converted. Frames follow resample_indices: source frames
    are yielded as they are (not copied) where t == 0, motion-compensated in-betweens elsewhere;
    after the source's last frame it is held. An empty source with dst_count > 0 is an error.
    """
    _check_rates(src_fps, dst_fps, dst_count)
    window = _Window(frames)
    for k in range(dst_count):
        i0, i1, t = _sample(k, src_fps, dst_fps)
        window.read_until(i1)
        if window.last < 0:
            raise ValueError("resample_stream: the source has no frames")
        i0, i1, t = _clamp((i0, i1, t), window.last)
        if t == 0.0:
            yield window.frames[i0]
        else:
            yield interpolate(window.frames[i0], window.frames[i1], t, window.flows(i0))
