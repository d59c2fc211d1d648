"""Deforum's own per-frame camera warp, re-implemented: what Deforum does to the previous frame
at frame f before it generates frame f (its `anim_frame_warp`), 2D and 3D.

The reference is tests/fixtures/deforum_warp (Deforum's outputs for synthetic inputs; its
README states every convention used here): the test matches each case at >= 40 dB PSNR.

- 2D: one homography, OpenCV `warpPerspective` (bilinear, border wrap or replicate): rotation by
  `angle` and scaling by `zoom` about (W * transform_center_x, H * transform_center_y) after the
  translation; with the perspective flip the flip's homography replaces the translation (as
  Deforum's code does).
- 3D: every pixel is a 3D point (x, y in [-1, 1], z from the depth map), projected by a still
  and by a moved perspective camera (fov, aspect; rotation_3d_x/y/z, translation / 200); the image
  is resampled (torch `grid_sample`) where the projections differ. Depth is equalised per frame
  (`depth_to_z`); Deforum's "(old)" algorithms use it raw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from wan.errors import SettingsError, in_source

HISTOGRAM_BINS = 1024  # Deforum's depth equalisation
TRANSLATION_SCALE_3D = 1.0 / 200.0
LEGACY_OFFSET = 1 / 512 - 0.0001  # what the legacy 3D warp adds to every value before sampling
PADDING_MODES = ("border", "reflection", "zeros")
SAMPLING_MODES = ("bicubic", "bilinear", "nearest")


@dataclass(frozen=True)
class FrameMotion:
    """The value of every schedule the warp reads, at one frame."""

    translation_x: float = 0.0
    translation_y: float = 0.0
    translation_z: float = 0.0
    rotation_3d_x: float = 0.0  # degrees
    rotation_3d_y: float = 0.0
    rotation_3d_z: float = 0.0
    angle: float = 0.0  # degrees, 2D
    zoom: float = 1.0  # 2D
    transform_center_x: float = 0.5
    transform_center_y: float = 0.5
    flip_theta: float = 0.0  # perspective flip, degrees
    flip_phi: float = 0.0
    flip_gamma: float = 0.0
    flip_fv: float = 53.0
    fov: float = 70.0  # degrees, 3D
    aspect_ratio: float = 1.0


@dataclass(frozen=True)
class WarpSettings:
    """Deforum's settings that choose how the warp works (not per frame)."""

    mode: str = "2D"  # "2D" | "3D"
    width: int = 512  # Deforum's W and H (the 2D centre uses them)
    height: int = 512
    border: str = "replicate"  # "wrap"; anything else replicates, as in Deforum
    perspective_flip: bool = False
    use_depth: bool = True
    depth_algorithm: str = "Midas-3-Hybrid"
    padding_mode: str = "border"
    sampling_mode: str = "bicubic"
    aspect_ratio_old_formula: bool = False

    @property
    def legacy_3d(self) -> bool:
        """Deforum's "(old)" depth algorithms run the legacy 3D warp (raw depth as z)."""
        return "(old)" in self.depth_algorithm


def warp_frame(
    image: np.ndarray, motion: FrameMotion, settings: WarpSettings, depth: np.ndarray | None = None
) -> np.ndarray:
    """Deforum's warp of a uint8 H x W x 3 frame by one frame's motion (depth: 3D only, H x W,
    in the depth model's own convention, see `depth_to_z`)."""
    _check_image(image)
    if settings.mode == "2D":
        return _warp_2d(image, motion, settings)
    if settings.mode != "3D":
        raise SettingsError(f"animation mode {settings.mode!r}: Deforum warps '2D' and '3D' only")
    if settings.perspective_flip:
        image = _warp_homography(image, _flip_matrix(image, motion), settings.border)
    return _warp_3d(image, motion, settings, depth)


def depth_to_z(depth: np.ndarray | None, settings: WarpSettings, shape: tuple[int, int]):
    """Camera-space z per pixel from a depth map, as Deforum's warp makes it: flat (1) without
    depth or depth warping; the raw depth for the "(old)" algorithms; else the depth equalised
    into [1, 2], nearest pixel 1 (MiDaS maps are inverse depth: larger is nearer)."""
    if depth is None or not settings.use_depth:
        return np.ones(shape, np.float32)
    depth = np.asarray(depth)
    if depth.shape != shape:
        raise SettingsError(
            f"the depth map is {'x'.join(map(str, depth.shape[::-1]))}, the image "
            f"{shape[1]}x{shape[0]}: give one depth value per pixel (an H x W array)"
        )
    if settings.legacy_3d:
        return depth.astype(np.float32)
    low, high = float(np.min(depth)), float(np.max(depth))
    if not (np.isfinite(depth).all() and low < high):
        return np.ones(shape, np.float32)  # Deforum: "Depth tensor invalid", a flat scene
    spread = np.float32(high) - np.float32(low)
    normed = (depth.astype(np.float32) - np.float32(low)) / spread
    counts, _ = np.histogram(normed, bins=HISTOGRAM_BINS, range=(0.0, 1.0))
    cumulative = np.cumsum(counts) / normed.size
    equalised = np.interp(normed, np.arange(HISTOGRAM_BINS) / HISTOGRAM_BINS, cumulative)
    midas = settings.depth_algorithm.lower().startswith("midas")
    return (2.0 - equalised if midas else 1.0 + equalised).astype(np.float32)


