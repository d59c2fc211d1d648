"""The Outputs tab lists every run the queue knows and the runs under the output root, reads the
list again when it is opened, and loads a run back into Generate keeping its size (issue 11,
points 9 and 10)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import ROOT
from tests.ui.conftest import SHORT, config_of
from tests.ui.test_outputs import OPTIONS, make_run
from wan.ui import build_tab
from wan.ui.generate_actions import GenerateActions
from wan.ui.options_form import FIELDS
from wan.ui.outputs import rendered_runs
from wan.ui.outputs_tab import GENERATE_TAB, load_values


def job(folder: Path, status: str = "SUCCEEDED", video: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        id=folder.name[:12],
        status=status,
        run_dir=str(folder),
        video=str(folder / "video.mp4") if video else None,
    )


def test_the_queue_s_runs_are_listed_beside_the_output_root_s(tmp_path):
    root = tmp_path / "outputs"
    under_root = make_run(root, "20260101-000000-aaaa", 1_000)
    demo = make_run(root, "../outputs/demo", 2_000)  # outputs/wan-videos/../demo: make demo's
    elsewhere = make_run(tmp_path / "elsewhere", "out", 3_000)  # render --out outside the root
    failed = make_run(tmp_path / "elsewhere", "failed", 4_000)
    gone = tmp_path / "deleted" / "run"
    jobs = [
        job(elsewhere),
        job(failed, "FAILED", video=False),  # finished otherwise, yet its video is there
        job(under_root),  # listed once, as the job it is
        job(gone),
        SimpleNamespace(id="queued", status="ACCEPTED", run_dir=None, video=None),
    ]
    runs = rendered_runs(root, jobs)
    assert [r.folder.resolve() for r in runs] == [
        p.resolve() for p in (failed, elsewhere, demo, under_root)
    ]
    assert [r.origin for r in runs] == [
        "job failed (FAILED)", "job out (SUCCEEDED)", "", "job 20260101-000 (SUCCEEDED)"
    ]  # fmt: skip
    assert runs[0].caption.endswith("· job failed (FAILED)")
    assert runs[2].summary()["origin"] == "output folder"


def run_event(blocks, api_name: str, states: dict[int, object]) -> dict[str, object]:
    """Run a named event through gradio's own processing (Blocks.process_api, both versions)
    with the given State values; {elem_id: output value}."""
    config = config_of(blocks)
    index, dependency = next(
        (i, d) for i, d in enumerate(config["dependencies"]) if d.get("api_name") == api_name
    )
    try:
        from gradio.state_holder import SessionState  # gradio 4

        state = SessionState(blocks)
        for key, value in states.items():
            state[key] = value
    except ImportError:  # gradio 3.41: a plain dict
        state = dict(states)
    inputs = [states.get(i) for i in dependency["inputs"]]
    answer = asyncio.run(blocks.process_api(index, inputs, state))
    by_id = {c["id"]: c["props"].get("elem_id") for c in config["components"]}
    return {by_id[o]: v for o, v in zip(dependency["outputs"], answer["data"], strict=True)}


def test_load_into_generate_keeps_a_custom_size_and_selects_generate(host, idle_queue):
    folder = make_run(Path(host.output_root()), "custom", 1_000)
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["options"] = {**OPTIONS, "size": "96x64"}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    blocks = build_tab(idle_queue, host)
    load = next(
        d for d in config_of(blocks)["dependencies"] if d.get("api_name") == "wan_outputs_load"
    )
    shown = run_event(blocks, "wan_outputs_load", {load["inputs"][0]: str(folder)})
    size = shown["wan_size"]
    choices = [c[0] if isinstance(c, (list, tuple)) else c for c in size["choices"]]
    assert size["value"] == "96x64" and "96x64" in choices, size
    assert shown["wan_tabs"]["selected"] == GENERATE_TAB
    assert shown["wan_outputs_message"].startswith("Loaded the settings and options of `custom`")


def test_the_model_change_that_load_sets_off_keeps_the_custom_size(host, idle_queue):
    """Load sets the model, so gradio runs the model dropdown's change event next."""
    folder = make_run(Path(host.output_root()), "custom", 1_000)
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["options"] = {**OPTIONS, "size": "96x64"}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    values = dict(zip(FIELDS, load_values(host, str(folder))[2:-2], strict=True))
    size, _ = GenerateActions(idle_queue, host).model_changed(
        values["model"], values["size"]["value"]
    )
    assert size["value"] == "96x64" and "96x64" in size["choices"]


