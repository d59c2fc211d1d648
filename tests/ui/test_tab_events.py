"""Issue 11's tab points through gradio's own event route: `python -m wan ui` served on
127.0.0.1, its events called by gradio_client, its page config read over HTTP, in both gradio
versions (4.x in .venv, 3.41 in .venv-a1111)."""

from __future__ import annotations

import inspect
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.ui.conftest import SHORT, field_list, get_json, running_ui
from tests.ui.test_model_choices import installed_copy
from wan.host.standalone import StandaloneHost
from wan.jobs import JobQueue
from wan.ui.jobs_view import HEADERS as JOB_HEADERS
from wan.ui.model_choices import ref_from_choice
from wan.ui.plan_view import HEADERS
from wan.ui.sources import SOURCE_JSON

WAIT = 180  # seconds; a smoke render through the server takes a few


@contextmanager
def client_of(url: str, raw: bool = False) -> Iterator:
    """A gradio_client for the page; `raw`: values as they are (gradio_client 0.5 cannot read
    back some outputs, such as an empty video)."""
    from gradio_client import Client

    takes_raw = raw and "serialize" in inspect.signature(Client).parameters
    client = Client(url + "/", verbose=False, **({"serialize": False} if takes_raw else {}))
    try:
        yield client
    finally:
        getattr(client, "close", lambda: None)()  # 1.x streams a heartbeat until closed


def component(config: dict, elem_id: str) -> dict:
    (found,) = [c for c in config["components"] if c["props"].get("elem_id") == elem_id]
    return found


def test_an_unusable_model_is_listed_but_never_preselected_through_gradio(tmp_path, smoke_root):
    """Point 6: a truncated model folder became the tab's default model."""
    installed_copy(tmp_path, smoke_root, truncate=True)
    with running_ui(tmp_path, "--models-dir", str(tmp_path / "models")) as url:
        dropdown = component(get_json(url + "/config"), "wan_model")["props"]
        with client_of(url) as client:
            refreshed = client.predict(None, api_name="/wan_refresh_models")
    labels = [c[0] if isinstance(c, (list, tuple)) else c for c in dropdown["choices"]]
    [broken] = [label for label in labels if ref_from_choice(label) == "Wan2.1-T2V-1.3B"]
    assert "NOT USABLE: transformer/" in broken
    assert not dropdown.get("value"), dropdown.get("value")
    assert not refreshed.get("value"), refreshed  # Refresh does not pick it either
    assert broken in [c[0] if isinstance(c, (list, tuple)) else c for c in refreshed["choices"]]


def queue_rows(client) -> dict[str, dict[str, str]]:
    """The Queue tab's table after its Refresh button: {job id: {column: cell}}."""
    table, _figures = client.predict(api_name="/wan_jobs_refresh")
    if isinstance(table, str):  # gradio_client 0.5 hands a table over as a JSON file
        table = json.loads(Path(table).read_text())
    return {row[0]: dict(zip(JOB_HEADERS, row, strict=True)) for row in table["data"]}


def test_the_queue_tab_shows_a_failure_s_reason_and_whom_a_job_waits_for(wan_ui, tmp_path):
    """Point 7: no error column, and "ACCEPTED · PREPARING · 0%" while a job waited for the GPU
    another render held. The failed job is written by this process into the shared queue
    database; the waiting job is the server's own, waiting for a GPU lock this test holds."""
    from wan.jobs.worker import gpu_turn

    here = JobQueue(StandaloneHost(output_dir=str(tmp_path / "here")), autostart=False)
    try:
        failed = here.submit(SHORT, {"model": "tiny-t2v"}, source="cli", trusted=True, claim=True)
        error = "clip 2: CUDA out of memory. Tried to allocate 2.00 GiB " + "x" * 300
        assert here.store.finish_unless_cancelled(
            failed.id, status="FAILED", phase="DONE", error=error
        )
    finally:
        here.close()

    held, release = threading.Event(), threading.Event()

    def other_render() -> None:
        with gpu_turn(lambda: False, holder="job 1a2b3c4d (cli, held-by-test.json)"):
            held.set()
            release.wait(WAIT)

    other = threading.Thread(target=other_render)
    other.start()
    try:
        assert held.wait(30)
        with client_of(wan_ui, raw=True) as client:
            source = (SOURCE_JSON, None, json.dumps(SHORT), None)
            no_plan = {"headers": HEADERS, "data": []}
            message, *_ = client.predict(*source, no_plan, *field_list(), api_name="/wan_render")
            assert message == "", message
            (job,) = get_json(wan_ui + "/wan/v1/jobs?limit=1")["jobs"]
            deadline = time.monotonic() + WAIT
            rows = queue_rows(client)
            while rows[job["id"]]["status"] != "WAITING" and time.monotonic() < deadline:
                time.sleep(0.3)
                rows = queue_rows(client)
    finally:
        release.set()
        other.join(WAIT)
    waiting, shown_failure = rows[job["id"]], rows[failed.id]
    assert waiting["status"] == "WAITING", waiting
    assert waiting["phase"].startswith(
        "PREPARING (waiting for the GPU (held by job 1a2b3c4d (cli, held-by-test.json), pid "
    ), waiting
    assert shown_failure["status"] == "FAILED"
    assert shown_failure["error"].startswith("clip 2: CUDA out of memory. Tried to allocate")
    job = get_json(f"{wan_ui}/wan/v1/jobs/{job['id']}")
    deadline = time.monotonic() + WAIT  # the lock released, the job renders
    while job["status"] == "ACCEPTED" and time.monotonic() < deadline:
        time.sleep(0.5)
        job = get_json(f"{wan_ui}/wan/v1/jobs/{job['id']}")
    assert job["status"] == "SUCCEEDED", job


