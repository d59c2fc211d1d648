"""The Generate tab: the settings source, the render fields, Plan and Render, and their results.

Layout and wiring only; what the buttons do is in `generate_actions`. The elem_ids are part of
the tab's contract (the browser test and javascript/ use them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from wan.host.base import Host
from wan.options.choices import (
    ATTENTIONS,
    CACHES,
    CAMERA_MODES,
    FPS_MODES,
    LANGUAGES,
    OFFLOADS,
    PRESETS,
    VACE_CAMERA_MODES,
)
from wan.planning.plan_service import new_seed
from wan.ui import compat
from wan.ui.generate_actions import (
    IMAGE_LABELS,
    LAST_IMAGE_LABEL,
    GenerateActions,
    takes_last_image,
)
from wan.ui.model_choices import (
    choice_for,
    default_choice,
    depth_choices,
    enhancer_choices,
    image_need,
    lora_files,
    model_choices,
    ref_from_choice,
    size_choices,
)
from wan.ui.options_form import AUTO, MEMORY_FIELDS, SWITCHES, form_values, lora_strength_rows
from wan.ui.plan_view import DATATYPES, HEADERS
from wan.ui.sources import SOURCE_FILE, SOURCE_JSON, SOURCE_RUN, SOURCES, recent_runs


@dataclass
class GenerateForm:
    """The components other tabs fill in (Outputs loads a run's settings and options here)."""

    source_kind: Any
    settings_json: Any
    model: Any
    fields: list[Any]  # in options_form.FIELDS order
    plan_outputs: list[Any]  # cleared when other settings are loaded


def build_generate(queue: Any, host: Host) -> GenerateForm:
    actions = GenerateActions(queue, host)
    start = form_values(host.option_defaults())
    choices = model_choices(host.store_config())
    model_value = default_choice(host.option_defaults(), choices)
    ref = ref_from_choice(model_value)

    with gr.Row():
        with gr.Column(scale=1):
            source_kind = gr.Radio(
                list(SOURCES), value=SOURCE_FILE, label="Deforum settings", elem_id="wan_source"
            )
            upload = compat.file_input(
                label="Settings file (.txt / .json)",
                file_types=[".txt", ".json"],
                elem_id="wan_settings_file",
            )
            pasted = gr.Textbox(
                label="Settings JSON",
                lines=6,
                max_lines=20,
                placeholder='{"animation_mode": "3D", "max_frames": 120, "prompts": {...}, ...}',
                elem_id="wan_settings_json",
                visible=False,
            )
            with gr.Row(visible=False) as run_row:
                run = gr.Dropdown(
                    recent_runs(host.output_root()),
                    label="Recent Deforum runs (img2img outputs)",
                    elem_id="wan_recent_run",
                    scale=4,
                )
                refresh_runs = gr.Button("Refresh", size="sm", elem_id="wan_refresh_runs", scale=1)
            with gr.Accordion("Batch: several settings files", open=False):  # issue 16 item 9
                batch = gr.File(
                    file_count="multiple",
                    file_types=[".txt", ".json"],
                    label="Settings files ('Render all' queues one job each, in this order)",
                    elem_id="wan_settings_batch",
                )
                render_all = gr.Button("Render all", elem_id="wan_render_batch_button")
            with gr.Row(visible=False) as run_frames_row:
                init_frame = gr.Number(
                    value=start["init_frame"],
                    precision=0,
                    label="Init frame of the run (-1: none): image models start from it",
                    elem_id="wan_init_frame",
                )
                guide_from = gr.Checkbox(
                    value=start["guide_from"],
                    label="Re-render the run: its frames guide Wan (motion kept, flicker gone)",
                    elem_id="wan_guide_from",
                )
        with gr.Column(scale=1):
            with gr.Row():
                model = gr.Dropdown(
                    [c.label for c in choices],
                    value=model_value,
                    label="Model (or a model folder / .safetensors path)",
                    allow_custom_value=True,
                    elem_id="wan_model",
                    scale=4,
                )
                refresh_models = gr.Button(
                    "Refresh", size="sm", elem_id="wan_refresh_models", scale=1
                )
            with gr.Row():
                size = gr.Dropdown(
                    size_choices(ref),
                    value=start["size"],
                    label="Size (auto: Deforum's W x H moved to the model's sizes)",
                    allow_custom_value=True,
                    elem_id="wan_size",
                )
                steps = gr.Number(
                    value=start["steps"],
                    precision=0,
                    label="Steps (0: the model's)",
                    elem_id="wan_steps",
                )
            with gr.Row():
                guidance = gr.Number(
                    value=start["guidance"],
                    label="Guidance (0: the model's)",
                    elem_id="wan_guidance",
                    scale=2,
                )
                seed = gr.Textbox(
                    value=start["seed"],
                    label="Seed (empty: the settings'; -1: derived from the settings)",
                    placeholder="the settings' seed",
                    elem_id="wan_seed",
                    scale=2,
                )
                new_seed_button = gr.Button(
                    "Random seed", size="sm", elem_id="wan_new_seed", scale=1
                )
            need = image_need(ref)
            init_image = compat.image_input(
                label=IMAGE_LABELS[need], visible=need != "none", elem_id="wan_init_image"
            )
            last_image = compat.image_input(
                label=LAST_IMAGE_LABEL, visible=takes_last_image(ref), elem_id="wan_last_image"
            )
            with gr.Row():
                loras = gr.Dropdown(
                    lora_files(host.lora_dirs()),
                    value=start["loras"],
                    multiselect=True,
                    label="LoRAs",
                    elem_id="wan_loras",
                    scale=4,
                )
                refresh_loras = gr.Button(
                    "Refresh", size="sm", elem_id="wan_refresh_loras", scale=1
                )
            lora_strengths = compat.table(
                ["LoRA", "strength"],
                ["str", "number"],
                value=start["lora_strengths"],
                label="LoRA strengths (-5 to 5; edit a strength, choose LoRAs above)",
                interactive=True,
                elem_id="wan_lora_strengths",
            )

    with gr.Accordion("Memory plan and speed", open=True, elem_id="wan_memory"):
        estimate = gr.Markdown(
            actions.estimate(model_value, start["size"], *(start[f] for f in MEMORY_FIELDS)),
            elem_id="wan_memory_estimate",
        )
        with gr.Row():
            offload = gr.Dropdown([AUTO, *OFFLOADS], value=start["offload"], label="Offload")
            fp8 = gr.Radio(list(SWITCHES), value=start["fp8"], label="fp8 weights")
            vae_tiling = gr.Radio(list(SWITCHES), value=start["vae_tiling"], label="VAE tiling")
            text_encoder = gr.Radio(
                list(SWITCHES), value=start["text_encoder_on_cpu"], label="Text encoder on CPU"
            )
        with gr.Row():
            attention = gr.Dropdown(
                [AUTO, *ATTENTIONS], value=start["attention"], label="Attention"
            )
            force = gr.Checkbox(value=start["force"], label="Render even if it does not fit")
            cache = gr.Dropdown(
                list(CACHES),
                value=start["cache"],
                label="Step cache (faster, less exact)",
                elem_id="wan_cache",
            )
            preset = gr.Radio(
                list(PRESETS),
                value=start["preset"],
                label="Speed preset (expected times above; your own settings win)",
                elem_id="wan_preset",
            )

    with gr.Accordion("Prompt enhancement and output", open=False, elem_id="wan_more"):
        with gr.Row():
            enhance = gr.Checkbox(
                value=start["enhance"], label="Enhance prompts", elem_id="wan_enhance"
            )
            enhance_lang = gr.Radio(list(LANGUAGES), value=start["enhance_lang"], label="Language")
            enhance_style = gr.Textbox(value=start["enhance_style"], label="Style")
            enhance_model = gr.Dropdown(
                enhancer_choices(),
                value=start["enhance_model"],
                allow_custom_value=True,
                label="Enhancer model",
            )
        with gr.Row():
            fps_mode = gr.Radio(
                list(FPS_MODES),
                value=start["fps_mode"],
                label="Frame rate (deforum: Deforum's fps and frame count; native: the model's)",
            )
            colour_match = gr.Checkbox(value=start["colour_match"], label="Colour match clips")
            crossfade = gr.Checkbox(value=start["crossfade"], label="Cross-fade clip overlaps")

    with gr.Accordion("Camera", open=False, elem_id="wan_camera"):
        with gr.Row():
            camera = gr.Radio(
                list(CAMERA_MODES),
                value=start["camera"],
                label="Follow the camera (guide: the camera guide, dual clock; words: prompt only)",
            )
            camera_weak = gr.Slider(
                0, 0.95, value=start["camera_weak"], step=0.01,
                label="Guide start: share of the steps skipped (weak clock)",
            )  # fmt: skip
            camera_strong = gr.Slider(
                0, 1, value=start["camera_strong"], step=0.01,
                label="Guide hold: held to the guide until (strong clock)",
            )  # fmt: skip
        with gr.Row():
            vace_camera = gr.Radio(
                list(VACE_CAMERA_MODES), value=start["vace_camera"], label="VACE follows as"
            )
            depth_model = gr.Dropdown(
                [AUTO, *depth_choices()],
                value=start["depth_model"],
                allow_custom_value=True,
                label="Depth model (3D; auto: Depth-Anything-V2-Small when installed)",
            )

    with gr.Row():
        plan_button = gr.Button("Plan", elem_id="wan_plan_button")
        guide_button = gr.Button("Preview camera", elem_id="wan_guide_button")
        render_button = gr.Button("Render", variant="primary", elem_id="wan_render_button")
    message = gr.Markdown(elem_id="wan_message")
    plan_summary = gr.Markdown(elem_id="wan_plan_summary")
    clip_table = compat.table(
        HEADERS,
        DATATYPES,
        label="Clips (edit 'prompt to use' to override a clip's prompt)",
        interactive=True,
        elem_id="wan_clip_table",
    )
    motion_plot = gr.Image(
        label="Camera motion", type="filepath", interactive=False, elem_id="wan_motion_plot"
    )
    guide_video = gr.Video(
        label="Camera guide (darker: revealed, for the video model to invent)",
        height=320,
        interactive=False,
        elem_id="wan_guide_video",
    )
    plan_state = gr.State(None)
    job_id = gr.State(None)
    job_status = gr.Markdown(elem_id="wan_job_status")
    video = gr.Video(label="Video", height=480, interactive=False, elem_id="wan_video")

    fields = [
        model, size, steps, guidance, seed, loras, lora_strengths, offload, fp8, vae_tiling,
        text_encoder, attention, force, cache, preset, enhance, enhance_lang, enhance_style,
        enhance_model, fps_mode, colour_match, crossfade, init_image, last_image, camera,
        camera_weak, camera_strong, vace_camera, depth_model, init_frame, guide_from,
    ]  # fmt: skip
    source = [source_kind, upload, pasted, run]
    plan_outputs = [message, plan_summary, clip_table, motion_plot, plan_state]
    memory_inputs = [model, size, offload, fp8, vae_tiling, text_encoder, attention, force, preset]

    plan_button.click(actions.plan, [*source, *fields], plan_outputs, api_name="wan_plan")
    guide_button.click(
        actions.guide, [*source, *fields], [message, guide_video], api_name="wan_guide"
    )
    render_button.click(
        actions.render,
        [*source, clip_table, plan_state, *fields],
        [message, job_id, job_status, video],
        api_name="wan_render",
    ).then(
        actions.follow, [job_id], [job_status, video], api_name="wan_follow",
        **compat.QUIET, **compat.UNLIMITED,
    )  # fmt: skip
    render_all.click(
        actions.render_batch,
        [batch, *fields],
        [message, job_id, job_status, video],
        api_name="wan_render_batch",
    ).then(actions.follow, [job_id], [job_status, video], **compat.QUIET, **compat.UNLIMITED)
    # only the chosen source's input shows; Outputs choosing "Paste JSON" shows the JSON box too
    source_kind.change(
        source_visibility,
        [source_kind],
        [upload, pasted, run_row],
        **compat.QUIET,
    )
    source_kind.change(
        lambda kind: compat.update(visible=kind == SOURCE_RUN),
        [source_kind],
        [run_frames_row],
        **compat.QUIET,
    )
    # the source the user touched last is the one Plan and Render read
    upload.upload(lambda _: SOURCE_FILE, [upload], [source_kind], **compat.QUIET)
    pasted.input(lambda: SOURCE_JSON, None, [source_kind], **compat.QUIET)
    run.select(lambda: SOURCE_RUN, None, [source_kind], **compat.QUIET)
    refresh_runs.click(lambda: compat.update(choices=recent_runs(host.output_root())), None, [run])
    refresh_models.click(
        lambda value: model_update(host, value), [model], [model], api_name="wan_refresh_models"
    )
    refresh_loras.click(
        lambda chosen: lora_update(host, chosen), [loras], [loras], api_name="wan_refresh_loras"
    )
    # one strength per chosen LoRA: the table follows the choice (Refresh and Load change it too)
    loras.change(lora_strength_rows, [loras, lora_strengths], [lora_strengths], **compat.QUIET)
    new_seed_button.click(random_seed, None, [seed], **compat.QUIET)
    model.change(actions.model_changed, [model, size], [size, init_image], **compat.QUIET)
    model.change(actions.last_image_shown, [model], [last_image], **compat.QUIET)
    for component in memory_inputs:
        component.change(actions.estimate, memory_inputs, [estimate], **compat.QUIET)
    return GenerateForm(source_kind, pasted, model, fields, plan_outputs)


def source_visibility(kind: str) -> list[Any]:
    """Show the input of the chosen source only (upload, JSON box, recent runs: SOURCES order)."""
    return [compat.update(visible=kind == each) for each in SOURCES]


def random_seed() -> str:
    """A new random seed for the seed box: Plan and Render then both use it."""
    return str(new_seed())


def model_update(host: Host, value: str | None) -> Any:
    """The model list read again (after a download), keeping the chosen model."""
    choices = model_choices(host.store_config())
    ref = ref_from_choice(value)
    return compat.update(choices=[c.label for c in choices], value=choice_for(ref, choices))


def lora_update(host: Host, chosen: list[str] | None) -> Any:
    """The LoRA list read again from the host's LoRA folders, keeping the chosen LoRAs whose
    files are still there."""
    files = lora_files(host.lora_dirs())
    return compat.update(choices=files, value=[path for path in chosen or () if path in files])
