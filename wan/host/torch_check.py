"""Load-time checks in a WebUI: torch new enough for the Wan pipelines, dependencies in range.

A WebUI ships its own torch (AUTOMATIC1111 1.10: 2.1.2, Forge: 2.3.1) and may put back older
packages at start (see `wan.host.deps`). Failing at the first render, deep inside diffusers, tells
the user nothing; these checks run when the extension loads and give one message saying what is
wrong and how to fix it, which the WAN tab then shows instead of its controls.

The torch floor, read from diffusers 0.39's Wan code (the newest release `requirements.txt`
allows), is 2.5:
- `diffusers.models.attention_dispatch._native_attention` (the default "native" backend every
  Wan transformer uses) calls `torch.nn.functional.scaled_dot_product_attention(...,
  enable_gqa=...)` unconditionally; `enable_gqa` exists from torch 2.5.0 (older: TypeError at the
  first denoising step);
- `WanAttention` builds `torch.nn.RMSNorm` (torch 2.4.0; older: AttributeError when the
  transformer is created).
"""

from __future__ import annotations

from collections.abc import Callable

from packaging.version import InvalidVersion, Version

from wan.host.deps import (
    MERGED_REQUIREMENTS,
    REQUIREMENTS,
    installed_version,
    read_requirements,
    unmet,
)
from wan.paths import data_dir

TORCH_MINIMUM = "2.5"
TORCH_EXAMPLE = "torch==2.5.1 torchvision==0.20.1"
TORCH_INDEX = "https://download.pytorch.org/whl/cu121"
GUIDE = "docs/HOSTS.md in the extension's folder"


def torch_version() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return str(torch.__version__)


def torch_problem(version: str | None) -> str | None:
    """Why this torch cannot run the Wan pipelines, with the fix; None when it can."""
    if version is None:
        return f"Wan Video needs torch >= {TORCH_MINIMUM}, and torch is not installed."
    try:
        release = Version(version.split("+", 1)[0])
    except InvalidVersion:
        return None  # a build we cannot read: let it try rather than block it
    if release >= Version(TORCH_MINIMUM):
        return None
    return (
        f"Wan Video needs torch >= {TORCH_MINIMUM} (this WebUI has {version}): diffusers' Wan "
        "attention passes enable_gqa to scaled_dot_product_attention and builds "
        "torch.nn.RMSNorm, which older torch lacks. To upgrade, add to webui-user.bat "
        f"(set TORCH_COMMAND=pip install {TORCH_EXAMPLE} --extra-index-url {TORCH_INDEX}) "
        f'or webui-user.sh (export TORCH_COMMAND="pip install {TORCH_EXAMPLE} '
        f'--extra-index-url {TORCH_INDEX}"), start the WebUI once with --reinstall-torch, then '
        f"remove that flag. Pick the index of your CUDA version; see {GUIDE}."
    )


def requirement_problems(version_of: Callable[[str], str | None] = installed_version) -> list[str]:
    """One line per requirement of `requirements.txt` that is missing or out of range."""
    out = []
    for req in unmet(read_requirements(REQUIREMENTS), version_of):
        have = version_of(req.name)
        found = f"installed: {have}" if have else "not installed"
        out.append(f"{req.name}{req.specifier} ({found})")
    return out


def requirements_problem(version_of: Callable[[str], str | None] = installed_version) -> str | None:
    missing = requirement_problems(version_of)
    if not missing:
        return None
    merged = data_dir() / MERGED_REQUIREMENTS
    return (
        "Wan Video needs " + ", ".join(missing) + ". The extension's install.py installs them "
        "at start unless the WebUI runs with --skip-install; AUTOMATIC1111 and Forge put their "
        f"own older pins back at every start unless REQS_FILE points at {merged} (the merged "
        "requirements file install.py writes). With a torch that needs a newer setuptools than "
        "the WebUI pins, install.py installs nothing until REQS_FILE is set, so that the WebUI "
        f"keeps starting. Restart the WebUI and read its console, or see {GUIDE}."
    )


def environment_problems(
    torch_of: Callable[[], str | None] | None = None,
    version_of: Callable[[str], str | None] = installed_version,
) -> list[str]:
    """Every reason the extension cannot render here, each a complete message; [] when it can."""
    found = (torch_problem((torch_of or torch_version)()), requirements_problem(version_of))
    return [p for p in found if p]
