"""Motion values Deforum runs with but that have no usable meaning for a camera, and what we do.

A 2D `zoom` of 0 (or below) is the one such value real files hold (a hybrid-video file whose zoom
schedule starts `0: (0.0)`): Deforum builds its warp with cv2.getRotationMatrix2D(..., scale=0),
which collapses the whole frame onto its centre point; a negative scale turns it upside down as
well. Deforum's hybrid compositing then paints over the collapsed frame, so such files render in
Deforum, but as a camera motion the value means nothing: no log, no "zooms in", no guide. We read
such a frame as no zoom (1.0) and say so with the frame and the value (plan notes; the render's
camera guide logs the same), rather than refusing the file or clamping it to a tiny zoom that would
empty the frame.

Pure: arrays in, arrays and notes out.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

ZOOM = "zoom"
ZOOM_INSTEAD = 1.0  # what a zoom of 0 or less is read as: no zoom on that frame
SHOWN_FRAMES = 5  # frames a note lists before it counts the rest


def usable_zoom(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`values` with every finite zoom <= 0 read as ZOOM_INSTEAD, and the frames changed.
    Non-finite values are left for the callers' own checks (they refuse them)."""
    values = np.asarray(values, dtype=np.float64)
    bad = np.isfinite(values) & (values <= 0)
    if not bad.any():
        return values, np.zeros(0, dtype=np.int64)
    fixed = values.copy()
    fixed[bad] = ZOOM_INSTEAD
    return fixed, np.flatnonzero(bad)


def usable_motion(
    schedules: Mapping[str, np.ndarray], mode: str
) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """The per-frame schedules with degenerate motion values replaced (2D zoom <= 0), and one
    note per schedule naming the frames and values (what `plan` shows)."""
    out = dict(schedules)
    if mode != "2D" or ZOOM not in schedules:
        return out, ()
    original = np.asarray(schedules[ZOOM], dtype=np.float64)
    fixed, frames = usable_zoom(original)
    if not frames.size:
        return out, ()
    out[ZOOM] = fixed
    return out, (zoom_note(original, frames),)


def zoom_note(values: np.ndarray, frames: np.ndarray) -> str:
    """'zoom is 0 at frame 1 (...)': the frames and values a zoom <= 0 was replaced at."""
    shown = ", ".join(f"{values[f]:g} at frame {int(f)}" for f in frames[:SHOWN_FRAMES])
    more = f" and {frames.size - SHOWN_FRAMES} more frame(s)" if frames.size > SHOWN_FRAMES else ""
    return (
        f"zoom is {shown}{more}: a zoom of 0 or less collapses Deforum's 2D warp onto one point, "
        f"so it is read as {ZOOM_INSTEAD:g} (no zoom) on those frames; give zoom values above 0"
    )
