"""The WebUIs' kornia 0.6.7 must not break diffusers' pipeline imports (seen in a real A1111)."""

import importlib.util
import sys
from types import ModuleType

import pytest
from diffusers.utils import import_utils

from wan.host.kornia_compat import hide_unusable_kornia


def _fake_kornia(monkeypatch, with_pyramid: bool) -> None:
    names = ["kornia", "kornia.geometry", "kornia.geometry.transform"]
    modules = {name: ModuleType(name) for name in names}
    modules["kornia"].geometry = modules["kornia.geometry"]
    modules["kornia.geometry"].transform = modules["kornia.geometry.transform"]
    if with_pyramid:
        modules["kornia.geometry.transform"].build_laplacian_pyramid = lambda *a: None
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)


def test_an_old_kornia_is_hidden_from_diffusers(monkeypatch):
    _fake_kornia(monkeypatch, with_pyramid=False)
    monkeypatch.setattr(import_utils, "_kornia_available", True)
    assert hide_unusable_kornia()
    assert not import_utils.is_kornia_available()


def test_a_kornia_with_the_pyramid_is_left_alone(monkeypatch):
    _fake_kornia(monkeypatch, with_pyramid=True)
    monkeypatch.setattr(import_utils, "_kornia_available", True)
    assert not hide_unusable_kornia()
    assert import_utils.is_kornia_available()


@pytest.mark.skipif(importlib.util.find_spec("kornia") is not None, reason="kornia installed")
def test_no_kornia_changes_nothing(monkeypatch):
    monkeypatch.setattr(import_utils, "_kornia_available", False)
    assert not hide_unusable_kornia()


def test_the_command_line_hides_an_old_kornia_too(monkeypatch, capsys):
    """`python -m wan render` with the WebUI's Python goes through the same check."""
    from wan.cli.main import main

    _fake_kornia(monkeypatch, with_pyramid=False)
    monkeypatch.setattr(import_utils, "_kornia_available", True)
    assert main(["models", "--json"]) == 0
    assert not import_utils.is_kornia_available()
