"""What the Generate tab's buttons do: Plan, Preview camera, Render, following the job, reacting
to the model.

Each method takes the component values in the order the tab wires them (the settings source,
then `options_form.FIELDS`) and returns plain values, so it runs the same under gradio 3.41 and
4.x, and in tests without a browser. A WanError becomes a message in the tab, never a traceback.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import mimetypes
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.core.deforum.settings import is_url
from wan.core.motion import MODES
from wan.core.plan import init_image_used
from wan.core.profiles import LAST_IMAGE
from wan.core.sizes import format_size, parse_size
from wan.errors import OptionsError, WanError
from wan.host.base import Host
from wan.models.catalog import wan_entries
from wan.models.identify import profile_for
from wan.options.render_options import merge_defaults
from wan.planning.guide_preview import write_guide_preview
from wan.planning.plan_service import plan_request
from wan.render.checkpoints import CLIPS_DIR
from wan.render.fetch import IMAGE, fetch_to
from wan.render.job import checked_init_image
from wan.ui import compat
from wan.ui.jobs_view import status_text
from wan.ui.memory_view import memory_text
from wan.ui.model_choices import image_need, ref_from_choice, size_choices
from wan.ui.options_form import AUTO, FIELDS, MEMORY_FIELDS, build_options
from wan.ui.plan_view import PROMPT_COLUMN, clip_rows, edited_prompts, plot_plan, summary
from wan.ui.sources import SOURCE_FILE, Source, load_source

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # how often a followed job's status is read while it runs
IMAGE_LABELS = {
    "required": "Init image (required by this model)",
    "optional": "Init image (optional: the first frame)",
    "none": "Init image",
}


def error_text(exc: Exception) -> str:
    # "<" escaped: a message naming "<dict>" (pasted settings) would lose it as an HTML tag
    return f"**Error:** {str(exc).replace('<', '&lt;')}"


LAST_IMAGE_LABEL = "Last image (optional: the video's last frame)"


def field_values(fields: tuple[Any, ...]) -> dict[str, Any]:
    """The FIELDS values as a dict, with the model reference out of its dropdown label; an
    image left in the hidden init-image (or last-image) box of a model that takes none is not
    used."""
    values = dict(zip(FIELDS, fields, strict=True))
    values["model"] = ref_from_choice(values["model"])
    takes_image = image_need(values["model"]) != "none"
    values["init_image"] = compat.file_path(values["init_image"]) if takes_image else None
    takes_last = takes_last_image(values["model"])
    values["last_image"] = compat.file_path(values["last_image"]) if takes_last else None
    return values


def takes_last_image(ref: str | None) -> bool:
    """Whether the model ends a video on a given last image (first-last-frame models)."""
    if not ref:
        return False
    try:
        return profile_for(ref).takes(LAST_IMAGE)
    except WanError:
        return False


def plan_signature(settings: Mapping[str, Any], model: str | None) -> str:
    """What the clip cut depends on: prompts edited in the table apply only to the same one."""
    text = json.dumps([dict(settings), model], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def image_data_url(path: str) -> str:
    """An image file as a data URL: the job queue keeps its own copy with the job."""
    data = Path(path).read_bytes()
    mime = mimetypes.guess_type(path)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def newest_preview(run_dir: str | None) -> Path | None:
    """The preview mp4 of the run's newest finished clip (`clips/clip_0003.mp4`: the renderer
    writes one as each clip is saved, atomically), or None before the first clip is done."""
    if not run_dir:
        return None
    found = []
    try:
        for path in (Path(run_dir) / CLIPS_DIR).glob("clip_*.mp4"):
            number = path.stem.removeprefix("clip_")
            if number.isdigit():
                found.append((int(number), path))
    except OSError:
        return None
    return max(found)[1] if found else None


@dataclass
class GenerateActions:
    queue: Any  # wan.jobs.JobQueue
    host: Host

    def source(self, kind: str, upload: Any, pasted: str | None, run: str | None) -> Source:
        path = compat.file_path(upload)
        return load_source(kind, path, pasted, run, self.host.output_root())

    def plan(self, kind, upload, pasted, run, *fields) -> tuple:
        """(message, summary, clip rows, plot path, plan state)."""
        try:
            source = self.source(kind, upload, pasted, run)
            values = source.options(field_values(fields))
            checked_init_image(source.settings, values["init_image"])  # exists, or a URL
            options = merge_defaults(self.host.option_defaults(), build_options(values))
            plan, payload = plan_request(source.settings, options, self.host.store_config())
            rows = clip_rows(payload)
            # Video Input has no camera schedules to draw: its video is the camera
            camera = source.settings.mode in MODES
            plot = plot_plan(source.settings, plan, name=source.name) if camera else None
        except WanError as exc:
            return error_text(exc), "", [], None, None
        state = {
            "signature": plan_signature(source.raw(), values["model"]),
            "shown": [row[PROMPT_COLUMN] for row in rows],
        }
        return "", summary(plan, payload), rows, (str(plot) if plot else None), state

    def guide(self, kind, upload, pasted, run, *fields) -> tuple:
        """(message, guide video): the plan's camera guide from the init image (a test card
        without one), no video model: the camera path seen before any GPU minute."""
        try:
            source = self.source(kind, upload, pasted, run)
            values = source.options(field_values(fields))
            options = merge_defaults(self.host.option_defaults(), build_options(values))
            image = init_image_used(source.settings, values["init_image"])
            if is_url(image):  # the settings' init_image: downloaded as a render would
                image = str(fetch_to(image, _scratch("wan-ui-inputs"), IMAGE, "init_image"))
            key = json.dumps([source.raw(), options, image], sort_keys=True, default=str)
            name = f"guide-{hashlib.sha256(key.encode()).hexdigest()[:16]}.mp4"
            out = _scratch("wan-ui-plots") / name
            preview = write_guide_preview(source.settings, options, out, image, "init image")
        except WanError as exc:
            return error_text(exc), None
        return preview.describe(), str(preview.video)

    def render(self, kind, upload, pasted, run, table, state, *fields) -> tuple:
        """Queue the job: (message, job id, status line, video)."""
        try:
            source = self.source(kind, upload, pasted, run)
            values = source.options(field_values(fields))
            overrides, note = self._overrides(source, values, table, state)
            job = self._submit(source, values, overrides)
        except WanError as exc:
            return error_text(exc), None, "", None
        except OSError as exc:
            text = f"cannot read the image {exc.filename}: {exc.strerror or exc}"
            return error_text(text), None, "", None
        return note, job.id, status_text(job), None

    def render_batch(self, uploads, *fields) -> tuple:
        """Queue one job per uploaded settings file, in upload order, with the same options
        (edited clip prompts belong to one plan and are not used): (message, first job id,
        its status line, video). Every file is read and checked before one is queued; should a
        job still be refused, those queued before it are cancelled."""
        paths = [compat.file_path(item) for item in (uploads or [])]
        paths = [path for path in paths if path]
        if not paths:
            return (
                error_text("no settings files: drop one or more on the batch box"),
                None,
                "",
                None,
            )
        try:
            root = self.host.output_root()
            sources = [load_source(SOURCE_FILE, path, None, None, root) for path in paths]
            values = field_values(fields)
            jobs: list = []
            try:
                for source in sources:
                    jobs.append(self._submit(source, values, {}))
            except BaseException:
                for job in jobs:
                    with contextlib.suppress(WanError):
                        self.queue.cancel(job.id)
                raise
        except WanError as exc:
            return error_text(exc), None, "", None
        except OSError as exc:
            return error_text(f"cannot read the init image: {exc.strerror or exc}"), None, "", None
        listed = ", ".join(f"`{job.id}` ({job.name})" for job in jobs)
        message = (
            f"Queued {len(jobs)} job(s), rendered one after the other: {listed}. Following the "
            "first here; the Queue tab shows them all."
        )
        return message, jobs[0].id, status_text(jobs[0]), None

    def _submit(self, source: Source, values: Mapping[str, Any], overrides: dict[int, str]):
        """Queue one render of `source` (an init image URL in the settings is downloaded by the
        queue's intake, `wan.render.fetch`)."""
        options = build_options(values, overrides)
        self._check_image(source, values)
        for key in ("init_image", "last_image"):
            if options.get(key):
                options[key] = image_data_url(options[key])
        job = self.queue.submit(
            source.raw(), options, source="ui", trusted=True, name=source.job_name
        )
        log.info("queued job %s (%s) from the tab", job.id, source.name)
        return job

    def follow(self, job_id: str | None) -> Iterator[tuple]:
        """(status line, video) while the job runs, the video being the newest finished clip's
        preview as each clip is done; the final video once it succeeded."""
        if not job_id:
            yield compat.update(), compat.update()
            return
        shown = None
        while True:
            try:
                job = self.queue.wait(job_id, timeout=POLL_SECONDS)
                if not job.done:
                    preview = newest_preview(job.run_dir)
                    changed = preview is not None and preview != shown
                    shown = preview if changed else shown
                    yield status_text(job), (str(preview) if changed else compat.update())
                    continue
                video = self.queue.video_path(job_id) if job.status == "SUCCEEDED" else None
            except WanError as exc:
                yield error_text(exc), compat.update()
                return
            yield status_text(job), (str(video) if video else None)
            return

    def model_changed(self, choice: str | None, size: str | None) -> tuple:
        """(size dropdown update, init image update) for the chosen model."""
        ref = ref_from_choice(choice)
        sizes = size_choices(ref)
        need = image_need(ref)
        keep = size if size in sizes or _custom(size) else AUTO
        sizes = sizes if keep in sizes else [*sizes, keep]  # a custom WxH stays (Load, typed)
        return (
            compat.update(choices=sizes, value=keep),
            compat.update(visible=need != "none", label=IMAGE_LABELS[need]),
        )

    def last_image_shown(self, choice: str | None) -> Any:
        """The last-image box's update: shown for first-last-frame models only."""
        return compat.update(visible=takes_last_image(ref_from_choice(choice)))

    def estimate(self, choice: str | None, size: str | None, *memory: Any) -> str:
        """The memory plan markdown for the model, size and MEMORY_FIELDS values."""
        values = {**dict.fromkeys(FIELDS), **dict(zip(MEMORY_FIELDS, memory, strict=True))}
        try:
            options = build_options(values)
        except OptionsError as exc:
            return error_text(exc)
        return memory_text(
            ref_from_choice(choice), size, options.get("memory"), preset=options.get("preset")
        )

    def _overrides(self, source: Source, values, table, state) -> tuple[dict[int, str], str]:
        """Prompts edited in the clip table, if the table belongs to these settings."""
        if not state or not state.get("shown"):
            return {}, ""
        edited = edited_prompts(compat.table_rows(table), state["shown"])
        if state.get("signature") == plan_signature(source.raw(), values["model"]):
            return edited, ""
        if edited:
            return {}, (
                "The clip table was planned for other settings or another model, so its edited "
                "prompts were not used. Press Plan to see and edit this render's clips."
            )
        return {}, ""

    def _check_image(self, source: Source, values: Mapping[str, Any]) -> None:
        if image_need(values["model"]) != "required" or values.get("init_image"):
            return
        if values.get("init_frame") is not None and values["init_frame"] >= 0:
            return  # the run's frame (checked when the job is prepared)
        if values.get("guide_from") or source.settings.mode == "Video Input":
            return  # the run's or the video's first frame
        if source.settings.use_init and source.settings.init_image:
            return
        raise OptionsError(
            f"{values['model']} makes video from a first image: upload one in Init image "
            "(or use a Deforum settings file with use_init and init_image)"
        )


def _scratch(name: str) -> Path:
    """A folder of the tab's own under the system's temporary folder."""
    folder = Path(tempfile.gettempdir()) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _custom(size: str | None) -> bool:
    """A "WxH" the user chose (typed, or a loaded run's): well formed and no model's preset
    size (a preset of the previous model goes back to auto when the model changes)."""
    try:
        parse_size(str(size))
    except ValueError:
        return False
    presets = {format_size(w, h) for entry in wan_entries() for w, h in entry.profile().sizes}
    return size not in presets
