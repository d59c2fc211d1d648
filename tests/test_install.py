from packaging.requirements import Requirement

import install


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
