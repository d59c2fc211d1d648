"""What stands in front of every /wan/v1 route: HTTP Basic auth, the body size limit, and the
mapping of errors to status codes.

It is a route class, not app middleware or exception handlers, because the routes are also
added to the WebUI's own app after it started: middleware can no longer be added then, the
host's exception handlers reshape errors (AUTOMATIC1111 drops the WWW-Authenticate header),
and its other routes must stay exactly as they were. Answers are plain JSON responses built
here, `WanErrorBody` (`{"detail": "..."}`), whatever handlers the host installed; FastAPI's own
parameter checks (RequestValidationError) answer the same body, worded like ours.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive

from wan.errors import JobNotFound, JobStateError, WanError

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


class WanErrorBody(BaseModel):
    """Every error answer of the API, whatever its status (the OpenAPI schema shows this)."""

    detail: str = Field(
        ..., description="what is wrong, naming the field or the job, e.g. 'wan.steps: ...'"
    )


class BodyTooLarge(Exception):
    """The request body passed the size limit while it was being read."""


def parse_api_auth(value: str | None) -> dict[str, str] | None:
    """AUTOMATIC1111's --api-auth value "user:pass,user2:pass2" as {user: password}."""
    if value is None or not value.strip():
        return None
    credentials: dict[str, str] = {}
    for pair in value.split(","):
        user, colon, password = pair.strip().partition(":")
        if not colon or not user or not password:
            raise WanError(
                f"--api-auth: {pair.strip()!r} is not a user:password pair; give "
                "user:password, several separated by commas (user1:pass1,user2:pass2)"
            )
        credentials[user] = password
    return credentials


def credentials_match(header: str | None, auth: Mapping[str, str]) -> bool:
    """An `Authorization: Basic ...` header naming one of the users with its password."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, colon, password = (
            base64.b64decode(token.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return False
    if not colon:
        return False
    # Compare against every user so the time taken does not tell which user names exist.
    found = False
    for known_user, known_password in auth.items():
        same_user = secrets.compare_digest(user.encode(), known_user.encode())
        same_password = secrets.compare_digest(password.encode(), known_password.encode())
        found |= same_user and same_password
    return found


def error_status(exc: BaseException) -> int:
    """JobNotFound 404, JobStateError 409, any other input error 422."""
    if isinstance(exc, JobNotFound):
        return 404
    if isinstance(exc, JobStateError):
        return 409
    return 422


def problem(status: int, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    body = WanErrorBody(detail=detail)
    return JSONResponse({"detail": body.detail}, status_code=status, headers=dict(headers or {}))


def validation_detail(exc: RequestValidationError) -> str:
    """FastAPI's own checks (path and query parameters) worded like ours: `where: what`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("path", "query"))
        parts.append(f"{where or 'request'}: {error.get('msg', 'invalid value')}")
    return "; ".join(parts) or "invalid request"


def limited_receive(receive: Receive, limit: int) -> Receive:
    """`receive` that raises BodyTooLarge once the body read so far passes `limit` bytes
    (a chunked upload has no Content-Length to refuse up front)."""
    seen = 0

    async def guarded() -> Message:
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
        return message

    return guarded


def too_large(limit: int) -> Response:
    return problem(
        413, f"request body larger than {limit} bytes; send smaller images or fewer jobs at once"
    )


def declared_length(request: Request) -> int | None:
    text = request.headers.get("content-length")
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


Handler = Callable[[Request], Awaitable[Response]]


def guarded_route_class(
    auth: Mapping[str, str] | None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> type[APIRoute]:
    """An APIRoute class whose routes check credentials first, then the body size, and answer
    WanErrors with their status and message."""
    credentials = dict(auth or {})

    class GuardedRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                if credentials and not credentials_match(
                    request.headers.get("authorization"), credentials
                ):
                    return problem(
                        401,
                        "give the API's user name and password (HTTP Basic, as set by --api-auth)",
                        {"WWW-Authenticate": 'Basic realm="wan"'},
                    )
                length = declared_length(request)
                if length is not None and length > max_body_bytes:
                    return too_large(max_body_bytes)
                limited = Request(request.scope, limited_receive(request.receive, max_body_bytes))
                return await answer(handler, limited, max_body_bytes)

            return guarded

    return GuardedRoute


async def answer(handler: Handler, request: Request, max_body_bytes: int) -> Response:
    try:
        return await handler(request)
    except BodyTooLarge:
        return too_large(max_body_bytes)
    except RequestValidationError as exc:
        return problem(422, validation_detail(exc))
    except WanError as exc:
        status = error_status(exc)
        log.info("%s %s -> %d: %s", request.method, request.url.path, status, exc)
        return problem(status, str(exc))
    except Exception:  # a bug: its traceback goes to the log, the caller learns only that much
        log.exception("%s %s -> 500: this is a bug", request.method, request.url.path)
        return problem(500, "internal error: this is a bug; the server's log has the details")
