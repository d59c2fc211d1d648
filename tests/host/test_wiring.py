"""scripts/wan_deforum.py imported under each stand-in host: settings, tab and routes registered
and working, one queue per process, --api-auth honoured, and the load-time environment check."""

from __future__ import annotations

import logging
import os

import gradio as gr
import httpx
import pytest
from fastapi import FastAPI

from tests.api.server import serving
from tests.host.stand_ins import import_script
from wan.host import torch_check
from wan.webui import extension as webui_extension
from wan.webui.hosts import ForgeHost, WebUIHost
from wan.webui.settings import CATEGORY, SECTION, SETTINGS


def test_script_registers_one_callback_of_each_kind(webui):
    import_script()
    for kind in ("ui_settings", "ui_tabs", "app_started"):
        assert len(webui.callbacks(kind)) == 1, kind


def test_settings_section_added_through_opts(webui):
    import_script()
    webui.callbacks("ui_settings")[0]()
    labels = webui.shared.opts.data_labels
    assert [s.key for s in SETTINGS] == [k for k in labels if k.startswith("wan_")]
    assert all(labels[s.key].section == SECTION for s in SETTINGS)
    assert all(labels[s.key].category_id == CATEGORY for s in SETTINGS)  # not "Uncategorized"
    policy = labels["wan_memory_policy"]
    assert policy.component is gr.Radio
    assert policy.component_args == {"choices": ["auto", "low_vram", "balanced", "max_speed"]}
    assert "(" in labels["wan_models_dir"].comment_after  # the info line


def test_tab_is_built_with_the_process_queue(webui):
    import_script()
    try:
        import wan.ui  # noqa: F401
    except ImportError as error:
        pytest.skip(f"wan.ui is not importable yet ({error}); the tab cannot be built")
    [(blocks, title, elem_id)] = webui.callbacks("ui_tabs")[0]()
    assert isinstance(blocks, gr.Blocks) and (title, elem_id) == ("WAN", "wan_tab")
    host = webui_extension.process_host(webui.namespace())
    assert type(host) is (ForgeHost if webui.kind == "forge" else WebUIHost)


def test_routes_are_added_with_the_parsed_api_auth(webui, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "wan.api.routes.add_routes",
        lambda app, queue, host, auth=None, **given: calls.append((app, host, auth, given)),
    )
    webui.shared.cmd_opts.api_auth = "ann:secret,bob:pw"
    import_script()
    app = FastAPI()
    webui.callbacks("app_started")[0](None, app)  # None: the host runs with --nowebui
    [(called_app, host, auth, given)] = calls
    assert called_app is app and auth == {"ann": "secret", "bob": "pw"}
    assert given == {"allow_url_inputs": False}  # --wan-allow-url-inputs not given
    assert host is webui_extension.process_host(webui.namespace())


def test_api_auth_guards_our_routes_on_a_real_server(a1111):
    a1111.shared.cmd_opts.api_auth = "ann:secret"
    import_script()
    app = FastAPI()
    a1111.callbacks("app_started")[0](None, app)
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/wan/v1/health").status_code == 401
        answer = client.get("/wan/v1/health", auth=("ann", "secret"))
        assert answer.status_code == 200 and answer.json()["host"] == "automatic1111"


def test_reload_ui_keeps_the_one_queue(webui, monkeypatch):
    routes = []
    monkeypatch.setattr(
        "wan.api.routes.add_routes", lambda app, queue, host, auth=None, **_: routes.append(queue)
    )
    import_script()
    webui.callbacks("app_started")[0](None, FastAPI())
    import_script("wan_deforum_reloaded")  # "Reload UI" imports scripts/ again
    webui.callbacks("app_started")[1](None, FastAPI())
    assert routes[0] is routes[1]


def test_wan_data_dir_flag_sets_the_data_folder(webui, monkeypatch, tmp_path):
    monkeypatch.setenv("WAN_DATA_DIR", os.environ["WAN_DATA_DIR"])  # restored after the test
    webui.shared.cmd_opts.wan_data_dir = str(tmp_path / "wan-data")
    import_script()
    assert os.environ["WAN_DATA_DIR"] == str(tmp_path / "wan-data")


def test_too_old_torch_shows_the_reason_in_the_tab_and_the_api(webui, monkeypatch, caplog):
    monkeypatch.setattr(torch_check, "torch_version", lambda: "2.1.2+cu121")
    with caplog.at_level(logging.ERROR, logger="wan.webui.extension"):
        import_script()
    [record] = caplog.records
    assert "needs torch >= 2.5 (this WebUI has 2.1.2+cu121)" in record.getMessage()
    [(blocks, title, _)] = webui.callbacks("ui_tabs")[0]()
    assert title == "WAN"
    texts = [getattr(b, "value", "") for b in blocks.blocks.values()]
    assert any("needs torch >= 2.5" in str(text) for text in texts)
    app = FastAPI()
    webui.callbacks("app_started")[0](demo := None, app)
    assert demo is None
    with serving(app) as url:
        answer = httpx.get(url + "/wan/v1/jobs", timeout=30)
    assert answer.status_code == 503 and "torch >= 2.5" in answer.json()["detail"]
    assert len(webui.callbacks("ui_settings")) == 1  # the settings section is still there
