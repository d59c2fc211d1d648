"""tiny-depth, the smoke depth estimator: Depth-Anything's architecture (a DINOv2 backbone, a DPT
neck and a relative-depth head) at a few thousand parameters, in the transformers layout of
depth-anything/Depth-Anything-V2-Small-hf (config.json, model.safetensors,
preprocessor_config.json). It loads through the real path, `AutoModelForDepthEstimation` and
`AutoImageProcessor` on its folder, so the depth code tests exercise is the code a real model runs.

Its weights are random, so its depth maps mean nothing. The convolutions of the neck and head keep
torch's own initial scale (transformers' 0.02 fades the signal to a constant) and the head's last
bias is positive, so the final ReLU does not flatten a map to one value: a flat map would make
Deforum's warp fall back to a flat scene and hide the depth path from the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

PATCH = 14  # DINOv2's patch size, as the real model
INPUT_SIZE = 56  # the processor's target size (the real model: 518)


def build_depth(folder: Path, seeded: Callable[[], AbstractContextManager[None]]) -> None:
    """Write tiny-depth (random weights under `seeded`) and its image processor into `folder`."""
    import torch
    from transformers import AutoModelForDepthEstimation

    with seeded():
        model = AutoModelForDepthEstimation.from_config(_config())
        with torch.no_grad():
            for module in (*model.neck.modules(), *model.head.modules()):
                if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                    module.reset_parameters()  # torch's scale: transformers' 0.02 fades to 0
            model.head.conv3.bias.fill_(0.5)
    model.save_pretrained(folder, safe_serialization=True)
    _processor().save_pretrained(folder)


def _config() -> Any:
    from transformers import DepthAnythingConfig, Dinov2Config

    backbone = Dinov2Config(
        hidden_size=16,
        num_hidden_layers=4,
        num_attention_heads=2,
        mlp_ratio=2,
        patch_size=PATCH,
        image_size=INPUT_SIZE,
        out_indices=[1, 2, 3, 4],
        reshape_hidden_states=False,
    )
    return DepthAnythingConfig(
        backbone_config=backbone.to_dict(),
        patch_size=PATCH,
        reassemble_hidden_size=16,
        neck_hidden_sizes=[4, 8, 8, 16],
        fusion_hidden_size=8,
        head_hidden_size=4,
        depth_estimation_type="relative",
    )


def _processor() -> Any:
    """Depth-Anything-V2's preprocessing (DPT: aspect kept, sides a multiple of 14), smaller."""
    from transformers import DPTImageProcessor

    return DPTImageProcessor(
        do_resize=True,
        size={"height": INPUT_SIZE, "width": INPUT_SIZE},
        keep_aspect_ratio=True,
        ensure_multiple_of=PATCH,
        resample=3,  # bicubic
        do_rescale=True,
        do_normalize=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
        do_pad=False,
    )