def _warp_2d(image: np.ndarray, motion: FrameMotion, settings: WarpSettings) -> np.ndarray:
    centre = (
        settings.width * motion.transform_center_x,
        settings.height * motion.transform_center_y,
    )
    rotation = np.vstack([cv2.getRotationMatrix2D(centre, motion.angle, motion.zoom), [0, 0, 1]])
    if settings.perspective_flip:
        # Deforum drops the translation here (its third matrix lands in matmul's out argument)
        matrix = _flip_matrix(image, motion, settings.width, settings.height) @ rotation
    else:
        shift = np.array(
            [[1, 0, motion.translation_x], [0, 1, motion.translation_y], [0, 0, 1]], np.float32
        )
        matrix = rotation @ shift.astype(np.float64)
    return _warp_homography(image, matrix, settings.border)


def _warp_homography(image: np.ndarray, matrix: np.ndarray, border: str) -> np.ndarray:
    mode = cv2.BORDER_WRAP if border == "wrap" else cv2.BORDER_REPLICATE
    height, width = image.shape[:2]
    return cv2.warpPerspective(image, matrix, (width, height), borderMode=mode)


def _flip_matrix(
    image: np.ndarray, motion: FrameMotion, width: int | None = None, height: int | None = None
) -> np.ndarray:
    """The perspective flip's homography: the image plane turned by (phi, gamma, theta) degrees
    about x, y, z in front of a camera of field of view `flip_fv`, seen again, re-centred."""
    w = float(width if width is not None else image.shape[1])
    h = float(height if height is not None else image.shape[0])
    half_fov = math.radians(motion.flip_fv / 2.0)
    diagonal = math.sqrt(w * w + h * h)
    side = diagonal / math.cos(half_fov)
    distance = diagonal / (2.0 * math.sin(half_fov))
    near, far = distance - diagonal / 2.0, distance + diagonal / 2.0
    move = np.eye(4)
    move[2, 3] = -distance
    project = np.eye(4)
    project[0, 0] = project[1, 1] = 1.0 / math.tan(half_fov)
    project[2, 2] = -(far + near) / (far - near)
    project[2, 3] = -(2.0 * far * near) / (far - near)
    project[3, 2] = -1.0
    full = project @ move @ _rotation_4x4(motion.flip_phi, motion.flip_gamma, motion.flip_theta)
    corners = np.array([[[-w / 2, h / 2, 0.0], [w / 2, h / 2, 0.0], [w / 2, -h / 2, 0.0],
                         [-w / 2, -h / 2, 0.0]]])  # fmt: skip
    seen = cv2.perspectiveTransform(corners, full)
    source = (corners[0, :, :2] + [w / 2, h / 2]).astype(np.float32)
    target = ((seen[0, :, :2] + [1.0, 1.0]) * (0.5 * side)).astype(np.float32)
    homography = cv2.getPerspectiveTransform(source, target)
    recentre = np.array([[1, 0, (w - side) / 2], [0, 1, (h - side) / 2]], np.float32)
    return homography @ np.vstack([recentre, [0, 0, 1]])


def rotation_matrix(about_x: float, about_y: float, about_z: float) -> np.ndarray:
    """Rx @ Ry @ Rz for angles in degrees (Deforum's "XYZ" order), 3 x 3."""
    a, b, c = (math.radians(v) for v in (about_x, about_y, about_z))
    return _rx(a) @ _ry(b) @ _rz(c)


def _rotation_4x4(about_x: float, about_y: float, about_z: float) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3] = rotation_matrix(about_x, about_y, about_z)
    return out


def _rx(a: float) -> np.ndarray:
    return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])


def _ry(b: float) -> np.ndarray:
    return np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])


def _rz(c: float) -> np.ndarray:
    return np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])


