"""The tab builds on this gradio (4.x in .venv, 3.41 in .venv-a1111), and its Plan button works
through gradio's own event machinery: `python -m wan ui` on 127.0.0.1, called by gradio_client."""

from __future__ import annotations

import inspect
import json
import re
import time
import urllib.request
from pathlib import Path

import gradio as gr

from tests.conftest import ROOT
from tests.ui.conftest import LORAS, ORBIT, SHORT, config_of, field_list, get_json
from wan.ui import build_tab
from wan.ui.options_form import FIELDS
from wan.ui.plan_view import HEADERS
from wan.ui.queue import LIVE_SECONDS
from wan.ui.sources import SOURCE_FILE, SOURCE_JSON

CONTRACT_IDS = (
    "wan_settings_file",
    "wan_settings_json",
    "wan_model",
    "wan_size",
    "wan_steps",
    "wan_plan_button",
    "wan_render_button",
    "wan_clip_table",
    "wan_motion_plot",
    "wan_job_status",
    "wan_video",
)


def test_the_tab_builds_with_its_sub_tabs_and_element_ids(host, idle_queue):
    blocks = build_tab(idle_queue, host)
    config = config_of(blocks)
    components = config["components"]
    ids = {c["props"].get("elem_id") for c in components}
    assert set(CONTRACT_IDS) <= ids, set(CONTRACT_IDS) - ids
    tabs = [c["props"].get("label") for c in components if c["type"] in ("tabitem", "tab")]
    assert tabs == ["Generate", "Models", "Queue", "Outputs"]


def test_the_plan_button_through_gradio(wan_ui: str, tmp_path: Path):
    from gradio_client import Client

    fields = field_list()
    try:
        from gradio_client import handle_file  # gradio_client 1.x (gradio 4)
    except ImportError:  # gradio_client 0.5 (gradio 3.41) uploads a plain path

        def handle_file(path: str) -> str:
            return path

        # ... and sends a table as a JSON file
        strengths = tmp_path / "lora_strengths.json"
        strengths.write_text(json.dumps(fields[FIELDS.index("lora_strengths")]))
        fields[FIELDS.index("lora_strengths")] = str(strengths)

    client = Client(wan_ui + "/", verbose=False)
    try:
        message, summary, table, plot = client.predict(
            SOURCE_FILE, handle_file(str(ORBIT)), "", None, *fields, api_name="/wan_plan"
        )
    finally:
        getattr(client, "close", lambda: None)()  # 1.x streams a heartbeat until closed
    if isinstance(table, str):  # gradio_client 0.5 hands a table over as a JSON file
        table = json.loads(Path(table).read_text())
    assert message == "" and summary.startswith("**4 clip(s)**"), (message, summary)
    assert [row[0] for row in table["data"]] == [0, 1, 2, 3]
    assert "lighthouse" in table["data"][0][3]
    assert Path(plot).read_bytes()[:4] == b"\x89PNG"
    with urllib.request.urlopen(wan_ui + "/wan/v1/models", timeout=30) as answer:
        assert answer.status == 200 and "catalog" in json.loads(answer.read())


