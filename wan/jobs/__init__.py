"""The persistent job queue shared by the WAN tab, the HTTP API and the CLI (one GPU worker)."""

from wan.errors import JobNotFound, JobStateError, RequestError
from wan.jobs.queue import JobQueue
from wan.jobs.record import Job
from wan.jobs.requests import check_request
from wan.jobs.status import PHASES, STATUSES

__all__ = [
    "PHASES",
    "STATUSES",
    "Job",
    "JobNotFound",
    "JobQueue",
    "JobStateError",
    "RequestError",
    "check_request",
]
