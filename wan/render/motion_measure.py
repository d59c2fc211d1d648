"""The global camera motion between consecutive frames of any video, in Deforum's 2D terms.

Each pair of frames gets the similarity transform that best maps the earlier onto the later,
written the way Deforum's 2D warp composes it (wan/render/deforum_warp.py): a point p of frame
i-1 lands at p' = R(angle, zoom about c) (p + (dx, dy)) in frame i, with c = (W / 2, H / 2) as
Deforum's own centre (transform_center 0.5). So the figures read like Deforum settings: dx > 0
content moves right, dy > 0 down, zoom > 1 magnifies, angle > 0 turns it counter-clockwise on
screen (OpenCV's getRotationMatrix2D).

Method: corners (goodFeaturesToTrack) tracked by pyramidal Lucas-Kanade both ways (a track that
does not come back to its start is dropped), then a RANSAC similarity fit
(estimateAffinePartial2D, refined on its inliers). On H.264 frames of a textured scene this is
within a few hundredths of a pixel (tests/render/test_motion_measure.py). A frame without enough
texture or agreeing tracks gets no motion (dx = dy = 0, zoom = 1, angle = 0) and confidence 0:
measuring never fails on content.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from wan.errors import MotionInputError
from wan.render.video import read_video_frames, read_video_info

MAX_CORNERS = 400
MIN_TRACKS = 12  # fewer agreeing tracks than this: no motion is claimed
GOOD_TRACKS = 80  # this many inliers or more: full confidence from the count
MIN_EIGENVALUE = 2e-4  # on [0, 1] grey, 7x7 windows: weaker corners are compression noise
RANSAC_THRESHOLD = 1.0  # pixels
BACK_TRACK_ERROR = 0.5  # pixels a forward-backward track may miss its start by
_LK = {
    "winSize": (21, 21),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 40, 0.01),
}


@dataclass(frozen=True)
class FrameMotionEstimate:
    """The motion from frame `frame - 1` to `frame` (see the module docstring for the signs)."""

    frame: int
    dx: float  # pixels of this video
    dy: float
    zoom: float  # scale factor
    angle: float  # degrees, counter-clockwise
    confidence: float  # 0 (nothing measured) .. 1


@dataclass(frozen=True)
class VideoFrames:
    """A video's fps and size, and its frames, read one at a time."""

    fps: float
    width: int
    height: int
    frames: Iterator[np.ndarray]


def open_video(path: str | Path) -> VideoFrames:
    """The frames of the video at `path`; a file that is not a video, or has fewer than 2
    frames, is refused (RenderError, MotionInputError) before any frame is measured."""
    info = read_video_info(path)
    if info.frames < 2:
        raise MotionInputError(
            f"{path}: {info.frames} frame{'' if info.frames == 1 else 's'}; measuring motion "
            "needs a video of at least 2 frames"
        )
    return VideoFrames(info.fps, info.width, info.height, read_video_frames(path))


def measure_motion(frames: Iterable[np.ndarray]) -> tuple[FrameMotionEstimate, ...]:
    """The motion of every pair of consecutive frames (uint8 RGB or grey, all one size)."""
    estimates = []
    previous: np.ndarray | None = None
    for index, frame in enumerate(frames):
        grey = _grey(frame)
        if previous is not None:
            if grey.shape != previous.shape:
                raise MotionInputError(
                    f"frame {index} is {grey.shape[1]}x{grey.shape[0]}, frame {index - 1} "
                    f"{previous.shape[1]}x{previous.shape[0]}: all frames must be one size"
                )
            estimates.append(_estimate(index, previous, grey))
        previous = grey
    return tuple(estimates)


def to_deforum(matrix: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """(dx, dy, zoom, angle) of a 2x3 similarity p' = A p + b, as Deforum composes its warp:
    A = zoom * rotation, b = (I - A) c + A t, so t = A^-1 (b - (I - A) c)."""
    width, height = size
    centre = np.array([width / 2.0, height / 2.0])
    a = matrix[:, :2].astype(np.float64)
    b = matrix[:, 2].astype(np.float64)
    dx, dy = np.linalg.solve(a, b - (np.eye(2) - a) @ centre)
    zoom = math.hypot(a[0, 0], a[0, 1])
    angle = math.degrees(math.atan2(a[0, 1], a[0, 0]))  # getRotationMatrix2D's [[a, b], [-b, a]]
    return float(dx), float(dy), float(zoom), float(angle)


def _grey(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 3:
        frame = cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(frame, dtype=np.uint8)


def _none(index: int) -> FrameMotionEstimate:
    return FrameMotionEstimate(index, 0.0, 0.0, 1.0, 0.0, 0.0)


def _estimate(index: int, before: np.ndarray, after: np.ndarray) -> FrameMotionEstimate:
    points = _corners(before)
    if len(points) < MIN_TRACKS:
        return _none(index)
    fitted = _fit(before, after, points)
    if fitted is None:
        return _none(index)
    matrix, inliers = fitted
    # enough agreeing tracks, and most of the corners agreeing (not a moving object over a
    # still scene, nor a cut that a few chance matches would fit)
    confidence = min(1.0, inliers / GOOD_TRACKS) * (inliers / len(points))
    height, width = before.shape
    dx, dy, zoom, angle = to_deforum(matrix, (width, height))
    return FrameMotionEstimate(index, dx, dy, zoom, angle, round(min(1.0, confidence), 4))


def _corners(grey: np.ndarray) -> np.ndarray:
    """Corners strong enough in absolute terms: a flat frame has none, whatever its noise."""
    found = cv2.goodFeaturesToTrack(
        grey, MAX_CORNERS, qualityLevel=0.01, minDistance=7, blockSize=7
    )
    if found is None:
        return np.empty((0, 2), np.float32)
    found = found.reshape(-1, 2)
    strength = cv2.cornerMinEigenVal(grey.astype(np.float32) / 255.0, 7)
    ys = np.clip(np.round(found[:, 1]).astype(int), 0, grey.shape[0] - 1)
    xs = np.clip(np.round(found[:, 0]).astype(int), 0, grey.shape[1] - 1)
    return found[strength[ys, xs] >= MIN_EIGENVALUE].astype(np.float32)


def _fit(
    before: np.ndarray, after: np.ndarray, points: np.ndarray
) -> tuple[np.ndarray, int] | None:
    """The RANSAC similarity of the tracks that survive a forward-backward check, and its
    number of inliers; None when too few tracks agree."""
    start = points.reshape(-1, 1, 2)
    ahead, found, _ = cv2.calcOpticalFlowPyrLK(before, after, start, None, **_LK)
    back, found_back, _ = cv2.calcOpticalFlowPyrLK(
        after, before, ahead, start.copy(), flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **_LK
    )
    miss = np.linalg.norm((back - start).reshape(-1, 2), axis=1)
    keep = (found.ravel() == 1) & (found_back.ravel() == 1) & (miss < BACK_TRACK_ERROR)
    if keep.sum() < MIN_TRACKS:
        return None
    matrix, inliers = cv2.estimateAffinePartial2D(
        start[keep],
        ahead[keep],
        method=cv2.RANSAC,
        ransacReprojThreshold=RANSAC_THRESHOLD,
        maxIters=2000,
        confidence=0.995,
        refineIters=20,
    )
    if matrix is None or inliers is None or not np.all(np.isfinite(matrix)):
        return None
    if int(inliers.sum()) < MIN_TRACKS:
        return None
    return matrix, int(inliers.sum())
