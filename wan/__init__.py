"""Deforum animations rendered with the Wan 2.1 / 2.2 video models.

The package is importable without a WebUI host: `wan.core` (Deforum's settings and schedules,
the motion, the plan) is the pure core; the CLI is `python -m wan`. docs/DESIGN.md draws the
layers.
"""

__version__ = "0.1.0"
