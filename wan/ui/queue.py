"""The Queue tab: every job with its status and progress, cancel / retry / resume by id, and the
machine's live CPU, RAM, GPU and VRAM figures (refreshed while the tab is shown)."""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr

from wan.errors import WanError
from wan.ui import compat
from wan.ui.jobs_view import DATATYPES, HEADERS, job_rows, shown_status
from wan.ui.system import figures_text, read_figures

LIVE_SECONDS = 3  # the table and the figures are read again this often (= wan.js's period)
ACTIONS = {"cancel": "cancelled", "retry": "queued again", "resume": "queued to resume"}


def jobs_table(queue: Any) -> list[list[str]]:
    return job_rows(queue.list())


def job_action(queue: Any, action: str, job_id: str | None) -> tuple[str, list[list[str]]]:
    """Cancel, retry or resume a job: (message, the table read again)."""
    job_id = (job_id or "").strip()
    if not job_id:
        return "**Error:** click a job in the table (or type its id) first", jobs_table(queue)
    try:
        job = getattr(queue, action)(job_id)
    except WanError as exc:
        return f"**Error:** {exc}", jobs_table(queue)
    if action == "cancel" and job.status == "ACCEPTED":  # running: it stops at its next step
        return f"job `{job.id}`: cancel requested, it stops after its current step", jobs_table(
            queue
        )
    return f"job `{job.id}` {ACTIONS[action]}: {shown_status(job)}", jobs_table(queue)


def picked_id(rows: Any, event: gr.SelectData) -> str:
    """The id in the row the user clicked."""
    index = event.index
    row = index[0] if isinstance(index, (list, tuple)) else index
    table = compat.table_rows(rows)
    return str(table[row][0]) if isinstance(row, int) and 0 <= row < len(table) else ""


def live(queue: Any) -> tuple[list[list[str]], str]:
    return jobs_table(queue), figures_text(read_figures())


def build_queue(queue: Any, blocks: gr.Blocks, live_refresh: bool) -> None:
    """The Queue tab. `live_refresh`: gradio's own timer reads the table again every few seconds
    (`python -m wan ui`). Inside the WebUI javascript/wan.js clicks Refresh instead, while the
    tab is shown: a gradio timer keeps a connection open per page, and the WebUI's "Reload UI"
    then waits for ever for those connections to close (seen in AUTOMATIC1111)."""
    figures = gr.Markdown(figures_text(read_figures()), elem_id="wan_system")
    table = compat.table(
        HEADERS, DATATYPES, value=jobs_table(queue), label="Jobs (newest first)",
        interactive=False, elem_id="wan_jobs_table",
    )  # fmt: skip
    with gr.Row():
        job_id = gr.Textbox(label="Job id (click a row)", elem_id="wan_job_id", scale=2)
        buttons = {
            action: gr.Button(action.capitalize(), size="sm", elem_id=f"wan_job_{action}", scale=1)
            for action in ACTIONS
        }
        refresh = gr.Button("Refresh", size="sm", elem_id="wan_jobs_refresh", scale=1)
    message = gr.Markdown(elem_id="wan_queue_message")

    table.select(picked_id, [table], [job_id], **compat.QUIET)
    for action, button in buttons.items():
        button.click(partial(job_action, queue, action), [job_id], [message, table])
    refresh.click(
        lambda: live(queue), None, [table, figures], api_name="wan_jobs_refresh", **compat.QUIET
    )
    if live_refresh:
        blocks.load(lambda: live(queue), None, [table, figures], every=LIVE_SECONDS, **compat.QUIET)
