"""Camera motion per model frame on a video's timeline, requested against measured: the run
folder's adherence.png, and the requested-motion panels of the plan's motion plot
(wan.planning.motion_plot draws them through `draw_camera_axes`, so both read the same way).

One panel per component of wan.render.motion_measure's terms (dx, dy in pixels per model frame
at the render's size, zoom per model frame, angle in degrees per model frame), x in Deforum
frames (the video's frames): the step into model frame m of a clip sits at start_frame + m *
fps / model_fps. Each clip's requested motion is one line, its measured motion dots (hollow
grey where the measurement was too unsure to count), clip starts vertical lines.

matplotlib is imported inside the functions and draws on an Agg canvas, never through pyplot,
as motion_plot does: a host's own backend and pyplot state are left alone.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from wan.render.adherence import COMPONENTS, MIN_CONFIDENCE, CameraTimeline, StepMotion

REQUESTED_COLOR, MEASURED_COLOR, UNSURE_COLOR = "#1f5fa8", "#d9641e", "0.6"
_FONT = 8.0
_FIG_W, _LEFT, _RIGHT = 14.0, 0.75, 0.15
_AXIS_H, _AXIS_GAP, _TITLE_H, _XLABEL_H = 1.1, 0.3, 0.45, 0.5
_LINE_H = _FONT * 1.3 / 72
_SUMMARY_CHARS = 190
_MIN_SPAN = {"dx": 1.0, "dy": 1.0, "zoom": 0.01, "angle": 0.5}  # smallest y range drawn
_UNITS = {
    "dx": "px / model frame, + right",
    "dy": "px / model frame, + down",
    "zoom": "scale / model frame, >1 in",
    "angle": "degrees / model frame, + counter-clockwise",
}


def component_title(component: str, timeline: CameraTimeline, what: str) -> str:
    width, height = timeline.size
    return (
        f"{what} {component} ({_UNITS[component]}; {width}x{height} at "
        f"{timeline.model_fps:g} fps, about the frame centre)"
    )


def draw_camera_axes(
    axes: Sequence, timeline: CameraTimeline, measured: bool = True, boundaries: bool = True
) -> None:
    """Draw the timeline on four axes (dx, dy, zoom, angle), with the measured motion when
    `measured` and a line at each clip's start when `boundaries` (a caller that marks clips its
    own way says False); each axis gets its title, the first the legend."""
    what = "camera" if measured else "requested camera"
    for ax, component in zip(axes, COMPONENTS, strict=True):
        neutral = 1.0 if component == "zoom" else 0.0
        ax.axhline(neutral, color="0.75", linewidth=0.8, linestyle="--")
        xs, ys = _joined(timeline, component)
        ax.plot(xs, ys, color=REQUESTED_COLOR, linewidth=1.2, label="requested")
        if measured:
            _draw_measured(ax, timeline, component)
        starts = [t.start_frame for t in timeline.tracks]
        if starts and boundaries:
            blend = ax.get_xaxis_transform()  # x in frames, y in 0..1 of the axes
            ax.vlines(starts, 0, 1, transform=blend, colors="0.35", linewidth=0.7, zorder=1)
        ax.set_title(component_title(component, timeline, what), loc="left", fontsize=_FONT, pad=2)
        ax.tick_params(labelsize=_FONT - 1)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.margins(y=0.15)
        _at_least(ax, neutral, _MIN_SPAN[component])
    if measured:  # once, in the first title's row
        axes[0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=_FONT - 1,
                       frameon=False, ncol=3, borderaxespad=0.1)  # fmt: skip


def _at_least(ax, neutral: float, span: float) -> None:
    """Widen the y range to `span` about its middle (the neutral value when flat), so that a
    still camera's rounding noise draws as the flat line it is."""
    low, high = ax.get_ylim()
    if high - low < span:
        middle = (low + high) / 2 if np.isfinite(low + high) and high > low else neutral
        ax.set_ylim(middle - span / 2, middle + span / 2)


def _joined(timeline: CameraTimeline, component: str) -> tuple[np.ndarray, np.ndarray]:
    """Every clip's requested line in one array, broken (NaN) between clips."""
    xs, ys = [], []
    for track in timeline.tracks:
        xs += [track.at(track.requested), [np.nan]]
        ys += [_values(track.requested, component), [np.nan]]
    if not xs:
        return np.empty(0), np.empty(0)
    return np.concatenate(xs), np.concatenate(ys)


def _values(motions: Sequence[StepMotion], component: str) -> np.ndarray:
    return np.array([getattr(m, component) for m in motions], np.float64)


def _draw_measured(ax, timeline: CameraTimeline, component: str) -> None:
    """Measured frames as dots: full where they count, hollow grey where too unsure to count;
    frames where nothing was measured (confidence 0) are not drawn at all."""
    sure_x, sure_y, unsure_x, unsure_y = [], [], [], []
    for track in timeline.tracks:
        x, y = track.at(track.measured), _values(track.measured, component)
        confidence = np.array([m.confidence for m in track.measured], np.float64)
        sure = confidence >= MIN_CONFIDENCE
        unsure = (confidence > 0) & ~sure
        sure_x.extend(x[sure])
        sure_y.extend(y[sure])
        unsure_x.extend(x[unsure])
        unsure_y.extend(y[unsure])
    if sure_x:
        ax.plot(sure_x, sure_y, "o", color=MEASURED_COLOR, markersize=2.5, label="measured")
    if unsure_x:
        style = {"markersize": 2.5, "markerfacecolor": "none", "color": UNSURE_COLOR}
        ax.plot(unsure_x, unsure_y, "o", label="unsure (left out)", **style)


def adherence_summary(timeline: CameraTimeline) -> str:
    """One line per few clips: each clip's endpoint error and score."""
    parts = []
    for track in timeline.tracks:
        figure = track.adherence or {}
        if figure.get("error_px") is None:
            parts.append(f"clip {track.index}: not measurable")
        else:
            parts.append(
                f"clip {track.index}: {figure['error_px']:.2f} px error of "
                f"{figure['motion_px']:.2f} px motion, score {figure['score']:.2f}"
            )
    return "\n".join(textwrap.wrap("; ".join(parts), _SUMMARY_CHARS)) or "no clips"


def plot_adherence(timeline: CameraTimeline, path: str | os.PathLike, title: str = "") -> Path:
    """Write adherence.png: requested against measured, per component, clip boundaries marked,
    each clip's adherence figure listed under the title."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    summary = adherence_summary(timeline)
    summary_h = (summary.count("\n") + 1.5) * _LINE_H
    height = _TITLE_H + summary_h + len(COMPONENTS) * (_AXIS_GAP + _AXIS_H) + _XLABEL_H
    fig = Figure(figsize=(_FIG_W, height), dpi=100)
    FigureCanvasAgg(fig)
    fig.suptitle(title or "Camera adherence", fontsize=11, y=1 - 0.12 / height)
    fig.text(_LEFT / _FIG_W, 1 - _TITLE_H / height, summary, fontsize=_FONT, va="top")
    plot_w = _FIG_W - _LEFT - _RIGHT
    top = _TITLE_H + summary_h
    axes = []
    for _ in COMPONENTS:
        top += _AXIS_GAP
        rect = [_LEFT / _FIG_W, 1 - (top + _AXIS_H) / height, plot_w / _FIG_W, _AXIS_H / height]
        axes.append(fig.add_axes(rect, sharex=axes[0] if axes else None))
        top += _AXIS_H
    draw_camera_axes(axes, timeline, measured=True)
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel("frame (Deforum fps)", fontsize=_FONT)
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path
