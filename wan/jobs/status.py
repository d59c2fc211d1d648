"""Job statuses and phases (Deforum's API vocabulary) and how a render's progress maps onto them.

Pure: a ProgressEvent in, the job's phase and overall fraction out.
"""

from __future__ import annotations

from wan.host.base import (
    DECODING,
    DENOISING,
    DEPTH,
    GUIDE,
    GUIDE_ENCODING,
    LOADING,
    TEXT_ENCODING,
    WRITING,
    ProgressEvent,
)

ACCEPTED = "ACCEPTED"  # queued or running
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
INTERRUPTED = "INTERRUPTED"  # the process running it stopped; resumable
STATUSES = (ACCEPTED, SUCCEEDED, FAILED, CANCELLED, INTERRUPTED)

QUEUED = "QUEUED"
PREPARING = "PREPARING"
GENERATING = "GENERATING"
POST_PROCESSING = "POST_PROCESSING"
DONE = "DONE"
PHASES = (QUEUED, PREPARING, GENERATING, POST_PROCESSING, DONE)

RETRYABLE = (FAILED, CANCELLED, INTERRUPTED)
# A claimed job's step_phase while another render holds the GPU: "<this> (held by <whom>)".
WAITING_FOR_GPU = "waiting for the GPU"

_PHASE_OF_STEP = {
    LOADING: PREPARING,
    DEPTH: GENERATING,
    GUIDE: GENERATING,
    GUIDE_ENCODING: GENERATING,
    TEXT_ENCODING: GENERATING,
    DENOISING: GENERATING,
    DECODING: GENERATING,
    WRITING: POST_PROCESSING,
}


def phase_of(step_phase: str) -> str:
    """The job phase a renderer phase belongs to ('loading' is still preparing)."""
    return _PHASE_OF_STEP.get(step_phase, PREPARING)


def overall_progress(event: ProgressEvent, previous: float = 0.0) -> float:
    """The fraction 0..1 of the whole render done, counting finished clips (also resumed ones)."""
    if event.phase == WRITING:
        return 1.0
    if event.clip <= 0 or event.clips <= 0:
        return previous
    clip = min(event.clip, event.clips)
    if event.phase == DECODING:
        return clip / event.clips
    if event.phase == DENOISING and event.steps > 0:
        step = min(max(event.step, 0), event.steps)
        return ((clip - 1) * event.steps + step) / (event.clips * event.steps)
    return (clip - 1) / event.clips
