"""URLs in API requests: refused naming the field and the flag, unless the server was started to
allow them (SSRF: wan/api/url_inputs.py); then downloaded like the CLI does. The URLs are served
by a local server (tests/url_server.py), never the network."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.server import SETTINGS, job_body, serving
from tests.deforum.test_parseq import FRAMES, manifest
from tests.render.image_files import small_png
from tests.test_fetch import no_proxy  # noqa: F401 - fixture
from tests.url_server import serve
from wan.api.routes import create_app
from wan.cli.serve import add_command
from wan.host.standalone import StandaloneHost
from wan.jobs import JobQueue


@pytest.fixture(scope="module")
def open_to_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    folder = tmp_path_factory.mktemp("urls")
    host = StandaloneHost(output_dir=str(folder / "outputs"))
    queue = JobQueue(host, db_path=folder / "jobs.sqlite3", autostart=False)
    try:
        app = create_app(queue, host, allow_url_inputs=True)
        with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
            client.queue = queue  # type: ignore[attr-defined]
            yield client
    finally:
        queue.close()


@pytest.mark.parametrize("route", ["/wan/v1/jobs", "/wan/v1/plan"])
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            job_body({**SETTINGS, "use_init": True, "init_image": "http://10.0.0.1/a.png"}),
            "deforum_settings.init_image",
        ),
        (job_body(init_image="https://169.254.169.254/latest"), "wan.init_image"),
        (
            job_body([SETTINGS, {**SETTINGS, "parseq_manifest": "http://localhost:1/m"}]),
            "deforum_settings[1].parseq_manifest",
        ),
    ],
    ids=["settings-image", "option-image", "manifest"],
)
def test_without_the_flag_a_url_is_refused_naming_field_and_flag(idle, route, body, field):
    response = idle.post(route, json=body)
    assert response.status_code == 422, response.text
    text = response.json()["detail"]
    assert text.startswith(f"{field}: this server does not download URLs"), text
    assert "--allow-url-inputs" in text and "--wan-allow-url-inputs" in text


def test_with_the_flag_urls_are_downloaded_into_the_job(open_to_urls):
    image = small_png()
    routes = {"/start.png": image, "/m": json.dumps(manifest(FRAMES)).encode()}
    with serve(routes) as site:
        settings = {
            **SETTINGS,
            "use_init": True,
            "init_image": site.url("/start.png"),
            "parseq_manifest": site.url("/m"),
        }
        plan = open_to_urls.post("/wan/v1/plan", json=job_body(settings))
        accepted = open_to_urls.post("/wan/v1/jobs", json=job_body(settings))
        assert site.hits["/start.png"] == 2 and site.hits["/m"] == 2
    assert plan.status_code == 200, plan.text
    assert plan.json()["clips"][0]["conditioning"] == "init_image"
    assert accepted.status_code == 202, accepted.text
    job = open_to_urls.queue.get(accepted.json()["job_ids"][0])
    assert Path(job.settings["init_image"]).read_bytes() == image  # saved with the job
    assert job.settings["init_image_source"] == settings["init_image"]
    assert job.settings["parseq_manifest"].startswith("{")  # inline: the job stands alone


def test_with_the_flag_a_bad_download_is_a_422_naming_item_and_url(open_to_urls):
    with serve({"/page": b"<html>login</html>"}) as site:
        settings = {**SETTINGS, "use_init": True, "init_image": site.url("/page")}
        response = open_to_urls.post("/wan/v1/jobs", json=job_body([SETTINGS, settings]))
    assert response.status_code == 422
    text = response.json()["detail"]
    assert text.startswith(f"deforum_settings[1]: init_image {site.url('/page')}: "), text
    assert "a web page (HTML)" in text


def test_serve_has_the_flag_off_by_default():
    import argparse

    parser = argparse.ArgumentParser()
    add_command(parser.add_subparsers())
    assert parser.parse_args(["serve"]).allow_url_inputs is False
    assert parser.parse_args(["serve", "--allow-url-inputs"]).allow_url_inputs is True


def test_the_webui_flag_is_declared():
    import argparse
    import importlib.util

    spec = importlib.util.spec_from_file_location("preload", Path("preload.py").absolute())
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    parser = argparse.ArgumentParser()
    module.preload(parser)
    assert parser.parse_args(["--wan-allow-url-inputs"]).wan_allow_url_inputs is True
