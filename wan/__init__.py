"""Deforum animations rendered with the Wan 2.1 / 2.2 video models.

The package is importable without a WebUI host: `wan.deforum`, `wan.motion` and `wan.plan` are
the pure core; the CLI is `python -m wan`.
"""

__version__ = "0.1.0"
