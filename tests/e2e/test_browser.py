"""A person's first render in the tab: upload a Deforum settings file, pick the smoke model, the
smallest size and 2 steps, Plan (the clip table fills), Render (the finished video plays).

Runs in headless Chromium against `python -m wan ui` (conftest.py). On failure the page's
screenshot and HTML and the server's log are kept in the test's tmp_path and their paths printed.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e import gradio_page as ui
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "orbit-3d.json"
PLAN_MS = 60_000
RENDER_MS = 180_000


def test_upload_plan_render_shows_the_video(browser, wan_ui: Server, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.set_default_timeout(30_000)
    with evidence_on_failure(page, wan_ui, tmp_path):
        page.goto(wan_ui.url)
        ui.upload(page, "wan_settings_file", EXAMPLE)
        ui.choose(page, "wan_model", "tiny-t2v")
        ui.choose_smallest_size(page, "wan_size")
        ui.set_number(page, "wan_steps", 2)

        page.click("#wan_plan_button")
        expect(page.locator("#wan_clip_table")).to_contain_text("lighthouse", timeout=PLAN_MS)
        assert ui.table_rows(page, "wan_clip_table")

        page.click("#wan_render_button")
        video = page.locator("#wan_video video[src]")
        video.wait_for(timeout=RENDER_MS)
        source = urllib.parse.urljoin(page.url, video.get_attribute("src") or "")
        answer = page.request.get(source)
        assert answer.ok, f"{source} answered {answer.status}"
        assert answer.body()[4:8] == b"ftyp", f"{source} is not an mp4"


@contextmanager
def evidence_on_failure(page, server: Server, tmp_path: Path) -> Iterator[None]:
    """On any failure: save what the browser showed, and point at it and the server's log."""
    try:
        yield
    except BaseException:
        screenshot, html = tmp_path / "page.png", tmp_path / "page.html"
        try:
            page.screenshot(path=str(screenshot), full_page=True)
            html.write_text(page.content())
        except Exception as exc:  # the browser may be the thing that broke
            print(f"could not save the page: {exc}")
        print(f"screenshot: {screenshot}\npage HTML: {html}\nserver log: {server.log}")
        raise
