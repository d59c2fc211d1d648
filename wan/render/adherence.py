"""Camera adherence of a render: per clip, the camera motion the schedules ask for beside the
motion measured on the frames the model made, and one figure saying how closely they agree.

Both sides are in the terms of `wan.render.motion_measure` (dx, dy in pixels, zoom per frame,
angle in degrees counter-clockwise, about the frame centre), per MODEL frame at the render's
size, the step into model frame m = 1 .. num_frames - 1 of the clip.

Requested motion:
- 2D: `wan.render.warp.model_steps` (Deforum's per-frame velocities resampled to the model's
  fps), each step's matrix about transform_center re-expressed about the frame centre.
- 3D: Deforum's exact 3D step at depth-less z (`depth_to_z(None, ...)`: every point at z = 1,
  what Deforum does without a depth map), projected through the guide's own math
  (`camera_guide.step_offset`) on a grid of pixels, and the least-squares similarity of that
  displacement. A similarity because the measurement is one (a RANSAC similarity of tracked
  corners): both sides are then the same four numbers, fitted to the same kind of field.
  What a similarity cannot hold (the keystone of rotation_3d_x / _y under perspective) is left
  out of both alike; `fit_px` says how much that was (the fit's RMS residual in pixels).
The schedules are the warp's (`deforum_warp.warp_schedules`, as `python -m wan guide` reads
them); the 2D perspective flip is not part of the requested motion (model_steps has none).

The adherence figure of a clip (`Adherence`): for each frame, the RMS over a grid of points
spread over the frame of the distance between where the requested and where the measured
transform move each point (the endpoint error, in pixels of the render). One unit for all four
components, weighted by how far each actually moves the picture: a 0.1 degree roll error counts
by the pixels it shifts the corners, not by its degrees. `error_px` is its confidence-weighted
mean over the clip's frames (frames measured below MIN_CONFIDENCE are left out: a flat or
occluded frame says nothing about the camera), `motion_px` the same mean of how far the
requested motion moves the points, and `score` = 1 - excess / max(motion_px, MIN_MOTION_PX),
clipped to 0..1: 1 is the requested camera, 0 an error as large as the move itself (or, for a
still camera, a drift of MIN_MOTION_PX per frame). The excess is the error beyond the frame's
`fit_px`: when the requested motion is no similarity (a 3D turn's keystone) the measurement,
a consensus of the tracks where the motion is most uniform, may sit anywhere within about
fit_px of the least-squares fit (the exact guide of a 1 degree turn per model frame at 256x192
measures 1.2 px from it, its fit_px 1.39), so only what lies beyond counts against the render;
in 2D fit_px is 0. The allowance is at most half the frame's motion (FIT_ALLOWANCE_SHARE): a move
that is mostly keystone (an orbit around a flat scene: truck and pan cancel in the picture's
centre) cannot be judged by a similarity, and a video that did not move at all must not score
as if it had followed it. `bias` is the weighted mean of measured minus requested per component
(dx > 0: the picture moved further right than asked).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from wan.render.camera_guide import step_offset
from wan.render.deforum_warp import WarpSettings, depth_to_z
from wan.render.motion_measure import measure_motion, to_deforum
from wan.render.warp import WarpStep, model_steps, sample_schedule

FIT_GRID = 17  # points per side of the grid the 3D displacement is fitted on
ERROR_GRID = 9  # points per side of the grid the endpoint error is measured on
MIN_CONFIDENCE = 0.2  # measured frames below this are left out of the figure
MIN_MOTION_PX = 0.5  # the score's scale for a camera that (nearly) stands still
FIT_ALLOWANCE_SHARE = 0.5  # fit_px is allowed up to this share of the frame's motion
COMPONENTS = ("dx", "dy", "zoom", "angle")


@dataclass(frozen=True)
class StepMotion:
    """The 2D motion into model frame `frame` (from frame - 1), about the frame centre."""

    frame: int
    dx: float
    dy: float
    zoom: float
    angle: float
    confidence: float = 1.0  # measured: motion_measure's; requested: 1
    fit_px: float = 0.0  # requested 3D: RMS residual of the similarity fit

    def matrix(self, size: tuple[int, int]) -> np.ndarray:
        """3x3 forward mapping at `size` (width, height), as motion_measure's terms mean it."""
        width, height = size
        return WarpStep(self.dx, self.dy, self.zoom, self.angle, (width / 2, height / 2)).matrix()

    def to_dict(self) -> dict[str, float]:
        return {k: (v if k == "frame" else round(float(v), 5)) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Adherence:
    """How closely a clip's measured camera followed the requested one (module docstring)."""

    error_px: float | None  # None: no frame could be measured
    motion_px: float
    fit_px: float  # mean residual of the requested similarity fit (3D turns), 0 in 2D
    score: float | None
    frames: int  # frames compared
    excluded: int  # frames measured below MIN_CONFIDENCE
    worst_frame: int | None = None
    worst_error_px: float | None = None
    bias: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("error_px", "motion_px", "fit_px", "score", "worst_error_px"):
            if out[key] is not None:
                out[key] = round(float(out[key]), 4)
        out["bias"] = {k: round(float(v), 5) for k, v in self.bias.items()}
        return out


def requested_motion(
    schedules: Mapping[str, np.ndarray],
    settings: WarpSettings,
    start_frame: int,
    num_model_frames: int,
    fps: float,
    model_fps: float,
    size: tuple[int, int],
) -> tuple[StepMotion, ...]:
    """The motion the schedules ask for into each model frame after the first of a clip at
    Deforum frame `start_frame`, at the render's `size` (settings: mode and Deforum's W x H)."""
    if settings.mode == "3D":
        return _requested_3d(schedules, settings, start_frame, num_model_frames, fps, model_fps,
                             size)  # fmt: skip
    steps = model_steps(
        schedules, start_frame, num_model_frames, fps, model_fps,
        (settings.width, settings.height), size,
    )  # fmt: skip
    return tuple(
        StepMotion(m, *to_deforum(step.matrix()[:2], size)) for m, step in enumerate(steps, 1)
    )


def _requested_3d(schedules, settings, start_frame, num_model_frames, fps, model_fps, size):
    width, height = size
    ratio = fps / model_fps
    positions = start_frame + np.arange(1, num_model_frames) * ratio

    def at(name: str) -> np.ndarray:  # per model frame, as the guide samples them
        return sample_schedule(schedules, name, positions)

    rotations = np.stack([at(f"rotation_3d_{a}") * ratio for a in "xyz"], axis=1)
    translations = np.stack([at(f"translation_{a}") * ratio for a in "xyz"], axis=1)
    fov, aspect_at = at("fov_schedule"), at("aspect_ratio_schedule")
    # pixel indices, and where the warp's grid puts them (linspace(-1, 1, size) per pixel)
    cols = np.linspace(0, width - 1, min(FIT_GRID, width))
    rows = np.linspace(0, height - 1, min(FIT_GRID, height))
    px, py = np.meshgrid(cols, rows)
    z = depth_to_z(None, settings, px.shape).astype(np.float64)
    points = np.stack(
        (
            2 * px.ravel() / max(width - 1, 1) - 1,
            2 * py.ravel() / max(height - 1, 1) - 1,
            z.ravel(),
        ),
        axis=1,
    )
    target = np.stack((px.ravel(), py.ravel()), axis=1)
    aspects = (
        np.full(len(positions), width / height) if settings.aspect_ratio_old_formula else aspect_at
    )
    steps = np.column_stack((rotations, translations, fov, aspects))
    fitted: dict[tuple[float, ...], tuple[float, ...]] = {}  # still schedules repeat one step
    out = []
    for k, step in enumerate(map(tuple, steps.tolist()), start=1):
        if step not in fitted:
            offset = step_offset(points, step[0:3], step[3:6], step[6], step[7])
            # the warp reads pixel p of the new frame from p - offset: where p's content was
            source = target - offset * (width / 2, height / 2)
            seen = np.isfinite(source).all(axis=1)
            matrix, residual = fit_similarity(source[seen], target[seen])
            fitted[step] = (*to_deforum(matrix, size), residual)
        *motion, residual = fitted[step]
        out.append(StepMotion(k, *motion, fit_px=residual))
    return tuple(out)


def fit_similarity(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float]:
    """The least-squares similarity (2x3: zoom, rotation, shift) mapping N x 2 `source` points
    onto `target`, and its RMS residual in the points' units. Closed form: about the centroids,
    x' = a x - b y and y' = b x + a y, (a, b) the target's projections on the source and on the
    source turned by 90 degrees. No points: the identity; points all at one place: a shift."""
    if len(source) == 0:
        return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), 0.0
    mean_s, mean_t = source.mean(axis=0), target.mean(axis=0)
    (x, y), (u, v) = (source - mean_s).T, (target - mean_t).T
    spread = float(np.sum(x * x + y * y))
    if spread == 0.0:
        shift = mean_t - mean_s
        return np.array([[1.0, 0.0, shift[0]], [0.0, 1.0, shift[1]]]), 0.0
    a = float(np.sum(x * u + y * v)) / spread
    b = float(np.sum(x * v - y * u)) / spread
    turn = np.array([[a, -b], [b, a]])
    matrix = np.column_stack((turn, mean_t - turn @ mean_s))
    moved = source @ turn.T + matrix[:, 2]
    residual = math.sqrt(float(np.mean(np.sum((moved - target) ** 2, axis=1))))
    return matrix, residual


