"""Deforum's 2D camera motion per MODEL frame: the steps the camera guide composes
(`wan.render.camera_guide`; 3D goes through Deforum's own projection there).

Deforum's motion values are per-frame VELOCITIES in Deforum frames at Deforum's size (docs/FACTS.md
section 1, wan/core/motion.py): the value at frame f warps frame f-1 into frame f. A model frame
lasts r = fps / model_fps Deforum frames, so per model frame (model size mW x mH, Deforum size
W x H):

    translation_x  dx = tx * r * mW / W   Deforum translation is in pixels of its own frame,
    translation_y  dy = ty * r * mH / H   so x scales with the width, y with the height ratio
    zoom           zoom ** r              (a per-frame factor compounds)
    angle          angle * r              about (center_x * mW, center_y * mH), the
                                          transform_center_x / _y fractions

Signs make the image CONTENT move as the table in docs/FACTS.md section 1 says (x right, y down):
translation_x right, translation_y down, zoom > 1 expands, angle counter-clockwise (a positive cv2
angle is counter-clockwise on screen, as in Deforum).

Sampling: model frame m of a clip sits at Deforum position p = start_frame + m * r; the step into
model frame m uses the schedules at p, interpolated LINEARLY between Deforum frames (the schedules
themselves are linear between keys, so this follows them without the steps of nearest-frame
lookup), holding the last value past the schedule's end (a trimmed last clip runs past it).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from wan.core.deforum.degenerate import ZOOM, usable_zoom, zoom_note
from wan.errors import ScheduleError

log = logging.getLogger(__name__)

_NEUTRAL = {
    "zoom": 1.0,
    "transform_center_x": 0.5,
    "transform_center_y": 0.5,
    "fov_schedule": 70.0,  # Deforum's default, degrees
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
    start_frame: int,
    num_model_frames: int,
    fps: float,
    model_fps: float,
    deforum_size: tuple[int, int],
    model_size: tuple[int, int],
) -> tuple[WarpStep, ...]:
    """The 2D motion into each model frame after the first of a clip starting at `start_frame`.

    `schedules` maps Deforum schedule names to per-frame values (missing ones are still);
    sizes are (width, height). Returns num_model_frames - 1 steps; see the module docstring.
    """
    _check_args(start_frame, num_model_frames, fps, model_fps, deforum_size, model_size)
    ratio = fps / model_fps
    positions = start_frame + np.arange(1, num_model_frames) * ratio

    (width, height), (model_w, model_h) = deforum_size, model_size

    def sample(key: str) -> np.ndarray:
        return sample_schedule(schedules, key, positions)

    dx = sample("translation_x") * ratio * model_w / width
    dy = sample("translation_y") * ratio * model_h / height
    zoom = sample("zoom") ** ratio
    angle = sample("angle") * ratio
    cx, cy = sample("transform_center_x") * model_w, sample("transform_center_y") * model_h
    return tuple(
        WarpStep(float(x), float(y), float(z), float(a), (float(u), float(v)))
        for x, y, z, a, u, v in zip(dx, dy, zoom, angle, cx, cy, strict=True)
    )


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
    """The schedule at fractional Deforum positions (linear, last value held). A zoom of 0 or
    less is read as 1 on its frames, with a warning (`wan.core.deforum.degenerate` says why);
    non-finite values are refused."""
    if key not in schedules:
        return np.full(positions.shape, _NEUTRAL.get(key, 0.0))
    values = np.asarray(schedules[key], dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"schedule '{key}' must be a non-empty 1-D array, got {values.shape}")
    if positions.size:
        first = min(math.floor(positions[0]), values.size - 1)
        last = math.ceil(positions[-1]) + 1
        used = values[first:last]
        bad = ~np.isfinite(used)
        if bad.any():
            at = int(np.argmax(bad))
            raise ScheduleError(key, "", f"unusable value {used[at]}", first + at)
        if key == ZOOM:
            fixed, frames = usable_zoom(used)
            if frames.size:
                log.warning("%s", zoom_note(values, frames + first))
                values = np.concatenate((values[:first], fixed, values[last:]))
    return np.interp(positions, np.arange(values.size), values)
