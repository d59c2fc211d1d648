"""The WebUI's entry point for this extension: the only module that imports the host.

It puts the extension's folder on the path (so other extensions and the console can `import
wan`), hands the host's modules to `wan.webui.extension.register`, which adds the "Wan
Video" settings section, the WAN tab and the /wan/v1 routes. Forge is told apart from
AUTOMATIC1111 by its `backend.memory_management`.
"""

import sys
from pathlib import Path
from types import SimpleNamespace

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import gradio  # noqa: E402
from modules import (  # noqa: E402
    call_queue,
    devices,
    paths_internal,
    script_callbacks,
    sd_models,
    shared,
)

try:
    from backend import memory_management  # Forge
except ImportError:
    memory_management = None

from wan.webui.extension import register  # noqa: E402

register(
    script_callbacks,
    SimpleNamespace(
        shared=shared,
        sd_models=sd_models,
        devices=devices,
        call_queue=call_queue,
        paths_internal=paths_internal,
        memory_management=memory_management,
    ),
    gradio,
)