def wiring(blocks) -> tuple[dict, list[tuple[str, str, list[str]]]]:
    """(components by id, [(trigger elem_id, event, output elem_ids)]) of a built tab."""
    config = config_of(blocks)
    by_id = {c["id"]: c for c in config["components"]}

    def name(cid: int) -> str:
        return by_id[cid]["props"].get("elem_id") or by_id[cid]["type"]

    wired = []
    for dependency in config["dependencies"]:
        outputs = [name(o) for o in dependency["outputs"]]
        for target in dependency["targets"]:  # gradio 4: (id, event); gradio 3: id + trigger
            cid, event = target if isinstance(target, (list, tuple)) else (target, None)
            if cid is None:  # gradio 4's .then
                continue
            wired.append((name(cid), event or dependency.get("trigger"), outputs))
    return by_id, wired


def test_load_selects_the_generate_tab_and_opening_outputs_reads_the_list(host, idle_queue):
    by_id, wired = wiring(build_tab(idle_queue, host))
    tab_ids = {c["props"].get("elem_id"): c["props"].get("id") for c in by_id.values()}
    assert tab_ids["wan_tab_generate"] == GENERATE_TAB
    load = [outputs for trigger, _, outputs in wired if trigger == "wan_outputs_load"]
    assert load and "wan_tabs" in load[0] and "wan_size" in load[0]
    opened = [outputs for trigger, event, outputs in wired if trigger == "wan_tab_outputs"]
    assert [
        (event, "wan_outputs_gallery")
        for trigger, event, outputs in wired
        if trigger == "wan_tab_outputs" and "wan_outputs_gallery" in outputs
    ] == [("select", "wan_outputs_gallery")], opened


def _config(url: str) -> dict:
    with urllib.request.urlopen(url + "/config", timeout=30) as answer:
        return json.loads(answer.read())


def test_a_render_with_out_elsewhere_shows_in_outputs_through_gradio(
    wan_ui: str,
    tmp_path_factory: pytest.TempPathFactory,
):
    """`render --out` outside the tab's output root, from another process sharing the queue:
    the Refresh button and opening the Outputs tab (gradio's own events) both list it."""
    from gradio_client import Client

    elsewhere = tmp_path_factory.mktemp("elsewhere") / "cli-out-run"
    settings = elsewhere.parent / "short.json"
    settings.write_text(json.dumps(SHORT))
    command = [sys.executable, "-m", "wan", "render", str(settings), "--model", "tiny-t2v",
               "--size", "64x64", "--steps", "2", "--out", str(elsewhere)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (elsewhere / "video.mp4").is_file()

    config = _config(wan_ui)
    tab = next(
        c["id"] for c in config["components"] if c["props"].get("elem_id") == "wan_tab_outputs"
    )
    select = next(
        index
        for index, dependency in enumerate(config["dependencies"])
        if any((t[0] if isinstance(t, (list, tuple)) else t) == tab for t in dependency["targets"])
    )
    client = Client(wan_ui + "/", verbose=False)
    try:
        refreshed = client.predict(api_name="/wan_outputs_refresh")
        opened = client.predict(fn_index=select)
    finally:
        getattr(client, "close", lambda: None)()
    for answer in (refreshed, opened):
        text = json.dumps(answer, default=str, ensure_ascii=False)
        listed = text if "cli-out-run" in text else _captions(answer)
        assert "cli-out-run · tiny-t2v · 64x64" in listed, text[:2000]
        assert "(SUCCEEDED)" in listed


def _captions(answer) -> str:
    """gradio_client 0.5 hands a gallery over as a folder with captions.json."""
    answer = answer[0] if isinstance(answer, (list, tuple)) else answer
    captions = Path(str(answer)) / "captions.json"
    if not captions.is_file():
        return ""
    return json.dumps(json.loads(captions.read_text()), ensure_ascii=False)
