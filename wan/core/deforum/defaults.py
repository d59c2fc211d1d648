"""Deforum's defaults and key names, as data.

Values come from Deforum's `args.py` (sd-webui-deforum, automatic1111-webui branch). A settings
file that lacks a key behaves as Deforum would with this default.
"""

from __future__ import annotations

from types import MappingProxyType

# Numeric schedules, evaluated per frame (the `schedules` command prints all of them).
NUMERIC_SCHEDULES = MappingProxyType(
    {
        # camera motion
        "angle": "0: (0)",
        "zoom": "0: (1.0025+0.002*sin(1.25*3.14*t/30))",
        "translation_x": "0: (0)",
        "translation_y": "0: (0)",
        "translation_z": "0: (1.75)",
        "transform_center_x": "0: (0.5)",
        "transform_center_y": "0: (0.5)",
        "rotation_3d_x": "0: (0)",
        "rotation_3d_y": "0: (0)",
        "rotation_3d_z": "0: (0)",
        "perspective_flip_theta": "0: (0)",
        "perspective_flip_phi": "0: (0)",
        "perspective_flip_gamma": "0: (0)",
        "perspective_flip_fv": "0: (53)",
        "fov_schedule": "0: (70)",
        "aspect_ratio_schedule": "0: (1)",
        "near_schedule": "0: (200)",
        "far_schedule": "0: (10000)",
        # diffusion
        "strength_schedule": "0: (0.65)",
        "noise_schedule": "0: (0.065)",
        "contrast_schedule": "0: (1.0)",
        "cfg_scale_schedule": "0: (7)",
        "steps_schedule": "0: (25)",
        "noise_multiplier_schedule": "0: (1.05)",
        # seeds
        "seed_schedule": '0:(s), 1:(-1), "max_f-2":(-1), "max_f-1":(s)',
        "subseed_schedule": "0: (1)",
        "subseed_strength_schedule": "0: (0)",
    }
)

# Text schedules: forward-filled strings, not interpolated.
STRING_SCHEDULES = MappingProxyType(
    {
        "sampler_schedule": '0: ("Euler a")',
        "checkpoint_schedule": '0: ("model1.ckpt"), 100: ("model2.safetensors")',
    }
)

MOTION_2D = ("translation_x", "translation_y", "zoom", "angle")
MOTION_3D = (
    "translation_x",
    "translation_y",
    "translation_z",
    "rotation_3d_x",
    "rotation_3d_y",
    "rotation_3d_z",
)

SEED_BEHAVIORS = ("iter", "fixed", "random", "ladder", "alternate", "schedule")
ANIMATION_MODES = ("2D", "3D", "Video Input", "Interpolation")
# Video Input is rendered as video-to-video: the input video is the guide (wan.render.guide_source)
SUPPORTED_MODES = ("2D", "3D", "Video Input")

# Plain settings with their defaults and the type they are read as.
SCALARS = MappingProxyType(
    {
        "animation_mode": ("2D", str),
        "max_frames": (120, int),
        "fps": (15, float),
        "W": (512, int),
        "H": (512, int),
        "seed": (-1, int),
        "seed_behavior": ("iter", str),
        "seed_iter_N": (1, int),
        "diffusion_cadence": (2, int),
        "use_init": (False, bool),
        "init_image": (None, str),
        "strength": (0.8, float),
        "strength_0_no_init": (True, bool),
        "add_soundtrack": ("None", str),
        "soundtrack_path": ("", str),
        "batch_name": ("Deforum_{timestring}", str),
        # how Deforum's per-frame warp works (wan.render.deforum_warp)
        "border": ("replicate", str),
        "enable_perspective_flip": (False, bool),
        "use_depth_warping": (True, bool),
        "depth_algorithm": ("Midas-3-Hybrid", str),
        "padding_mode": ("border", str),
        "sampling_mode": ("bicubic", str),
        "aspect_ratio_use_old_formula": (False, bool),
        # Parseq (wan.core.deforum.parseq); parseq_manifest is read as text or JSON there
        "parseq_use_deltas": (True, bool),
        "parseq_non_schedule_overrides": (True, bool),
        # Video Input mode: the input video and which of its frames Deforum extracts
        "video_init_path": ("https://deforum.github.io/a1/V1.mp4", str),
        "extract_from_frame": (0, int),
        "extract_to_frame": (-1, int),
        "extract_nth_frame": (1, int),
    }
)

# Old key names found in early-2023 files, mapped to today's.
LEGACY_KEYS = MappingProxyType(
    {
        "flip_2d_perspective": "enable_perspective_flip",
        "animation_prompts": "prompts",
    }
)

# Deforum's UI defaults for the prompt fields, used when a file has none.
DEFAULT_PROMPTS = MappingProxyType(
    {
        "0": "tiny cute bunny, vibrant diffraction, highly detailed, intricate, ultra hd, "
        "sharp photo, crepuscular rays, in focus",
        "30": "anthropomorphic clean cat, surrounded by fractals, epic angle and pose, "
        "symmetrical, 3d, depth of field",
        "60": "a beautiful coconut --neg photo, realistic",
        "90": "a beautiful durian, award winning photography",
    }
)
DEFAULT_POSITIVE_PROMPT = ""
DEFAULT_NEGATIVE_PROMPT = "nsfw, nude"