def measured_motion(frames: Iterable[np.ndarray]) -> tuple[StepMotion, ...]:
    """motion_measure on a clip's frames (uint8 RGB, all one size): the step into each frame
    after the first. At the model's size: 81 frames of 832x480 measure in about 1.2 s on CPU."""
    return tuple(
        StepMotion(e.frame, e.dx, e.dy, e.zoom, e.angle, e.confidence)
        for e in measure_motion(frames)
    )


def adherence(
    requested: Sequence[StepMotion], measured: Sequence[StepMotion], size: tuple[int, int]
) -> Adherence:
    """The clip's adherence figure (module docstring); the two sides pair up by frame."""
    width, height = size
    gx, gy = np.meshgrid(
        np.linspace(0, width - 1, ERROR_GRID), np.linspace(0, height - 1, ERROR_GRID)
    )
    grid = np.stack((gx.ravel(), gy.ravel(), np.ones(gx.size)), axis=0)
    by_frame = {m.frame: m for m in measured}
    errors, motions, fits, weights, frames, deltas = [], [], [], [], [], []
    excluded = 0
    for asked in requested:
        seen = by_frame.get(asked.frame)
        if seen is None:
            continue
        if seen.confidence < MIN_CONFIDENCE:
            excluded += 1
            continue
        wanted = asked.matrix(size) @ grid
        errors.append(_rms(wanted - seen.matrix(size) @ grid))
        motions.append(_rms(wanted - grid))
        fits.append(asked.fit_px)
        weights.append(seen.confidence)
        frames.append(asked.frame)
        deltas.append([getattr(seen, c) - getattr(asked, c) for c in COMPONENTS])
    if not weights:
        all_motion = [_rms(m.matrix(size) @ grid - grid) for m in requested]
        all_fit = [m.fit_px for m in requested]
        return Adherence(None, _mean(all_motion), _mean(all_fit), None, 0, excluded)
    w = np.asarray(weights)
    error = float(np.average(errors, weights=w))
    motion = float(np.average(motions, weights=w))
    allowed = np.minimum(fits, FIT_ALLOWANCE_SHARE * np.asarray(motions))
    excess = float(np.average(np.maximum(0.0, np.subtract(errors, allowed)), weights=w))
    score = min(1.0, max(0.0, 1.0 - excess / max(motion, MIN_MOTION_PX)))
    worst = int(np.argmax(errors))
    bias = dict(zip(COMPONENTS, np.average(np.asarray(deltas), axis=0, weights=w), strict=True))
    fit = float(np.average(fits, weights=w))
    return Adherence(
        error, motion, fit, score, len(w), excluded, frames[worst], errors[worst], bias
    )


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else 0.0


