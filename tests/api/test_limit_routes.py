"""Issue 12, items 2 and 9 through a real server: work past a limit is a 422 naming the setting
and the limit, answered at once, with nothing queued (it was computed until memory ran out)."""

from __future__ import annotations

import time

import pytest

from tests.api.server import SETTINGS, job_body

ROUTES = ("/wan/v1/jobs", "/wan/v1/plan")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("body", "words"),
    [
        (job_body({**SETTINGS, "max_frames": 10**9}), ["max_frames", "past the limit of 20000"]),
        (job_body({**SETTINGS, "fps": 1e-9}), ["model's video", "past the limit of 20000"]),
        (job_body({**SETTINGS, "fps": 1e300}), ["'fps' is 1e+300", "WAN_LIMIT_MAX_FPS"]),
        (job_body(size="100000x100000"), ["wan.size 100000x100000", "WAN_LIMIT_MAX_SIDE"]),
        (job_body(prompt_overrides={"99999999999999999999": "a fox"}), ["not a clip of this"]),
        (job_body({**SETTINGS, "translation_x": 1e308}), ["translation_x", "moves too far"]),
    ],
)
def test_work_past_a_limit_is_refused_at_once(idle, route, body, words):
    before = len(idle.get("/wan/v1/jobs").json()["jobs"])
    started = time.monotonic()
    answer = idle.post(route, json=body)
    assert time.monotonic() - started < 10
    assert answer.status_code == 422, answer.text
    assert all(word in answer.text for word in words), answer.text
    assert len(idle.get("/wan/v1/jobs").json()["jobs"]) == before
