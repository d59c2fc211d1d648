"""`python -m wan ui`'s web app: the WAN tab at "/" and the HTTP API at /wan/v1, on one FastAPI
app served by uvicorn (the WebUI embeds the tab in its own page instead)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wan.host.base import Host


def create_ui_app(queue: Any, host: Host, auth: Mapping[str, str] | None = None) -> Any:
    """The API routes first, then the tab mounted at "/" with its queue enabled."""
    import gradio as gr
    from fastapi import FastAPI

    from wan import __version__
    from wan.api.routes import add_routes
    from wan.ui import build_tab, compat

    app = FastAPI(title="Wan video for Deforum", version=__version__)
    add_routes(app, queue, host, auth)
    blocks = compat.queue(build_tab(queue, host, live_refresh=True))
    return gr.mount_gradio_app(app, blocks, "/")
