"""install.py against a stand-in of the WebUI's `launch` module: what it installs (never torch),
what it prints, the merged requirements file for REQS_FILE, and a host that downgrades our deps."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement

import install
from tests.conftest import ROOT
from wan.host.deps import merged_requirements, read_requirements

# The pins of AUTOMATIC1111 1.10's requirements_versions.txt that touch ours, as it writes them.
A1111_PINS = """setuptools==69.5.1  # temp fix for compatibility with some old packages
GitPython==3.1.32
accelerate==0.21.0
fastapi==0.94.0
gradio==3.41.2
numpy==1.26.2
safetensors==0.4.2
torch
transformers==4.30.2
"""
FORGE_PINS = """accelerate==0.31.0
numpy==1.26.2
transformers==4.46.1
diffusers==0.31.0
peft==0.13.2
huggingface-hub==0.26.2
"""
# What a pip install of our ranges gives, for the stand-in to "install".
NEWEST = {
    "numpy": "1.26.2",
    "numexpr": "2.10.1",
    "diffusers": "0.39.0",
    "transformers": "4.57.6",
    "huggingface_hub": "0.36.2",
    "accelerate": "1.2.0",
    "peft": "0.17.1",
    "safetensors": "0.4.2",
    "ftfy": "6.3.1",
    "imageio-ffmpeg": "0.6.0",
    "opencv-python-headless": "4.10.0.84",
    "matplotlib": "3.9.2",
    "filelock": "3.13.1",
    "psutil": "5.9.5",
}


class StandInLaunch(ModuleType):
    """The WebUI's `launch` module: run_pip records the command and 'installs' our ranges."""

    def __init__(self, root: Path, versions: dict, fail: bool = False) -> None:
        super().__init__("launch")
        self.__file__ = str(root / "launch.py")
        self.versions, self.fail, self.commands = versions, fail, []

    def is_installed(self, package: str) -> bool:
        return self.versions.get(package) is not None

    def run_pip(self, command: str, desc: str | None = None, live: bool = False) -> str:
        self.commands.append(command)
        if self.fail:
            raise RuntimeError(f"Couldn't install {desc}.\nCommand: pip {command}")
        for name in re.findall(r'"([A-Za-z0-9_.\-]+)[<>=!~]', command):
            self.versions[name] = NEWEST[name]
        return ""


@pytest.fixture
def webui(tmp_path, monkeypatch):
    monkeypatch.setenv("WAN_DATA_DIR", str(tmp_path / "data"))
    root = tmp_path / "webui"
    root.mkdir()
    (root / "requirements_versions.txt").write_text(A1111_PINS)
    return root


def versions_like_a1111() -> dict:
    versions = dict(NEWEST, transformers="4.30.2", accelerate="0.21.0", torch="2.1.2+cu121")
    versions.pop("ftfy")
    return versions


def constraints_of(command: str) -> str:
    """The constraints file a recorded `pip install ... -c FILE` command was given."""
    return Path(command.split(" -c ")[1].strip('"')).read_text()


def run(launch, env=None):
    printed: list[str] = []
    install.main(launch, env or {}, launch.versions.get, printed.append)
    return printed


def test_requirements_file_parses_and_never_asks_for_torch():
    requirements = install.read_requirements()
    names = {r.name.lower() for r in requirements}
    assert {"diffusers", "transformers", "huggingface_hub", "numexpr"} <= names
    assert not names & install.NEVER


def test_unmet_checks_versions_and_alternatives():
    versions = {"diffusers": "0.31.0", "numpy": "2.0.0", "opencv-python": "4.9.0", "torch": None}
    wanted = [Requirement(r) for r in ("diffusers>=0.35,<0.40", "numpy>=1.26",
                                       "opencv-python-headless>=4.8", "torch", "ftfy")]  # fmt: skip
    missing = install.unmet(wanted, versions.get)
    assert [str(r) for r in missing] == ["diffusers<0.40,>=0.35", "ftfy"]


