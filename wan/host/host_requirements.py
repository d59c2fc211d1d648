"""The WebUI's own requirements file against ours and the installed torch (pure).

At every start AUTOMATIC1111 and Forge (same launcher) read `REQS_FILE` (default
`requirements_versions.txt`) and, when any `name==version` line there differs from what is
installed, run `pip install -r` on the whole file before extensions' install scripts run. Three
consequences shape what `install.py` does:

- Our install must change as few of those pins as it can: every changed pin makes the next
  start reinstall the whole file. So the host's pins are kept (as pip constraints) except the
  ones our ranges reject, and the ones the installed torch itself rejects (see below).
- The host's file may be impossible to install with the torch the user put in: a torch that
  requires `setuptools>=77.0.3` against the host's `setuptools==69.5.1` makes pip answer
  ResolutionImpossible (seen in a real WebUI), so the WebUI starts only while its check passes.
  Changing one of its pins then stops the next start: `torch_conflicts` names that case.
- The merged file for `REQS_FILE` is the host's file with each pin ours or torch rejects
  replaced by a range (the launcher's check skips lines without `==`), so it always installs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from wan.host.deps import NEVER, VersionOf

RequiresOf = Callable[[str], "list[str] | None"]
PKG_RESOURCES_GONE = Version("82")  # setuptools 82.0.0 removed pkg_resources, which A1111 imports


@dataclass(frozen=True)
class HostPin:
    """A `name==version` line of the WebUI's requirements that a requirement does not accept."""

    name: str
    pinned: str
    ours: str
    by: str = ""  # who needs the other range: "" for us, else e.g. "torch 2.14.1"

    def text(self) -> str:
        who = f"your {self.by} needs" if self.by else "we need"
        return f"{self.name}=={self.pinned} ({who} {self.ours})"


def host_pins(text: str) -> dict[str, str]:
    """`name==version` pins of a WebUI requirements file, by canonical name."""
    pins = {}
    for line in text.splitlines():
        req = _requirement(line)
        if req is None:
            continue
        exact = [s.version for s in req.specifier if s.operator == "=="]
        if exact:
            pins[canonicalize_name(req.name)] = exact[0]
    return pins


def conflicts(host_text: str, ours: Iterable[Requirement]) -> list[HostPin]:
    """Our requirements the WebUI pins to a version outside our range."""
    pins = host_pins(host_text)
    out = []
    for req in ours:
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is not None and not req.specifier.contains(pinned, prereleases=True):
            out.append(HostPin(req.name, pinned, str(req.specifier)))
    return out


def torch_conflicts(
    host_text: str, version_of: VersionOf, requires_of: RequiresOf
) -> list[HostPin]:
    """Pins of the WebUI the installed torch (or torchvision, torchaudio) does not accept.

    E.g. torch 2.13 and newer require setuptools>=77.0.3 while both WebUIs pin 69.5.1: pip can
    then install neither the WebUI's file nor anything that depends on torch with that pin.
    """
    pins = host_pins(host_text)
    out = []
    for owner in sorted(NEVER):
        version = version_of(owner)
        for line in (requires_of(owner) or []) if version else []:
            req = _requirement(line)
            if req is None or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
                continue
            pinned = pins.get(canonicalize_name(req.name))
            if pinned is not None and not req.specifier.contains(pinned, prereleases=True):
                out.append(HostPin(req.name, pinned, str(req.specifier), f"{owner} {version}"))
    return out


def replacements(
    host_text: str, ours: Iterable[Requirement], version_of: VersionOf, requires_of: RequiresOf
) -> dict[str, str]:
    """The host pins that cannot stay, by canonical name, with the range that replaces each."""
    ours = list(ours)
    by_name = {canonicalize_name(r.name): r for r in ours}
    out: dict[str, SpecifierSet] = {}
    for pin in conflicts(host_text, ours):
        name = canonicalize_name(pin.name)
        out[name] = SpecifierSet(str(by_name[name].specifier))
    for pin in torch_conflicts(host_text, version_of, requires_of):
        name = canonicalize_name(pin.name)
        out[name] = out.get(name, SpecifierSet()) & SpecifierSet(pin.ours)
    if "setuptools" in out and Version(host_pins(host_text)["setuptools"]) < PKG_RESOURCES_GONE:
        out["setuptools"] &= SpecifierSet(f"<{PKG_RESOURCES_GONE}")
    names = {canonicalize_name(r.name): r.name for r in ours}
    return {name: f"{names.get(name, name)}{spec}" for name, spec in out.items()}