def test_ui_refuses_a_public_address_without_allow_remote(capsys):
    from wan.cli.main import main

    assert main(["ui", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_only_the_chosen_source_shows_its_input():
    from wan.ui.generate import source_visibility
    from wan.ui.sources import SOURCES

    for kind in SOURCES:
        shown = [update["visible"] for update in source_visibility(kind)]
        assert shown == [each == kind for each in SOURCES]


def has_timer(blocks: gr.Blocks) -> bool:
    """gradio 4 makes `every=` a timer component, gradio 3 a dependency with `every`."""
    config = config_of(blocks)
    timers = [c for c in config["components"] if c["type"] == "timer"]
    return bool(timers) or any(d.get("every") for d in config["dependencies"])


def test_only_the_stand_alone_page_refreshes_by_gradio_timer(host, idle_queue):
    """In the WebUI a gradio timer made "Reload UI" wait for ever; wan.js refreshes there."""
    assert not has_timer(build_tab(idle_queue, host))
    assert has_timer(build_tab(idle_queue, host, live_refresh=True))
    script = (ROOT / "javascript" / "wan.js").read_text()
    assert "#wan_jobs_refresh" in script
    assert f"PERIOD_MS = {LIVE_SECONDS * 1000};" in script


def test_plan_then_render_through_gradio_use_one_seed(wan_ui: str):
    """Seed -1 (most real settings files): Render renders the seed Plan showed (issue 11)."""
    from gradio_client import Client

    # gradio_client 0.5 cannot read back Render's empty video: it passes values as they are.
    raw = {"serialize": False} if "serialize" in inspect.signature(Client).parameters else {}
    client = Client(wan_ui + "/", verbose=False, **raw)
    source = (SOURCE_JSON, None, json.dumps({**SHORT, "seed": -1}), None)
    try:
        shown = []
        for _ in range(2):
            message, summary, table, _ = client.predict(
                *source, *field_list(), api_name="/wan_plan"
            )
            assert message == "", message
            shown.append(re.search(r"seed (\d+), plan `([0-9a-f]{16})`", summary).groups())
        assert shown[0] == shown[1]  # planned twice: one seed, one hash
        client.predict(*source, table, *field_list(), api_name="/wan_render")
    finally:
        getattr(client, "close", lambda: None)()
    seed = int(shown[0][0])
    (job,) = get_json(wan_ui + "/wan/v1/jobs?limit=1")["jobs"]
    assert job["source"] == "ui" and job["options"]["seed"] == seed, job
    deadline = time.monotonic() + 180
    while job["status"] == "ACCEPTED" and time.monotonic() < deadline:
        time.sleep(0.5)
        job = get_json(f"{wan_ui}/wan/v1/jobs/{job['id']}")
    assert job["status"] == "SUCCEEDED", job
    metadata = json.loads((Path(job["run_dir"]) / "metadata.json").read_text())
    assert [clip["seed"] for clip in metadata["clips"]] == [seed]


def test_the_random_button_puts_a_new_seed_in_the_seed_box(host, idle_queue):
    from wan.ui.generate import random_seed

    assert ("wan_new_seed", "wan_seed") in wired_pairs(config_of(build_tab(idle_queue, host)))
    seeds = {int(random_seed()) for _ in range(4)}
    assert len(seeds) > 1 and all(0 <= seed < 2**32 for seed in seeds)


def test_two_loras_reach_the_job_with_their_own_strengths_through_gradio(wan_ui, tmp_path):
    """One strength per chosen LoRA (issue 11 point 12): 0.5 and 1.2, not one shared slider."""
    from gradio_client import Client

    raw = {"serialize": False} if "serialize" in inspect.signature(Client).parameters else {}
    client = Client(wan_ui + "/", verbose=False, **raw)
    a, b = (str(tmp_path / "loras" / name) for name in LORAS)
    strengths = {"headers": ["LoRA", "strength"], "data": [[b, 1.2], [a, 0.5]]}
    source = (SOURCE_JSON, None, json.dumps(SHORT), None)
    fields = field_list(loras=[a, b], lora_strengths=strengths)
    try:
        no_plan = {"headers": HEADERS, "data": []}  # the clip table (the plan state is no input)
        message, *_ = client.predict(*source, no_plan, *fields, api_name="/wan_render")
    finally:
        getattr(client, "close", lambda: None)()
    assert message == "", message
    (job,) = get_json(wan_ui + "/wan/v1/jobs?limit=1")["jobs"]
    assert job["options"]["loras"] == [
        {"path": a, "strength": 0.5},
        {"path": b, "strength": 1.2},
    ], job["options"]


def test_refresh_offers_a_lora_added_after_the_tab_was_built_through_gradio(wan_ui, tmp_path):
    """The LoRA list is read again on Refresh (it was read once at start), keeping the choice."""
    from gradio_client import Client

    a, b = (str(tmp_path / "loras" / name) for name in LORAS)
    added = tmp_path / "loras" / "new" / "added.safetensors"
    added.parent.mkdir()
    added.write_bytes(b"")
    client = Client(wan_ui + "/", verbose=False)
    try:
        update = client.predict([b], api_name="/wan_refresh_loras")
    finally:
        getattr(client, "close", lambda: None)()
    offered = [c[0] if isinstance(c, (list, tuple)) else c for c in update["choices"]]
    assert offered == [a, str(added), b] and update["value"] == [b], update


def test_refresh_drops_a_chosen_lora_whose_file_is_gone(host, idle_queue, tmp_path):
    from wan.ui.generate import lora_update

    kept, gone = tmp_path / "loras" / "kept.safetensors", tmp_path / "loras" / "gone.safetensors"
    kept.parent.mkdir()
    kept.write_bytes(b"")
    gone.write_bytes(b"")
    config = config_of(build_tab(idle_queue, host))
    (dropdown,) = [c for c in config["components"] if c["props"].get("elem_id") == "wan_loras"]
    offered = [c[0] if isinstance(c, (list, tuple)) else c for c in dropdown["props"]["choices"]]
    assert offered == [str(gone), str(kept)]
    assert ("wan_loras", "wan_lora_strengths") in wired_pairs(config)  # a strength per LoRA
    gone.unlink()
    update = lora_update(host, [str(kept), str(gone)])
    assert update["choices"] == [str(kept)] and update["value"] == [str(kept)]


def wired_pairs(config: dict) -> set[tuple]:
    """(elem_id of an event's component, elem_id of an output) for every event of the page."""
    ids = {c["id"]: c["props"].get("elem_id") for c in config["components"]}
    wired = set()
    for dependency in config["dependencies"]:
        for target in dependency["targets"]:  # gradio 4: (id, event); gradio 3: id
            source = target[0] if isinstance(target, (list, tuple)) else target
            wired |= {(ids.get(source), ids.get(output)) for output in dependency["outputs"]}
    return wired
