"""Live CPU, RAM, GPU and VRAM figures for the Queue tab.

psutil gives CPU and RAM; the GPU comes from the NVIDIA management library (`pynvml`, from the
nvidia-ml-py package) when it imports and finds a device, since it sees every process's use,
else from torch's CUDA calls, else "no GPU". Reading never fails: a figure that cannot be read is
left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from wan.models.memory import gb
from wan.models.system import ram_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GpuFigures:
    name: str
    vram_used: int
    vram_total: int
    utilisation: float | None = None  # percent, when the driver says


@dataclass(frozen=True)
class Figures:
    cpu_percent: float | None
    ram_used: int
    ram_total: int
    gpus: tuple[GpuFigures, ...]
    gpu_source: str  # "nvml", "torch" or "" (no GPU)


def read_figures() -> Figures:
    cpu, used, total = _cpu_and_ram()
    gpus, source = _nvml_gpus(), "nvml"
    if not gpus:
        gpus, source = _torch_gpus(), "torch"
    return Figures(cpu, used, total, tuple(gpus), source if gpus else "")


def figures_text(figures: Figures) -> str:
    """One markdown line per device."""
    cpu = "n/a" if figures.cpu_percent is None else f"{figures.cpu_percent:.0f}%"
    lines = [f"**CPU** {cpu} · **RAM** {gb(figures.ram_used)} of {gb(figures.ram_total)}"]
    for index, gpu in enumerate(figures.gpus):
        load = "" if gpu.utilisation is None else f" {gpu.utilisation:.0f}% ·"
        lines.append(
            f"**GPU {index}** {gpu.name} ·{load} **VRAM** {gb(gpu.vram_used)} of "
            f"{gb(gpu.vram_total)}"
        )
    if not figures.gpus:
        lines.append("**GPU** no GPU found: renders run on the CPU (very slow)")
    return "\n\n".join(lines)


def _cpu_and_ram() -> tuple[float | None, int, int]:
    try:
        import psutil
    except ImportError:
        total, available = ram_bytes()
        return None, total - available, total
    memory = psutil.virtual_memory()
    return psutil.cpu_percent(interval=None), memory.total - memory.available, memory.total


def _nvml_gpus() -> list[GpuFigures]:
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # no driver, no device: the library raises its own NVMLError
        log.debug("NVML unavailable: %s", exc)
        return []
    try:
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            load = pynvml.nvmlDeviceGetUtilizationRates(handle).gpu
            gpus.append(
                GpuFigures(
                    name.decode() if isinstance(name, bytes) else str(name),
                    int(memory.used),
                    int(memory.total),
                    float(load),
                )
            )
        return gpus
    except Exception as exc:
        log.debug("NVML query failed: %s", exc)
        return []
    finally:
        pynvml.nvmlShutdown()


def _torch_gpus() -> list[GpuFigures]:
    try:
        import torch

        if not torch.cuda.is_available():
            return []
        gpus = []
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            name = torch.cuda.get_device_name(index)
            gpus.append(GpuFigures(name, int(total - free), int(total)))
        return gpus
    except Exception as exc:  # a broken driver must not break the tab
        log.debug("torch.cuda query failed: %s", exc)
        return []
