"""Run by the WebUI at launch (in its own process): install what requirements.txt asks for.

Only requirements that are missing or outside their version range are installed, through the
host's `launch.run_pip`. torch is never installed here: the host owns it.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
# Any of these distributions provides the module another one would (all give `cv2`).
ALTERNATIVES = {
    "opencv-python-headless": (
        "opencv-python",
        "opencv-contrib-python",
        "opencv-contrib-python-headless",
    ),
}
NEVER = {"torch", "torchvision", "torchaudio"}


def read_requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def unmet(requirements: list[Requirement], version_of=installed_version) -> list[Requirement]:
    """The requirements no installed distribution satisfies (torch and friends excluded)."""
    out = []
    for req in requirements:
        if req.name.lower() in NEVER:
            continue
        names = (req.name, *ALTERNATIVES.get(req.name.lower(), ()))
        versions = [v for v in map(version_of, names) if v is not None]
        if not any(req.specifier.contains(v, prereleases=True) for v in versions):
            out.append(req)
    return out


def main() -> None:
    import launch  # the host's module; only present inside the WebUI

    for req in unmet(read_requirements()):
        launch.run_pip(f'install "{req}"', f"sd-webui-wan-deforum requirement: {req}")


if __name__ == "__main__":
    main()
