"""A stand-in WebUI launcher over a real pip: the WebUI's start-up install steps, in a throwaway
environment of stand-in distributions (metadata only, no code), so that pip's real resolver
decides what installs.

What a start does here, as AUTOMATIC1111 1.10 and Forge's `prepare_environment` do: read
REQS_FILE (default: the WebUI's `requirements_versions.txt`); when any `name==version` line differs
from what is installed, `pip install -r` that file (a failure stops the start); then run each
extension's `install.py` with the WebUI's Python, from the WebUI's folder, `launch` importable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import packaging
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

HOSTS = ROOT / "tests" / "fixtures" / "hosts"
HOST_FILES = {
    "a1111": HOSTS / "a1111-requirements_versions.txt",
    "forge": HOSTS / "forge-requirements_versions.txt",
}
# The launcher's line pattern: a name, then optionally `==version`.
LINE = re.compile(r"\s*([-_a-zA-Z0-9]+)\s*(?:==\s*([-+_.a-zA-Z0-9]+))?\s*")

# Versions on the stand-in index besides every host pin, with the dependencies that matter here
# (modelled on the real ones): transformers 4.57 needs a newer safetensors than the hosts' 0.4.2,
# 4.50 does not (nor does accelerate 0.34, against 1.2); torch 2.13 and newer need
# setuptools>=77.0.3, torch 2.5 does not.
INDEX = {
    "torch": {"2.5.1": [], "2.14.1": ["setuptools>=77.0.3"]},
    "setuptools": {"81.0.0": [], "84.2.1": []},
    "transformers": {
        "4.30.2": ["safetensors>=0.3.1", "tokenizers<0.14,>=0.11.1", "huggingface-hub>=0.14.1"],
        "4.46.1": ["safetensors>=0.4.1", "tokenizers<0.21,>=0.20", "huggingface-hub>=0.23.2"],
        "4.50.0": ["safetensors>=0.4.1", "tokenizers<0.22,>=0.21", "huggingface-hub>=0.26.0"],
        "4.57.6": ["safetensors>=0.4.3", "tokenizers<=0.23,>=0.22", "huggingface-hub>=0.34.0"],
    },
    "tokenizers": {"0.13.3": [], "0.20.3": [], "0.21.4": [], "0.22.1": []},
    "safetensors": {"0.6.2": []},
    "huggingface-hub": {"0.26.2": [], "0.36.2": ["filelock"]},
    "accelerate": {
        "0.21.0": ["torch>=1.10"],
        "0.31.0": ["torch>=1.10"],
        "0.34.2": ["torch>=1.10", "safetensors>=0.3.1"],
        "1.2.0": ["torch>=2.0", "safetensors>=0.4.3"],
    },
    "peft": {
        "0.13.2": ["torch>=1.13", "transformers"],
        "0.17.1": ["torch>=1.13", "transformers", "accelerate>=0.21.0", "safetensors"],
    },
    "diffusers": {
        "0.31.0": ["huggingface-hub>=0.23.2", "safetensors>=0.3.1"],
        "0.39.0": ["huggingface-hub>=0.34.0", "safetensors>=0.3.1", "Pillow"],
    },
    "numexpr": {"2.10.1": ["numpy>=1.23.0"]},
    "ftfy": {"6.3.1": ["wcwidth"]},
    "wcwidth": {"0.2.13": []},
    "imageio-ffmpeg": {"0.6.0": []},
    "opencv-python-headless": {"4.10.0.84": ["numpy>=1.21"]},
    "matplotlib": {"3.9.2": ["numpy>=1.23", "pillow>=8"]},
    "filelock": {"3.13.1": []},
}
# What each host's first start leaves installed besides its pins.
ALSO_INSTALLED = {
    "a1111": {"tokenizers": "0.13.3", "huggingface-hub": "0.26.2", "filelock": "3.13.1"},
    "forge": {"tokenizers": "0.20.3", "filelock": "3.13.1"},
}


def build_index(folder: Path) -> Path:
    """Stand-in wheels for every version above and every pin of both hosts' files."""
    folder.mkdir(parents=True, exist_ok=True)
    versions = {name: dict(by_version) for name, by_version in INDEX.items()}
    for path in HOST_FILES.values():
        for name, pinned in pins(path.read_text()).items():
            versions.setdefault(name, {}).setdefault(pinned, [])
    for name, by_version in versions.items():
        for version, requires in by_version.items():
            _wheel(folder, name, version, requires)
    return folder


