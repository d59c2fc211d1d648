"""The extension's requirements against what is installed (pure but for reading metadata).

Imports only the standard library and `packaging`: `install.py` uses it in the WebUI's launcher
process before any dependency is installed, and the extension checks the same ranges at load.
The WebUI's own pinned file is `host_requirements`' subject.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
MERGED_REQUIREMENTS = "requirements-webui.txt"  # install.py's merged file, in the data folder

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


def installed_requires(name: str) -> list[str] | None:
    """The `Requires-Dist` lines of an installed distribution (None when it is not installed)."""
    try:
        return metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return None


def installed_versions() -> dict[str, str]:
    """Every installed distribution's version, by canonical name (read fresh at each call)."""
    out = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out.setdefault(canonicalize_name(name), dist.version)
    return out
