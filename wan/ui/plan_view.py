"""What the Plan button shows: the clip table, the motion plot and a one-paragraph summary.

The table's last-but-one column is the prompt each clip will use (enhanced when enhancement is
on); the user may edit it, and an edited cell becomes that clip's prompt override at Render.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wan.core.deforum import defaults
from wan.core.deforum.schedules import evaluate_schedules
from wan.core.deforum.settings import DeforumSettings
from wan.core.plan import GenerationPlan
from wan.core.prompt_diff import differing_parts, shared_ends

HEADERS = [
    "clip", "frames", "model frames", "prompt", "prompt to use (editable)", "motion", "camera",
]  # fmt: skip
DATATYPES = ["str"] * len(HEADERS)  # an empty table then shows an empty row, not a 0
PROMPT_COLUMN = 4


def clip_rows(payload: Mapping[str, Any]) -> list[list[Any]]:
    """One row per clip of a plan payload (wan.planning.plan_service.plan_payload). The "prompt"
    column shows the part of each prompt that differs when the clips share a long start or end
    (the summary gives that shared text); the editable column keeps the whole prompt."""
    clips = payload["clips"]
    prompts = differing_parts([clip["prompt"] for clip in clips])
    return [
        [
            clip["index"],
            f"{clip['start_frame']}-{clip['end_frame']}",
            f"{clip['model_start']}-{clip['model_end']} ({clip['num_frames']})",
            prompt,
            prompt_to_use(clip),
            clip["motion"]["phrase"],
            clip["camera_follow"]["describe"],
        ]
        for clip, prompt in zip(clips, prompts, strict=True)
    ]


def prompt_to_use(clip: Mapping[str, Any]) -> str:
    """The override, else the enhanced prompt, else the plan's prompt."""
    return clip.get("prompt_override") or clip.get("enhanced_prompt") or clip["prompt"]


def edited_prompts(rows: Sequence[Sequence[Any]], shown: Sequence[str]) -> dict[int, str]:
    """{clip index: prompt} for the rows whose prompt cell differs from what Plan showed."""
    edited = {}
    for position, row in enumerate(rows):
        if position >= len(shown) or len(row) <= PROMPT_COLUMN:
            break
        text = str(row[PROMPT_COLUMN] or "").strip()
        if text and text != shown[position].strip():
            edited[position] = text
    return edited


def summary(plan: GenerationPlan, payload: Mapping[str, Any]) -> str:
    """Markdown: what will be rendered, in a few lines."""
    lines = [
        f"**{len(plan.clips)} clip(s)** for {plan.frames} Deforum frames at {plan.fps:g} fps "
        f"({plan.mode}) -> {plan.model.id} at {plan.model_fps:g} fps, "
        f"{plan.model_frames} model frames, seed {plan.seed}, plan `{plan.hash}`"
    ]
    if payload.get("smoke"):
        lines.append(f"{plan.model.id} is a tiny random smoke model: its output is noise.")
    start, end = shared_ends([clip["prompt"] for clip in payload["clips"]])
    if start:
        lines.append(f"The clips' prompts all start with: {_quoted(start)}")
    if end:
        lines.append(f"The clips' prompts all end with: {_quoted(end)}")
    if start or end:
        lines.append("The table's prompt column shows the part that differs.")
    for clip in payload["clips"]:
        for warning in clip.get("enhance_warnings") or ():
            lines.append(f"clip {clip['index']}: {warning}")
    return "\n\n".join(lines)


def _quoted(text: str) -> str:
    """Prompt text for markdown: whole, with the characters markdown or HTML would eat escaped."""
    return html.escape(" ".join(text.split())).replace("*", "\\*").replace("_", "\\_")


def plot_plan(
    settings: DeforumSettings,
    plan: GenerationPlan,
    folder: Path | None = None,
    name: str | None = None,
) -> Path:
    """The motion plot as a PNG named by the plan's hash (a temporary folder by default), titled
    by `name` (the source's name: pasted settings have no file name), else the settings file."""
    from wan.planning.motion_plot import plan_camera, plot_motion

    keys = defaults.MOTION_2D if settings.mode == "2D" else defaults.MOTION_3D
    schedules = evaluate_schedules(settings.schedules, settings.max_frames, plan.seed, keys)
    spans = [(c.start_frame, c.end_frame, c.motion.phrase) for c in plan.clips]
    target = Path(folder or Path(tempfile.gettempdir()) / "wan-ui-plots") / f"{plan.hash}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    title = f"{name or Path(settings.source).name}: {len(plan.clips)} clip(s) for {plan.model.id}"
    requested = plan_camera(settings, plan)
    return plot_motion(schedules, settings.mode, spans, target, title=title, requested=requested)
