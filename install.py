"""Run by the WebUI at launch (in its own process): install what requirements.txt asks for.

Only requirements that are missing or outside their range are installed, in one pip command
through the host's `launch.run_pip`, with the installed torch, torchvision and torchaudio pinned
as constraints so that pip never changes them (the host owns torch), and setuptools kept below 82
(which removed pkg_resources, that A1111 imports). It prints what it changed.

The WebUI's own pins: before this script runs, AUTOMATIC1111 1.10 and Forge reinstall their
`requirements_versions.txt` (or the file named by the REQS_FILE variable) whenever one of its
`name==version` lines differs from what is installed, which puts back transformers 4.30.2 (A1111)
or diffusers 0.31.0 and transformers 4.46.1 (Forge) at every start. This script writes that file
merged with our ranges into the extension's data folder, says when the host downgraded a package
at this start, and tells the user how to point REQS_FILE at the merged file (docs/HOSTS.md).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

EXTENSION = Path(__file__).resolve().parent
if str(EXTENSION) not in sys.path:
    sys.path.insert(0, str(EXTENSION))

from packaging.utils import canonicalize_name  # noqa: E402
from packaging.version import Version  # noqa: E402

from wan.host.deps import (  # noqa: E402
    ALTERNATIVES,
    HOST_REQUIREMENTS,
    NEVER,
    conflicts,
    host_pins,
    installed_version,
    merged_requirements,
    read_requirements,
    unmet,
)
from wan.paths import data_dir  # noqa: E402

__all__ = ["ALTERNATIVES", "NEVER", "main", "read_requirements", "unmet"]

MERGED_FILE = "requirements-webui.txt"
CONSTRAINTS_FILE = "constraints-webui.txt"
STATE_FILE = "install-state.json"
LABEL = "sd-webui-wan-deforum"
PKG_RESOURCES_GONE = Version("82")  # setuptools 82.0.0 removed pkg_resources


def main(
    launch=None,
    env: Mapping[str, str] = os.environ,
    version_of: Callable[[str], str | None] = installed_version,
    out: Callable[[str], None] = print,
) -> list[str]:
    """Install what is missing; returns (and prints) one line per change or problem."""
    if launch is None:
        import launch  # the host's module; only present inside the WebUI
    folder = data_dir()
    ours = read_requirements()
    host_text = _host_requirements(launch)
    merged = folder / MERGED_FILE
    previous = _read_state(folder / STATE_FILE)
    missing = unmet(ours, version_of)
    lines = _downgrades(missing, host_pins(host_text), previous, version_of)
    if missing:
        lines += _install(launch, missing, folder, version_of)
        _write_state(folder / STATE_FILE, ours, version_of)
    if host_text:  # after the install: pins our dependencies outgrew become floors
        _write_if_changed(merged, merged_requirements(host_text, ours, version_of))
    pins = conflicts(host_text, ours)
    if pins and not _same_file(env.get("REQS_FILE"), merged):
        lines.append(reqs_file_advice(pins, merged))
    for line in lines:
        out(f"[{LABEL}] {line}")
    return lines


def reqs_file_advice(pins: list, merged: Path) -> str:
    pinned = ", ".join(p.text() for p in pins)
    return (
        f"the WebUI pins {pinned}, and reinstalls its pins at every start before extensions "
        "install theirs. To keep both without editing the WebUI, point it at the merged file "
        f"this script wrote: webui-user.bat: set REQS_FILE={merged}  |  webui-user.sh: export "
        f'REQS_FILE="{merged}"  (remove that line if you uninstall the extension; see '
        "docs/HOSTS.md)."
    )


def _install(launch, missing: list, folder: Path, version_of) -> list[str]:
    if version_of("torch") is None:
        return [
            "torch is not installed, so nothing was installed (pip would pull a torch the "
            "WebUI did not choose); start the WebUI normally so that it installs torch first."
        ]
    before = {req.name: version_of(req.name) for req in missing}
    constraints = folder / CONSTRAINTS_FILE
    _write_if_changed(constraints, _torch_constraints(version_of))
    wanted = " ".join(f'"{req}"' for req in missing)
    try:
        launch.run_pip(f'install {wanted} -c "{constraints}"', f"{LABEL} requirements: {wanted}")
    except Exception as error:  # the host raises RuntimeError with pip's output
        return [f"installing {wanted} failed: {error}"]
    lines = []
    for req in missing:
        old, new = before[req.name], version_of(req.name)
        lines.append(f"{req.name}: {old or 'not installed'} -> {new or 'not installed'} ({req})")
    return lines


def _downgrades(missing: list, pins: dict, previous: dict, version_of) -> list[str]:
    """Requirements the WebUI put back to its own pin since we installed them."""
    lines = []
    for req in missing:
        name = canonicalize_name(req.name)
        now, had = version_of(req.name), previous.get(name)
        if had and now and now != had and pins.get(name) == now:
            lines.append(
                f"the WebUI put {req.name} back to {now} at this start (its requirements pin "
                f"it; {had} was installed before); installing {req} again."
            )
    return lines


def _torch_constraints(version_of) -> str:
    pins = [f"{name}=={version_of(name)}" for name in sorted(NEVER) if version_of(name)]
    setuptools = version_of("setuptools")
    if setuptools and Version(setuptools) < PKG_RESOURCES_GONE:
        # torch 2.14 requires setuptools>=77.0.3, so pip "repairs" the WebUI's setuptools 69.5.1
        # with the newest one, which has no pkg_resources: AUTOMATIC1111 then dies at start
        # importing pytorch_lightning (seen in a real WebUI). Keep one that still has it.
        pins.append(f"setuptools<{PKG_RESOURCES_GONE}")
    return "\n".join(pins) + "\n"


def _host_requirements(launch) -> str:
    """The WebUI's own requirements_versions.txt (not REQS_FILE, which may be ours)."""
    root = Path(getattr(launch, "__file__", None) or Path.cwd() / "launch.py").resolve().parent
    path = root / HOST_REQUIREMENTS
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _same_file(value: str | None, path: Path) -> bool:
    if not value:
        return False
    try:
        return Path(value).expanduser().resolve() == path.resolve()
    except OSError:
        return False


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _read_state(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    installed = data.get("installed") if isinstance(data, dict) else None
    return installed if isinstance(installed, dict) else {}


def _write_state(path: Path, ours: list, version_of) -> None:
    versions = {canonicalize_name(r.name): version_of(r.name) for r in ours}
    installed = {name: version for name, version in versions.items() if version}
    path.write_text(json.dumps({"installed": installed}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
