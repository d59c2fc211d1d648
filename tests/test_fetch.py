"""URL inputs (issue 16 item 1): init images, soundtracks and Parseq manifests Deforum downloads
are downloaded within the limits, checked, cached; offline, slow, too large or wrong files are
clear errors naming the URL. Every URL is served by a local server (tests/url_server.py)."""

from __future__ import annotations

import json
import time

import pytest

from tests.deforum.test_parseq import FRAMES, manifest
from tests.render.image_files import small_png
from tests.url_server import Trickle, closed_port_url, serve
from wan.cli.main import main
from wan.core.deforum.schedules import evaluate_schedule
from wan.core.deforum.settings import load_settings
from wan.errors import DownloadError
from wan.limits import Limits
from wan.render.fetch import AUDIO, IMAGE, TEXT, fetch, fetch_inputs, fetch_to, load_fetching

HTML = b"<!DOCTYPE html><html><body>Sign in</body></html>"
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(200)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """The local server is reached directly, whatever proxy the machine has."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_an_image_is_downloaded_checked_and_cached(tmp_path):
    image = small_png()
    with serve({"/start.png": image}) as site:
        first = fetch_to(site.url("/start.png"), tmp_path, IMAGE, "init_image")
        again = fetch_to(site.url("/start.png"), tmp_path, IMAGE, "init_image")
        assert site.hits["/start.png"] == 1  # the second time reads the saved file
    assert first == again and first.suffix == ".png" and first.read_bytes() == image
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no part left behind


@pytest.mark.parametrize(
    ("route", "kind", "words"),
    [
        (HTML, IMAGE, r"init_image http://.*/f: not a readable image .* \(the URL gave a web"),
        (HTML, AUDIO, r"not an audio file \(mp3, .*\) but a web page \(HTML\)"),
        (b"\xff\xfe\x00bin", TEXT, r"not text \(a Parseq manifest is JSON\)"),
        ((404, {}, b"gone", 0.0), IMAGE, r"the server answered HTTP 404 \(Not Found\)"),
    ],
    ids=["html-for-image", "html-for-audio", "binary-for-manifest", "404"],
)
def test_a_wrong_answer_is_a_clear_error_naming_the_url(route, kind, words):
    with serve({"/f": route}) as site, pytest.raises(DownloadError, match=words) as caught:
        fetch(site.url("/f"), kind, "init_image")
    assert site.url("/f") in str(caught.value)


def test_offline_names_the_url_and_what_to_do():
    url = closed_port_url()
    with pytest.raises(DownloadError) as caught:
        fetch(url, IMAGE, "init_image")
    text = str(caught.value)
    assert text.startswith(f"init_image {url}: cannot be downloaded (")
    assert "download it yourself and set init_image to the local file" in text


def test_too_large_is_refused_by_its_declared_or_its_real_size():
    limits = Limits(max_download_bytes=100)
    unsized = (200, {"Content-Length": None}, MP3, 0.0)  # no size said: cut once past 100
    with serve({"/big.mp3": MP3, "/unsized.mp3": unsized}) as site:
        with pytest.raises(DownloadError, match=r"is 210, past the limit of 100 bytes"):
            fetch(site.url("/big.mp3"), AUDIO, "soundtrack_path", limits)
        with pytest.raises(DownloadError, match="WAN_LIMIT_MAX_DOWNLOAD_BYTES"):
            fetch(site.url("/unsized.mp3"), AUDIO, "soundtrack_path", limits)


def test_an_image_is_bounded_by_the_image_limit_too():
    limits = Limits(max_image_bytes=10)
    with serve({"/a.png": small_png()}) as site, pytest.raises(DownloadError) as caught:
        fetch(site.url("/a.png"), IMAGE, "init_image", limits)
    assert "WAN_LIMIT_MAX_IMAGE_BYTES" in str(caught.value)


def test_a_slow_server_is_cut_at_the_time_limit():
    limits = Limits(max_download_seconds=0.2)
    words = r"took longer than the limit of 0.2 seconds"
    with (
        serve({"/slow.png": (200, {}, small_png(), 1.0)}) as site,
        pytest.raises(DownloadError, match=words),
    ):
        fetch(site.url("/slow.png"), IMAGE, "init_image", limits)


def test_a_trickling_server_is_cut_at_the_time_limit_too():
    """Each piece comes well within the socket timeout; the whole download's limit still holds
    (the body would take 2 s: it is cut near 0.3 s, not once it has all come)."""
    limits = Limits(max_download_seconds=0.3)
    started = time.monotonic()
    with (
        serve({"/drip.mp3": Trickle(MP3 + bytes(430), pause=0.05)}) as site,
        pytest.raises(DownloadError, match=r"took longer than the limit of 0\.3 seconds"),
    ):
        fetch(site.url("/drip.mp3"), AUDIO, "soundtrack_path", limits)
    assert time.monotonic() - started < 1.5


def test_only_http_is_followed():
    with pytest.raises(DownloadError, match="only http:// and https:// are downloaded"):
        fetch("file:///etc/passwd", TEXT, "parseq_manifest")
    redirect = (302, {"Location": "file:///etc/passwd"}, b"", 0.0)
    with serve({"/r": redirect}) as site, pytest.raises(DownloadError):
        fetch(site.url("/r"), TEXT, "parseq_manifest")


def test_a_render_downloads_what_it_uses_and_keeps_the_urls(tmp_path):
    settings = {
        "use_init": True,
        "add_soundtrack": "File",
        "prompts": {"0": "a"},
        "parseq_manifest": "",
    }
    routes = {"/i.png": small_png(), "/s.mp3": MP3, "/o.png": small_png(32, 32)}
    with serve(routes) as site:
        settings |= {"init_image": site.url("/i.png"), "soundtrack_path": site.url("/s.mp3")}
        got, options = fetch_inputs(settings, {"init_image": site.url("/o.png")}, "s.txt", tmp_path)
    assert got["init_image_source"] == site.url("/i.png")
    assert got["soundtrack_path"].endswith(".mp3") and got["soundtrack_path_source"]
    for path in (got["init_image"], got["soundtrack_path"], options["init_image"]):
        assert path.startswith(str(tmp_path))


def test_urls_a_render_does_not_use_are_not_downloaded(tmp_path):
    deforum_default = "https://deforum.github.io/a1/A1.mp3"  # never reached: no network
    settings = {
        "use_init": False,
        "init_image": "https://example.invalid/x.png",
        "add_soundtrack": "None",
        "soundtrack_path": deforum_default,
    }
    assert fetch_inputs(settings, {}, "s.txt", tmp_path) == (settings, {})


def test_a_failed_download_names_the_settings_file(tmp_path):
    settings = {"use_init": "true", "init_image": closed_port_url()}
    with pytest.raises(DownloadError, match=r"^run\.txt: init_image http://127"):
        fetch_inputs(settings, {}, "run.txt", tmp_path)


def test_schedules_and_plan_read_a_parseq_manifest_url(tmp_path, capsys):
    text = json.dumps(manifest(FRAMES))
    path = tmp_path / "parseq.txt"
    with serve({"/api/render?docId=doc-1": text.encode()}) as site:
        url = site.url("/api/render?docId=doc-1")
        path.write_text(json.dumps({"max_frames": 4, "parseq_manifest": url}))
        settings = load_fetching(path)
        assert settings.raw["parseq_manifest_source"] == url
        assert main(["schedules", str(path), "--json"]) == 0
        zoom = json.loads(capsys.readouterr().out)["schedules"]["zoom"]
        assert main(["plan", str(path), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["frames"] == 4
    inline = load_settings({"max_frames": 4, "parseq_manifest": text})
    assert settings.schedules["zoom"] == inline.schedules["zoom"] != "0: (1.0)"
    assert zoom == evaluate_schedule(inline.schedules["zoom"], 4, 0, "zoom").tolist()