def pip_constraints(
    host_text: str, ours: Iterable[Requirement], version_of: VersionOf, requires_of: RequiresOf
) -> str:
    """Constraints for our pip command: torch as installed, and every package the WebUI pins kept
    at its installed version unless a replacement says otherwise, so that nothing the host pins
    changes unless we (or its torch) need it."""
    ours = list(ours)
    by_name = {canonicalize_name(r.name): r for r in ours}
    replaced = replacements(host_text, ours, version_of, requires_of)
    lines = [f"{name}=={version_of(name)}" for name in sorted(NEVER) if version_of(name)]
    for name, pinned in host_pins(host_text).items():
        installed, wanted = version_of(name), by_name.get(name)
        if name in NEVER:
            continue
        if name in replaced:
            lines.append(replaced[name])
        elif installed and (wanted is None or wanted.specifier.contains(installed, True)):
            lines.append(f"{name}=={installed}")
        else:  # not installed, or installed outside our range: the host's pin, which fits ours
            lines.append(f"{name}=={pinned}")
    setuptools = version_of("setuptools")
    unpinned = "setuptools" not in host_pins(host_text)
    if unpinned and setuptools and Version(setuptools) < PKG_RESOURCES_GONE:
        lines.append(f"setuptools<{PKG_RESOURCES_GONE}")  # a newer one drops pkg_resources
    return "\n".join(lines) + "\n"


def merged_requirements(
    host_text: str,
    ours: Iterable[Requirement],
    version_of: VersionOf | None = None,
    requires_of: RequiresOf | None = None,
) -> str:
    """The WebUI's requirements with each pin ours or torch rejects replaced by a range, then ours.

    With `version_of` (what is installed now, after our install), a pin that an installed newer
    version no longer matches becomes a floor (`name>=pinned`): our dependencies pulled it up,
    and a pin left as it is would make the launcher reinstall the whole file at the next start.
    No comments: the launcher's line check gives up (and reinstalls everything) on a line that
    does not start with a package name.
    """
    ours = [r for r in ours if canonicalize_name(r.name) not in NEVER]
    replaced = replacements(
        host_text, ours, version_of or _nothing_installed, requires_of or _no_requires
    )
    lines, seen = [], set()
    for line in host_text.splitlines():
        req = _requirement(line)
        if req is None:  # blank, comment, pip option or a line pip reads its own way: kept
            text = _without_comment(line)
            if text:
                lines.append(text)
            continue
        name = canonicalize_name(req.name)
        seen.add(name)
        if name in replaced:
            lines.append(replaced[name])
        else:
            lines.append(_floor_if_outgrown(req, line, version_of))
    lines += [str(r) for r in ours if canonicalize_name(r.name) not in seen]
    return "\n".join(lines) + "\n"


def changed_versions(
    before: Mapping[str, str], after: Mapping[str, str]
) -> list[tuple[str, str | None, str | None]]:
    """(name, before, after) for every distribution pip added, removed or changed, by name."""
    names = sorted(set(before) | set(after))
    return [(n, before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n)]


def _nothing_installed(name: str) -> None:
    return None


def _no_requires(name: str) -> None:
    return None


def _floor_if_outgrown(req: Requirement, line: str, version_of: VersionOf | None) -> str:
    exact = [s.version for s in req.specifier if s.operator == "=="]
    installed = version_of(req.name) if version_of is not None and exact else None
    if installed is None or canonicalize_name(req.name) in NEVER:
        return _without_comment(line)
    try:
        outgrown = Version(installed) > Version(exact[0])
    except InvalidVersion:
        outgrown = False
    return f"{req.name}>={exact[0]}" if outgrown else _without_comment(line)


def _without_comment(line: str) -> str:
    return line.split("#", 1)[0].strip()


def _requirement(line: str) -> Requirement | None:
    text = _without_comment(line)
    if not text or text.startswith("-"):
        return None
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None
