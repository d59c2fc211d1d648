"""Image bombs sent to the real server: 422 naming the field and the limit, nothing queued, and
no image decoded while the request is answered (issue 12 item 4)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.api.server import SETTINGS, job_body
from tests.render.image_files import black_png, lying_png, small_png

ROUTES = ("/wan/v1/jobs", "/wan/v1/plan")


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def job_count(client) -> int:
    return len(client.get("/wan/v1/jobs").json()["jobs"])


def refused(client, route: str, body: dict) -> str:
    before = job_count(client)
    response = client.post(route, json=body)
    assert response.status_code == 422, response.text
    assert job_count(client) == before
    return response.json()["detail"]


@pytest.fixture
def no_decoding(monkeypatch):
    """The server runs in this process: any decode while it answers fails the test."""
    import cv2
    from PIL import Image

    def refuse(*args, **kwargs):
        raise AssertionError("an image was decoded in the request thread")

    monkeypatch.setattr(cv2, "imdecode", refuse)
    monkeypatch.setattr(Image, "open", refuse)


BOMBS = {
    "header-claims-100000": (lying_png(100_000, 100_000), "(100000x100000) is 10000000000"),
    "real-20000": (black_png(20_000, 20_000), "(20000x20000) is 400000000"),
    "real-24000": (black_png(24_000, 24_000), "(24000x24000) is 576000000"),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("bomb", BOMBS)
def test_an_image_bomb_is_422_naming_the_field_and_the_limit(idle, no_decoding, route, bomb):
    image, words = BOMBS[bomb]
    url = data_url(image)
    text = refused(idle, route, job_body(init_image=url))
    assert text.startswith(f"wan.init_image {words}, past the limit"), text
    assert "WAN_LIMIT_MAX_IMAGE_PIXELS" in text
    settings = {**SETTINGS, "use_init": True, "init_image": url}
    text = refused(idle, route, job_body(settings))
    assert text.startswith(f"deforum_settings.init_image {words}"), text


def test_a_bomb_in_a_later_item_queues_none_of_them(idle, no_decoding):
    bad = {**SETTINGS, "use_init": True, "init_image": data_url(lying_png())}
    text = refused(idle, "/wan/v1/jobs", job_body([SETTINGS, bad]))
    assert text.startswith("deforum_settings[1].init_image (100000x100000)"), text


def test_too_many_bytes_are_422(idle, monkeypatch):
    monkeypatch.setenv("WAN_LIMIT_MAX_IMAGE_BYTES", "100")
    image = small_png()
    text = refused(idle, "/wan/v1/jobs", job_body(init_image=data_url(image)))
    assert text.startswith(f"wan.init_image is {len(image)}, past the limit of 100 bytes"), text
    assert "WAN_LIMIT_MAX_IMAGE_BYTES" in text


def test_not_an_image_is_422(idle):
    text = refused(idle, "/wan/v1/jobs", job_body(init_image=data_url(b"%PDF-1.4")))
    assert text.startswith("wan.init_image: not a readable image"), text


def test_a_valid_image_is_accepted_and_saved_undecoded(idle, no_decoding):
    image = small_png()
    response = idle.post("/wan/v1/jobs", json=job_body(init_image=data_url(image)))
    assert response.status_code == 202, response.text
    saved = Path(response.json()["jobs"][0]["options"]["init_image"])
    assert saved.read_bytes() == image


def test_a_last_image_is_taken_as_the_init_image_is(idle, no_decoding):
    image = small_png()
    body = job_body(model="tiny-flf2v", last_image=data_url(image))
    response = idle.post("/wan/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    assert Path(response.json()["jobs"][0]["options"]["last_image"]).read_bytes() == image
    text = refused(idle, "/wan/v1/plan", job_body(last_image=data_url(lying_png())))
    assert text.startswith("wan.last_image (100000x100000) is 10000000000"), text