def _warp_3d(
    image: np.ndarray, motion: FrameMotion, settings: WarpSettings, depth: np.ndarray | None
) -> np.ndarray:
    import torch

    if settings.padding_mode not in PADDING_MODES or settings.sampling_mode not in SAMPLING_MODES:
        raise SettingsError(
            f"padding_mode {settings.padding_mode!r} / sampling_mode {settings.sampling_mode!r}: "
            f"use one of {', '.join(PADDING_MODES)} / {', '.join(SAMPLING_MODES)}"
        )
    height, width = image.shape[:2]
    z = torch.from_numpy(depth_to_z(depth, settings, (height, width)))
    y, x = torch.meshgrid(
        torch.linspace(-1.0, 1.0, height, dtype=torch.float32),
        torch.linspace(-1.0, 1.0, width, dtype=torch.float32),
        indexing="ij",
    )
    points = torch.stack((x.flatten(), y.flatten(), z.flatten()), dim=1)
    aspect = width / height if settings.aspect_ratio_old_formula else motion.aspect_ratio
    scale = math.tan(math.radians(motion.fov) / 2.0)
    rotation = torch.tensor(
        rotation_matrix(motion.rotation_3d_x, motion.rotation_3d_y, motion.rotation_3d_z),
        dtype=torch.float32,
    )
    shift = (
        torch.tensor(
            [-motion.translation_x, motion.translation_y, -motion.translation_z],
            dtype=torch.float32,
        )
        * TRANSLATION_SCALE_3D
    )
    moved = points @ rotation + shift
    still_xy = _project(points, scale, aspect)
    moved_xy = _project(moved, scale, aspect)
    offset = (moved_xy - still_xy).reshape(1, height, width, 2)
    identity = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    grid = torch.nn.functional.affine_grid(identity, [1, 1, height, width], align_corners=False)
    pixels = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None]
    if settings.legacy_3d:
        pixels = pixels + LEGACY_OFFSET
    warped = torch.nn.functional.grid_sample(
        pixels,
        grid - offset,
        mode=settings.sampling_mode,
        padding_mode=settings.padding_mode,
        align_corners=False,
    )
    return warped[0].clamp(0, 255).permute(1, 2, 0).numpy().astype(np.uint8)


def _project(points, scale: float, aspect: float):
    """Perspective projection of camera-space points to the image plane (x right, y down)."""
    import torch

    depth = points[:, 2]
    return torch.stack(
        (points[:, 0] / (depth * scale * aspect), points[:, 1] / (depth * scale)), dim=1
    )


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3:
        raise SettingsError("the image to warp must be an 8-bit colour image (H x W x 3)")


# FrameMotion field -> the Deforum schedule it reads
_SCHEDULE_OF = {
    "translation_x": "translation_x",
    "translation_y": "translation_y",
    "translation_z": "translation_z",
    "rotation_3d_x": "rotation_3d_x",
    "rotation_3d_y": "rotation_3d_y",
    "rotation_3d_z": "rotation_3d_z",
    "angle": "angle",
    "zoom": "zoom",
    "transform_center_x": "transform_center_x",
    "transform_center_y": "transform_center_y",
    "flip_theta": "perspective_flip_theta",
    "flip_phi": "perspective_flip_phi",
    "flip_gamma": "perspective_flip_gamma",
    "flip_fv": "perspective_flip_fv",
    "fov": "fov_schedule",
    "aspect_ratio": "aspect_ratio_schedule",
}
WARP_SCHEDULES = tuple(_SCHEDULE_OF.values())


def warp_settings_of(settings) -> WarpSettings:
    """The warp's settings from a DeforumSettings (read like every other setting)."""
    from wan.core.deforum.settings import setting

    return WarpSettings(
        mode=settings.mode,
        width=settings.width,
        height=settings.height,
        border=setting(settings, "border"),
        perspective_flip=setting(settings, "enable_perspective_flip"),
        use_depth=setting(settings, "use_depth_warping"),
        depth_algorithm=setting(settings, "depth_algorithm"),
        padding_mode=setting(settings, "padding_mode"),
        sampling_mode=setting(settings, "sampling_mode"),
        aspect_ratio_old_formula=setting(settings, "aspect_ratio_use_old_formula"),
    )


def warp_schedules(settings) -> dict[str, np.ndarray]:
    """Every schedule the warp reads, evaluated per frame as Deforum does."""
    from wan.core.deforum.schedules import evaluate_schedule

    with in_source(settings.source):  # a schedule's error names the settings file
        return {
            name: evaluate_schedule(
                settings.schedules[name], settings.max_frames, settings.seed, name
            )
            for name in WARP_SCHEDULES
        }


def frame_motion(schedules, frame: int) -> FrameMotion:
    """A frame's values of the warp's schedules (`schedules`: name -> per-frame array)."""
    return FrameMotion(
        **{field: float(schedules[name][frame]) for field, name in _SCHEDULE_OF.items()}
    )


def warp_chain(
    image: np.ndarray, settings, frame: int, steps: int = 1, depth: np.ndarray | None = None
) -> list[np.ndarray]:
    """Deforum's warp of `image` at frames frame .. frame + steps - 1, each step warping the one
    before (`settings`: a DeforumSettings; `depth` is used at every step): the frames after each
    step."""
    last = frame + steps - 1
    if steps < 1 or not frame >= 0 or last >= settings.max_frames:
        raise SettingsError(
            f"frames {frame} to {last}: the animation has frames 0 to {settings.max_frames - 1}; "
            "give a frame (and steps) inside it"
        )
    schedules = warp_schedules(settings)
    warp = warp_settings_of(settings)
    out = []
    for index in range(frame, last + 1):
        image = warp_frame(image, frame_motion(schedules, index), warp, depth)
        out.append(image)
    return out
