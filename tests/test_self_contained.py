"""The repository stands on its own: a clone with no folder beside it runs its tests, and every
document a file cites by path is in the repository."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT

# Built from pieces so that this file does not match itself.
OUTSIDE = re.compile("|".join([r"\.\./" + "shared", "/work/" + "shared", "shared/" + "fixtures"]))
# A path ending in .md that is not part of a longer path or a URL (docs/DESIGN.md, README.md).
CITED_DOC = re.compile(r"(?<![\w./:-])((?:[\w.-]+/)*[A-Za-z][\w-]*\.md)\b")


def _repository_text_files() -> list[str]:
    """Tracked files and new ones not ignored: what a commit of this tree would hold."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    names = []
    for name in sorted(set(filter(None, listed.split("\0")))):
        path = ROOT / name
        if path.is_file() and b"\0" not in path.read_bytes()[:8192]:
            names.append(name)
    return names


def _lines() -> list[tuple[str, int, str]]:
    found = []
    for name in _repository_text_files():
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        found += [(name, number, line) for number, line in enumerate(text.splitlines(), 1)]
    return found


LINES = _lines()


def test_the_files_are_listed():
    names = {name for name, _, _ in LINES}
    assert {"tests/conftest.py", "docs/DESIGN.md", "tests/fixtures/deforum/README.md"} <= names


def test_no_file_reaches_outside_the_repository():
    outside = [
        f"{name}:{number}: {line.strip()}" for name, number, line in LINES if OUTSIDE.search(line)
    ]
    assert not outside, "files that read from outside the repository:\n" + "\n".join(outside)


def test_every_cited_document_is_in_the_repository():
    """A path is found from the root or the citing file's folder; a bare name ("DESIGN.md")
    must be the name of a file in the repository."""
    file_names = {name.rsplit("/", 1)[-1] for name, _, _ in LINES}
    missing = []
    for name, number, line in LINES:
        for cited in CITED_DOC.findall(line):
            found = (ROOT / cited).is_file() or ((ROOT / name).parent / cited).is_file()
            if not found and not ("/" not in cited and cited in file_names):
                missing.append(f"{name}:{number}: {cited}")
    assert not missing, "documents cited but not in the repository:\n" + "\n".join(missing)
