"""Motion-guided continuation for text-only models: the previous clip's last frame, moved along the
next clip's camera motion, becomes the "init video" a video-to-video denoise starts from.

Deforum's motion values are per-frame VELOCITIES in Deforum frames at Deforum's size (docs/FACTS.md
section 1, wan/core/motion.py): the value at frame f warps frame f-1 into frame f. A model frame
lasts r = fps / model_fps Deforum frames, so per model frame (model size mW x mH, Deforum size
W x H):

    2D  translation_x  dx = tx * r * mW / W   Deforum translation is in pixels of its own frame,
        translation_y  dy = ty * r * mH / H   so x scales with the width, y with the height ratio
        zoom           zoom ** r              (a per-frame factor compounds)
        angle          angle * r              about (center_x * mW, center_y * mH), the
                                              transform_center_x / _y fractions
    3D  (approximated by a flat affine warp: Deforum's depth is not available)
        translation_x  dx = -tx * r * PX_PER_UNIT   PX_PER_UNIT = 1.8 px * mW / 512 at fov 70
        translation_y  dy = +ty * r * PX_PER_UNIT   (times tan(35 deg) / tan(fov / 2) at other fovs)
        translation_z  zoom exp(tz * r * LOG_SCALE_PER_Z_UNIT)   (1.75 ~ x1.009 per frame)
        rotation_3d_y  dx = -a * r * mW / fov       a rotation of a degrees shifts the image by
        rotation_3d_x  dy = +a * r * mW / fov       about a / fov of its width (fov spread evenly
                                                    over the width; the same px/deg vertically)
        rotation_3d_z  angle a * r                  about the image centre

Signs make the image CONTENT move as the table in docs/FACTS.md section 1 says (x right, y down):
2D translation_x right, translation_y down, zoom > 1 expands, angle counter-clockwise; 3D
translation_x left, translation_y down, translation_z expands, rotation_3d_x down, rotation_3d_y
left, rotation_3d_z counter-clockwise. A positive cv2 angle is counter-clockwise on screen, as in
Deforum.

Sampling: model frame m of a clip sits at Deforum position p = start_frame + m * r; the step into
model frame m uses the schedules at p, interpolated LINEARLY between Deforum frames (the schedules
themselves are linear between keys, so this follows them without the steps of nearest-frame
lookup), holding the last value past the schedule's end (a trimmed last clip runs past it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from wan.core.motion import LOG_SCALE_PER_Z_UNIT, MODES, PX_PER_3D_UNIT_AT_512
from wan.errors import ScheduleError, SettingsError

DEFAULT_FOV = 70.0  # Deforum's fov_schedule default, degrees
_BORDERS = {
    "replicate": cv2.BORDER_REPLICATE,  # Deforum's default border
    "wrap": cv2.BORDER_WRAP,  # Deforum's other border option
    "reflect": cv2.BORDER_REFLECT_101,
}
_NEUTRAL = {
    "zoom": 1.0,
    "transform_center_x": 0.5,
    "transform_center_y": 0.5,
    "fov_schedule": DEFAULT_FOV,
    "aspect_ratio_schedule": 1.0,
}


@dataclass(frozen=True)
class WarpStep:
    """The camera motion of one model frame, in model pixels and degrees.

    Applied as Deforum applies its 2D motion: translate by (dx, dy), then rotate by `angle`
    (counter-clockwise) and scale by `zoom` about `center` (x, y).
    """

    dx: float
    dy: float
    zoom: float
    angle: float
    center: tuple[float, float]

    def matrix(self) -> np.ndarray:
        """3x3 forward mapping (source point -> destination point), as Deforum builds it."""
        rotate = np.eye(3)
        rotate[:2] = cv2.getRotationMatrix2D(self.center, self.angle, self.zoom)
        translate = np.array([[1.0, 0.0, self.dx], [0.0, 1.0, self.dy], [0.0, 0.0, 1.0]])
        return rotate @ translate


def model_steps(
    schedules: Mapping[str, np.ndarray],
    mode: str,
    start_frame: int,
    num_model_frames: int,
    fps: float,
    model_fps: float,
    deforum_size: tuple[int, int],
    model_size: tuple[int, int],
) -> tuple[WarpStep, ...]:
    """The motion into each model frame after the first of a clip starting at `start_frame`.

    `schedules` maps Deforum schedule names to per-frame values (missing ones are still);
    sizes are (width, height). Returns num_model_frames - 1 steps; see the module docstring.
    """
    if mode not in MODES:
        accepted = ", ".join(repr(m) for m in MODES)
        raise SettingsError(
            f"animation mode {mode!r} has no camera motion to follow; use {accepted}"
        )
    _check_args(start_frame, num_model_frames, fps, model_fps, deforum_size, model_size)
    ratio = fps / model_fps
    positions = start_frame + np.arange(1, num_model_frames) * ratio

    def sample(key: str) -> np.ndarray:
        return sample_schedule(schedules, key, positions)

    build = _steps_2d if mode == "2D" else _steps_3d
    return build(sample, ratio, deforum_size, model_size)


def _check_args(start_frame, num_model_frames, fps, model_fps, deforum_size, model_size) -> None:
    """Plan values reach here already validated: a failure is a programming error."""
    if start_frame < 0 or num_model_frames < 1:
        raise ValueError(f"bad clip: start_frame {start_frame}, {num_model_frames} model frames")
    if not (fps > 0 and model_fps > 0 and math.isfinite(fps) and math.isfinite(model_fps)):
        raise ValueError(f"fps and model_fps must be positive, got {fps} and {model_fps}")
    for name, size in (("deforum_size", deforum_size), ("model_size", model_size)):
        if len(size) != 2 or min(size) <= 0:
            raise ValueError(f"{name} must be (width, height) > 0, got {size}")


def sample_schedule(
    schedules: Mapping[str, np.ndarray], key: str, positions: np.ndarray
) -> np.ndarray:
    """The schedule at fractional Deforum positions (linear, last value held)."""
    if key not in schedules:
        return np.full(positions.shape, _NEUTRAL.get(key, 0.0))
    values = np.asarray(schedules[key], dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"schedule '{key}' must be a non-empty 1-D array, got {values.shape}")
    if positions.size:
        first = min(math.floor(positions[0]), values.size - 1)
        used = values[first : math.ceil(positions[-1]) + 1]
        bad = ~np.isfinite(used) | ((used <= 0) if key == "zoom" else False)
        if bad.any():
            at = int(np.argmax(bad))
            raise ScheduleError(key, "", f"unusable value {used[at]}", first + at)
    return np.interp(positions, np.arange(values.size), values)


def _steps_2d(sample, ratio: float, deforum_size, model_size) -> tuple[WarpStep, ...]:
    (width, height), (model_w, model_h) = deforum_size, model_size
    dx = sample("translation_x") * ratio * model_w / width
    dy = sample("translation_y") * ratio * model_h / height
    zoom = sample("zoom") ** ratio
    angle = sample("angle") * ratio
    cx, cy = sample("transform_center_x") * model_w, sample("transform_center_y") * model_h
    return tuple(
        WarpStep(float(x), float(y), float(z), float(a), (float(u), float(v)))
        for x, y, z, a, u, v in zip(dx, dy, zoom, angle, cx, cy, strict=True)
    )


def _steps_3d(sample, ratio: float, deforum_size, model_size) -> tuple[WarpStep, ...]:
    model_w, model_h = model_size
    fov = _fov(sample("fov_schedule"))
    px_per_unit = PX_PER_3D_UNIT_AT_512 * model_w / 512 * _focal_ratio(fov)
    px_per_degree = model_w / fov
    dx = -(sample("translation_x") * px_per_unit + sample("rotation_3d_y") * px_per_degree)
    dy = sample("translation_y") * px_per_unit + sample("rotation_3d_x") * px_per_degree
    zoom = np.exp(sample("translation_z") * LOG_SCALE_PER_Z_UNIT * ratio)
    angle = sample("rotation_3d_z") * ratio
    center = (model_w / 2, model_h / 2)
    return tuple(
        WarpStep(float(x * ratio), float(y * ratio), float(z), float(a), center)
        for x, y, z, a in zip(dx, dy, zoom, angle, strict=True)
    )


def _fov(fov: np.ndarray) -> np.ndarray:
    bad = (fov <= 0) | (fov >= 180)
    if bad.any():
        raise ScheduleError(
            "fov_schedule", "", f"must stay between 0 and 180 degrees, got {fov[bad][0]:g}"
        )
    return fov


def _focal_ratio(fov: np.ndarray) -> np.ndarray:
    """Pixels per 3D unit relative to fov 70: a narrower view magnifies (tan of the half angle)."""
    return math.tan(math.radians(DEFAULT_FOV / 2)) / np.tan(np.radians(fov / 2))


def _border(border: str) -> int:
    if border not in _BORDERS:
        raise ValueError(f"border must be one of {sorted(_BORDERS)}, got {border!r}")
    return _BORDERS[border]


def _check_frame(frame: np.ndarray) -> np.ndarray:
    array = np.asarray(frame)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[-1] != 3 or 0 in array.shape:
        raise ValueError(f"expected one uint8 RGB frame (H, W, 3), got {array.dtype} {array.shape}")
    return array


def _warp(frame: np.ndarray, matrix: np.ndarray, border: int) -> np.ndarray:
    height, width = frame.shape[:2]
    return cv2.warpAffine(
        frame, matrix[:2], (width, height), flags=cv2.INTER_LINEAR, borderMode=border
    )


def warp_frame(frame: np.ndarray, step: WarpStep, border: str = "replicate") -> np.ndarray:
    """One frame moved by one step, edges filled like Deforum's default 'replicate' border."""
    return _warp(_check_frame(frame), step.matrix(), _border(border))


def init_video(
    last_frame: np.ndarray, steps: Sequence[WarpStep], border: str = "replicate"
) -> np.ndarray:
    """(len(steps) + 1, H, W, 3): `last_frame`, then where each step of the camera takes it.

    Frame k is the ORIGINAL warped once by the composed matrix of steps 1..k, not frame k-1 warped
    again: resampling a resampled image would blur more with every frame.
    """
    frame = _check_frame(last_frame)
    mode = _border(border)
    out = np.empty((len(steps) + 1, *frame.shape), np.uint8)
    out[0] = frame
    total = np.eye(3)
    for index, step in enumerate(steps, start=1):
        total = step.matrix() @ total
        out[index] = _warp(frame, total, mode)
    return out
