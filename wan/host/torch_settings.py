"""Process-wide torch settings while a Wan render holds a WebUI's GPU lock.

A WebUI process is shared: the host and other extensions may change torch's global settings
(thread count, deterministic algorithms, anomaly detection, oneDNN, the default dtype), and our
render would inherit them. While it holds the host's GPU lock (nothing of the host generates
then) the render gets known values, and the host's come back when the lock is given back.

Threads: the same tiny-t2v job took 76 s in a real AUTOMATIC1111 and 22 s in Forge, all of it in
torch's CPU kernels. No setting differed; the OpenMP runtime torch ships (libgomp) did. Its idle
threads spin before they sleep, 300,000 turns when the process runs no more OpenMP threads than
there are CPUs, about 1,000 when it runs more. Forge's main thread keeps a thread team of its own
alive, so a render's team tips the count over the CPUs; A1111 has none, and a render there spins
at length, which under any other load on the machine costs it the CPU its work needs (3 to 4x on
2 cores, benchmarks/host_threads.py). A render's team of CPUs + 1 threads makes the count exceed
the CPUs whatever the host runs, for a few percent on an idle machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TorchSettings:
    """The process-wide torch settings that change what or how fast a render computes."""

    threads: int
    deterministic: bool
    deterministic_warn_only: bool
    anomaly: bool
    mkldnn: bool
    default_dtype: torch.dtype


def current() -> TorchSettings:
    return TorchSettings(
        threads=torch.get_num_threads(),
        deterministic=torch.are_deterministic_algorithms_enabled(),
        deterministic_warn_only=torch.is_deterministic_algorithms_warn_only_enabled(),
        anomaly=torch.is_anomaly_enabled(),
        mkldnn=torch.backends.mkldnn.enabled,
        default_dtype=torch.get_default_dtype(),
    )


def for_render() -> TorchSettings:
    """torch's own defaults, with one thread more than the CPUs (see the module doc)."""
    return TorchSettings(
        threads=available_cpus() + 1,
        deterministic=False,
        deterministic_warn_only=False,
        anomaly=False,
        mkldnn=True,
        default_dtype=torch.float32,
    )


def apply(settings: TorchSettings) -> None:
    """Set them (the thread count for the calling thread: the one that renders)."""
    if torch.get_num_threads() != settings.threads:
        torch.set_num_threads(settings.threads)
    torch.use_deterministic_algorithms(
        settings.deterministic, warn_only=settings.deterministic_warn_only
    )
    torch.autograd.set_detect_anomaly(settings.anomaly)
    torch.backends.mkldnn.enabled = settings.mkldnn
    torch.set_default_dtype(settings.default_dtype)


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity), else all of them."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
