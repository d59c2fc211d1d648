"""The "Wan Video" section of the WebUI's Settings tab, and the render defaults it supplies.

Values are read from `shared.opts` each time they are used (the user may change them while the
WebUI runs), always through getattr with the default, never at import.

Memory policies (the `memory` options a render gets when its request names none):
- auto: nothing forced; the memory plan picks the cheapest placement that fits this GPU.
- low_vram: group offload by layer, fp8 transformer weights, tiled VAE: the least VRAM, slowest.
- balanced: model CPU offload and tiled VAE: moderate VRAM at a small speed cost.
- max_speed: everything on the GPU, full precision weights, untiled VAE: fastest when it fits
  (the memory estimate refuses a render that would not fit, unless the request forces it).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

SECTION = ("wan_video", "Wan Video")
# Settings lists sections by category (A1111 >= 1.7 and Forge); without one the section falls
# under "Uncategorized". Wan renders with the host's models, next to "Stable Diffusion".
CATEGORY = "sd"
MEMORY_POLICIES: dict[str, dict[str, Any]] = {
    "auto": {},
    "low_vram": {"offload": "group_leaf", "fp8": True, "vae_tiling": True},
    "balanced": {"offload": "model", "vae_tiling": True},
    "max_speed": {
        "offload": "none",
        "fp8": False,
        "vae_tiling": False,
        "text_encoder_on_cpu": False,
    },
}


@dataclass(frozen=True)
class WanSetting:
    key: str
    default: str
    label: str
    info: str
    choices: tuple[str, ...] = ()
    folder: bool = False  # hidden and locked with the host's --hide-ui-dir-config


MODELS_DIR = WanSetting(
    "wan_models_dir",
    "",
    "Wan models folder",
    "--wan-models-dir and WAN_MODELS_DIR win over it; empty: models/Wan in the WebUI folder",
    folder=True,
)
DEFAULT_MODEL = WanSetting(
    "wan_default_model",
    "",
    "Default Wan model",
    "catalog id, smoke id or folder; used when a render names none (empty: the engine's default)",
)
MEMORY_POLICY = WanSetting(
    "wan_memory_policy",
    "auto",
    "Wan memory policy",
    "auto: fit this GPU; low_vram: least VRAM, slowest; balanced: model offload and tiled VAE; "
    "max_speed: everything on the GPU",
    tuple(MEMORY_POLICIES),
)
ENHANCER_MODEL = WanSetting(
    "wan_enhancer_model",
    "",
    "Wan prompt enhancer model",
    "'rules' (no model) or a prompt model id or folder (empty: rules)",
)
OUTPUT_DIR = WanSetting(
    "wan_output_dir",
    "",
    "Wan video output folder",
    "empty: wan-videos/ under the WebUI's output folder; --wan-output-dir overrides it",
    folder=True,
)
SETTINGS = (MODELS_DIR, DEFAULT_MODEL, MEMORY_POLICY, ENHANCER_MODEL, OUTPUT_DIR)


def register_settings(shared: Any, gr: Any = None) -> None:
    """Add the section through the host's `shared.opts.add_option` (the on_ui_settings callback).

    `gr` is the host's gradio module: with it the memory policy is a radio of its choices.
    Folder settings follow the host's `--hide-ui-dir-config` the way its own output folders do
    (`shared.hide_dirs` makes them invisible, and the host then refuses to change them, from the
    UI and from /sdapi/v1/options alike).
    """
    hide_dirs = getattr(shared, "hide_dirs", None)
    restricted = getattr(shared, "restricted_opts", None)
    for setting in SETTINGS:
        component, component_args = None, None
        if setting.choices and gr is not None:
            component, component_args = gr.Radio, {"choices": list(setting.choices)}
        if setting.folder:
            component_args = dict(hide_dirs) if isinstance(hide_dirs, dict) else None
            if isinstance(restricted, set):
                restricted.add(setting.key)
        info = shared.OptionInfo(
            setting.default,
            setting.label,
            component=component,
            component_args=component_args,
            section=SECTION,
            **_category(shared.OptionInfo),
        )
        if hasattr(info, "info"):  # A1111 >= 1.6 and Forge show it under the label
            info = info.info(setting.info)
        shared.opts.add_option(setting.key, info)


def _category(option_info: Any) -> dict[str, str]:
    """`category_id` for hosts whose OptionInfo takes it (older ones would refuse it)."""
    try:
        parameters = inspect.signature(option_info).parameters
    except (TypeError, ValueError):
        return {}
    return {"category_id": CATEGORY} if "category_id" in parameters else {}


def read_setting(opts: Any, setting: WanSetting) -> str:
    """The setting's current value as text ('' when unset or not a string)."""
    value = getattr(opts, setting.key, setting.default) if opts is not None else setting.default
    return value.strip() if isinstance(value, str) else setting.default


def memory_policy(opts: Any, has_accelerator: bool = True) -> dict[str, Any]:
    """The policy's memory options; without a GPU, offloading is left out (nothing to offload
    from, and the memory plan refuses it there)."""
    name = read_setting(opts, MEMORY_POLICY) or "auto"
    if name not in MEMORY_POLICIES:
        log.warning(
            "Wan memory policy %r is not one of %s; using auto (fix it in Settings > Wan Video)",
            name,
            ", ".join(MEMORY_POLICIES),
        )
        return {}
    memory = dict(MEMORY_POLICIES[name])
    if not has_accelerator and memory.get("offload", "none") != "none":
        del memory["offload"]
    return memory


def option_defaults_from(opts: Any, has_accelerator: bool = True) -> dict[str, Any]:
    """RenderOptions the settings supply when a request leaves them out; {} for none."""
    out: dict[str, Any] = {}
    model = read_setting(opts, DEFAULT_MODEL)
    if model:
        out["model"] = model
    memory = memory_policy(opts, has_accelerator)
    if memory:
        out["memory"] = memory
    enhancer = read_setting(opts, ENHANCER_MODEL)
    if enhancer:
        out["enhance"] = {"model": enhancer}
    return out
