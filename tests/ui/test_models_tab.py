"""The Models tab's table, check/diagnose report and download messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from wan.models.report import models_payload
from wan.ui.models import HEADERS, diagnose, download, model_rows


def test_the_table_lists_catalog_other_and_smoke_models(host):
    rows = model_rows(models_payload(host.store_config()))
    by_id = {row[0]: row for row in rows}
    assert all(len(row) == len(HEADERS) for row in rows)
    assert by_id["Wan2.1-I2V-14B-480P"][2] == "text + image"
    assert by_id["Wan2.1-T2V-1.3B"][3] == "not installed"
    assert by_id["Wan2.1-T2V-1.3B"][4].startswith(("fits on cpu", "does not fit on cpu"))
    assert by_id["Qwen2.5-0.5B-Instruct"][1] == "enhancer"
    assert by_id["tiny-t2v"][2:] == ["smoke", "built on first use", "tiny, random"]


def test_check_reports_a_usable_model_and_writes_the_report(host, smoke_root):
    text, report = diagnose(" tiny-t2v ", host.store_config())
    assert text.startswith("### tiny-t2v") and text.endswith("**OK**"), text
    assert json.loads(Path(report).read_text())["model"] == "tiny-t2v"


def test_check_of_a_missing_model_says_why(host, tmp_path):
    text, report = diagnose(str(tmp_path / "nothing"), host.store_config())
    assert "no such model folder" in text and text.endswith("see the problems above")
    assert Path(report).is_file()
    assert diagnose("", host.store_config()) == ("**Error:** choose or type a model to check", None)


def test_download_problems_are_messages(host):
    seen = []
    assert download(None, host.store_config(), seen.append).startswith("**Error:** choose")
    smoke = download("tiny-t2v", host.store_config(), seen.append)
    assert smoke.startswith("**Error:** tiny-t2v is built locally, not downloaded")
    offline = download("Wan2.1-T2V-1.3B", host.store_config(), seen.append)
    assert offline.startswith("**Error:** cannot download Wan2.1-T2V-1.3B"), offline


def test_an_offline_download_message_keeps_its_file_patterns(tmp_path, monkeypatch):
    """The Markdown message lost the `*` of `*/*.safetensors` (read as emphasis)."""
    markdown_it = pytest.importorskip("markdown_it")  # gradio 4's renderer; not in gradio 3.41
    from wan.models.store import StoreConfig
    from wan.ui.models import download

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    message = download("Wan2.1-T2V-1.3B", StoreConfig(models_dir_flag=str(tmp_path)), print)
    shown = re.sub(r"<[^>]+>", "", markdown_it.MarkdownIt().render(message))
    assert "*/config.json, */*.safetensors" in shown and "tokenizer/*" in shown
    assert "LocalEntryNotFoundError" in shown
