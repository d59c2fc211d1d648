"""Init images at submit: judged from their header against the limits and saved as sent, never
decoded while the request waits; a job whose image is past the limits when it renders fails
with the limit's message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jobs.conftest import data_url, options, settings
from tests.render.image_files import black_png, lying_png, small_png
from wan.jobs import RequestError
from wan.limits import LimitError


@pytest.fixture
def no_decoding(monkeypatch):
    """Any attempt to decode pixels fails the test."""
    import cv2
    from PIL import Image

    def refuse(*args, **kwargs):
        raise AssertionError("an image was decoded while the request was taken")

    monkeypatch.setattr(cv2, "imdecode", refuse)
    monkeypatch.setattr(cv2, "imread", refuse)
    monkeypatch.setattr(Image, "open", refuse)


@pytest.mark.parametrize(
    ("image", "words"),
    [
        (lying_png(100_000, 100_000), r"\(100000x100000\) is 10000000000, past the limit"),
        (black_png(20_000, 20_000), r"\(20000x20000\) is 400000000, past the limit"),
        (black_png(24_000, 24_000), r"\(24000x24000\) is 576000000, past the limit"),
    ],
    ids=["header-claims-100000", "real-20000", "real-24000"],
)
def test_an_image_bomb_is_refused_at_submit(make_queue, no_decoding, image, words):
    queue = make_queue()
    with pytest.raises(LimitError, match=rf"^wan\.init_image {words}"):
        queue.submit(settings(), options(init_image=data_url(image)))
    with pytest.raises(LimitError, match=rf"^deforum_settings\.init_image {words}"):
        queue.submit(settings(use_init=True, init_image=data_url(image)), options())
    assert queue.list() == []


def test_too_many_bytes_are_refused_before_decoding_the_base64(make_queue, monkeypatch):
    monkeypatch.setenv("WAN_LIMIT_MAX_IMAGE_BYTES", "100")
    queue = make_queue()
    image = small_png()
    words = rf"^wan\.init_image is {len(image)}, past the limit of 100 bytes"
    with pytest.raises(LimitError, match=words):
        queue.submit(settings(), options(init_image=data_url(image)))
    assert queue.list() == []


def test_a_valid_image_is_saved_as_sent_without_decoding(make_queue, no_decoding):
    queue = make_queue()
    image = small_png()
    job = queue.submit(settings(use_init=True, init_image=data_url(image)), options())
    saved = Path(job.settings["init_image"])
    assert saved.read_bytes() == image and saved.suffix == ".png"


def test_the_saved_file_takes_the_format_its_header_names(make_queue):
    from tests.render.test_image_header import encoded

    queue = make_queue()
    jpeg = encoded("JPEG")
    job = queue.submit(settings(), options(init_image=data_url(jpeg, "png")))
    saved = Path(job.options["init_image"])
    assert saved.suffix == ".jpg" and saved.read_bytes() == jpeg


def test_a_trusted_caller_s_data_url_is_checked_too(make_queue):
    """The tab sends its image as a data URL through the same intake."""
    queue = make_queue()
    with pytest.raises(RequestError, match=r"^wan\.init_image: not a readable image"):
        queue.submit(settings(), options(init_image=data_url(b"nope")), source="ui", trusted=True)
    with pytest.raises(LimitError, match=r"^wan\.init_image \(100000x100000\)"):
        queue.submit(settings(), options(init_image=data_url(lying_png())), trusted=True)
    assert queue.list() == []


def test_a_job_whose_image_is_past_the_limits_when_it_renders_fails_clearly(
    make_queue, tmp_path, monkeypatch
):
    image = tmp_path / "first.png"
    image.write_bytes(small_png(64, 48))
    queue = make_queue()
    job = queue.submit(settings(), options(init_image=str(image)), source="ui", trusted=True)
    monkeypatch.setenv("WAN_LIMIT_MAX_IMAGE_PIXELS", "1000")  # lowered while it waited
    failed = queue.run_here(job.id)
    assert failed.status == "FAILED"
    assert failed.error.startswith(f"--init-image {image} (64x48) is 3072, past the limit"), (
        failed.error
    )


def test_a_last_image_is_checked_and_saved_as_the_init_image_is(make_queue, no_decoding):
    queue = make_queue()
    image = small_png()
    job = queue.submit(settings(), options(model="tiny-flf2v", last_image=data_url(image)))
    saved = Path(job.options["last_image"])
    assert saved.name == "last.png" and saved.read_bytes() == image
    with pytest.raises(LimitError, match=r"^wan\.last_image \(100000x100000\)"):
        queue.submit(settings(), options(last_image=data_url(lying_png())))
    with pytest.raises(RequestError, match=r"^wan\.last_image: a remote request sends images"):
        queue.submit(settings(), options(last_image="/etc/passwd"))
