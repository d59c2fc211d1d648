"""The camera guide of a clip: one source frame (the previous clip's last frame, or the init
image) carried along the clip's camera path, one model frame at a time, with a validity mask per
frame (1 where the pixel comes from the source, 0 where it was revealed: off-frame or, in 3D,
disoccluded behind a nearer surface).

Deforum warps its previous OUTPUT every frame; the guide instead warps the SOURCE once per model
frame with the camera motion composed up to that frame, so detail does not blur away frame after
frame. In 3D the composition is exact for the camera (rotations and translations chain as
p -> p R1 + T1 -> (p R1 + T1) R2 + T2); the source's depth is the only depth used, where Deforum
would estimate a fresh depth map on every warped frame.

The per-model-frame motion is Deforum's per-frame velocity resampled to the model's fps as
`wan.render.warp` documents (a model frame lasts r = fps / model_fps Deforum frames).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from wan.render.deforum_warp import TRANSLATION_SCALE_3D, WarpSettings, depth_to_z, rotation_matrix
from wan.render.warp import model_steps


@dataclass(frozen=True)
class CameraGuide:
    """frames: (N, H, W, 3) uint8, frame 0 the source; masks: (N, H, W) uint8, 1 = from the
    source, 0 = revealed."""

    frames: np.ndarray
    masks: np.ndarray


def camera_guide(
    source: np.ndarray,
    schedules: Mapping[str, np.ndarray],
    settings: WarpSettings,
    start_frame: int,
    num_model_frames: int,
    fps: float,
    model_fps: float,
    depth: np.ndarray | None = None,
) -> CameraGuide:
    """The guide of a clip of `num_model_frames` model frames starting at Deforum frame
    `start_frame`, at the source's size (the model's); `settings` carry Deforum's W and H."""
    height, width = source.shape[:2]
    if settings.mode == "3D":
        return _guide_3d(source, schedules, settings, start_frame, num_model_frames, fps,
                         model_fps, depth)  # fmt: skip
    steps = model_steps(
        schedules, "2D", start_frame, num_model_frames, fps, model_fps,
        (settings.width, settings.height), (width, height),
    )  # fmt: skip
    border = cv2.BORDER_WRAP if settings.border == "wrap" else cv2.BORDER_REPLICATE
    ones = np.ones((height, width), np.uint8)
    frames, masks = [source], [ones]
    total = np.eye(3)
    for step in steps:
        total = step.matrix() @ total
        frames.append(cv2.warpPerspective(source, total, (width, height), borderMode=border))
        mask = cv2.warpPerspective(ones, total, (width, height), flags=cv2.INTER_NEAREST,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
        masks.append(ones if settings.border == "wrap" else mask)
    return CameraGuide(np.stack(frames), np.stack(masks))


def _guide_3d(source, schedules, settings, start_frame, num_model_frames, fps, model_fps, depth):
    import torch

    height, width = source.shape[:2]
    ratio = fps / model_fps
    positions = start_frame + np.arange(1, num_model_frames) * ratio

    def at(name: str, neutral: float) -> np.ndarray:
        values = schedules.get(name)
        if values is None:
            return np.full(positions.shape, neutral)
        return np.interp(positions, np.arange(len(values)), np.asarray(values, np.float64))

    z = depth_to_z(depth, settings, (height, width)).astype(np.float64)
    y, x = np.meshgrid(np.linspace(-1, 1, height), np.linspace(-1, 1, width), indexing="ij")
    points = np.stack((x.ravel(), y.ravel(), z.ravel()), axis=1)
    rx, ry, rz = (at(f"rotation_3d_{a}", 0.0) * ratio for a in "xyz")
    tx, ty, tz = (at(f"translation_{a}", 0.0) * ratio for a in "xyz")
    fov, aspect_at = at("fov_schedule", 70.0), at("aspect_ratio_schedule", 1.0)
    rotation, shift = np.eye(3), np.zeros(3)
    grid = torch.nn.functional.affine_grid(
        torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), [1, 1, height, width],
        align_corners=False,
    )[0].numpy()  # fmt: skip
    pixels = torch.from_numpy(source.astype(np.float32)).permute(2, 0, 1)[None]
    frames, masks = [source], [np.ones((height, width), np.uint8)]
    for k in range(len(positions)):
        step = rotation_matrix(rx[k], ry[k], rz[k])
        rotation = rotation @ step
        shift = shift @ step + np.array([-tx[k], ty[k], -tz[k]]) * TRANSLATION_SCALE_3D
        scale = math.tan(math.radians(fov[k]) / 2)
        aspect = width / height if settings.aspect_ratio_old_formula else aspect_at[k]
        moved = points @ rotation + shift
        offset = (_project(moved, scale, aspect) - _project(points, scale, aspect)).reshape(
            height, width, 2
        )
        sample = torch.from_numpy((grid - offset).astype(np.float32))[None]
        warped = torch.nn.functional.grid_sample(
            pixels, sample, mode=settings.sampling_mode, padding_mode=settings.padding_mode,
            align_corners=False,
        )  # fmt: skip
        frames.append(warped[0].clamp(0, 255).permute(1, 2, 0).numpy().astype(np.uint8))
        masks.append(_revealed_mask(grid, offset, moved[:, 2]))
    return CameraGuide(np.stack(frames), np.stack(masks))


def _project(points: np.ndarray, scale: float, aspect: float) -> np.ndarray:
    depth = np.where(points[:, 2] > 1e-6, points[:, 2], np.nan)  # behind the camera: nowhere
    return np.stack((points[:, 0] / (depth * scale * aspect), points[:, 1] / (depth * scale)), 1)


def _revealed_mask(grid: np.ndarray, offset: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """1 where some source pixel lands (forward: each source pixel moves by its own offset, the
    nearest one wins a target pixel), 0 where none does: off-frame or disoccluded."""
    height, width = offset.shape[:2]
    target = grid + offset  # normalised positions the source pixels move to
    col = np.rint((target[..., 0] + 1) * width / 2 - 0.5)
    row = np.rint((target[..., 1] + 1) * height / 2 - 0.5)
    inside = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (col < width)
    inside &= (row >= 0) & (row < height)
    covered = np.zeros((height, width), np.uint8)
    covered[row[inside].astype(int), col[inside].astype(int)] = 1
    # a surface stretched by less than 2x leaves one-pixel gaps between its samples: close them,
    # so only real holes (revealed background, off-frame) stay 0
    return cv2.morphologyEx(covered, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
