"""What the OpenAPI schema says about the /wan/v1 routes: each route's statuses (errors with the
guard's `WanErrorBody`), the answers' models, the request bodies and the links between the job
routes.

The routes read their bodies themselves (`wan.api.requests`, so every error names its field the
same way), which leaves FastAPI nothing to document them from; the schemas here are built from
the same models that validate (RenderOptions, EnhanceBody, Limits) and say what the checks
there refuse that a schema cannot (a model that does not exist, settings Deforum cannot
render). The answer models only document: the routes return plain dicts, so a key added to a
job later reaches clients even before it is described here.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from wan.api.guard import WanErrorBody
from wan.api.requests import MAX_JOBS_PER_REQUEST
from wan.jobs.status import PHASES, STATUSES
from wan.limits import HELP, Limits
from wan.options.checks import model_schema

REF = "#/components/schemas/"
# A data URL, the one way a request may carry an image (`wan.api.requests` checks the rest).
DATA_URL_PATTERN = r"^\s*[Dd][Aa][Tt][Aa]:"
# The forms wan.render.sizes and the clip prompt keys take (a size past the model's or the
# limits' is still a 422).
SIZE_PATTERN = r"^\s*[0-9]+\s*[xX×*]\s*[0-9]+\s*$"
CLIP_INDEX_PATTERN = r"^\s*[0-9]+\s*$"

Status = Literal[STATUSES]  # type: ignore[valid-type]
Phase = Literal[PHASES]  # type: ignore[valid-type]


class WanHealth(BaseModel):
    """The API answers."""

    status: Literal["ok"]
    version: str
    host: str = Field(..., description="the host the API runs in: standalone, a1111, forge")


class WanJob(BaseModel):
    """A job as GET /jobs/{id} shows it (`wan.jobs.record.Job`)."""

    id: str = Field(..., description="12 lowercase hex characters")
    status: Status
    phase: Phase
    step_phase: str = Field(..., description="the renderer's own phase, or empty")
    phase_progress: float = Field(..., ge=0, le=1, description="the whole render's fraction")
    clip: int
    clips: int
    step: int
    steps: int
    name: str
    source: str = Field(..., description="who queued it: api, ui or cli")
    settings: dict = Field(..., description="the Deforum settings, images saved as files")
    options: dict = Field(..., description="the render options, host defaults filled in")
    created: float
    started: float | None
    finished: float | None
    run_dir: str | None
    video: str | None
    error: str | None
    warnings: list[str]
    attempts: int
    resume: bool
    cancel_requested: bool


class WanJobList(BaseModel):
    """Jobs, newest first."""

    jobs: list[WanJob]


class WanJobsAccepted(BaseModel):
    """The jobs one POST /jobs queued, in the order of its settings."""

    message: str
    job_ids: list[str]
    jobs: list[WanJob]


class _LimitsDoc(BaseModel):
    """How much work one request may ask for; each is set by a WAN_LIMIT_<NAME> variable."""


WanLimits = create_model(  # the fields of wan.limits.Limits, whatever they become
    "WanLimits",
    __base__=_LimitsDoc,
    **{
        f.name: (int if f.type in (int, "int") else float, Field(..., description=HELP[f.name]))
        for f in fields(Limits)
    },
)

_ERRORS = {
    401: "no or wrong credentials (HTTP Basic; only when the API was started with --api-auth)",
    404: "no such job (job ids are 12 lowercase hex characters)",
    409: "the job is in the wrong state for this (e.g. its video before it SUCCEEDED)",
    413: "the body is larger than the API takes",
    422: "bad input: the detail names the field (e.g. 'wan.steps: ...', 'deforum_settings[1]')",
}
_CHALLENGE = {
    "WWW-Authenticate": {
        "description": "the HTTP Basic challenge",
        "schema": {"type": "string"},
    }
}


def responses(*statuses: int, auth: bool, ok: dict[int, Any] | None = None) -> dict[int, Any]:
    """FastAPI `responses=` for a route: its success answer `ok` and its errors, each with the
    error body (401 first when the API asks for credentials)."""
    out = dict(ok or {})
    for status in ((401,) if auth else ()) + statuses:
        out[status] = {"model": WanErrorBody, "description": _ERRORS[status]}
    if auth:
        out[401]["headers"] = _CHALLENGE
    return out


def answer(model: type[BaseModel] | None, description: str, **extra: Any) -> dict[str, Any]:
    """A success answer documented by `model` (or by `extra`'s own content)."""
    return {**({"model": model} if model is not None else {}), "description": description, **extra}


def job_links(id_expression: str) -> dict[str, Any]:
    """What a client does next with a job an answer names (schemathesis follows these)."""
    parameters = {"job_id": id_expression}
    return {
        name: {"operationId": operation, "parameters": parameters}
        for name, operation in (
            ("GetJob", "wan_get_job"),
            ("CancelJob", "wan_cancel_job"),
            ("RetryJob", "wan_retry_job"),
            ("ResumeJob", "wan_resume_job"),
            ("JobVideo", "wan_job_video"),
        )
    }


def nullable(schema: dict[str, Any], openapi_version: str) -> dict[str, Any]:
    """`schema` or null, in the dialect of the app's OpenAPI version (3.0 has no null type)."""
    if openapi_version.startswith("3.0"):
        return {"allOf": [schema], "nullable": True}
    return {"anyOf": [schema, {"type": "null"}]}


def job_body_doc(openapi_version: str) -> dict[str, Any]:
    """`openapi_extra` of POST /jobs and /plan: Deforum's API body plus `wan`."""
    settings = {
        "description": (
            "Deforum settings: the JSON of a settings .txt file, or a list of them (one job "
            "each). Settings Deforum cannot animate are refused with 422 naming the key, and so "
            "is an init_image that is not a base64 data URL."
        ),
        "oneOf": [
            {"type": "object"},
            {
                "type": "array",
                "items": {"type": "object"},
                "minItems": 1,
                "maxItems": MAX_JOBS_PER_REQUEST,
            },
        ],
    }
    options = {
        "allOf": [
            {"$ref": REF + "RenderOptions"},
            {
                "type": "object",
                "properties": {
                    "init_image": nullable(
                        {
                            "type": "string",
                            "pattern": DATA_URL_PATTERN,
                            "description": "a base64 data URL; requests never name files",
                        },
                        openapi_version,
                    ),
                    "size": nullable({"type": "string", "pattern": SIZE_PATTERN}, openapi_version),
                    "prompt_overrides": {
                        "type": "object",
                        "propertyNames": {"pattern": CLIP_INDEX_PATTERN},
                    },
                },
            },
        ],
        "description": (
            "render options (null or left out: the defaults). A model must be a smoke or "
            "catalog id or a folder inside the models folder; any other is refused with 422."
        ),
    }
    schema = {
        "type": "object",
        "required": ["deforum_settings"],
        "additionalProperties": False,
        "properties": {"deforum_settings": settings, "wan": nullable(options, openapi_version)},
    }
    return _json_request(schema)


def enhance_body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` of POST /enhance: the body model's schema inline (it nests no model)."""
    schema = model_schema(model)
    schema["description"] = (
        f"{schema.get('description', '')} A prompt model that is not installed is refused with 422."
    ).strip()
    return _json_request(schema)


def _json_request(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


PLAN_ANSWER = answer(
    None,
    "the plan of the settings (a list of plans for a list of settings)",
    content={
        "application/json": {
            "schema": {
                "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]
            }
        }
    },
)
VIDEO_ANSWER = answer(
    None,
    "the finished video",
    content={"video/mp4": {"schema": {"type": "string", "format": "binary"}}},
)
# The job routes read the id themselves (a malformed one is a 404, not FastAPI's 422).
JOB_ID_PARAMETER = {
    "parameters": [
        {
            "name": "job_id",
            "in": "path",
            "required": True,
            "description": "the job's id: 12 lowercase hex characters (any other: 404)",
            "schema": {"type": "string", "pattern": "^[0-9a-f]{12}$"},
        }
    ]
}
