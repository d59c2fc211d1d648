"""The HTTP API under /wan/v1: models, plans, prompt enhancement and the render queue.

Mounted on the WebUI's app by the extension (`add_routes`, from `on_app_started`) and served
alone by `python -m wan serve` (`create_app`). Jobs go through the one `JobQueue` the tab and
the CLI use. Bodies follow Deforum's API (`{"deforum_settings": {...} | [...]}`) plus `wan`,
the RenderOptions. Auth, the body size limit and the error statuses live in `wan.api.guard`;
the checks of request bodies in `wan.api.requests`; what the OpenAPI schema says about each route
(statuses, bodies, links) in `wan.api.docs`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext, suppress
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import FileResponse
from fastapi.security import HTTPBasic
from starlette.requests import Request

from wan import __version__
from wan.api.docs import (
    JOB_ID_PARAMETER,
    PLAN_ANSWER,
    VIDEO_ANSWER,
    WanHealth,
    WanJob,
    WanJobList,
    WanJobsAccepted,
    WanLimits,
    answer,
    enhance_body_doc,
    job_body_doc,
    job_links,
    responses,
)
from wan.api.guard import DEFAULT_MAX_BODY_BYTES, guarded_route_class, parse_api_auth
from wan.api.requests import (
    EnhanceBody,
    JobItem,
    checked_inputs,
    enhance_body,
    job_items,
    naming_item,
    naming_models,
    parse_json,
    request_options,
)
from wan.api.url_inputs import with_url_inputs
from wan.errors import WanError
from wan.host.base import Host
from wan.jobs import JobNotFound, JobQueue
from wan.limits import current_limits
from wan.options.render_options import RenderOptions, options_to_dict
from wan.planning.plan_service import plan_for, plan_request

__all__ = ["add_routes", "create_app", "parse_api_auth"]


PREFIX = "/wan/v1"
JOB_ID = re.compile(r"[0-9a-f]{12}")
RULES = "rules"


async def json_body(request: Request) -> Any:
    """The body as JSON, read through the guard's size limit."""
    return parse_json(await request.body())


_JSON_BODY = Depends(json_body)


def add_routes(
    app: FastAPI,
    queue: JobQueue,
    host: Host,
    auth: Mapping[str, str] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    allow_url_inputs: bool = False,
) -> None:
    """Add the /wan/v1 routes to `app`; its other routes are left as they are.
    `allow_url_inputs`: the server downloads URLs requests name (`wan.api.url_inputs`: off by
    default, why)."""
    openapi_version = getattr(app, "openapi_version", "3.1.0")
    router = _router(queue, host, auth, max_body_bytes, openapi_version, allow_url_inputs)
    app.include_router(router)


def create_app(
    queue: JobQueue,
    host: Host,
    auth: Mapping[str, str] | None = None,
    allow_url_inputs: bool = False,
) -> FastAPI:
    """The API on its own app (`python -m wan serve`); docs at /docs."""
    app = FastAPI(
        title="Wan video for Deforum",
        version=__version__,
        description="Render Deforum animations with the Wan video models; routes under /wan/v1.",
    )
    add_routes(app, queue, host, auth, allow_url_inputs=allow_url_inputs)
    return app


