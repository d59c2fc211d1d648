"""Schemathesis against a real `python -m wan serve`, without and with --api-auth: every route,
the stateful links from POST /jobs included, few examples (the full run is
fuzz/api_schemathesis.py). No answer may be a server error or differ from the OpenAPI schema
(status code, content type, body, headers); with --api-auth every route must ask for them.

Skipped where schemathesis is not installed: the AUTOMATIC1111 environment (pydantic 1) has no
version of it that fits, so it runs in the main test environment only.
"""

from __future__ import annotations

import pytest

from fuzz.api_schemathesis import AUTH, MISMATCHES, fuzz

pytest.importorskip("schemathesis")

MAX_EXAMPLES = 3  # per operation and phase: the whole test takes well under a minute


@pytest.mark.parametrize("auth", [None, AUTH], ids=["no-auth", "api-auth"])
def test_the_api_does_what_its_schema_says(tmp_path, auth):
    result, figures = fuzz(tmp_path, auth, MAX_EXAMPLES, seed=12, limit=240)
    summary = "\n".join(figures.lines())
    report = summary + "\n" + result.output[-20000:]
    assert not result.stopped and figures.requests > 100, report
    assert figures.server_errors == 0 and figures.mismatches == 0, report
    assert all(figures.passed[name] for name in MISMATCHES), report
    assert result.returncode == 0, report