def test_pasted_json_renders_with_a_name_an_eta_and_clip_previews_through_gradio(wan_ui):
    """Points 10 and 11: pasted settings read "job f58b16d7619b ():", and a render showed no
    elapsed or remaining time and nothing until the whole video was done. Render, then the
    event gradio runs after it (following the job), as the page calls them."""
    # some 8 clips of 3 steps: long enough for the page's one-second polls to see it run
    settings = {**SHORT, "max_frames": 100, "prompts": {"0": "a red lighthouse", "20": "a boat"}}
    with client_of(wan_ui, raw=True) as client:
        source = (SOURCE_JSON, None, json.dumps(settings), None)
        no_plan = {"headers": HEADERS, "data": []}
        message, *shown = client.predict(
            *source, no_plan, *field_list(steps=3), api_name="/wan_render"
        )
        assert message == "", message
        (status,) = [value for value in shown if str(value).startswith("job `")]  # 4.x: no State
        assert re.match(r"job `[0-9a-f]{12}` \(pasted JSON\): \*\*QUEUED\*\*", status), status
        follow = client.submit(api_name="/wan_follow")
        final_status, final_video = follow.result(timeout=WAIT)
        updates = follow.outputs()
    assert "**SUCCEEDED**" in final_status and "(pasted JSON)" in final_status, final_status
    statuses = [update[0] for update in updates[:-1]]
    assert any(re.search(r"\d+s elapsed", s) for s in statuses), statuses
    assert any("left (estimate)" in s for s in statuses), "\n".join(statuses)
    previews = [video_path(update[1]) for update in updates[:-1]]
    previews = [p for p in previews if p]
    assert previews, updates
    assert all(re.fullmatch(r"clip_\d{4}\.mp4", Path(p).name) for p in previews), previews
    assert Path(video_path(final_video)).name == "video.mp4"


def video_path(value) -> str | None:
    """The mp4 of a gr.Video output as gradio_client hands it over (a path; a {"video": ...},
    FileData or, raw in gradio 3.41, [{"name": ...}, subtitles]), None for "left as it is"."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if isinstance(value, dict):
        inner = value.get("video", value)
        value = inner.get("path") or inner.get("name") if isinstance(inner, dict) else inner
    return str(value) if isinstance(value, str) and value.endswith(".mp4") else None


def test_the_offline_download_message_keeps_its_file_patterns_through_gradio(wan_ui):
    """Point 10: the Models tab's message lost the `*` of `*/*.safetensors` (Markdown)."""
    markdown_it = pytest.importorskip("markdown_it")  # gradio 4's renderer; not in gradio 3.41
    with client_of(wan_ui) as client:
        message = client.predict("Wan2.1-T2V-1.3B", api_name="/wan_models_download")
    shown = re.sub(r"<[^>]+>", "", markdown_it.MarkdownIt().render(message))
    assert shown.startswith("Error: cannot download Wan2.1-T2V-1.3B"), shown
    assert "*/config.json, */*.safetensors" in shown and "tokenizer/*" in shown
