"""The extension's requirements against what is installed and what the WebUI pins (pure but for
reading metadata).

Imports only the standard library and `packaging`: `install.py` uses it in the WebUI's launcher
process before any dependency is installed, and the extension checks the same ranges at load.

Why a merged requirements file: at every start AUTOMATIC1111 (and Forge, same launcher) reads
`REQS_FILE` (default `requirements_versions.txt`) and, when any `name==version` line there does
not match what is installed, runs `pip install -r` on the whole file before extensions' install
scripts run. Its pins (transformers 4.30.2 and accelerate 0.21.0 in A1111 1.10; diffusers 0.31.0,
transformers 4.46.1, peft 0.13.2 and huggingface-hub 0.26.2 in Forge) are older than ours, so the
WebUI would undo our upgrade at each start. The merged file is the host's file with each
conflicting pin replaced by our range; the launcher's check skips lines without `==`, so pointing
`REQS_FILE` at it keeps both sets installed without editing the WebUI's files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

REQUIREMENTS = Path(__file__).resolve().parent.parent.parent / "requirements.txt"
# Any of these distributions provides the module another one would (all give `cv2`).
ALTERNATIVES = {
    "opencv-python-headless": (
        "opencv-python",
        "opencv-contrib-python",
        "opencv-contrib-python-headless",
    ),
}
NEVER = {"torch", "torchvision", "torchaudio"}  # the host owns them
HOST_REQUIREMENTS = "requirements_versions.txt"  # the WebUI's pins, in its own folder

VersionOf = Callable[[str], "str | None"]


def read_requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    return parse_requirements(path.read_text(encoding="utf-8"))


def parse_requirements(text: str) -> list[Requirement]:
    """Requirement lines of a requirements file; comments, blanks and pip options left out."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def satisfied(req: Requirement, version_of: VersionOf = installed_version) -> bool:
    """An installed distribution (or one of its alternatives) is inside the range."""
    names = (req.name, *ALTERNATIVES.get(canonicalize_name(req.name), ()))
    versions = [v for v in map(version_of, names) if v is not None]
    return any(req.specifier.contains(v, prereleases=True) for v in versions)


def unmet(
    requirements: list[Requirement], version_of: VersionOf = installed_version
) -> list[Requirement]:
    """The requirements no installed distribution satisfies (torch and friends excluded)."""
    return [
        req
        for req in requirements
        if canonicalize_name(req.name) not in NEVER and not satisfied(req, version_of)
    ]


@dataclass(frozen=True)
class HostPin:
    """A `name==version` line of the WebUI's requirements that our range does not accept."""

    name: str
    pinned: str
    ours: str

    def text(self) -> str:
        return f"{self.name}=={self.pinned} (we need {self.ours})"


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


def merged_requirements(
    host_text: str, ours: Iterable[Requirement], version_of: VersionOf | None = None
) -> str:
    """The WebUI's requirements with each pin ours rejects replaced by our range, then ours.

    With `version_of` (what is installed now, after our install), a pin that an installed newer
    version no longer matches becomes a floor (`name>=pinned`): our dependencies pulled it up
    (transformers 4.57 needs a newer safetensors than A1111's 0.4.2), and a pin left as it is
    would make the launcher reinstall the whole file at the next start. No comments: the
    launcher's line check gives up (and reinstalls everything) on a line that does not start
    with a package name.
    """
    ours = [r for r in ours if canonicalize_name(r.name) not in NEVER]
    by_name = {canonicalize_name(r.name): r for r in ours}
    rejected = {canonicalize_name(c.name) for c in conflicts(host_text, ours)}
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
        if name in rejected:
            lines.append(str(by_name[name]))
        else:
            lines.append(_floor_if_outgrown(req, line, version_of))
    lines += [str(r) for r in ours if canonicalize_name(r.name) not in seen]
    return "\n".join(lines) + "\n"


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
