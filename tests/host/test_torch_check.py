"""The load-time checks: torch new enough for diffusers' Wan code, dependencies in range."""

from __future__ import annotations

import inspect

import pytest

from wan.host import torch_check


@pytest.mark.parametrize("version", ["2.1.2", "2.1.2+cu121", "2.3.1+cu121", "2.4.1"])
def test_the_hosts_default_torch_is_too_old_and_the_message_says_how_to_upgrade(version):
    message = torch_check.torch_problem(version)
    assert f"needs torch >= 2.5 (this WebUI has {version})" in message
    assert "TORCH_COMMAND" in message and "--reinstall-torch" in message
    assert "docs/HOSTS.md" in message


@pytest.mark.parametrize("version", ["2.5.0", "2.5.1+cu124", "2.13.0+cpu", "2.6.0.dev20241101"])
def test_new_enough_torch_passes(version):
    assert torch_check.torch_problem(version) is None


def test_no_torch_and_an_unreadable_version():
    assert "torch is not installed" in torch_check.torch_problem(None)
    assert torch_check.torch_problem("custom-build") is None


def test_the_floor_is_what_diffusers_wan_code_calls():
    """Guards the reasoning of the module doc against the installed diffusers."""
    from diffusers.models import attention_dispatch
    from diffusers.models.transformers import transformer_wan

    native = inspect.getsource(attention_dispatch._native_attention)
    assert "enable_gqa=enable_gqa" in native  # torch >= 2.5 keyword, passed unconditionally
    assert "torch.nn.RMSNorm" in inspect.getsource(transformer_wan)  # torch >= 2.4


def test_this_environment_has_no_problem():
    assert torch_check.environment_problems() == []


def test_out_of_range_dependencies_are_named_with_what_is_installed():
    versions = {"transformers": "4.30.2", "diffusers": None}
    problem = torch_check.requirements_problem(lambda name: versions.get(name, _real(name)))
    assert "transformers<5,>=4.48 (installed: 4.30.2)" in problem
    assert "diffusers" in problem and "(not installed)" in problem
    assert "REQS_FILE" in problem and "--skip-install" in problem


def test_environment_problems_lists_each_reason():
    problems = torch_check.environment_problems(
        torch_of=lambda: "2.3.1+cu121", version_of=lambda name: None
    )
    assert len(problems) == 2
    assert problems[0].startswith("Wan Video needs torch >= 2.5")


def _real(name):
    from wan.host.deps import installed_version

    return installed_version(name)
