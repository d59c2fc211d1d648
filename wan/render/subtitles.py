"""Subtitles (SRT) that show which prompt drives each part of the video.

Timestamps are in the final video's time base: Deforum frames at Deforum's fps (the renderer
resamples the model frames to exactly that).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from wan.errors import RenderError
from wan.render.checkpoints import atomic_write_bytes

log = logging.getLogger(__name__)

Entry = tuple[float, float, str]


class PromptSpan(Protocol):
    """What `prompt_entries` reads from a clip (`wan.core.plan.Clip` has these)."""

    start_frame: int  # 0-based, inclusive Deforum frames
    end_frame: int
    prompt: str


def prompt_entries(clips: Iterable[PromptSpan], fps: float) -> list[Entry]:
    """(start seconds, end seconds, prompt) for each run of clips with the same prompt.

    Each clip needs ``start_frame`` and ``end_frame`` (0-based, inclusive Deforum frames) and
    ``prompt`` (str), as `wan.core.plan.Clip` has. Clips may overlap (continuation clips repeat the
    previous clip's last frames): a clip's prompt starts with its first new frame, so cues never
    overlap. Consecutive clips with the same prompt make one cue. Frame f spans
    [f / fps, (f + 1) / fps).
    """
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps {fps!r}: must be a positive number")
    entries: list[Entry] = []
    spans: list[tuple[int, int, str]] = []
    next_frame = 0
    for clip in clips:
        start = max(int(clip.start_frame), next_frame)
        end = int(clip.end_frame)
        text = str(clip.prompt).strip()
        if end < start:
            continue  # wholly inside the previous clip: nothing new to caption
        if spans and spans[-1][2] == text and spans[-1][1] + 1 == start:
            spans[-1] = (spans[-1][0], end, text)
        else:
            spans.append((start, end, text))
        next_frame = end + 1
    for start, end, text in spans:
        entries.append((start / fps, (end + 1) / fps, text))
    return entries


def format_timestamp(seconds: float) -> str:
    """SRT time, HH:MM:SS,mmm, rounded to the millisecond."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"subtitle time {seconds!r}: must be >= 0")
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def srt_text(entries: Sequence[Entry]) -> str:
    """The SRT document: cues numbered from 1, separated by a blank line.

    Line breaks inside a text are kept; blank lines inside it are dropped, since a blank line
    ends a cue in SRT. Entries whose text is empty are left out (numbering stays consecutive).
    """
    blocks = []
    for start, end, text in entries:
        if end < start:
            raise ValueError(f"subtitle {text!r}: ends ({end}) before it starts ({start})")
        lines = [line.strip() for line in str(text).replace("\r\n", "\n").split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        timing = f"{format_timestamp(start)} --> {format_timestamp(end)}"
        blocks.append(f"{len(blocks) + 1}\n{timing}\n" + "\n".join(lines) + "\n")
    return "\n".join(blocks)


def write_srt(path: str | Path, entries: Sequence[Entry]) -> Path:
    """Write the entries as an SRT file (UTF-8, LF line ends), atomically."""
    path = Path(path)
    text = srt_text(entries)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise RenderError(
            f"{path} could not be written ({exc.strerror or exc}); the video is not affected: "
            "free disk space or check the folder's permissions"
        ) from None
    log.debug("wrote %d subtitles to %s", len(entries), path)
    return path