def _rms(difference: np.ndarray) -> float:
    """RMS length of the 2D columns of a 3 x N difference of homogeneous points."""
    return math.sqrt(float(np.mean(np.sum(difference[:2] ** 2, axis=0))))


def clip_camera(
    requested: Sequence[StepMotion],
    measured: Sequence[StepMotion],
    size: tuple[int, int],
    model_fps: float,
) -> dict[str, Any]:
    """A clip's `camera` record for its metadata: both motions per frame and the figure."""
    return {
        "size": list(size),
        "fps": model_fps,
        "requested": [m.to_dict() for m in requested],
        "measured": [m.to_dict() for m in measured],
        "adherence": adherence(requested, measured, size).to_dict(),
    }


def from_record(items: Iterable[Mapping[str, Any]]) -> tuple[StepMotion, ...]:
    """StepMotions back from a `camera` record's `requested` or `measured` list."""
    names = StepMotion.__dataclass_fields__
    return tuple(StepMotion(**{k: v for k, v in item.items() if k in names}) for item in items)


@dataclass(frozen=True)
class CameraTrack:
    """One clip's motions on the video's timeline: model frame m sits at Deforum frame
    start_frame + m * ratio (ratio = fps / model_fps, Deforum frames per model frame)."""

    index: int
    start_frame: int
    ratio: float
    requested: tuple[StepMotion, ...]
    measured: tuple[StepMotion, ...] = ()
    adherence: Mapping[str, Any] | None = None

    def at(self, motions: Sequence[StepMotion]) -> np.ndarray:
        """The Deforum frame of each motion's model frame."""
        return self.start_frame + np.array([m.frame for m in motions], np.float64) * self.ratio


