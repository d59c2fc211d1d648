"""Keep the WebUIs' old kornia from breaking diffusers.

AUTOMATIC1111 1.10 and Forge pin kornia 0.6.7. When kornia is installed, diffusers (0.35 and
newer) imports `build_laplacian_pyramid` from it in `diffusers.guiders`, which every pipeline
import goes through; kornia 0.6.7 has no such function, so loading any Wan model fails with
"Failed to import diffusers.guiders" (seen in a real AUTOMATIC1111). Only diffusers'
FrequencyDecoupledGuidance uses kornia, and we never do: when the installed kornia cannot give
that function, diffusers is told that kornia is absent. The WebUI's own use of kornia is untouched.
"""

from __future__ import annotations

import importlib.util
import logging
import sys

log = logging.getLogger(__name__)


def hide_unusable_kornia() -> bool:
    """Tell diffusers kornia is absent when it cannot import what diffusers needs; True if so.

    Called by the WebUI wiring and by the command line (the WebUI's Python may run `python -m
    wan render`); costs nothing where kornia is not installed."""
    if "kornia" not in sys.modules and importlib.util.find_spec("kornia") is None:
        return False
    try:
        from kornia.geometry.transform import build_laplacian_pyramid  # noqa: F401
    except ModuleNotFoundError as error:
        if error.name == "kornia":
            return False  # no kornia: diffusers does not use it
    except Exception:  # an old kornia (ImportError) or one that fails to import at all
        pass
    else:
        return False
    try:
        from diffusers.utils import import_utils
    except Exception:  # no diffusers: environment_problems() names that
        return False
    import_utils._kornia_available = False
    log.info("kornia here lacks build_laplacian_pyramid: diffusers will not use it")
    return True
