"""The Models tab: installed and catalog models, downloads with a progress bar, check/diagnose.

The data comes from the reports the CLI prints too (`wan.models.report`: models_payload,
diagnose_report), so the tab and `python -m wan models/check/diagnose` never disagree.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr

from wan.errors import WanError
from wan.host.base import Host
from wan.models import store
from wan.models.catalog import load_catalog
from wan.models.memory import gb
from wan.models.report import diagnose_report, models_payload, write_diagnose_report
from wan.paths import data_dir
from wan.ui import compat
from wan.ui.generate import model_update
from wan.ui.markdown import plain

log = logging.getLogger(__name__)

HEADERS = ["model", "kind", "takes", "installed", "on this machine"]


def model_rows(payload: dict[str, Any]) -> list[list[str]]:
    """One row per catalog model, installed model the catalog does not list, and smoke model."""
    rows = []
    for row in payload["catalog"]:
        installed = ", ".join(f"{m['path']} ({gb(m['size_on_disk'])})" for m in row["installed"])
        rows.append(
            [row["id"], row["kind"], _takes(row), installed or "not installed", _fit(row["fit"])]
        )
    for other in payload["other_installed"]:
        match = (other.get("match") or {}).get("message") or "; ".join(other["problems"])
        rows.append([other["path"], other["kind"], "", "installed", match])
    rows += [[s, "wan", "smoke", "built on first use", "tiny, random"] for s in payload["smoke"]]
    return rows


def _takes(row: dict[str, Any]) -> str:
    return " + ".join(row.get("inputs") or ()) or "text"


def _fit(fit: dict[str, Any] | None) -> str:
    if fit is None:
        return ""
    if not fit["fits"]:
        return f"does not fit on {fit['device']}: {fit['reason']}"
    return (
        f"fits on {fit['device']}: {fit['plan']} (peak {gb(fit['peak_vram'])} VRAM, "
        f"{gb(fit['peak_ram'])} RAM)"
    )


def check_text(report: dict[str, Any]) -> str:
    """Markdown of a diagnose report: what the model is, its problems, how it fits."""
    lines = [f"### {report['model']}"]
    resolved = report.get("resolved")
    if resolved:
        lines.append(f"`{resolved['path']}` ({resolved['source']})")
    detection = report.get("detection") or {}
    if detection:
        lines.append(
            f"kind {detection.get('kind')}, pipeline {detection.get('pipeline')}, "
            f"task {detection.get('task')}"
        )
    match = report.get("match") or {}
    if match.get("message"):
        lines.append(f"catalog: {plain(match['message'])}")
    plan = report.get("plan")
    if plan:
        lines.append(_fit(plan))
    for problem in report["problems"]:
        fix = f" Fix: {plain(problem['fix'])}" if problem.get("fix") else ""
        lines.append(f"- problem: {plain(problem['what'])}.{fix}")
    lines.append("**OK**" if report.get("ok") else "**Not usable**: see the problems above")
    return "\n\n".join(lines)


def download(ref: str | None, config: store.StoreConfig, progress: Any) -> str:
    """Fetch a catalog model, reporting each file's bytes to `progress`; a message."""
    if not ref:
        return "**Error:** choose a model to download"

    def report(name: str, done: int, total: int) -> None:
        progress((done, total or None), desc=name, unit="bytes")

    try:
        path = store.download(ref, config, progress=report)
    except WanError as exc:
        return f"**Error:** {plain(exc)}"
    return f"Downloaded {plain(ref)} to `{path}`"


def diagnose(ref: str | None, config: store.StoreConfig) -> tuple[str, str | None]:
    """(markdown report, path of the JSON report to share)."""
    if not ref:
        return "**Error:** choose or type a model to check", None
    data = diagnose_report(ref.strip(), config)
    target = write_diagnose_report(data, data_dir() / "diagnose")
    return check_text(data), str(target)


def build_models(host: Host, model_dropdown: Any) -> None:
    """The tab; a download also refreshes the Generate tab's `model_dropdown`."""
    config = host.store_config()
    ids = [e.id for e in load_catalog() if not e.smoke]

    def rows() -> list[list[str]]:
        return model_rows(models_payload(config))

    table = compat.table(
        HEADERS, ["str"] * len(HEADERS), value=rows(), label="Models", interactive=False,
        elem_id="wan_models_table",
    )  # fmt: skip
    refresh = gr.Button("Refresh", size="sm", elem_id="wan_models_refresh")
    with gr.Row():
        pick = gr.Dropdown(
            ids, label="Model (catalog id, or a folder / file path to check)",
            allow_custom_value=True, elem_id="wan_models_pick", scale=3,
        )  # fmt: skip
        download_button = gr.Button("Download", size="sm", elem_id="wan_models_download", scale=1)
        check_button = gr.Button("Check", size="sm", elem_id="wan_models_check", scale=1)
    message = gr.Markdown(elem_id="wan_models_message")
    report_file = gr.File(label="Report to share", interactive=False, elem_id="wan_models_report")
    gr.Markdown(f"Models folder: `{Path(config.models_dir())}`")

    def fetch(ref: str | None, progress: Any = gr.Progress()) -> str:  # noqa: B008 - gradio's way
        return download(ref, config, progress)

    refresh.click(rows, None, [table])
    downloaded = download_button.click(fetch, [pick], [message], api_name="wan_models_download")
    downloaded.then(rows, None, [table]).then(
        lambda value: model_update(host, value), [model_dropdown], [model_dropdown]
    )
    check_button.click(lambda ref: diagnose(ref, config), [pick], [message, report_file])