def _router(
    queue: JobQueue,
    host: Host,
    auth: Mapping[str, str] | None,
    max_body_bytes: int,
    openapi_version: str,
    allow_url_inputs: bool = False,
) -> APIRouter:
    # The guard checks credentials before anything else; HTTPBasic only shows them in the docs.
    docs_auth = [Depends(HTTPBasic(auto_error=False))] if auth else []
    router = APIRouter(
        prefix=PREFIX,
        tags=["wan"],
        route_class=guarded_route_class(auth, max_body_bytes),
        dependencies=docs_auth,
    )

    def documented(*statuses: int, ok: dict | None = None) -> dict:
        return responses(*statuses, auth=bool(auth), ok=ok)

    job_body = job_body_doc(openapi_version)
    by_id = job_links("$response.body#/id")

    @router.get(
        "/health",
        operation_id="wan_health",
        response_model=None,
        responses=documented(ok={200: answer(WanHealth, "the API answers")}),
    )
    def health() -> dict:
        """The API answers: its version and host."""
        return {"status": "ok", "version": __version__, "host": host.name}

    @router.get(
        "/options", operation_id="wan_options", response_model=RenderOptions, responses=documented()
    )
    def options() -> dict:
        """The render options a job gets when its `wan` object leaves them out."""
        return options_to_dict(request_options({}, host.option_defaults()))

    @router.get(
        "/limits", operation_id="wan_limits", response_model=WanLimits, responses=documented()
    )
    def limits() -> dict:
        """How much work one request may ask for (frames, size, steps, image bytes, ...)."""
        return current_limits().to_dict()

    @router.get(
        "/models",
        operation_id="wan_models",
        response_model=None,
        responses=documented(ok={200: answer(None, "catalog, installed and smoke models")}),
    )
    def models() -> dict:
        """Catalog models, installed or not, with what each takes and how it fits here."""
        return _models_payload(host)

    @router.post(
        "/plan",
        operation_id="wan_plan",
        openapi_extra=job_body,
        response_model=None,
        responses=documented(413, 422, ok={200: PLAN_ANSWER}),
    )
    def plan(body: Any = _JSON_BODY) -> Any:
        """The clip plan of each settings object (a list body answers a list)."""
        config = host.store_config()
        plans = []
        items = with_url_inputs(job_items(body), allow_url_inputs)
        for item, settings, options in checked_inputs(items, config, host.option_defaults()):
            enhancer = options.enhance.model if options.enhance.enabled else RULES
            with naming_item(item), naming_models(options), _enhancer_lock(host, enhancer):
                plans.append(plan_request(settings, options, config)[1])
        return plans if isinstance(body["deforum_settings"], list) else plans[0]

    @router.post(
        "/enhance",
        operation_id="wan_enhance",
        openapi_extra=enhance_body_doc(EnhanceBody),
        response_model=None,
        responses=documented(413, 422, ok={200: answer(None, "the enhanced prompt")}),
    )
    def enhance(body: Any = _JSON_BODY) -> dict:
        """One prompt rewritten for Wan with its camera phrase (rules or a prompt model)."""
        from wan.prompting.enhance import enhance_prompts
        from wan.prompting.request import EnhanceRequest

        config = host.store_config()
        given = enhance_body(body, config)
        request = EnhanceRequest(given.prompt, given.camera, given.lang, given.style)
        with _enhancer_lock(host, given.model):
            (result,) = enhance_prompts([request], model=given.model, store_config=config)
        return {"request": request.to_dict(), **result.to_dict()}

    accepted = answer(WanJobsAccepted, "queued", links=job_links("$response.body#/job_ids/0"))

    @router.post(
        "/jobs",
        status_code=202,
        operation_id="wan_submit",
        openapi_extra=job_body,
        response_model=None,
        responses=documented(413, 422, ok={202: accepted}),
    )
    def submit(body: Any = _JSON_BODY) -> dict:
        """Queue one render per settings object; poll GET /jobs/{id}."""
        items = with_url_inputs(job_items(body), allow_url_inputs)
        checked = checked_inputs(items, host.store_config(), host.option_defaults())
        for item, settings, options in checked:  # every item is checked before one is queued
            with naming_item(item), naming_models(options):
                plan_for(settings, options)
        jobs = _submit_all(queue, items)
        return {
            "message": "Job(s) accepted",
            "job_ids": [job.id for job in jobs],
            "jobs": [job.to_dict() for job in jobs],
        }

    @router.get(
        "/jobs",
        operation_id="wan_list_jobs",
        response_model=None,
        responses=documented(422, ok={200: answer(WanJobList, "jobs, newest first")}),
    )
    def list_jobs(limit: int = Query(200, ge=1, le=1000)) -> dict:
        """Jobs, newest first."""
        return {"jobs": [job.to_dict() for job in queue.list(limit)]}

    @router.get(
        "/jobs/{job_id}",
        openapi_extra=JOB_ID_PARAMETER,
        operation_id="wan_get_job",
        response_model=None,
        responses=documented(404, ok={200: answer(WanJob, "the job", links=by_id)}),
    )
    def get_job(request: Request) -> dict:
        """Status, phase, progress, outputs and error of a job."""
        return queue.get(_job_id(request)).to_dict()

    @router.delete(
        "/jobs/{job_id}",
        openapi_extra=JOB_ID_PARAMETER,
        operation_id="wan_cancel_job",
        response_model=None,
        responses=documented(404, 409, ok={200: answer(WanJob, "cancelled", links=by_id)}),
    )
    def cancel_job(request: Request) -> dict:
        """Cancel: a queued job at once, a running one when the renderer next checks."""
        return queue.cancel(_job_id(request)).to_dict()

    @router.post(
        "/jobs/{job_id}/retry",
        openapi_extra=JOB_ID_PARAMETER,
        status_code=202,
        operation_id="wan_retry_job",
        response_model=None,
        responses=documented(404, 409, ok={202: answer(WanJob, "queued again", links=by_id)}),
    )
    def retry_job(request: Request) -> dict:
        """Queue a failed, cancelled or interrupted job again, in a new run folder."""
        return queue.retry(_job_id(request)).to_dict()

    @router.post(
        "/jobs/{job_id}/resume",
        openapi_extra=JOB_ID_PARAMETER,
        status_code=202,
        operation_id="wan_resume_job",
        response_model=None,
        responses=documented(404, 409, ok={202: answer(WanJob, "queued again", links=by_id)}),
    )
    def resume_job(request: Request) -> dict:
        """Queue a stopped job again; it continues its run folder (finished clips kept)."""
        return queue.resume(_job_id(request)).to_dict()

    @router.get(
        "/jobs/{job_id}/video",
        openapi_extra=JOB_ID_PARAMETER,
        operation_id="wan_job_video",
        response_class=FileResponse,
        responses=documented(404, 409, ok={200: VIDEO_ANSWER}),
    )
    def job_video(request: Request) -> FileResponse:
        """The finished video (409 until the job SUCCEEDED)."""
        checked = _job_id(request)
        return FileResponse(
            queue.video_path(checked), media_type="video/mp4", filename=f"wan-{checked}.mp4"
        )

    return router


