"""Bad bodies get 422 naming the field; unknown or malformed job ids 404; paths from a request
never reach the file system (ids, init images, models, LoRAs, prompt models)."""

from __future__ import annotations

import json

import pytest

from tests.api.server import SETTINGS, WAN, job_body

ROUTES = ("/wan/v1/jobs", "/wan/v1/plan")


def detail(response, status=422) -> str:
    assert response.status_code == status, response.text
    text = response.json()["detail"]
    assert isinstance(text, str)
    return text


def job_count(client) -> int:
    return len(client.get("/wan/v1/jobs").json()["jobs"])


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([SETTINGS], ["body", "JSON object", "a list"]),
        ("just text", ["body", "text"]),
        ({"wan": WAN}, ["deforum_settings", "required"]),
        ({"deforum_settings": []}, ["deforum_settings", "non-empty list"]),
        ({"deforum_settings": SETTINGS, "options_overrides": {}}, ["options_overrides"]),
        ({"deforum_settings": SETTINGS, "wan": [1]}, ["wan", "object"]),
        (job_body(steps=0), ["wan.steps", ">= 1"]),
        (job_body(steps=500), ["wan.steps", "past the limit of 200", "WAN_LIMIT_MAX_STEPS"]),
        (job_body(steps="many"), ["wan.steps"]),
        (job_body(stepz=3), ["stepz", "did you mean 'steps'"]),
        (job_body(memory={"offload": "disk"}), ["wan.memory.offload", "group_block"]),
        (job_body(size="64"), ["wan.size"]),
        (job_body({**SETTINGS, "max_frames": "lots"}), ["deforum_settings", "max_frames"]),
        (job_body({**SETTINGS, "animation_mode": "Video Input"}), ["animation_mode"]),
        (job_body([SETTINGS, {**SETTINGS, "fps": -1}]), ["deforum_settings[1]", "fps"]),
        (job_body([SETTINGS, 7]), ["deforum_settings[1]", "settings object"]),
        (job_body(model="no-such-model"), ["wan.model", "no-such-model"]),
        (job_body([SETTINGS], model="odd\x04name"), ["wan.model: ", "odd"]),  # quoted as repr
    ],
)
def test_bad_bodies_name_the_field(idle, route, body, words):
    before = job_count(idle)
    text = detail(idle.post(route, json=body))
    for word in words:
        assert word in text, text
    assert job_count(idle) == before  # a bad item queues nothing, not even the good ones


@pytest.mark.parametrize("route", [*ROUTES, "/wan/v1/enhance"])
def test_malformed_json_and_empty_bodies(idle, route):
    headers = {"content-type": "application/json"}
    assert "not valid JSON" in detail(idle.post(route, content=b"{nope", headers=headers))
    assert "empty" in detail(idle.post(route, content=b"", headers=headers))
    deep = b"[" * 100_000 + b"]" * 100_000
    assert "JSON" in detail(idle.post(route, content=deep, headers=headers))


@pytest.mark.parametrize(
    "job_id",
    [
        "..",
        "%2e%2e",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%2Fetc%2Fpasswd",
        "ABCDEF123456",
        "0123456789abc",
        "0123456789a",
        "0123456789ab%00",
    ],
)
@pytest.mark.parametrize("suffix", ["", "/video", "/retry", "/resume"])
def test_job_ids_are_checked_before_any_lookup(idle, job_id, suffix):
    method = "POST" if suffix in ("/retry", "/resume") else "GET"
    response = idle.request(method, f"/wan/v1/jobs/{job_id}{suffix}")
    assert response.status_code in (404, 405), response.text
    assert b"root:" not in response.content


def test_unknown_job_is_404(idle):
    for method, suffix in [("GET", ""), ("DELETE", ""), ("GET", "/video"), ("POST", "/retry")]:
        response = idle.request(method, f"/wan/v1/jobs/0123456789ab{suffix}")
        assert "0123456789ab" in detail(response, 404)
    assert "12 lowercase hex" in detail(idle.get("/wan/v1/jobs/not-a-job"), 404)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("body", "word"),
    [
        (job_body(init_image="/etc/passwd"), "init_image"),
        (job_body(init_image="../../etc/passwd"), "init_image"),
        (job_body(last_image="/etc/passwd"), "last_image"),
        (job_body({**SETTINGS, "use_init": True, "init_image": "/etc/passwd"}), "init_image"),
        (job_body(model="/etc"), "model"),
        (job_body(model="../../../etc"), "model"),
        (job_body(loras=[{"path": "../secret.safetensors"}]), "lora"),
        (job_body(loras=[{"path": "/abs/secret.safetensors"}]), "lora"),
        (job_body(enhance={"enabled": True, "model": "/etc"}), "model"),
    ],
)
def test_paths_from_a_request_are_refused(idle, route, body, word):
    before = job_count(idle)
    text = detail(idle.post(route, json=body))
    assert word in text.lower(), text
    assert job_count(idle) == before


def test_enhance_body_errors_name_the_field(idle):
    assert "prompt" in detail(idle.post("/wan/v1/enhance", json={"camera": "pans left"}))
    assert "lang" in detail(idle.post("/wan/v1/enhance", json={"prompt": "a", "lang": "fr"}))
    assert "style" in detail(idle.post("/wan/v1/enhance", json={"prompt": "a", "style": "x"}))
    assert "colour" in detail(idle.post("/wan/v1/enhance", json={"prompt": "a", "colour": 1}))
    assert "body" in detail(idle.post("/wan/v1/enhance", json=["a"]))
    text = detail(idle.post("/wan/v1/enhance", json={"prompt": "a", "model": "/etc"}))
    assert "model" in text


def test_query_parameters_are_checked(idle):
    assert "limit" in detail(idle.get("/wan/v1/jobs", params={"limit": 0}))


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("body", "words"),
    [
        (job_body({**SETTINGS, "prompts": {"0": "a \ud800 sea"}}), ["prompts.0", "Unicode"]),
        (job_body({**SETTINGS, "my_key": nested(400)}), ["my_key", "nested more than"]),
        (job_body(prompt_overrides={"0": "\udfff"}), ["prompt_overrides.0", "Unicode"]),
    ],
)
def test_one_bad_string_or_deep_list_never_breaks_the_queue_for_everyone(idle, route, body, words):
    """A lone surrogate or a list nested 400 deep was stored (POST answered 500) and then every
    GET /jobs answered 500, also after a restart."""
    before = job_count(idle)
    raw = json.dumps(body).encode()  # ASCII with \ud800 escapes: valid JSON, as a client sends it
    headers = {"content-type": "application/json"}
    text = detail(idle.post(route, content=raw, headers=headers))
    for word in words:
        assert word in text, text
    assert job_count(idle) == before and idle.get("/wan/v1/jobs").status_code == 200
