"""install.py against a stand-in of the WebUI's `launch` module: what it installs (never torch),
what it prints, the merged requirements file for REQS_FILE, and a host that downgrades our deps.
tests/test_install_pip.py runs it through a real pip over several starts of each WebUI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import install
from tests.conftest import ROOT
from tests.webui_launcher import would_reinstall
from wan.host.deps import read_requirements
from wan.host.host_requirements import merged_requirements, pip_constraints, torch_conflicts

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

    def __init__(self, root: Path, versions: dict, fail: bool | int = False) -> None:
        super().__init__("launch")
        self.__file__ = str(root / "launch.py")
        self.versions, self.fail, self.commands = versions, fail, []
        self.constraints: list[str] = []  # the constraints file's text at each command
        self.pulls_in: dict[str, dict[str, str]] = {}  # what installing a package also installs

    def is_installed(self, package: str) -> bool:
        return self.versions.get(package) is not None

    def run_pip(self, command: str, desc: str | None = None, live: bool = False) -> str:
        self.commands.append(command)
        self.constraints.append(constraints_of(command))
        if self.fail is True or (self.fail and len(self.commands) <= self.fail):
            raise RuntimeError(
                f"Couldn't install {desc}.\nCommand: pip {command}\nstderr: ERROR: Cannot install"
                " transformers\nERROR: ResolutionImpossible: for help visit https://pip.pypa.io"
            )
        for name in re.findall(r'"([A-Za-z0-9_.\-]+)[<>=!~]', command):
            self.versions[name] = NEWEST[name]
            self.versions.update(self.pulls_in.get(name, {}))
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


def installed_in(launch: StandInLaunch, requires: dict | None = None) -> install.Installed:
    """The stand-in's versions as install.py reads them (requires: Requires-Dist by name)."""
    return install.Installed(
        version=launch.versions.get,
        requires=(requires or {}).get,
        everything=lambda: {canonicalize_name(k): v for k, v in launch.versions.items() if v},
    )


def run(launch, env=None, requires=None):
    printed: list[str] = []
    install.main(launch, env or {}, installed_in(launch, requires), printed.append)
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


def test_installs_what_is_missing_in_one_command_keeping_torch_and_the_webui_pins(webui):
    launch = StandInLaunch(webui, versions_like_a1111())
    printed = run(launch)
    [command] = launch.commands
    asked = re.findall(r'"([^"]+)"', command.split(" -c ")[0])
    assert asked == ["transformers<5,>=4.48", "accelerate>=0.33", "ftfy>=6.1"]
    constraints = constraints_of(command).splitlines()
    assert constraints[0] == "torch==2.1.2+cu121"
    # what the WebUI pins stays as installed (or as pinned), but for the pins ours reject
    assert {"numpy==1.26.2", "safetensors==0.4.2", "setuptools==69.5.1"} <= set(constraints)
    assert {"transformers<5,>=4.48", "accelerate>=0.33"} <= set(constraints)
    assert not any(c.startswith(("transformers==", "accelerate==")) for c in constraints)
    assert not any(a.lower().startswith("torch") for a in asked)
    changed = "transformers: 4.30.2 -> 4.57.6 (transformers<5,>=4.48; the WebUI pins 4.30.2)"
    assert f"[sd-webui-wan-deforum] {changed}" in printed
    assert any("ftfy: not installed -> 6.3.1 (ftfy>=6.1)" in line for line in printed)


def test_every_changed_package_is_printed_pulled_in_ones_too(webui):
    launch = StandInLaunch(webui, versions_like_a1111())
    launch.pulls_in = {"transformers": {"tokenizers": "0.22.1", "safetensors": "0.6.2"}}
    printed = run(launch)
    assert "[sd-webui-wan-deforum] tokenizers: not installed -> 0.22.1 (pulled in)" in printed
    assert (
        "[sd-webui-wan-deforum] safetensors: 0.4.2 -> 0.6.2 (pulled in; the WebUI pins 0.4.2)"
    ) in printed


def test_when_pip_cannot_keep_the_webui_pins_it_tries_once_more_with_only_torch(webui):
    launch = StandInLaunch(webui, versions_like_a1111(), fail=1)
    printed = run(launch)
    first, second = launch.constraints
    assert "safetensors==0.4.2" in first.splitlines()
    assert second == "torch==2.1.2+cu121\n"
    assert any("pip could not keep every package the WebUI pins (ERROR: Resolution" in line
               for line in printed)  # fmt: skip
    assert any("transformers: 4.30.2 -> 4.57.6" in line for line in printed)


def test_setuptools_keeps_pkg_resources_where_the_webui_does_not_pin_it(webui):
    # pip "repairs" a setuptools older than torch 2.13+ asks for with the newest one, which has
    # no pkg_resources: AUTOMATIC1111 then died importing pytorch_lightning (seen in a real one).
    (webui / "requirements_versions.txt").write_text("torch\ntransformers==4.30.2\n")
    launch = StandInLaunch(webui, dict(versions_like_a1111(), setuptools="69.5.1"))
    run(launch)
    [command] = launch.commands
    assert constraints_of(command) == ("torch==2.1.2+cu121\ntransformers<5,>=4.48\nsetuptools<82\n")


