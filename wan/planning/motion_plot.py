"""A PNG of the camera schedules of an animation with its clips and their motion phrases.

matplotlib is imported inside `plot_motion` (so importing this module is cheap) and draws on an
Agg canvas directly, never through pyplot, so a host's own backend and pyplot state are left
alone. Artists are built from whole arrays (one line and one collection per axis, never one per
frame) and labels are merged and thinned to what fits, so 10,000 frames plot as fast as 100.

Layout, top to bottom: the title; a row with each clip's index and phrase above the clip (runs of
clips with the same phrase share one label; wrapped when the clip is wide, vertical when it is
narrow); one subplot per camera schedule of the mode; when given, the requested camera motion
per model frame in the terms `python -m wan motion` measures (dx, dy, zoom, angle at the render's
size, drawn by wan.render.camera_plot as adherence.png draws it; `plan_camera`); and, when some
phrases did not fit above their clips, a list of them.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from wan.core.motion import AXES, positive_meaning
from wan.core.sizes import choose_size
from wan.errors import PlanError

if TYPE_CHECKING:  # the renderer's modules load OpenCV: imported when a panel is drawn
    from wan.render.adherence import CameraTimeline

_FIG_W = 14.0  # inches; every size below is in inches too
_LEFT, _RIGHT = 0.75, 0.15
_PLOT_W = _FIG_W - _LEFT - _RIGHT
_AXIS_H, _AXIS_GAP = 0.95, 0.3  # a schedule subplot and the room for its title above it
_TITLE_H, _XLABEL_H = 0.45, 0.5
_FONT = 8.0
_CHAR_W = _FONT * 0.56 / 72  # average character width of the label font
_LINE_H = _FONT * 1.3 / 72
_MAX_LINES, _VERTICAL_CHARS = 6, 40
_LIST_COLUMNS, _LIST_ROWS = 2, 30
_SHADE, _LINE_COLOR = "#e6edf7", "#1f5fa8"
_REQUESTED_PANELS = 4  # dx, dy, zoom, angle: wan.render.adherence.COMPONENTS


def plot_motion(
    schedules: Mapping[str, np.ndarray],
    mode: str,
    clips: Sequence[tuple[int, int, str]],
    path: str | os.PathLike,
    title: str = "",
    requested: CameraTimeline | None = None,
) -> Path:
    """Write a PNG of the mode's camera schedules, clip boundaries and clip phrases to `path`,
    and the `requested` camera motion per model frame below them when given."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if mode not in AXES:
        accepted = ", ".join(repr(m) for m in AXES)
        raise PlanError(f"animation mode {mode!r} has no camera motion to plot; use {accepted}")
    clips = [(int(s), int(e), str(p)) for s, e, p in clips]
    for start, end, _ in clips:
        if start < 0 or end < start:
            raise PlanError(f"clip frames {start}..{end} are not a valid span (0 <= start <= end)")
    keys = AXES[mode]
    lengths = [np.atleast_1d(schedules[k]).shape[0] for k in keys if k in schedules]
    frames = max(lengths + [end + 1 for _, end, _ in clips] + [1])

    placed, row_h, cut = _place_labels(_merge_runs(clips), frames)
    listing = _listing(cut)
    list_h = (min(len(cut), _LIST_ROWS) + 1.5) * _LINE_H if cut else 0.0
    panels = len(keys) + (_REQUESTED_PANELS if requested is not None else 0)
    height = _TITLE_H + row_h + panels * (_AXIS_GAP + _AXIS_H) + _XLABEL_H + list_h
    fig = Figure(figsize=(_FIG_W, height), dpi=100)
    FigureCanvasAgg(fig)
    fig.suptitle(title or f"Deforum {mode} camera motion", fontsize=11, y=1 - 0.12 / height)

    def rect(top: float, h: float) -> list[float]:  # inches from the top -> figure fraction
        return [_LEFT / _FIG_W, 1 - (top + h) / height, _PLOT_W / _FIG_W, h / height]

    text_ax = fig.add_axes(rect(_TITLE_H, row_h))
    _draw_labels(text_ax, placed)
    top = _TITLE_H + row_h
    axes = []
    for key in keys:
        top += _AXIS_GAP
        ax = fig.add_axes(rect(top, _AXIS_H), sharex=text_ax)
        _draw_schedule(ax, mode, key, schedules.get(key), frames)
        _draw_clips(ax, clips)
        axes.append(ax)
        top += _AXIS_H
    if requested is not None:
        axes += _draw_requested(fig, rect, top, text_ax, requested, clips)
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel("frame", fontsize=_FONT)
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    text_ax.set_xlim(-0.5, frames - 0.5)
    for column, text in enumerate(listing):
        x = (_LEFT + column * _PLOT_W / _LIST_COLUMNS) / _FIG_W
        fig.text(x, (list_h - 0.5 * _LINE_H) / height, text, fontsize=_FONT, va="top")

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def plan_camera(settings, plan, size: tuple[int, int] | None = None) -> CameraTimeline:
    """The requested camera motion of a plan's clips at `size` (default: the size a render of
    the plan's model picks for the settings' W x H, wan.core.sizes.choose_size)."""
    from wan.render.adherence import plan_timeline

    if size is None:
        size = choose_size(settings.width, settings.height, plan.model).size
    return plan_timeline(plan, settings, size)


