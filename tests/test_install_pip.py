"""install.py through a real pip, against the real pins of AUTOMATIC1111 1.10.1 and Forge, over a
few WebUI starts: what changes, what is printed, and that every start still comes up.

Seen in a real WebUI (and the reason for these tests): install.py let pip move packages the WebUI
pins (setuptools, safetensors) without saying so, and with a torch that needs a newer setuptools
than the WebUI pins, the next start without REQS_FILE died in the WebUI's own requirements
install (ResolutionImpossible). Stand-in distributions (metadata only) make each pip run fast.
"""

from __future__ import annotations

import pytest

from tests.webui_launcher import WebUI, build_index, pins, would_reinstall

PULLED_BY_OURS = {"tokenizers", "wcwidth"}  # not pinned by either WebUI


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return build_index(tmp_path_factory.mktemp("index"))


def webui(tmp_path, index, host: str, torch: str) -> WebUI:
    return WebUI(tmp_path / host, index, tmp_path / "data", host, torch)


@pytest.mark.parametrize("host", ["a1111", "forge"])
def test_a_torch_that_fits_the_webui_pins_starts_every_time_with_or_without_reqs_file(
    tmp_path, index, host
):
    ui = webui(tmp_path, index, host, torch="2.5.1")
    before = ui.versions()
    host_pins = {k.lower().replace("_", "-"): v for k, v in pins(ui.host_file.read_text()).items()}

    first = ui.start()
    assert first.came_up and not first.reinstalled
    after = ui.versions()
    changed = {name for name in after if after.get(name) != before.get(name)}
    # Nothing the WebUI pins changed except the pins our ranges reject...
    ours_rejected = {"transformers", "accelerate"} | (
        {"diffusers", "peft", "huggingface-hub"} if host == "forge" else set()
    )
    assert changed & set(host_pins) == ours_rejected
    assert after["setuptools"] == "69.5.1" and after["safetensors"] == "0.4.2"
    # ...so pip chose the newest transformers and accelerate that accept its safetensors 0.4.2.
    assert after["transformers"] == "4.50.0" and after["accelerate"] == "0.34.2"
    # Every change is printed with before and after, pulled-in ones too.
    for name in changed:
        assert f"{before.get(name) or 'not installed'} -> {after[name]}" in first.printed, name
    assert "tokenizers:" in first.printed and "(pulled in)" in first.printed
    assert changed & PULLED_BY_OURS
    # Said once and plainly: what a start without REQS_FILE does, and the line that avoids it.
    assert first.printed.count("without REQS_FILE the WebUI starts") == 1
    assert first.printed.count(f'export REQS_FILE="{ui.merged}"') == 1

    # The next start without REQS_FILE: the WebUI puts its pins back, then we install again.
    second = ui.start()
    assert second.reinstalled and second.came_up
    assert "the WebUI put transformers back to" in second.printed
    assert ui.versions()["transformers"] == "4.50.0"

    # With REQS_FILE: the launcher's check passes and nothing is reinstalled, twice over.
    for _ in range(2):
        third = ui.start(reqs_file=ui.merged)
        assert third.came_up and not third.reinstalled and third.pip_commands == []
        assert "REQS_FILE" not in third.printed
    assert would_reinstall(ui.merged.read_text(), ui.versions()) == []


@pytest.mark.parametrize("host", ["a1111", "forge"])
def test_a_torch_that_needs_a_newer_setuptools_than_the_webui_pins_keeps_the_webui_starting(
    tmp_path, index, host
):
    ui = webui(tmp_path, index, host, torch="2.14.1")  # needs setuptools>=77.0.3; 69.5.1 pinned
    before = ui.versions()
    # The premise: the WebUI cannot install its own file with this torch. pip either replaces
    # the user's torch by an older one from the index (here) or fails with ResolutionImpossible
    # (seen in a real WebUI), so changing any of its pins would break the next start.
    dry = ui.pip(["install", "--dry-run", "-r", str(ui.host_file), "--prefer-binary"])
    assert dry.returncode == 0 and "Would install" in dry.stdout and "torch-2.5.1" in dry.stdout

    first = ui.start()
    assert first.came_up and first.pip_commands == [] and ui.versions() == before
    assert first.printed.count("cannot reinstall its own requirements with this torch") == 1
    assert "setuptools==69.5.1 (your torch 2.14.1 needs >=77.0.3)" in first.printed
    assert "Nothing was installed, so that the WebUI still starts" in first.printed
    assert ui.start().came_up  # and it still does, without REQS_FILE

    # With REQS_FILE at the merged file: its setuptools line is a range, so the WebUI can
    # always install it; we install, setuptools moves as torch needs (below 82: pkg_resources).
    merged = ui.merged.read_text().splitlines()
    assert "setuptools<82,>=77.0.3" in merged and "setuptools==69.5.1" not in merged
    installing = ui.start(reqs_file=ui.merged)
    assert installing.came_up and not installing.reinstalled
    assert len(installing.pip_commands) == 1
    after = ui.versions()
    assert after["setuptools"] == "81.0.0" and after["transformers"] == "4.50.0"
    assert "setuptools: 69.5.1 -> 81.0.0 (pulled in; the WebUI pins 69.5.1)" in installing.printed
    for _ in range(2):
        again = ui.start(reqs_file=ui.merged)
        assert again.came_up and not again.reinstalled and again.pip_commands == []
    # The merged file is installable as it stands (what the WebUI does if a pin ever differs).
    assert ui.pip(["install", "-r", str(ui.merged), "--prefer-binary"]).returncode == 0
