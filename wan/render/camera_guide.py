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
`wan.render.warp` documents for 2D, 3D sampling the same positions (a model frame lasts
r = fps / model_fps Deforum frames).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from wan.render.deforum_warp import TRANSLATION_SCALE_3D, WarpSettings, depth_to_z, rotation_matrix
from wan.render.warp import model_steps, sample_schedule

GAP_PIXELS = 0.5  # neighbours parting by more than this in one model frame open a gap


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
        schedules, start_frame, num_model_frames, fps, model_fps,
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
    """Deforum's 3D warp of every model frame, composed as sampling maps: map k is map k-1 read
    where step k's warp samples, so frame k samples the source once. Each step uses the depth
    carried to that frame, equalised again (Deforum equalises a fresh depth map every frame, so
    a forward camera magnifies by the same factor each frame instead of reaching the scene)."""
    import torch

    height, width = source.shape[:2]
    ratio = fps / model_fps
    positions = start_frame + np.arange(1, num_model_frames) * ratio

    def at(name: str) -> np.ndarray:
        return sample_schedule(schedules, name, positions)

    rx, ry, rz = (at(f"rotation_3d_{a}") * ratio for a in "xyz")
    tx, ty, tz = (at(f"translation_{a}") * ratio for a in "xyz")
    fov, aspect_at = at("fov_schedule"), at("aspect_ratio_schedule")
    y, x = np.meshgrid(np.linspace(-1, 1, height), np.linspace(-1, 1, width), indexing="ij")
    grid = torch.nn.functional.affine_grid(
        torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=torch.float64),
        [1, 1, height, width], align_corners=False,
    )[0]  # fmt: skip
    source_t = torch.from_numpy(source.astype(np.float32)).permute(2, 0, 1)[None]  # as Deforum
    points = np.empty((height * width, 3))  # camera-space x, y (fixed) and z (per step)
    points[:, 0], points[:, 1] = x.ravel(), y.ravel()
    depth_t = None if depth is None else torch.from_numpy(np.asarray(depth, np.float64))[None, None]
    where = grid.clone()  # map 0: every pixel reads itself
    valid = torch.ones(1, 1, height, width)
    frames, masks = [source], [np.ones((height, width), np.uint8)]
    for k in range(len(positions)):
        carried = None if depth_t is None else _sample(depth_t, where, "bilinear")[0, 0].numpy()
        points[:, 2] = depth_to_z(carried, settings, (height, width)).ravel()
        aspect = width / height if settings.aspect_ratio_old_formula else aspect_at[k]
        offset = step_offset(points, (rx[k], ry[k], rz[k]), (tx[k], ty[k], tz[k]), fov[k], aspect)
        offset = torch.from_numpy(np.nan_to_num(offset, nan=8.0).reshape(height, width, 2))
        reads = grid - offset  # where step k's warp reads frame k-1
        moved = _sample((where - grid).permute(2, 0, 1)[None], reads, "bilinear", "border")
        where = reads + moved[0].permute(1, 2, 0)  # off-frame reads stay off-frame
        opened = torch.from_numpy(_opened(offset.numpy(), width, height).astype(np.float32))
        reads32 = reads.float()  # masks and pixels are sampled in float32, as Deforum does
        kept = 1.0 - _sample(opened[None, None], reads32, "nearest", "border")
        valid = _sample(valid, reads32, "nearest") * kept
        warped = _sample(source_t, where.float(), settings.sampling_mode, settings.padding_mode)
        frames.append(warped[0].clamp(0, 255).permute(1, 2, 0).numpy().astype(np.uint8))
        masks.append(valid[0, 0].numpy().astype(np.uint8))
    return CameraGuide(np.stack(frames), np.stack(masks))


def step_offset(points: np.ndarray, rotation, translation, fov: float, aspect: float):
    """Where one 3D step (rotation_3d_x/y/z degrees, translation_x/y/z, Deforum's signs) moves
    camera-space points (N x 3: x, y in [-1, 1], z) on the image plane, in normalised units
    (N x 2; NaN behind the camera). The guide's warp and the adherence measure's requested
    motion (wan/render/adherence.py) share it."""
    shift = np.array([-translation[0], translation[1], -translation[2]]) * TRANSLATION_SCALE_3D
    scale = math.tan(math.radians(fov) / 2)
    turn = rotation_matrix(*rotation)
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    # points @ turn + shift, one column at a time (a 3-wide matmul over ~400k rows is slow)
    moved = [x * turn[0, i] + y * turn[1, i] + z * turn[2, i] + shift[i] for i in range(3)]
    return _project(*moved, scale, aspect) - _project(x, y, z, scale, aspect)