def _job_id(request: Request) -> str:
    """Ids are 12 lowercase hex characters; anything else is refused before any lookup (404:
    read here, not as a FastAPI parameter, whose check would answer 422)."""
    job_id = str(request.path_params["job_id"])
    if not JOB_ID.fullmatch(job_id):
        raise JobNotFound(f"no job {job_id[:40]!r}: job ids are 12 lowercase hex characters")
    return job_id


def _submit_all(queue: JobQueue, items: tuple[JobItem, ...]) -> list:
    """Submit each item; if one still fails, the ones queued before it are cancelled."""
    jobs = []
    for item in items:
        try:
            with naming_item(item):
                jobs.append(queue.submit(dict(item.settings), dict(item.options), source="api"))
        except WanError:
            for job in jobs:
                with suppress(WanError):  # it may have finished meanwhile
                    queue.cancel(job.id)
            raise
    return jobs


def _enhancer_lock(host: Host, model: str) -> AbstractContextManager:
    """A prompt model may load on the GPU: never beside a render."""
    return nullcontext() if model.strip().lower() == RULES else host.gpu_lock()


def _models_payload(host: Host) -> dict:
    from wan.models.catalog import wan_entries
    from wan.models.report import model_row, models_payload
    from wan.models.system import probe_system

    system = probe_system()
    payload = models_payload(host.store_config(), system)
    payload["smoke_models"] = [model_row(e, system) for e in wan_entries() if e.smoke]
    return payload