def _draw_requested(fig, rect, top: float, text_ax, requested: CameraTimeline, clips) -> list:
    """One panel per component of the requested motion below the schedules (top: inches)."""
    from wan.render.camera_plot import draw_camera_axes

    axes = []
    for _ in range(_REQUESTED_PANELS):
        top += _AXIS_GAP
        axes.append(fig.add_axes(rect(top, _AXIS_H), sharex=text_ax))
        top += _AXIS_H
    draw_camera_axes(axes, requested, measured=False, boundaries=False)
    for ax in axes:
        _draw_clips(ax, clips)
    return axes


def _merge_runs(clips: list[tuple[int, int, str]]) -> list[tuple[str, int, int, str]]:
    """(label, start, end, phrase) per run of consecutive clips with the same phrase."""
    runs: list[tuple[str, int, int, str]] = []
    first = 0
    for i, (start, end, phrase) in enumerate(clips):
        if runs and phrase == runs[-1][3] and i > 0:
            label = f"{first}-{i}"
            runs[-1] = (label, runs[-1][1], end, phrase)
        else:
            first = i
            runs.append((str(i), start, end, phrase))
    return runs


def _place_labels(
    runs: list[tuple[str, int, int, str]], frames: int
) -> tuple[list[tuple[float, str, bool]], float, list[str]]:
    """Label positions (x in frames, text, vertical), the row height, and the phrases cut short.

    A label never overlaps the previous one: a run too narrow for any text is left unlabelled
    (its phrase goes to the list below the plots).
    """
    per_frame = _PLOT_W / frames  # inches
    placed: list[tuple[float, str, bool]] = []
    cut: list[str] = []
    row_h = _LINE_H
    free_from = -np.inf  # x (frames) where the previous label ends
    for label, start, end, phrase in runs:
        full = f"{label}: {phrase}"
        left, width = start - 0.5, (end - start + 1) * per_frame
        x_wide, x_tall = left + 0.05 / per_frame, (start + end) / 2
        shown = ""
        if width >= 18 * _CHAR_W and x_wide >= free_from:
            chars = int(width / _CHAR_W) - 2
            lines = textwrap.wrap(full, chars, max_lines=_MAX_LINES, break_on_hyphens=False)
            placed.append((x_wide, "\n".join(lines), False))
            row_h = max(row_h, len(lines) * _LINE_H)
            shown = " ".join(lines)
            free_from = x_wide + (max(map(len, lines)) + 1) * _CHAR_W / per_frame
        elif width >= _LINE_H * 0.8 and x_tall - 0.5 * _LINE_H / per_frame >= free_from:
            shown = textwrap.shorten(full, _VERTICAL_CHARS, placeholder="...")
            placed.append((x_tall, shown, True))
            row_h = max(row_h, len(shown) * _CHAR_W)
            free_from = x_tall + 0.6 * _LINE_H / per_frame
        if shown != full:
            cut.append(full)
    return placed, row_h + 0.15, cut


def _listing(cut: list[str]) -> list[str]:
    """The phrases that did not fit above their clips, as column texts (the rest counted)."""
    capacity = _LIST_COLUMNS * _LIST_ROWS
    lines = [textwrap.shorten(t, int(_PLOT_W / _LIST_COLUMNS / _CHAR_W) - 2) for t in cut]
    if len(lines) > capacity:
        lines = [*lines[: capacity - 1], f"... and {len(cut) - capacity + 1} more clips"]
    rows = max(1, -(-len(lines) // _LIST_COLUMNS))
    return ["\n".join(lines[i : i + rows]) for i in range(0, len(lines), rows)]


def _draw_labels(ax, placed: list[tuple[float, str, bool]]) -> None:
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    for x, text, vertical in placed:
        if vertical:
            ax.text(x, 0.02, text, rotation=90, ha="center", va="bottom", fontsize=_FONT - 1)
        else:
            ax.text(x, 0.98, text, ha="left", va="top", fontsize=_FONT)


def _draw_schedule(ax, mode: str, key: str, values, frames: int) -> None:
    neutral = 1.0 if key == "zoom" else 0.0
    y = np.full(frames, neutral) if values is None else np.atleast_1d(values).astype(np.float64)
    ax.axhline(neutral, color="0.6", linewidth=0.8, linestyle="--")
    ax.plot(
        np.arange(len(y)), y, color=_LINE_COLOR, linewidth=1.2, marker="o" if len(y) < 3 else None
    )
    sign = ">1" if key == "zoom" else "+"
    unset = "" if values is not None else "  [not set]"
    meaning = positive_meaning(mode, key)
    ax.set_title(f"{key} ({sign} {meaning}){unset}", loc="left", fontsize=_FONT, pad=2)
    ax.tick_params(labelsize=_FONT - 1)
    ax.margins(y=0.15)


def _draw_clips(ax, clips: list[tuple[int, int, str]]) -> None:
    """Shade every other clip and mark each clip start (and the last end) with a line."""
    from matplotlib.collections import PolyCollection

    if not clips:
        return
    blend = ax.get_xaxis_transform()  # x in frames, y in 0..1 of the axes
    odd = clips[1::2]
    boxes = [[(s - 0.5, 0), (e + 0.5, 0), (e + 0.5, 1), (s - 0.5, 1)] for s, e, _ in odd]
    if boxes:
        ax.add_collection(PolyCollection(boxes, transform=blend, facecolor=_SHADE, zorder=0))
    dense = len(clips) * 0.08 > _PLOT_W  # lines closer than ~0.08 in: draw them fainter
    edges = [s - 0.5 for s, _, _ in clips] + [clips[-1][1] + 0.5]
    color, width = ("0.7", 0.4) if dense else ("0.35", 0.7)
    ax.vlines(edges, 0, 1, transform=blend, colors=color, linewidth=width, zorder=1)
