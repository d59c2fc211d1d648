"""The Outputs tab: a gallery of rendered videos; a picked one plays with its metadata and its
camera adherence (each clip's figure and adherence.png), and its settings and options can be
loaded back into the Generate tab to render it again or vary it.

The gallery lists the run folders of every job the queue knows and those under the output root
(wan.ui.outputs.rendered_runs). It is read again by its Refresh button and whenever the Outputs
tab is opened, so a render that ended meanwhile (from the tab, the API or the CLI) shows up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from wan.errors import WanError
from wan.host.base import Host
from wan.ui import compat
from wan.ui.generate import GenerateForm
from wan.ui.model_choices import AUTO_SIZE, choice_for, model_choices, ref_from_choice, size_choices
from wan.ui.options_form import FIELDS, form_values
from wan.ui.outputs import rendered_runs, run_at, run_request, thumbnail
from wan.ui.sources import SOURCE_JSON, settings_text

GENERATE_TAB = "generate"  # the Generate TabItem's id (wan.ui.build_tab): Load selects it


def known_jobs(queue: Any) -> list[Any]:
    """The queue's jobs (newest first); none without a queue."""
    return list(queue.list()) if queue is not None else []


def gallery_items(output_root: Path, queue: Any = None) -> tuple[list[tuple[str, str]], list[str]]:
    """(gallery (image, caption) pairs, the run folder of each item)."""
    items, folders = [], []
    for run in rendered_runs(output_root, known_jobs(queue)):
        image = thumbnail(run)
        if image is not None:
            items.append((str(image), run.caption))
            folders.append(str(run.folder))
    return items, folders


def show_run(folders: list[str], event: gr.SelectData) -> tuple:
    """(video, metadata summary, folder) of the clicked gallery item."""
    index = event.index
    if not isinstance(index, int) or not 0 <= index < len(folders or []):
        return None, {}, None
    run = run_at(Path(folders[index]))
    if not run.video.is_file():
        return None, {}, None
    return str(run.video), run.summary(), str(run.folder)


def show_adherence(folders: list[str], event: gr.SelectData) -> tuple:
    """(adherence.png, the per-clip adherence table) of the clicked gallery item."""
    index = event.index
    if not isinstance(index, int) or not 0 <= index < len(folders or []):
        return None, ""
    run = run_at(Path(folders[index]))
    plot = run.adherence_plot
    return (str(plot) if plot is not None else None), run.adherence_text()


def size_update(model: str | None, size: str | None) -> Any:
    """The size dropdown showing the run's size, listed even when the model's sizes do not name
    it (a custom `--size`), so loading a run never turns it into `auto`."""
    choices = size_choices(ref_from_choice(model))
    value = size or AUTO_SIZE
    if value not in choices:
        choices = [*choices, value]
    return compat.update(choices=choices, value=value)


def load_values(host: Host, folder: str | None) -> list[Any]:
    """[source kind, settings JSON, *FIELDS values, message, Generate tab selection] for a run
    folder; on success the Generate tab is selected, on an error nothing but the message moves."""
    unchanged = [compat.update()] * (2 + len(FIELDS))
    if not folder:
        return [*unchanged, "**Error:** pick a video in the gallery first", compat.update()]
    try:
        settings, options = run_request(Path(folder))
    except WanError as exc:
        return [*unchanged, f"**Error:** {exc}", compat.update()]
    values = form_values(options)
    ref = values["model"]
    values["model"] = choice_for(ref, model_choices(host.store_config()))
    values["size"] = size_update(ref, values["size"])
    message = (
        f"Loaded the settings and options of `{Path(folder).name}` into Generate "
        "(its init image and edited prompts are not loaded). Press Plan to see its clips."
    )
    return [
        SOURCE_JSON,
        settings_text(settings),
        *(values[f] for f in FIELDS),
        message,
        compat.update(selected=GENERATE_TAB),
    ]


def build_outputs(
    host: Host, form: GenerateForm, queue: Any = None, tabs: Any = None, tab: Any = None
) -> None:
    """The Outputs tab's components and events. `tabs` (the gr.Tabs holding Generate, whose
    TabItem has the id GENERATE_TAB) is switched to Generate by Load; `tab` (the Outputs
    TabItem) refreshes the gallery when selected."""
    items, folders = gallery_items(host.output_root(), queue)
    gallery = gr.Gallery(
        items, label="Rendered videos (newest first)", columns=4, object_fit="contain",
        elem_id="wan_outputs_gallery",
    )  # fmt: skip
    folders_state = gr.State(folders)
    refresh = gr.Button("Refresh", size="sm", elem_id="wan_outputs_refresh")
    with gr.Row():
        video = gr.Video(label="Video", height=480, interactive=False, elem_id="wan_outputs_video")
        metadata = gr.JSON(label="Metadata", elem_id="wan_outputs_metadata")
    with gr.Accordion("Camera adherence", open=False, elem_id="wan_outputs_camera"):
        adherence_text = gr.Markdown(elem_id="wan_outputs_adherence_text")
        adherence_plot = gr.Image(
            label="Requested against measured camera motion", type="filepath",
            interactive=False, elem_id="wan_outputs_adherence",
        )  # fmt: skip
    folder = gr.State(None)
    load = gr.Button("Load into Generate", elem_id="wan_outputs_load")
    message = gr.Markdown(elem_id="wan_outputs_message")

    def reread() -> tuple:
        return gallery_items(host.output_root(), queue)

    refresh.click(reread, None, [gallery, folders_state], api_name="wan_outputs_refresh")
    if tab is not None:
        tab.select(reread, None, [gallery, folders_state], **compat.QUIET)
    gallery.select(show_run, [folders_state], [video, metadata, folder])
    gallery.select(show_adherence, [folders_state], [adherence_plot, adherence_text])
    tab_output = [tabs] if tabs is not None else []
    load.click(
        lambda chosen: load_values(host, chosen)[: len(FIELDS) + 3 + len(tab_output)],
        [folder],
        [form.source_kind, form.settings_json, *form.fields, message, *tab_output],
        api_name="wan_outputs_load",
    ).then(lambda: ("", "", [], None, None), None, form.plan_outputs)