def _sample(image, where, mode: str, padding: str = "zeros"):
    """grid_sample of (1, C, H, W) at normalised positions (H, W, 2), align_corners off."""
    import torch

    return torch.nn.functional.grid_sample(
        image, where[None].to(image.dtype), mode=mode, padding_mode=padding, align_corners=False
    )


def _project(x: np.ndarray, y: np.ndarray, z: np.ndarray, scale: float, aspect: float):
    depth = np.where(z > 1e-6, z, np.nan)  # behind the camera: nowhere
    return np.stack((x / (depth * scale * aspect), y / (depth * scale)), 1)


def _opened(offset: np.ndarray, width: int, height: int) -> np.ndarray:
    """1 where one step's warp opens a gap: the displacements of neighbouring pixels part by
    more than half a pixel (a nearer surface moving away from a farther one). A smooth zoom or
    turn parts neighbours by far less, so it reveals nothing inside the frame."""
    px = offset[..., 0] * width / 2
    py = offset[..., 1] * height / 2
    gap = np.zeros(offset.shape[:2], np.float64)
    part_x = np.abs(np.diff(px, axis=1)) > GAP_PIXELS
    part_y = np.abs(np.diff(py, axis=0)) > GAP_PIXELS
    gap[:, :-1] += part_x
    gap[:, 1:] += part_x
    gap[:-1] += part_y
    gap[1:] += part_y
    return (gap > 0).astype(np.float64)


def test_card(width: int, height: int) -> np.ndarray:
    """A neutral picture with detail everywhere (a grid of shaded squares and dots), for a guide
    preview when there is no init image: any camera motion shows on it."""
    y, x = np.mgrid[0:height, 0:width]
    cell = max(8, min(width, height) // 12)
    checker = ((x // cell + y // cell) % 2).astype(np.float64)
    shade = 0.5 + 0.5 * np.sin(x / (3.1 * cell)) * np.cos(y / (2.3 * cell))
    card = np.stack([checker * 150 + shade * 80, shade * 200 + 30, (1 - checker) * 120 + 60], -1)
    card = np.ascontiguousarray(np.clip(card, 0, 255).astype(np.uint8))
    for row in range(cell // 2, height, 3 * cell):
        for col in range(cell // 2, width, 3 * cell):
            cv2.circle(card, (col, row), max(2, cell // 3), (240, 240, 40), -1)
    return card


def shaded(guide: CameraGuide) -> np.ndarray:
    """The guide's frames with revealed pixels darkened, so a preview shows what the video
    model will have to invent."""
    weight = 0.35 + 0.65 * guide.masks[..., None].astype(np.float32)
    return (guide.frames.astype(np.float32) * weight).astype(np.uint8)


def plan_guide(
    source: np.ndarray,
    plan,
    schedules: Mapping[str, np.ndarray],
    settings: WarpSettings,
    depth_of: Callable[[np.ndarray], np.ndarray] | None = None,
) -> CameraGuide:
    """The guides of a plan's clips in a row, each clip starting from the previous clip's last
    guide frame as the render starts from its last frame; frames shared by consecutive clips
    appear once. `depth_of` gives a clip's source its depth map (3D; in the warp's convention),
    as a render asks the depth model for each clip's first frame."""
    frames, masks = [], []
    for clip in plan.clips:
        depth = depth_of(source) if depth_of is not None else None
        guide = camera_guide(
            source, schedules, settings, clip.start_frame, clip.num_frames, plan.fps,
            plan.model_fps, depth,
        )  # fmt: skip
        keep = clip.model_end - clip.model_start + 1
        frames.append(guide.frames[clip.overlap : keep])
        masks.append(guide.masks[clip.overlap : keep])
        source = guide.frames[keep - 1]
    return CameraGuide(np.concatenate(frames), np.concatenate(masks))
