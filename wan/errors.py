"""Errors a user can act on.

Every problem caused by input (a settings file, a schedule, a model folder, a request) is raised
as a `WanError` subclass whose message names what is wrong, where, and how to fix it. Anything
else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class WanError(Exception):
    """Base class of every error caused by user input."""


class SettingsError(WanError):
    """A Deforum settings file or dict cannot be used as it is."""


class ScheduleError(WanError):
    """A Deforum schedule string cannot be evaluated.

    Carries the schedule's name, the offending piece and the reason separately so that the UI
    and API can point at the exact place.
    """

    def __init__(self, setting: str, piece: str, reason: str) -> None:
        self.setting = setting
        self.piece = piece
        self.reason = reason
        where = f"'{setting}'" if setting else "schedule"
        super().__init__(f"{where}: {reason}" + (f" (in {piece!r})" if piece.strip() else ""))


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
