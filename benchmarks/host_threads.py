"""The same work in the two shapes a WebUI process has, with and without our render settings.

Measured because the same tiny-t2v job took 76 s in a real AUTOMATIC1111 and 22 s in Forge
(wan/host/torch_settings.py says why). Each case runs in a fresh process: the tiny-t2v VAE
decode (where that job spent its time) in a worker thread, as the extension's job worker does.
- "a1111": no other thread of the process has run torch's CPU kernels;
- "forge": the main thread ran one parallel torch op first and stays alive (Forge's main loop);
- "+ours": the worker applies `torch_settings.for_render()` around the work, as the WebUI adapter
  does while it holds the GPU lock.
With `--load` (default on) one busy process competes for one CPU, as the host's other work or
anything else on the machine does; `--idle` measures without it. Prints medians and the ratios.

    python benchmarks/host_threads.py [--repeats 3] [--idle]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ("a1111", "a1111+ours", "forge", "forge+ours")

_CASE = r"""
import json, sys, threading, time
sys.path.insert(0, {root!r})
import torch
from diffusers import AutoencoderKLWan
from wan.host import torch_settings
from wan.models.smoke import ensure_smoke_model

case = {case!r}
if case.startswith("forge"):
    torch.randn(4_000_000).exp_()  # the main thread's own thread team, kept alive
out = {{}}

def worker():
    vae = AutoencoderKLWan.from_pretrained(ensure_smoke_model("tiny-t2v") / "vae").eval()
    latents = torch.randn(1, 16, 9, 18, 32, generator=torch.Generator().manual_seed(0))
    host = torch_settings.current()
    if case.endswith("+ours"):
        torch_settings.apply(torch_settings.for_render())
    times = []
    with torch.no_grad():
        vae.decode(latents)
        for _ in range({repeats}):
            start = time.perf_counter()
            vae.decode(latents)
            times.append(time.perf_counter() - start)
    torch_settings.apply(host)
    out["times"] = times

thread = threading.Thread(target=worker, name="wan-jobs-worker")
thread.start()
thread.join()
print(json.dumps(out))
"""


def _busy(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def run_case(case: str, repeats: int) -> list[float]:
    code = _CASE.format(root=str(ROOT), case=case, repeats=repeats)
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{case} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])["times"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--idle", action="store_true", help="no competing process")
    args = parser.parse_args()
    stop = multiprocessing.Event()
    busy = None if args.idle else multiprocessing.Process(target=_busy, args=(stop,), daemon=True)
    if busy is not None:
        busy.start()
        time.sleep(0.5)
    try:
        medians = {case: statistics.median(run_case(case, args.repeats)) for case in CASES}
    finally:
        stop.set()
        if busy is not None:
            busy.join(timeout=5)
    load = "idle" if args.idle else "one busy process beside it"
    print(f"tiny-t2v VAE decode in a worker thread, {os.cpu_count()} CPUs, {load}:")
    for case, seconds in medians.items():
        print(f"  {case:<11} {seconds:6.2f} s")
    ratios = {
        "a1111 / forge (the issue's gap)": ("a1111", "forge"),
        "a1111+ours / forge+ours (with the fix)": ("a1111+ours", "forge+ours"),
        "a1111+ours / a1111 (the fix in A1111)": ("a1111+ours", "a1111"),
        "forge+ours / forge (the fix in Forge)": ("forge+ours", "forge"),
    }
    for label, (top, bottom) in ratios.items():
        print(f"{label:<40} {medians[top] / medians[bottom]:.2f}")


if __name__ == "__main__":
    main()
