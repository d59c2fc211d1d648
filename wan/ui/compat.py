"""What differs between gradio 3.41 (AUTOMATIC1111) and gradio 4.x (Forge, `python -m wan ui`).

The tab's modules build components through the helpers here and never test the version
themselves, so a third version means changing this file only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

GRADIO_MAJOR = int(gr.__version__.split(".")[0])
GRADIO_4 = GRADIO_MAJOR >= 4

# Events that refresh something in the background show no spinner over their outputs.
QUIET = {"show_progress": "hidden" if GRADIO_4 else False}
# Events that may wait a long time (following a render) must not hold the event's only slot:
# gradio 4 runs one call per event at a time unless told otherwise; 3.x has no such limit.
UNLIMITED = {"concurrency_limit": None} if GRADIO_4 else {}


def update(**changes: Any) -> Any:
    """A property update for an output component (the same dict in both versions)."""
    return gr.update(**changes)


def file_path(value: Any) -> str | None:
    """The local path of a gr.File value: a str (4.x), a tempfile wrapper (3.x) or a dict."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return file_path(value[0]) if value else None
    if isinstance(value, (str, Path)):
        return str(value) or None
    if isinstance(value, dict):
        return value.get("path") or value.get("name")
    name = getattr(value, "name", None)
    return str(name) if name else None


def file_input(**kwargs: Any) -> gr.File:
    """A single-file upload whose value `file_path` turns into a local path."""
    kind = {"type": "filepath"} if GRADIO_4 else {"type": "file"}
    return gr.File(file_count="single", **kind, **kwargs)


def image_input(**kwargs: Any) -> gr.Image:
    """An image upload passed to functions as a local file path."""
    source = {"sources": ["upload", "clipboard"]} if GRADIO_4 else {"source": "upload"}
    return gr.Image(type="filepath", **source, **kwargs)


def table(headers: list[str], datatypes: list[str], **kwargs: Any) -> gr.Dataframe:
    """A table whose value reaches functions as a list of rows (lists), in both versions."""
    return gr.Dataframe(
        headers=headers,
        datatype=datatypes,
        col_count=(len(headers), "fixed"),
        type="array",
        wrap=True,
        **kwargs,
    )


def table_rows(value: Any) -> list[list[Any]]:
    """Rows of a table value: list of lists, a pandas DataFrame, or {"data": [...]}."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get("data") or []
    if hasattr(value, "values") and hasattr(value, "columns"):  # pandas
        value = value.values.tolist()
    rows = [list(row) for row in value]
    return [row for row in rows if any(cell not in (None, "") for cell in row)]


def queue(blocks: gr.Blocks) -> gr.Blocks:
    """Enable the queue for a stand-alone page (generators and `every=` need it)."""
    if GRADIO_4:
        return blocks.queue(default_concurrency_limit=4)
    return blocks.queue(concurrency_count=4)
