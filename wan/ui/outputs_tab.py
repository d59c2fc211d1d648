"""The Outputs tab: a gallery of rendered videos; a picked one plays with its metadata, and its
settings and options can be loaded back into the Generate tab to render it again or vary it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from wan.errors import WanError
from wan.host.base import Host
from wan.ui import compat
from wan.ui.generate import GenerateForm
from wan.ui.model_choices import choice_for, model_choices
from wan.ui.options_form import FIELDS, form_values
from wan.ui.outputs import rendered_runs, run_request, thumbnail
from wan.ui.sources import SOURCE_JSON, settings_text


def gallery_items(output_root: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(gallery (image, caption) pairs, the run folder of each item)."""
    items, folders = [], []
    for run in rendered_runs(output_root):
        image = thumbnail(run)
        if image is not None:
            items.append((str(image), run.caption))
            folders.append(str(run.folder))
    return items, folders


def show_run(output_root: Path, folders: list[str], event: gr.SelectData) -> tuple:
    """(video, metadata summary, folder) of the clicked gallery item."""
    index = event.index
    if not isinstance(index, int) or not 0 <= index < len(folders or []):
        return None, {}, None
    for run in rendered_runs(output_root):
        if str(run.folder) == folders[index]:
            return str(run.video), run.summary(), str(run.folder)
    return None, {}, None


def load_values(host: Host, folder: str | None) -> list[Any]:
    """[source kind, settings JSON, *FIELDS values, message] for a run folder."""
    unchanged = [compat.update()] * (2 + len(FIELDS))
    if not folder:
        return [*unchanged, "**Error:** pick a video in the gallery first"]
    try:
        settings, options = run_request(Path(folder))
    except WanError as exc:
        return [*unchanged, f"**Error:** {exc}"]
    values = form_values(options)
    values["model"] = choice_for(values["model"], model_choices(host.store_config()))
    message = (
        f"Loaded the settings and options of `{Path(folder).name}` into Generate "
        "(its init image and edited prompts are not loaded). Press Plan to see its clips."
    )
    return [SOURCE_JSON, settings_text(settings), *(values[f] for f in FIELDS), message]


def build_outputs(host: Host, form: GenerateForm) -> None:
    items, folders = gallery_items(host.output_root())
    gallery = gr.Gallery(
        items, label="Rendered videos (newest first)", columns=4, object_fit="contain",
        elem_id="wan_outputs_gallery",
    )  # fmt: skip
    folders_state = gr.State(folders)
    refresh = gr.Button("Refresh", size="sm", elem_id="wan_outputs_refresh")
    with gr.Row():
        video = gr.Video(label="Video", height=480, interactive=False, elem_id="wan_outputs_video")
        metadata = gr.JSON(label="Metadata", elem_id="wan_outputs_metadata")
    folder = gr.State(None)
    load = gr.Button("Load into Generate", elem_id="wan_outputs_load")
    message = gr.Markdown(elem_id="wan_outputs_message")

    def pick(folders: list[str], event: gr.SelectData) -> tuple:
        return show_run(host.output_root(), folders, event)

    refresh.click(lambda: gallery_items(host.output_root()), None, [gallery, folders_state])
    gallery.select(pick, [folders_state], [video, metadata, folder])
    load.click(
        lambda chosen: load_values(host, chosen),
        [folder],
        [form.source_kind, form.settings_json, *form.fields, message],
    ).then(lambda: ("", "", [], None, None), None, form.plan_outputs)
