"""What this machine has: accelerator, free VRAM and RAM, library versions (read at the edge).

The memory planner is pure and takes these numbers as arguments; this module is the one place
that asks torch and the operating system for them.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from dataclasses import asdict, dataclass
from importlib import metadata


@dataclass(frozen=True)
class SystemInfo:
    platform: str
    python: str
    versions: dict  # package -> version (None when missing)
    accelerator: str | None  # "cuda", "mps" or None
    gpu_name: str | None
    total_vram: int  # bytes, 0 without an accelerator
    free_vram: int
    total_ram: int
    free_ram: int

    @property
    def has_accelerator(self) -> bool:
        return self.accelerator is not None

    def to_dict(self) -> dict:
        return asdict(self)


PACKAGES = ("torch", "diffusers", "transformers", "huggingface_hub", "accelerate", "gradio")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def ram_bytes() -> tuple[int, int]:
    """(total, available) physical memory in bytes, on Linux, macOS and Windows."""
    if sys.platform.startswith("linux"):
        info = {}
        with open("/proc/meminfo") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                info[key] = int(rest.split()[0]) * 1024
        return info.get("MemTotal", 0), info.get("MemAvailable", info.get("MemFree", 0))
    if sys.platform == "win32":
        return _windows_ram()
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    total = pages * page_size
    return total, total // 2  # macOS has no cheap "available"; half is a safe planning figure


def _windows_ram() -> tuple[int, int]:
    class MemoryStatus(ctypes.Structure):
        _fields_ = [
            ("length", ctypes.c_ulong),
            ("load", ctypes.c_ulong),
            ("total_phys", ctypes.c_ulonglong),
            ("avail_phys", ctypes.c_ulonglong),
            ("total_page", ctypes.c_ulonglong),
            ("avail_page", ctypes.c_ulonglong),
            ("total_virtual", ctypes.c_ulonglong),
            ("avail_virtual", ctypes.c_ulonglong),
            ("avail_extended", ctypes.c_ulonglong),
        ]

    status = MemoryStatus()
    status.length = ctypes.sizeof(MemoryStatus)
    ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status))  # type: ignore[attr-defined]
    return int(status.total_phys), int(status.avail_phys)


def probe_system() -> SystemInfo:
    """Ask torch and the OS; torch is imported here, not at module import."""
    import torch

    accelerator, name, total_vram, free_vram = None, None, 0, 0
    if torch.cuda.is_available():
        accelerator = "cuda"
        name = torch.cuda.get_device_name(0)
        free_vram, total_vram = torch.cuda.mem_get_info(0)
        free_vram, total_vram = process_vram_cap(torch, free_vram, total_vram)
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        accelerator, name = "mps", "Apple GPU"
    total_ram, free_ram = ram_bytes()
    return SystemInfo(
        platform=platform.platform(),
        python=platform.python_version(),
        versions=package_versions(),
        accelerator=accelerator,
        gpu_name=name,
        total_vram=int(total_vram),
        free_vram=int(free_vram),
        total_ram=total_ram,
        free_ram=free_ram,
    )


def process_vram_cap(torch, free: int, total: int) -> tuple[int, int]:
    """(free, total) VRAM within `torch.cuda.set_per_process_memory_fraction`, when one is set.

    A process sharing a GPU, or a benchmark emulating a smaller card (benchmarks/gpu_acceptance.py
    sets 16 GB on a larger GPU), caps what torch may allocate below what the card has free: the
    planner must see that cap, not the card.
    """
    getter = getattr(torch.cuda, "get_per_process_memory_fraction", None)  # torch >= 2.8
    fraction = float(getter(0)) if getter is not None else 1.0
    if fraction >= 1.0:
        return free, total
    cap = int(total * fraction)
    return max(0, min(free, cap - int(torch.cuda.memory_reserved(0)))), cap


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def peak_vram_bytes() -> int:
    """Peak CUDA memory allocated by torch in this process (0 without CUDA)."""
    import torch

    return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else 0
