"""Run by the WebUI at launch (in its own process): install what requirements.txt asks for.

Only requirements that are missing or outside their range are installed, in one pip command
through the host's `launch.run_pip`, with constraints that keep the installed torch, torchvision
and torchaudio (the host owns torch) and every package the WebUI pins at its installed version,
except the pins our ranges (or the installed torch) reject: nothing the WebUI pins changes unless
we need it. setuptools stays below 82 (which removed pkg_resources, that A1111 imports). Every
package whose version changed is printed, asked for or pulled in.

The WebUI's own pins: before this script runs, AUTOMATIC1111 1.10 and Forge reinstall their
`requirements_versions.txt` (or the file named by the REQS_FILE variable) whenever one of its
`name==version` lines differs from what is installed, which puts back transformers 4.30.2 (A1111)
or diffusers 0.31.0 and transformers 4.46.1 (Forge) at every start: slow, but the WebUI starts.
It does not start when its file cannot be installed at all, which is the case with a torch that
requires a newer setuptools than the WebUI pins: then nothing is installed until REQS_FILE points
at the merged file this script writes (the WebUI's file with the pins that cannot stay replaced
by ranges), and the script says so. See docs/HOSTS.md and `wan.host.host_requirements`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

EXTENSION = Path(__file__).resolve().parent
if str(EXTENSION) not in sys.path:
    sys.path.insert(0, str(EXTENSION))

from packaging.utils import canonicalize_name  # noqa: E402

from wan.host.deps import (  # noqa: E402
    ALTERNATIVES,
    HOST_REQUIREMENTS,
    MERGED_REQUIREMENTS,
    NEVER,
    VersionOf,
    installed_requires,
    installed_version,
    installed_versions,
    read_requirements,
    unmet,
)
from wan.host.host_requirements import (  # noqa: E402
    HostPin,
    RequiresOf,
    changed_versions,
    conflicts,
    host_pins,
    merged_requirements,
    pip_constraints,
    torch_conflicts,
)
from wan.paths import data_dir  # noqa: E402

__all__ = ["ALTERNATIVES", "NEVER", "Installed", "main", "read_requirements", "unmet"]

CONSTRAINTS_FILE = "constraints-webui.txt"
STATE_FILE = "install-state.json"
LABEL = "sd-webui-wan-deforum"


@dataclass(frozen=True)
class Installed:
    """What is installed, read through importlib.metadata at each call (tests give their own)."""

    version: VersionOf = installed_version
    requires: RequiresOf = installed_requires
    everything: Callable[[], dict[str, str]] = installed_versions


def main(
    launch=None,
    env: Mapping[str, str] = os.environ,
    installed: Installed = Installed(),
    out: Callable[[str], None] = print,
) -> list[str]:
    """Install what is missing; returns (and prints) one line per change or problem."""
    if launch is None:
        import launch  # the host's module; only present inside the WebUI
    folder = data_dir()
    ours = read_requirements()
    root = _webui_root(launch)
    host_text = _read(root / HOST_REQUIREMENTS)  # the WebUI's own file, not REQS_FILE
    merged = folder / MERGED_REQUIREMENTS
    uses_merged = _same_file(env.get("REQS_FILE"), merged)
    active_text = _active_requirements(root, env.get("REQS_FILE"), host_text)
    missing = unmet(ours, installed.version)
    pins = conflicts(host_text, ours)
    stuck = (
        [] if uses_merged else torch_conflicts(active_text, installed.version, installed.requires)
    )
    previous = _read_state(folder / STATE_FILE)
    lines = _downgrades(missing, host_pins(host_text), previous, installed.version)
    held_back = bool(missing and stuck)  # any pip run could change a pin the WebUI can't restore
    if missing and not held_back:
        lines += _install(launch, missing, active_text, host_text, ours, folder, installed)
        _write_state(folder / STATE_FILE, ours, installed.version)
    if host_text:  # after the install: pins our dependencies outgrew become floors
        text = merged_requirements(host_text, ours, installed.version, installed.requires)
        _write_if_changed(merged, text)
    if (pins or held_back) and not uses_merged:
        lines.append(reqs_file_advice(pins, stuck, merged, held_back))
    for line in lines:
        out(f"[{LABEL}] {line}")
    return lines


def reqs_file_advice(
    pins: list[HostPin], stuck: list[HostPin], merged: Path, held_back: bool
) -> str:
    """What happens without REQS_FILE, said once, and the line that avoids it."""
    pinned = ", ".join(p.text() for p in pins)
    how = (
        f"point REQS_FILE at the merged file this script wrote: webui-user.bat: set "
        f'REQS_FILE={merged}  |  webui-user.sh: export REQS_FILE="{merged}"  (remove that line '
        "if you uninstall the extension; see docs/HOSTS.md)."
    )
    if stuck:
        why = ", ".join(p.text() for p in stuck)
        needs = f"Wan needs other versions of some of them ({pinned}). " if pins else ""
        done = "Nothing was installed, so that the WebUI still starts. " if held_back else ""
        return (
            f"the WebUI cannot reinstall its own requirements with this torch ({why}), and it "
            f"tries at every start where one of its pins differs. {needs}{done}To use Wan, {how}"
        )
    return (
        f"without REQS_FILE the WebUI starts, but at every start it puts back its own pins "
        f"({pinned}) and this script then installs Wan's versions again, so each start "
        f"reinstalls them (slow). To keep both, {how}"
    )


def _install(
    launch, missing: list, active_text: str, host_text: str, ours: list, folder: Path, installed
) -> list[str]:
    """pip with the WebUI's pins kept; if pip cannot keep them, again with only torch kept."""
    if installed.version("torch") is None:
        return [
            "torch is not installed, so nothing was installed (pip would pull a torch the "
            "WebUI did not choose); start the WebUI normally so that it installs torch first."
        ]

    def constraints(text: str) -> str:
        return pip_constraints(text, ours, installed.version, installed.requires)

    wanted = " ".join(f'"{req}"' for req in missing)
    before, lines = installed.everything(), []
    error = _run_pip(launch, wanted, folder, constraints(active_text))
    if error is not None and host_pins(active_text):
        lines.append(
            f"pip could not keep every package the WebUI pins ({_first_error(error)}); "
            "installing again with only torch kept."
        )
        error = _run_pip(launch, wanted, folder, constraints(""))
    if error is not None:
        lines.append(f"installing {wanted} failed: {error}")
    return lines + _changes(before, installed.everything(), missing, host_pins(host_text))