def pins(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        match = LINE.match(line)
        if match and match.group(2):
            out[match.group(1)] = match.group(2)
    return out


def would_reinstall(text: str, versions: dict[str, str]) -> list[str]:
    """The lines that fail the launcher's check (a pin that differs, or a line it cannot read)."""
    installed = {canonicalize_name(k): v for k, v in versions.items()}
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = LINE.match(line)
        pinned = match.group(2) if match else None
        if match is None or (pinned and installed.get(canonicalize_name(match.group(1))) != pinned):
            out.append(line.strip())
    return out


@dataclass
class Start:
    """One start: did the host reinstall its file, did it come up, pip's commands, our output."""

    reinstalled: bool
    came_up: bool
    pip_commands: list[str]
    printed: str
    error: str = ""


@dataclass
class WebUI:
    """One WebUI folder with its Python environment, launcher stand-in and our extension."""

    root: Path
    index: Path
    data: Path
    host: str
    torch: str
    pip_log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.pip_log = self.root / "pip-commands.jsonl"
        shutil.copy(HOST_FILES[self.host], self.root / "requirements_versions.txt")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(self.venv)], check=True)
        shutil.copytree(Path(packaging.__file__).parent, self.site / "packaging")
        launch = _LAUNCH.format(pip=sys.executable, index=str(self.index))
        (self.root / "launch.py").write_text(launch)
        first = {**pins(self.host_file.read_text()), **ALSO_INSTALLED[self.host]}
        first["torch"] = self.torch
        self.pip(["install", "--no-deps", *(f"{n}=={v}" for n, v in first.items())])

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def site(self) -> Path:
        return next((self.venv / "lib").glob("python3*/site-packages"))

    @property
    def host_file(self) -> Path:
        return self.root / "requirements_versions.txt"

    @property
    def merged(self) -> Path:
        return self.data / "requirements-webui.txt"

    def versions(self) -> dict[str, str]:
        dists = metadata.distributions(path=[str(self.site)])
        return {canonicalize_name(d.metadata["Name"]): d.version for d in dists}

    def pip(self, args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            pip_command(self.index, self.python, args), env=pip_env(), capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip

    def start(self, reqs_file: Path | None = None) -> Start:
        """One start of the WebUI (its install steps; the UI itself is not started)."""
        self.pip_log.unlink(missing_ok=True)
        requirements = reqs_file or self.host_file
        reinstall = bool(would_reinstall(requirements.read_text(), self.versions()))
        if reinstall:
            done = self.pip(["install", "-r", str(requirements), "--prefer-binary"])
            if done.returncode != 0:
                return Start(True, False, self.pip_commands(), "", done.stdout + done.stderr)
        env = dict(pip_env(), PYTHONPATH=str(self.root), WAN_DATA_DIR=str(self.data))
        if reqs_file is not None:
            env["REQS_FILE"] = str(reqs_file)
        done = subprocess.run(
            [str(self.python), str(ROOT / "install.py")], cwd=self.root, env=env,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return Start(reinstall, True, self.pip_commands(), done.stdout)

    def pip_commands(self) -> list[str]:
        if not self.pip_log.is_file():
            return []
        return [json.loads(line) for line in self.pip_log.read_text().splitlines()]


def pip_command(index: Path, python: Path, args: list[str]) -> list[str]:
    """A real pip (this interpreter's) acting on `python`'s environment, offline, stand-ins only."""
    return [sys.executable, "-m", "pip", "--python", str(python), *args[:1], "--no-index",
            "--find-links", str(index), "--disable-pip-version-check", *args[1:]]  # fmt: skip


def pip_env() -> dict[str, str]:
    """This machine's pip settings left out (indexes, find-links, global constraints)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.pop("REQS_FILE", None)
    return dict(env, PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1")


# The WebUI's `launch` module as install.py sees it: run_pip as the launcher's (RuntimeError with
# pip's output on failure), here a pip over the stand-in index; each command is logged.
_LAUNCH = """
import json, os, pathlib, shlex, subprocess, sys

def run_pip(command, desc=None, live=False):
    log = pathlib.Path(__file__).with_name("pip-commands.jsonl")
    with log.open("a") as f:
        f.write(json.dumps(command) + "\\n")
    args = shlex.split(command)
    full = [{pip!r}, "-m", "pip", "--python", sys.executable, args[0], "--no-index",
            "--find-links", {index!r}, "--disable-pip-version-check", *args[1:], "--prefer-binary"]
    done = subprocess.run(full, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"Couldn't install {{desc}}.\\nCommand: {{command}}\\n"
                           f"stdout: {{done.stdout}}\\nstderr: {{done.stderr}}")
    return done.stdout
"""


def _wheel(folder: Path, name: str, version: str, requires: list[str]) -> None:
    dist = f"{re.sub(r'[-_.]+', '_', name)}-{version}"
    info = f"{dist}.dist-info"
    requires_text = "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + requires_text,
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
