"""A render queued by the CLI or the tab downloads the URLs its settings use before it is queued,
one file per URL in the data folder's downloads (the same settings store the same paths, so a
resume finds its job); offline, nothing is queued and the error names the URL."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import jobs_in
from tests.jobs.conftest import host, make_queue, options, settings  # noqa: F401 - fixtures
from tests.render.image_files import small_png
from tests.test_fetch import MP3, no_proxy  # noqa: F401 - fixture
from tests.url_server import closed_port_url, serve
from wan.cli.main import main
from wan.paths import downloads_dir


def test_a_trusted_render_stores_the_downloaded_files(make_queue):  # noqa: F811
    queue = make_queue()
    with serve({"/start.png": small_png(), "/song.mp3": MP3}) as site:
        extra = {
            "use_init": True,
            "init_image": site.url("/start.png"),
            "add_soundtrack": "File",
            "soundtrack_path": site.url("/song.mp3"),
        }
        job = queue.submit(settings(**extra), options(), source="cli", trusted=True)
        again = queue.submit(settings(**extra), options(), source="cli", trusted=True)
        assert site.hits["/start.png"] == site.hits["/song.mp3"] == 1
    image, sound = Path(job.settings["init_image"]), Path(job.settings["soundtrack_path"])
    assert image.parent == sound.parent == downloads_dir()
    assert image.read_bytes() == small_png() and sound.suffix == ".mp3"
    assert job.settings["init_image_source"] == extra["init_image"]
    assert again.settings == job.settings  # what `render --resume` compares


def test_render_offline_queues_nothing_and_names_the_url(tmp_path, capsys, data_dir):
    url = closed_port_url("/start.png")
    path = tmp_path / "s.json"
    path.write_text(json.dumps(settings(use_init=True, init_image=url)))
    argv = ["render", str(path), "--model", "tiny-t2v", "--size", "64x64", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"init_image {url}: cannot be downloaded" in err and "local file" in err
    assert jobs_in(data_dir) == []