@dataclass(frozen=True)
class CameraTimeline:
    """A plan's or a run's clips, at one render size and model fps."""

    size: tuple[int, int]
    model_fps: float
    tracks: tuple[CameraTrack, ...]


def plan_timeline(plan, settings, size: tuple[int, int]) -> CameraTimeline:
    """The requested motion of every clip of `plan` (a GenerationPlan of DeforumSettings
    `settings`) at the render size `size`, from the warp's schedules (what the guide uses)."""
    camera = RenderCamera.of(plan, settings, size)
    ratio = plan.fps / plan.model_fps
    tracks = tuple(
        CameraTrack(clip.index, clip.start_frame, ratio, camera.requested(clip))
        for clip in plan.clips
    )
    return CameraTimeline(tuple(size), plan.model_fps, tracks)


def run_timeline(plan, clips: Iterable[Mapping[str, Any]]) -> CameraTimeline | None:
    """The timeline of a run from its clips' metadata (their `camera` records); None when no
    clip has one."""
    ratio = plan.fps / plan.model_fps
    starts = {clip.index: clip.start_frame for clip in plan.clips}
    tracks, size = [], None
    for meta in clips:
        camera = meta.get("camera")
        if not camera or meta.get("index") not in starts:
            continue
        size = tuple(camera["size"])
        index = meta["index"]
        asked, seen = from_record(camera["requested"]), from_record(camera["measured"])
        track = CameraTrack(index, starts[index], ratio, asked, seen, camera.get("adherence"))
        tracks.append(track)
    if size is None:
        return None
    return CameraTimeline(size, plan.model_fps, tuple(sorted(tracks, key=lambda t: t.index)))


@dataclass(frozen=True)
class RenderCamera:
    """What a render needs to record its clips' camera: the warp's schedules and settings, and
    the render's size and fps."""

    schedules: Mapping[str, np.ndarray] = field(repr=False)
    warp: WarpSettings
    size: tuple[int, int]
    fps: float
    model_fps: float

    @classmethod
    def of(cls, plan, settings, size: tuple[int, int]) -> RenderCamera:
        """For a GenerationPlan of DeforumSettings `settings`, rendered at `size`."""
        from wan.render.deforum_warp import warp_schedules, warp_settings_of

        schedules, warp = warp_schedules(settings), warp_settings_of(settings)
        return cls(schedules, warp, tuple(size), plan.fps, plan.model_fps)

    def requested(self, clip) -> tuple[StepMotion, ...]:
        """A plan Clip's requested motion (computed before it is generated: a schedule the
        warp cannot use fails the render before any GPU time is spent on the clip)."""
        return requested_motion(
            self.schedules, self.warp, clip.start_frame, clip.num_frames, self.fps,
            self.model_fps, self.size,
        )  # fmt: skip

    def record(self, requested: Sequence[StepMotion], frames: np.ndarray) -> dict[str, Any]:
        """The clip's `camera` record, measured on its generated frames (the model's size)."""
        if tuple(frames.shape[2:0:-1]) != self.size:
            raise ValueError(f"frames of {frames.shape} are not at the render size {self.size}")
        return clip_camera(requested, measured_motion(frames), self.size, self.model_fps)