def test_a_setuptools_without_pkg_resources_is_not_capped(webui):
    (webui / "requirements_versions.txt").write_text("torch\ntransformers==4.30.2\n")
    launch = StandInLaunch(webui, dict(versions_like_a1111(), setuptools="84.2.1"))
    run(launch)
    [command] = launch.commands
    assert constraints_of(command) == "torch==2.1.2+cu121\ntransformers<5,>=4.48\n"


def test_a_torch_that_rejects_a_webui_pin_holds_the_install_back_until_reqs_file(webui):
    """The WebUI could not reinstall its own file with this torch at the next start."""
    torch_needs = {"torch": ["setuptools>=77.0.3", 'optree>=0.13.0; extra == "optree"']}
    versions = dict(versions_like_a1111(), setuptools="69.5.1", torch="2.14.1")
    launch = StandInLaunch(webui, versions)
    [advice] = run(launch, requires=torch_needs)
    assert launch.commands == []
    why = "setuptools==69.5.1 (your torch 2.14.1 needs >=77.0.3)"
    assert f"cannot reinstall its own requirements with this torch ({why})" in advice
    assert "Nothing was installed, so that the WebUI still starts" in advice
    merged = Path(install.data_dir()) / install.MERGED_REQUIREMENTS
    assert "setuptools<82,>=77.0.3" in merged.read_text().splitlines()
    printed = run(launch, {"REQS_FILE": str(merged)}, requires=torch_needs)
    [command] = launch.commands  # setuptools free to move as torch needs, below 82
    assert "setuptools<82" in constraints_of(command).splitlines()
    assert "setuptools==" not in constraints_of(command)
    assert not any("REQS_FILE" in line for line in printed)


def test_torch_conflicts_read_requires_dist_with_markers():
    host = "setuptools==69.5.1\nsympy==1.12\noptree==0.1\n"
    requires = {"torch": ["setuptools>=77.0.3", "sympy>=1.13.3", 'optree>=0.13; extra == "x"']}
    found = torch_conflicts(host, {"torch": "2.14.1"}.get, requires.get)
    assert [p.text() for p in found] == [
        "setuptools==69.5.1 (your torch 2.14.1 needs >=77.0.3)",
        "sympy==1.12 (your torch 2.14.1 needs >=1.13.3)",
    ]
    assert torch_conflicts(host, {}.get, requires.get) == []  # no torch installed


def test_constraints_hold_installed_versions_and_never_an_out_of_range_one():
    ours = [Requirement("numpy>=1.26"), Requirement("transformers>=4.48,<5")]
    host = "numpy==1.26.2\ntransformers==4.30.2\nfastapi==0.94.0\n"
    installed = {"torch": "2.5.1", "numpy": "1.23.5", "fastapi": "0.95.0"}.get
    lines = pip_constraints(host, ours, installed, {}.get).splitlines()
    # numpy installed outside our range: the WebUI's pin, which fits; fastapi kept as installed
    assert lines == ["torch==2.5.1", "numpy==1.26.2", "transformers<5,>=4.48", "fastapi==0.95.0"]


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
    merged = (Path(install.data_dir()) / install.MERGED_REQUIREMENTS).read_text()
    lines = merged.splitlines()
    assert not any("#" in line for line in lines)  # the launcher's line check stops at comments
    assert "setuptools==69.5.1" in lines and "numpy==1.26.2" in lines and "torch" in lines
    assert "transformers<5,>=4.48" in lines and "accelerate>=0.33" in lines
    assert "transformers==4.30.2" not in merged and "diffusers<0.40,>=0.35" in lines
    hosts_own = {"setuptools": "69.5.1", "GitPython": "3.1.32", "fastapi": "0.94.0"}
    installed = launch.versions | hosts_own | {"gradio": "3.41.2"}
    assert would_reinstall(merged, installed) == []
    assert would_reinstall(A1111_PINS, installed) == [
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
    merged = Path(install.data_dir()) / install.MERGED_REQUIREMENTS
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
    assert (tmp_path / "data" / install.MERGED_REQUIREMENTS).is_file()


def test_a_host_pin_our_dependencies_outgrew_becomes_a_floor(webui):
    """Seen in a real A1111: transformers 4.57 pulled safetensors past the host's 0.4.2 pin, so
    the merged file (pin kept) made the launcher reinstall everything at the next start."""
    launch = StandInLaunch(webui, versions_like_a1111())
    launch.versions["safetensors"] = "0.8.0"
    run(launch)
    merged = (Path(install.data_dir()) / install.MERGED_REQUIREMENTS).read_text().splitlines()
    assert "safetensors>=0.4.2" in merged and "safetensors==0.4.2" not in merged
    assert "numpy==1.26.2" in merged  # installed as pinned: the pin stays
    hosts_own = {"setuptools": "69.5.1", "GitPython": "3.1.32", "fastapi": "0.94.0"}
    installed = launch.versions | hosts_own | {"gradio": "3.41.2"}
    assert would_reinstall("\n".join(merged), installed) == []
