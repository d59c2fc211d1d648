"""Auth and the body size limit on the routes added to a host's app, whose own routes stay open
and unlimited, as AUTOMATIC1111's and Forge's apps are."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request

from tests.api.server import job_body, serving
from wan.api.guard import credentials_match
from wan.api.routes import add_routes, parse_api_auth
from wan.errors import WanError
from wan.host.standalone import StandaloneHost
from wan.jobs import JobQueue

LIMIT = 16 * 1024
AUTH = ("alice", "s3cret:with colon")


def test_parse_api_auth():
    assert parse_api_auth(None) is None and parse_api_auth(" ") is None
    assert parse_api_auth("a:b, c:d:e") == {"a": "b", "c": "d:e"}
    for bad in ("nocolon", "a:", ":b", "a:b,,c:d"):
        with pytest.raises(WanError, match="user:password"):
            parse_api_auth(bad)


def test_credentials_match_only_exact_pairs():
    auth = {"alice": "pw", "bob": "pw2"}
    basic = httpx.BasicAuth("alice", "pw")._auth_header  # the header a client sends
    assert credentials_match(basic, auth)
    assert not credentials_match(httpx.BasicAuth("alice", "pw2")._auth_header, auth)
    assert not credentials_match(httpx.BasicAuth("carol", "pw")._auth_header, auth)
    for header in (None, "", "Bearer x", "Basic !!!", "Basic YWxpY2U="):  # last: no colon
        assert not credentials_match(header, auth)


@pytest.fixture(scope="module")
def host_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A stand-in for the WebUI's app: its own routes, then ours with auth and a small limit."""
    folder = tmp_path_factory.mktemp("guard")
    app = FastAPI()

    @app.get("/sdapi/v1/ping")
    def ping() -> dict:
        return {"pong": True}

    @app.post("/sdapi/v1/upload")
    async def upload(request: Request) -> dict:
        return {"size": len(await request.body())}

    host = StandaloneHost(output_dir=str(folder / "outputs"))
    queue = JobQueue(host, db_path=folder / "jobs.sqlite3", autostart=False)
    add_routes(app, queue, host, auth=dict([AUTH]), max_body_bytes=LIMIT)
    try:
        with serving(app) as url:
            yield url
    finally:
        queue.close()


def test_every_route_needs_the_credentials(host_app):
    with httpx.Client(base_url=host_app) as client:
        for method, path in [
            ("GET", "/wan/v1/health"),
            ("GET", "/wan/v1/jobs"),
            ("GET", "/wan/v1/models"),
            ("POST", "/wan/v1/jobs"),
            ("DELETE", "/wan/v1/jobs/0123456789ab"),
        ]:
            response = client.request(method, path)
            assert response.status_code == 401, (path, response.text)
            assert response.headers["www-authenticate"].startswith("Basic")
            wrong = client.request(method, path, auth=(AUTH[0], "guess"))
            assert wrong.status_code == 401
        assert client.get("/wan/v1/health", auth=AUTH).status_code == 200
        assert client.get("/wan/v1/jobs/0123456789ab", auth=AUTH).status_code == 404
        assert client.get("/sdapi/v1/ping").json() == {"pong": True}  # the host's stay open


def test_body_limit_on_our_routes_only(host_app):
    big = {"deforum_settings": {"prompts": {"0": "x" * (2 * LIMIT)}}}
    with httpx.Client(base_url=host_app, auth=AUTH) as client:
        response = client.post("/wan/v1/plan", json=big)
        assert response.status_code == 413 and str(LIMIT) in response.json()["detail"]

        def chunks():  # no Content-Length: the limit is checked while reading
            for _ in range(8):
                yield b" " * (LIMIT // 2)

        streamed = client.post(
            "/wan/v1/jobs", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413, streamed.text
        fits = client.post("/wan/v1/plan", json=job_body())
        assert fits.status_code == 200, fits.text
        upload = client.post("/sdapi/v1/upload", content=b"x" * (4 * LIMIT))
        assert upload.json() == {"size": 4 * LIMIT}
    with httpx.Client(base_url=host_app) as client:  # credentials are checked first
        assert client.post("/wan/v1/plan", json=big).status_code == 401


def test_docs_show_basic_auth_and_the_routes(host_app):
    spec = httpx.get(f"{host_app}/openapi.json").json()
    assert "/sdapi/v1/ping" in spec["paths"] and "/wan/v1/jobs" in spec["paths"]
    assert any(s["scheme"] == "basic" for s in spec["components"]["securitySchemes"].values())
