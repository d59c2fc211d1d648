"""Plans, prompt enhancement, models, options and the OpenAPI docs."""

from __future__ import annotations

from tests.api.server import SETTINGS, job_body
from wan.limits import current_limits


def test_plan_returns_clips_with_motion(idle):
    before = len(idle.get("/wan/v1/jobs").json()["jobs"])
    response = idle.post("/wan/v1/plan", json=job_body({**SETTINGS, "max_frames": 40}))
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["model"] == "tiny-t2v" and plan["smoke"] is True
    assert plan["frames"] == 40 and len(plan["clips"]) >= 2
    motion = plan["clips"][0]["motion"]
    assert "pan" in motion["phrase"] and motion["axes"]["zoom"]["direction"] == "in"
    assert "enhanced_prompt" not in plan["clips"][0]
    assert len(idle.get("/wan/v1/jobs").json()["jobs"]) == before  # planning queues nothing


def test_wan_null_is_the_defaults_as_the_schema_says(idle):
    response = idle.post("/wan/v1/plan", json={"deforum_settings": SETTINGS, "wan": None})
    assert response.status_code == 200, response.text
    assert response.json()["frames"] == SETTINGS["max_frames"]


def test_plan_of_a_list_with_enhanced_prompts_and_overrides(idle):
    body = job_body(
        [SETTINGS, {**SETTINGS, "prompts": {"0": "a blue boat"}}],
        enhance={"enabled": True, "style": "cinematic"},
        prompt_overrides={"0": "my own words"},
    )
    response = idle.post("/wan/v1/plan", json=body)
    assert response.status_code == 200, response.text
    first, second = response.json()
    assert first["clips"][0]["prompt_override"] == "my own words"
    assert "blue boat" in second["clips"][0]["prompt"]


def test_plan_with_enhancement_has_enhanced_prompts(idle):
    body = job_body(enhance={"enabled": True, "lang": "en", "style": "cinematic"})
    clip = idle.post("/wan/v1/plan", json=body).json()["clips"][0]
    assert clip["enhance_source"] == "rules" and "lighthouse" in clip["enhanced_prompt"]


def test_enhance_with_rules(idle):
    body = {"prompt": "a (red:1.2) fox", "camera": "the camera pans left"}
    response = idle.post("/wan/v1/enhance", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["source"] == "rules" and "fox" in data["text"]
    assert "camera pans left" in data["text"].lower()
    assert data["request"]["motion"] == "the camera pans left"
    chinese = idle.post("/wan/v1/enhance", json={"prompt": "a fox", "lang": "zh"}).json()
    assert chinese["request"]["lang"] == "zh"


def test_models_lists_catalog_and_smoke_models(idle):
    data = idle.get("/wan/v1/models").json()
    assert "tiny-t2v" in data["smoke"]
    smoke = {row["id"]: row for row in data["smoke_models"]}
    assert smoke["tiny-i2v"]["inputs"] == ["text", "image"] and smoke["tiny-i2v"]["smoke"]
    assert smoke["tiny-t2v"]["sizes"] == [[64, 64]] and smoke["tiny-t2v"]["native_fps"] == 16
    catalog = {row["id"]: row for row in data["catalog"]}
    assert catalog["Wan2.1-T2V-1.3B"]["task"] == "t2v"
    assert catalog["Wan2.1-T2V-1.3B"]["installed"] == []
    assert catalog["Wan2.1-T2V-1.3B"]["fit"]["device"]


def test_options_and_health(idle):
    options = idle.get("/wan/v1/options").json()
    assert options["steps"] is None and options["enhance"]["model"] == "rules"
    health = idle.get("/wan/v1/health").json()
    assert health["status"] == "ok" and health["host"] == "standalone"


def test_limits_are_the_ones_in_force(idle, monkeypatch):
    assert idle.get("/wan/v1/limits").json() == current_limits().to_dict()
    monkeypatch.setenv("WAN_LIMIT_MAX_STEPS", "7")  # read per request: the server shares os.environ
    assert idle.get("/wan/v1/limits").json()["max_steps"] == 7


def test_openapi_shows_the_render_options(idle):
    spec = idle.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "steps" in schemas["RenderOptions"]["properties"]
    jobs = spec["paths"]["/wan/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]
    wan = jobs["schema"]["properties"]["wan"]
    # "wan": null is accepted, and the schema says so (OpenAPI 3.0 has no null type)
    options = wan["allOf"][0] if wan.get("nullable") else wan["anyOf"][0]
    assert wan.get("nullable") or {"type": "null"} in wan["anyOf"]
    assert options["allOf"][0]["$ref"] == "#/components/schemas/RenderOptions"
    enhance = spec["paths"]["/wan/v1/enhance"]["post"]["requestBody"]["content"]
    assert "camera" in enhance["application/json"]["schema"]["properties"]
    assert {"/wan/v1/models", "/wan/v1/jobs/{job_id}/video", "/wan/v1/limits"} <= set(spec["paths"])
    assert idle.get("/docs").status_code == 200


def test_openapi_documents_every_error_with_one_body(idle):
    spec = idle.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["WanErrorBody"]["properties"]["detail"]["type"] == "string"
    expected = {
        ("post", "/wan/v1/jobs"): {"202", "413", "422"},
        ("post", "/wan/v1/plan"): {"200", "413", "422"},
        ("get", "/wan/v1/jobs"): {"200", "422"},
        ("get", "/wan/v1/jobs/{job_id}"): {"200", "404"},
        ("delete", "/wan/v1/jobs/{job_id}"): {"200", "404", "409"},
        ("post", "/wan/v1/jobs/{job_id}/retry"): {"202", "404", "409"},
        ("get", "/wan/v1/jobs/{job_id}/video"): {"200", "404", "409"},
        ("get", "/wan/v1/health"): {"200"},
    }
    for (method, path), statuses in expected.items():
        answers = spec["paths"][path][method]["responses"]
        assert set(answers) == statuses, (method, path, set(answers))
        for status in statuses - {"200", "202"}:
            schema = answers[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/WanErrorBody"}
    links = spec["paths"]["/wan/v1/jobs"]["post"]["responses"]["202"]["links"]
    assert links["GetJob"] == {
        "operationId": "wan_get_job",
        "parameters": {"job_id": "$response.body#/job_ids/0"},
    }


def test_fastapi_s_own_checks_answer_our_error_body(idle):
    response = idle.get("/wan/v1/jobs", params={"limit": "many"})
    assert response.status_code == 422 and response.json() == {"detail": response.json()["detail"]}
    assert response.json()["detail"].startswith("limit: ")
