"""The WAN tab (gradio 3.41 in AUTOMATIC1111, 4.x in Forge and `python -m wan ui`).

`build_tab` returns a gr.Blocks the WebUI embeds in its own page (it adds no queue and never
launches); `wan.ui.app` serves it alone. Sub-tabs: Generate, Models, Queue, Outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wan.host.base import Host

STYLE = Path(__file__).resolve().parents[2] / "style.css"


def build_tab(queue: Any, host: Host, live_refresh: bool = False) -> Any:
    """The tab's Blocks for `queue` (a wan.jobs.JobQueue) and `host`; `live_refresh` lets
    gradio's timer refresh the Queue tab (stand-alone only: see wan.ui.queue.build_queue)."""
    import gradio as gr

    from wan.ui.generate import build_generate
    from wan.ui.models import build_models
    from wan.ui.outputs_tab import GENERATE_TAB, build_outputs
    from wan.ui.queue import build_queue

    css = STYLE.read_text(encoding="utf-8") if STYLE.is_file() else None
    blocks = gr.Blocks(analytics_enabled=False, title="Wan video", css=css)
    with blocks, gr.Tabs(elem_id="wan_tabs") as tabs:
        with gr.Tab("Generate", id=GENERATE_TAB, elem_id="wan_tab_generate"):
            form = build_generate(queue, host)
        with gr.Tab("Models", elem_id="wan_tab_models"):
            build_models(host, form.model)
        with gr.Tab("Queue", elem_id="wan_tab_queue"):
            build_queue(queue, blocks, live_refresh)
        with gr.Tab("Outputs", id="outputs", elem_id="wan_tab_outputs") as outputs_tab:
            build_outputs(host, form, queue, tabs, outputs_tab)
    return blocks
