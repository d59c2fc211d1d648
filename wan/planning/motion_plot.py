"""A PNG of the camera schedules of an animation with its clips and their motion phrases.

matplotlib is imported inside `plot_motion` (so importing this module is cheap) and draws on an
Agg canvas directly, never through pyplot, so a host's own backend and pyplot state are left
alone. Artists are built from whole arrays (one line and one collection per axis, never one per
frame) and labels are merged and thinned to what fits, so 10,000 frames plot as fast as 100.

Layout, top to bottom: the title; a row of labels above the clips (runs of clips with the same
phrase share one label): "index: phrase" wrapped above each run when every run's fits in a few
lines, else only the clip numbers, as many as fit side by side, with every phrase in a table at
the bottom, so the plot reads the same at 1 clip and at 100 (labels are never rotated or cut; their
widths are measured by the renderer that draws them); one subplot per camera schedule of the
mode; when given, the requested camera motion per model frame in the terms `python -m wan motion`
measures (dx, dy, zoom, angle at the render's size, drawn by wan.render.camera_plot as
adherence.png draws it; `plan_camera`); the x label; and the table of phrases when there is one.
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
_CHAR_W = _FONT * 0.56 / 72  # average character width of the label font: a first guess
_LINESPACING = 1.2
_GAP = 0.08  # inches kept free between two labels
_MAX_LINES = 4
_LIST_COLUMNS, _LIST_ROWS = 2, 60
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
    fig = motion_figure(schedules, mode, clips, title, requested)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def motion_figure(
    schedules: Mapping[str, np.ndarray],
    mode: str,
    clips: Sequence[tuple[int, int, str]],
    title: str = "",
    requested: CameraTimeline | None = None,
):
    """The matplotlib Figure `plot_motion` writes (on an Agg canvas), for tests to measure."""
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

    fig = Figure(figsize=(_FIG_W, 1.0), dpi=100)
    FigureCanvasAgg(fig)
    measure = _Measure(fig)
    runs = _merge_runs(clips)
    placed, row_h, tabled = _place_labels(runs, frames, measure)
    listing = _table(runs, measure) if tabled else []
    list_h = max(map(measure.height, listing)) + measure.line if listing else 0.0
    panels = len(keys) + (_REQUESTED_PANELS if requested is not None else 0)
    height = _TITLE_H + row_h + panels * (_AXIS_GAP + _AXIS_H) + _XLABEL_H + list_h
    fig.set_size_inches(_FIG_W, height)
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
        y = (list_h - 0.5 * measure.line) / height
        fig.text(x, y, text, fontsize=_FONT, va="top", linespacing=_LINESPACING)
    return fig


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


class _Measure:
    """Text widths in inches at the label font, measured by the renderer that draws them."""

    def __init__(self, fig) -> None:
        from matplotlib.font_manager import FontProperties

        self._renderer = fig.canvas.get_renderer()
        self._font = FontProperties(size=_FONT)
        self._dpi = fig.dpi
        self._fig = fig
        self.line = self.height("(lp)")  # one line of label text

    def width(self, text: str) -> float:
        lines = text.split("\n")
        sizes = [
            self._renderer.get_text_width_height_descent(t, self._font, ismath=False) for t in lines
        ]
        return max(w for w, _, _ in sizes) / self._dpi

    def height(self, text: str) -> float:
        """The height of `text` as drawn (its lines at _LINESPACING), in inches."""
        from matplotlib.text import Text

        artist = Text(0, 0, text, fontproperties=self._font, linespacing=_LINESPACING)
        artist.set_figure(self._fig)
        return artist.get_window_extent(self._renderer).height / self._dpi

    def wrap(self, text: str, width: float, indent: str = "") -> list[str]:
        """`text` wrapped to lines no wider than `width` inches (a word wider stays whole)."""
        chars = max(8, int(width / _CHAR_W))
        while True:
            lines = textwrap.wrap(
                text,
                chars,
                subsequent_indent=indent,
                break_on_hyphens=False,
                break_long_words=False,
            )
            if chars <= 8 or all(self.width(line) <= width for line in lines):
                return lines
            chars -= 2


def _place_labels(
    runs: list[tuple[str, int, int, str]], frames: int, measure: _Measure
) -> tuple[list[tuple[float, str, str]], float, bool]:
    """Label positions (x in frames, text, horizontal alignment), the row height, and whether
    the phrases go to the table below the plots.

    When every run's "index: phrase" fits above the run in at most _MAX_LINES lines, it is
    written there. Otherwise (a long animation: many narrow clips) each run gets only its clip
    number above it, centred, left out where it would touch its neighbour's, and every phrase is
    listed in the table with its clip numbers and frames: nothing is rotated or cut.
    """
    per_frame = _PLOT_W / frames  # inches
    placed: list[tuple[float, str, str]] = []
    for label, start, end, phrase in runs:
        width = (end - start + 1) * per_frame - _GAP
        lines = measure.wrap(f"{label}: {phrase}", width) if width >= 12 * _CHAR_W else []
        if not lines or len(lines) > _MAX_LINES or measure.width("\n".join(lines)) > width:
            break
        placed.append((start - 0.5 + 0.5 * _GAP / per_frame, "\n".join(lines), "left"))
    else:
        tallest = max((measure.height(text) for _, text, _ in placed), default=measure.line)
        return placed, tallest + 0.15, False
    placed = []
    free_from = 0.0  # inches from the plot's left edge where the previous number ends
    for label, start, end, _ in runs:
        half = measure.width(label) / 2
        centre = ((start + end) / 2 + 0.5) * per_frame
        centre = min(max(centre, half), _PLOT_W - half)  # inside the plot's width
        if centre - half >= free_from:
            placed.append((centre / per_frame - 0.5, label, "center"))
            free_from = centre + half + _GAP
    return placed, measure.line + 0.15, True


def _table(runs: list[tuple[str, int, int, str]], measure: _Measure) -> tuple[list[str], int]:
    """The phrase of every run as column texts ("clip 3 (frames 160-240): the camera ..."), long
    ones wrapped, and the number of lines of the tallest column."""
    column_w = _PLOT_W / _LIST_COLUMNS - _GAP
    entries = []
    for label, start, end, phrase in runs:
        name = f"clips {label}" if "-" in label else f"clip {label}"
        entries.append(measure.wrap(f"{name} (frames {start}-{end}): {phrase}", column_w, "    "))
    total = sum(map(len, entries))
    capacity = _LIST_COLUMNS * _LIST_ROWS
    if total > capacity:  # the rest is in the plan (plan --json)
        kept, used = [], 0
        for entry in entries:
            if used + len(entry) > capacity - 1:
                break
            kept.append(entry)
            used += len(entry)
        entries = [*kept, [f"... and {len(runs) - len(kept)} more (plan --json lists them)"]]
        total = used + 1
    per_column = -(-total // _LIST_COLUMNS)
    while True:  # the fewest lines per column that keep every entry whole in _LIST_COLUMNS
        columns: list[list[str]] = [[]]
        for entry in entries:
            if columns[-1] and len(columns[-1]) + len(entry) > per_column:
                columns.append([])
            columns[-1].extend(entry)
        if len(columns) <= _LIST_COLUMNS:
            break
        per_column += 1
    return ["\n".join(column) for column in columns]


def _draw_labels(ax, placed: list[tuple[float, str, str]]) -> None:
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    for x, text, align in placed:
        ax.text(x, 0.98, text, ha=align, va="top", fontsize=_FONT, linespacing=_LINESPACING)


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
