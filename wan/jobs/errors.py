"""What the queue refuses: an unknown job, a job in the wrong state, an unsafe request.

The API maps them to 404, 409 and 422; the CLI prints them on one line and exits 2.
"""

from __future__ import annotations

from wan.errors import WanError


class JobNotFound(WanError):
    """No job has this id."""


class JobStateError(WanError):
    """The job exists but cannot do this now (cancel a finished job, video of a running one)."""


class RequestError(WanError):
    """A request field a remote caller may not use as given; the message names the field."""
