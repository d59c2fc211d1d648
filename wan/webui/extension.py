"""The extension inside a WebUI: what `scripts/wan_deforum.py` registers, and the process's one
host adapter and job queue.

"Reload UI" (Settings) re-imports `scripts/` and calls the callbacks again with a new gradio app,
but the process and this module stay: the adapter and the queue are kept here, so a render that
is running goes on and the tab and routes are simply built again on the new app. The WebUI has
no shutdown callback (`on_before_reload` and `on_script_unloaded` both fire on that reload, not
on exit), so the queue is never closed here: at exit its daemon worker stops with the process,
and the next start marks a job it was running INTERRUPTED, ready to resume.

When the environment cannot render (torch too old, a dependency out of range) the error is
logged once at load, the WAN tab shows it instead of its controls and /wan/v1 answers 503.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from wan.host.kornia_compat import hide_unusable_kornia
from wan.host.torch_check import environment_problems
from wan.host.transformers_compat import apply_transformers_compat
from wan.webui.hosts import WebUIHost, make_host
from wan.webui.settings import register_settings

log = logging.getLogger(__name__)

TAB = ("WAN", "wan_tab")
PREFIX = "/wan/v1"
_PROCESS: dict[str, Any] = {}
_PROCESS_LOCK = threading.Lock()


def register(callbacks: Any, modules: Any, gradio: Any = None) -> None:
    """Register the settings section, the tab and the routes with the host's script_callbacks."""
    shared = modules.shared
    apply_flags(getattr(shared, "cmd_opts", None))
    callbacks.on_ui_settings(lambda: register_settings(shared, gradio))
    apply_transformers_compat()  # the WebUI's own BLIP needs it even if Wan cannot run
    problems = environment_problems()
    if problems:
        message = "\n\n".join(problems)
        log.error("%s", message)
        callbacks.on_ui_tabs(lambda: [(problem_tab(message, gradio), *TAB)])
        callbacks.on_app_started(lambda demo, app: add_problem_routes(app, message, shared))
        return
    hide_unusable_kornia()  # before anything imports diffusers' pipelines
    callbacks.on_ui_tabs(lambda: [(_build_tab(modules), *TAB)])
    callbacks.on_app_started(lambda demo, app: _add_routes(app, modules))


def apply_flags(cmd_opts: Any) -> None:
    """--wan-data-dir, before anything opens the data folder."""
    folder = getattr(cmd_opts, "wan_data_dir", None)
    if isinstance(folder, str) and folder.strip():
        os.environ["WAN_DATA_DIR"] = folder.strip()


def process_host(modules: Any) -> WebUIHost:
    """The process's adapter (a new one only if the host's modules changed: the tests)."""
    with _PROCESS_LOCK:
        host = _PROCESS.get("host")
        if host is None or host.shared is not modules.shared:
            _close_queue()
            host = _PROCESS["host"] = make_host(modules)
        return host


def process_queue(modules: Any) -> Any:
    """The process's one JobQueue, created on first use (its worker starts with it)."""
    host = process_host(modules)
    with _PROCESS_LOCK:
        queue = _PROCESS.get("queue")
        if queue is None:
            from wan.jobs import JobQueue

            queue = _PROCESS["queue"] = JobQueue(host)
        return queue


def reset_process(timeout: float = 10) -> None:
    """Close the queue and forget the adapter (tests; a host without the process going away)."""
    with _PROCESS_LOCK:
        _close_queue(timeout)
        _PROCESS.clear()


def _close_queue(timeout: float = 10) -> None:
    queue = _PROCESS.pop("queue", None)
    if queue is not None:
        queue.close(timeout)


def _build_tab(modules: Any) -> Any:
    from wan.ui import build_tab

    return build_tab(process_queue(modules), process_host(modules))


def _add_routes(app: Any, modules: Any) -> None:
    from wan.api.routes import add_routes, parse_api_auth

    auth = parse_api_auth(getattr(modules.shared.cmd_opts, "api_auth", None))
    urls = bool(getattr(modules.shared.cmd_opts, "wan_allow_url_inputs", False))  # url_inputs.py
    add_routes(app, process_queue(modules), process_host(modules), auth, allow_url_inputs=urls)


def problem_tab(message: str, gradio: Any = None) -> Any:
    """A tab that says why Wan Video cannot run here."""
    gr = gradio
    if gr is None:
        import gradio as gr
    with gr.Blocks(analytics_enabled=False) as blocks:
        gr.Markdown("### Wan Video cannot run in this WebUI\n\n" + message, elem_id="wan_problem")
    return blocks


def add_problem_routes(app: Any, message: str, shared: Any = None) -> None:
    """/wan/v1/... answers 503 with the reason (only the console has it when --api-auth is on)."""
    from fastapi.responses import JSONResponse

    api_auth = getattr(getattr(shared, "cmd_opts", None), "api_auth", None)
    detail = message if not api_auth else "Wan Video cannot run in this WebUI; see its console."

    async def unavailable(rest: str = ""):  # no return annotation: fastapi would resolve it
        return JSONResponse({"detail": detail}, status_code=503)

    app.add_api_route(
        PREFIX + "/{rest:path}",
        unavailable,
        methods=["GET", "POST", "DELETE"],
        include_in_schema=False,
    )