def test_hosts_pins_fit_our_ranges():
    requirements = {r.name.lower(): r for r in install.read_requirements()}
    assert not requirements["transformers"].specifier.contains("5.0.0")
    assert not requirements["huggingface_hub"].specifier.contains("1.0.0")
    assert requirements["diffusers"].specifier.contains("0.39.0")
    assert not requirements["diffusers"].specifier.contains("0.40.0")


def test_installs_what_is_missing_in_one_command_with_torch_pinned(webui):
    launch = StandInLaunch(webui, versions_like_a1111())
    printed = run(launch)
    [command] = launch.commands
    asked = re.findall(r'"([^"]+)"', command.split(" -c ")[0])
    assert asked == ["transformers<5,>=4.48", "accelerate>=0.33", "ftfy>=6.1"]
    assert constraints_of(command) == "torch==2.1.2+cu121\n"
    assert not any(a.lower().startswith("torch") for a in asked)
    assert "[sd-webui-wan-deforum] transformers: 4.30.2 -> 4.57.6 (transformers<5,>=4.48)" in (
        printed
    )
    assert any("ftfy: not installed -> 6.3.1" in line for line in printed)


def test_setuptools_keeps_pkg_resources_when_pip_would_upgrade_it_for_torch(webui):
    # torch 2.14 requires setuptools>=77.0.3: pip upgraded A1111's 69.5.1 to one without
    # pkg_resources, and the WebUI died importing pytorch_lightning at its next import.
    launch = StandInLaunch(webui, dict(versions_like_a1111(), setuptools="69.5.1"))
    run(launch)
    [command] = launch.commands
    assert constraints_of(command) == "torch==2.1.2+cu121\nsetuptools<82\n"


def test_a_setuptools_without_pkg_resources_is_not_capped(webui):
    launch = StandInLaunch(webui, dict(versions_like_a1111(), setuptools="84.2.1"))
    run(launch)
    [command] = launch.commands
    assert constraints_of(command) == "torch==2.1.2+cu121\n"


def test_nothing_missing_installs_nothing(webui):
    (webui / "requirements_versions.txt").write_text("torch\nnumpy==1.26.2\n")
    launch = StandInLaunch(webui, dict(NEWEST, torch="2.5.1"))
    assert run(launch) == [] and launch.commands == []


def test_without_torch_nothing_is_installed(webui):
    versions = versions_like_a1111()
    versions.pop("torch")
    launch = StandInLaunch(webui, versions)
    printed = run(launch)
    assert launch.commands == []
    assert any("torch is not installed, so nothing was installed" in line for line in printed)


def test_a_pip_failure_is_reported_not_raised(webui):
    launch = StandInLaunch(webui, versions_like_a1111(), fail=True)
    printed = run(launch)
    assert any("failed: Couldn't install" in line for line in printed)


def test_merged_file_keeps_the_hosts_pins_that_fit_and_passes_its_launch_check(webui):
    launch = StandInLaunch(webui, versions_like_a1111())
    run(launch)
    merged = (Path(install.data_dir()) / install.MERGED_FILE).read_text()
    lines = merged.splitlines()
    assert not any("#" in line for line in lines)  # the launcher's line check stops at comments
    assert "setuptools==69.5.1" in lines and "numpy==1.26.2" in lines and "torch" in lines
    assert "transformers<5,>=4.48" in lines and "accelerate>=0.33" in lines
    assert "transformers==4.30.2" not in merged and "diffusers<0.40,>=0.35" in lines
    hosts_own = {"setuptools": "69.5.1", "GitPython": "3.1.32", "fastapi": "0.94.0"}
    installed = launch.versions | hosts_own | {"gradio": "3.41.2"}
    assert launcher_would_reinstall(merged, installed) == []
    assert launcher_would_reinstall(A1111_PINS, installed) == [
        "accelerate==0.21.0",
        "transformers==4.30.2",
    ]  # the host's own file would put them back


