"""Errors a user can act on.

Every problem caused by input (a settings file, a schedule, a model folder, a request) is raised
as a `WanError` subclass whose message names what is wrong, where, and how to fix it. Anything
else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

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


class Cancelled(WanError):
    """The user cancelled the render; finished clips are kept."""


class OptionsError(WanError):
    """Render options that cannot be used as given."""


class LimitError(WanError):
    """A value past one of the limits of wan/limits.py, or such a limit set to a bad value."""
