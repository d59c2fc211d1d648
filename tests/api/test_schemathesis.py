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
    result, figures = fuzz(tmp_path, auth, MAX_EXAMPLES, seed=12, timeout=300)
    summary = "\n".join(figures.lines())
    assert figures.requests > 100, summary + result.stdout[-5000:] + result.stderr[-5000:]
    assert figures.server_errors == 0, summary + result.stdout[-20000:]
    assert figures.mismatches == 0, summary + result.stdout[-20000:]
    assert all(figures.passed[name] for name in MISMATCHES), summary
    assert result.returncode == 0, summary + result.stdout[-20000:] + result.stderr[-5000:]