def test_forge_pins_are_replaced_too():
    merged = merged_requirements(FORGE_PINS, read_requirements()).splitlines()
    assert "numpy==1.26.2" in merged  # fits ours: kept
    # peft 0.21 imports clear_device_cache, which accelerate 0.31 lacks: Forge did not start
    assert "accelerate>=0.33" in merged
    for pinned in (
        "accelerate==0.31.0",
        "transformers==4.46.1",
        "diffusers==0.31.0",
        "peft==0.13.2",
    ):
        assert pinned not in merged
    assert "huggingface_hub<1,>=0.34" in merged and "huggingface-hub==0.26.2" not in merged


def test_the_user_is_told_to_set_reqs_file_until_it_points_at_the_merged_file(webui):
    launch = StandInLaunch(webui, versions_like_a1111())
    [advice] = [line for line in run(launch) if "REQS_FILE" in line]
    merged = Path(install.data_dir()) / install.MERGED_FILE
    assert "transformers==4.30.2 (we need <5,>=4.48)" in advice
    assert f"set REQS_FILE={merged}" in advice and f'export REQS_FILE="{merged}"' in advice
    assert not any("REQS_FILE" in line for line in run(launch, {"REQS_FILE": str(merged)}))


def test_a_downgrade_by_the_host_at_start_is_named_and_repaired(webui):
    launch = StandInLaunch(webui, versions_like_a1111())
    run(launch)
    launch.versions["transformers"] = "4.30.2"  # the WebUI's launcher, at the next start
    launch.commands.clear()
    printed = run(launch)
    assert any(
        "the WebUI put transformers back to 4.30.2 at this start" in line
        and "4.57.6 was installed before" in line
        for line in printed
    )
    assert len(launch.commands) == 1 and '"transformers<5,>=4.48"' in launch.commands[0]


def launcher_would_reinstall(text: str, versions: dict) -> list[str]:
    """The pinned lines whose installed version differs, as the WebUI's launcher checks them."""
    out = []
    for line in text.splitlines():
        match = re.match(r"\s*([-_a-zA-Z0-9]+)\s*(?:==\s*([-+_.a-zA-Z0-9]+))?", line)
        pinned = match.group(2) if match else None
        if match is None or (pinned and versions.get(match.group(1)) != pinned):
            out.append(line)
    return out


def test_runs_as_the_webui_runs_it(webui, tmp_path):
    """`python install.py` from the WebUI's folder with its `launch` module importable."""
    (webui / "launch.py").write_text(
        "import pathlib\n"
        "def run_pip(command, desc=None, live=False):\n"
        "    pathlib.Path(__file__).with_name('pip.log').write_text(command)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(webui), WAN_DATA_DIR=str(tmp_path / "data"))
    env.pop("REQS_FILE", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "install.py")],
        cwd=webui,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not (webui / "pip.log").exists()  # this environment has everything
    assert "REQS_FILE=" in done.stdout and "transformers==4.30.2" in done.stdout
    assert (tmp_path / "data" / install.MERGED_FILE).is_file()


def test_a_host_pin_our_dependencies_outgrew_becomes_a_floor(webui):
    """Seen in a real A1111: transformers 4.57 pulled safetensors past the host's 0.4.2 pin, so
    the merged file (pin kept) made the launcher reinstall everything at the next start."""
    launch = StandInLaunch(webui, versions_like_a1111())
    launch.versions["safetensors"] = "0.8.0"
    run(launch)
    merged = (Path(install.data_dir()) / install.MERGED_FILE).read_text().splitlines()
    assert "safetensors>=0.4.2" in merged and "safetensors==0.4.2" not in merged
    assert "numpy==1.26.2" in merged  # installed as pinned: the pin stays
    hosts_own = {"setuptools": "69.5.1", "GitPython": "3.1.32", "fastapi": "0.94.0"}
    installed = launch.versions | hosts_own | {"gradio": "3.41.2"}
    assert launcher_would_reinstall("\n".join(merged), installed) == []
