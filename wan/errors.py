"""Every kind of error, in one place.

Every problem caused by input (a settings file, a schedule, a model folder, a request) is raised
as a `WanError` subclass whose message names what is wrong, where, and how to fix it: exit 2 /
HTTP 422 (404, 409 for the job errors). An invariant of our own code that fails is an
`InternalError`, a bug: exit 1 / HTTP 500 with the traceback in the log, as anything else that
escapes. A cancel is `Cancelled`, neither: the user asked for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EXCERPT_CHARS = 80  # of a user's value quoted in a message: enough to find it, never 5,000


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """`repr(value)` cut to about `limit` characters, saying how long the whole value is: error
    messages quote what the user wrote without echoing a huge input back."""
    text = repr(value)
    if len(text) <= limit:
        return text
    whole = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} characters"
    return f"{text[: limit - 3]}... ({whole})"


class WanError(Exception):
    """Base class of every error caused by user input."""

    source = ""  # the settings file (or part of a request) the error is in, once it is known


def name_source(error: WanError, source: str) -> WanError:
    """`error`, its message now led by `source` (a settings file, or the part of a request the
    settings came from) unless it already is: an error found deep in the core, where only a
    schedule's or a prompt's text is known, still says which file it is in."""
    if source and not error.source:
        error.source = source
        message = str(error)
        if not message.startswith(f"{source}:"):
            error.args = (f"{source}: {message}",)
    return error


@contextmanager
def in_source(source: str) -> Iterator[None]:
    """Every WanError raised inside names `source` first (`name_source`)."""
    try:
        yield
    except WanError as error:
        name_source(error, source)
        raise


class SettingsError(WanError):
    """A Deforum settings file or dict cannot be used as it is."""


class ScheduleError(WanError):
    """A Deforum schedule string cannot be evaluated.

    Carries the schedule's name, the offending piece, the reason and (where one is known) the
    frame separately so that the UI and API can point at the exact place.
    """

    def __init__(self, setting: str, piece: str, reason: str, frame: int | None = None) -> None:
        self.setting = setting
        self.piece = piece
        self.reason = reason
        self.frame = frame
        where = f"'{setting}'" if setting else "schedule"
        at = "" if frame is None else f" at frame {frame}"
        inside = (
            f" (in {excerpt(piece)}{at})" if piece.strip() else (f" ({at.strip()})" if at else "")
        )
        super().__init__(f"{where}: {reason}{inside}")


class PlanError(WanError):
    """The animation cannot be planned as clips with the chosen model or options."""


class ModelError(WanError):
    """A model folder, checkpoint or id cannot be used as it is."""


class RenderError(WanError):
    """A render cannot go on; the message says what was kept and what to do."""


class MemoryPlanError(WanError):
    """No memory plan runs the model as asked on this machine, or an override is not one."""


class CheckpointError(RenderError):
    """A saved clip cannot be used: missing, damaged or not what its record says."""


class OutOfMemory(RenderError):
    """A clip ran out of memory; carries the request so the runner can retry it leaner."""

    def __init__(self, request: Any, detail: str) -> None:
        self.request = request  # the render's ClipRequest
        self.detail = detail
        super().__init__(
            f"out of memory generating a {request.width}x{request.height}, "
            f"{request.num_frames}-frame {request.mode} clip ({detail}); a leaner memory plan "
            "(more offload, fp8, VAE tiling), a smaller size or fewer frames per clip needs less"
        )


class JobNotFound(WanError):
    """No job has this id (HTTP 404)."""


class JobStateError(WanError):
    """The job exists but cannot do this now: cancel a finished job, the video of a running
    one (HTTP 409)."""


class RequestError(WanError):
    """A request field a remote caller may not use as given; the message names the field."""


class DownloadError(WanError):
    """A URL the settings name (init image, soundtrack, Parseq manifest) cannot be downloaded
    or is not what it should be; the message names the URL and what to do instead."""


class MotionInputError(WanError):
    """A video whose camera motion cannot be measured: fewer than 2 frames, frames of two sizes."""


class Cancelled(Exception):
    """The user cancelled the render; finished clips are kept. Not a WanError: a cancel is
    reported as cancelled, never as bad input."""


class InternalError(RuntimeError):
    """An invariant of our own code failed: a bug, never the user's input."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message}: this is a bug, please report it with the log")


class OptionsError(WanError):
    """Render options that cannot be used as given."""


class LimitError(WanError):
    """A value past one of the limits of wan/limits.py, or such a limit set to a bad value."""