def _run_pip(launch, wanted: str, folder: Path, constraints_text: str) -> str | None:
    """None on success, else the host's error text (it raises RuntimeError with pip's output)."""
    constraints = folder / CONSTRAINTS_FILE
    _write_if_changed(constraints, constraints_text)
    try:
        launch.run_pip(f'install {wanted} -c "{constraints}"', f"{LABEL} requirements: {wanted}")
    except Exception as error:
        return str(error)
    return None


def _changes(before: dict, after: dict, missing: list, pins: dict) -> list[str]:
    """One line per distribution pip changed: asked for (with our range) or pulled in."""
    asked = {canonicalize_name(req.name): req for req in missing}
    lines = []
    for name, old, new in changed_versions(before, after):
        req = asked.get(name)
        why = str(req) if req else "pulled in"
        if name in pins:
            why += f"; the WebUI pins {pins[name]}"
        label = req.name if req else name
        lines.append(f"{label}: {old or 'not installed'} -> {new or 'not installed'} ({why})")
    return lines


def _first_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[0][:300]


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


def _webui_root(launch) -> Path:
    return Path(getattr(launch, "__file__", None) or Path.cwd() / "launch.py").resolve().parent


def _active_requirements(root: Path, reqs_file: str | None, host_text: str) -> str:
    """The file the WebUI checked at this start: REQS_FILE (relative to the WebUI) or its own."""
    if not reqs_file:
        return host_text
    path = Path(reqs_file).expanduser()
    return _read(path if path.is_absolute() or path.is_file() else root / path) or host_text


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else ""
    except OSError:
        return ""


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
