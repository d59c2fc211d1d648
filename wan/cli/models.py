"""Model commands of the CLI: `models`, `check`, `diagnose`, `download`.

Thin: each command gathers reports from `wan.models` and prints them (text, or JSON with --json).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from wan.cli.output import EXIT_BAD_INPUT, print_json
from wan.errors import WanError
from wan.models import store
from wan.models.catalog import CatalogEntry
from wan.models.detect import Detection
from wan.models.memory import gb
from wan.models.optimize import choose_plan
from wan.models.report import (
    ModelReport,
    depth_report,
    diagnose_report,
    model_report,
    models_payload,
    write_diagnose_report,
)
from wan.models.system import SystemInfo, peak_rss_bytes, peak_vram_bytes, probe_system


def add_commands(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser("models", help="installed and catalog models, and how they fit")
    _store_args(models)
    models.set_defaults(run=run_models)

    check = commands.add_parser("check", help="detect and validate a model (no weights loaded)")
    check.add_argument("model", help="catalog id, smoke id, folder or .safetensors file")
    _store_args(check)
    check.add_argument("--load", action="store_true", help="also generate 5 frames in 2 steps")
    check.add_argument("--checksums", action="store_true", help="hash every file (slow)")
    check.add_argument("--allow-unsafe-weights", action="store_true", help="accept .bin/.pt")
    check.set_defaults(run=run_check)

    diagnose = commands.add_parser("diagnose", help="write a compatibility report to share")
    diagnose.add_argument("model", help="catalog id, smoke id, folder or .safetensors file")
    diagnose.add_argument("--output", required=True, help="folder for <model>_compat.json")
    _store_args(diagnose)
    diagnose.set_defaults(run=run_diagnose)

    download = commands.add_parser("download", help="fetch a catalog model into the models folder")
    download.add_argument("model", help="catalog id, optionally ID@REVISION#VARIANT")
    _store_args(download)
    download.set_defaults(run=run_download)


def _store_args(command: argparse.ArgumentParser) -> None:
    command.add_argument("--models-dir", default=None, help="models folder (or WAN_MODELS_DIR)")
    command.add_argument("--json", action="store_true", help="machine-readable output")


def store_config(args: argparse.Namespace) -> store.StoreConfig:
    return store.StoreConfig(models_dir_flag=args.models_dir)


def _print_json(data: Any) -> None:
    print_json(data, indent=2, default=str)


# --- models -------------------------------------------------------------------------------


def run_models(args: argparse.Namespace) -> int:
    system = probe_system()
    payload = models_payload(store_config(args), system)
    if args.json:
        _print_json(payload)
        return 0
    _print_models(payload, system)
    return 0


def _print_models(payload: dict[str, Any], system: SystemInfo) -> None:
    device = system.gpu_name or "no GPU (CPU only: generation is very slow)"
    print(
        f"models folder: {payload['models_dir']}\n"
        f"this machine: {device}, {gb(system.free_vram)} free VRAM, "
        f"{gb(system.free_ram)} free RAM\n"
    )
    for row in payload["catalog"]:
        installed = (
            ", ".join(f"{m['path']} ({gb(m['size_on_disk'])})" for m in row["installed"])
            or "not installed"
        )
        takes = "+".join(row["inputs"])
        print(f"{row['id']:<24} {row['kind']:<8} {takes:<28} {installed}")
        fit = row["fit"]
        if fit is not None:
            if fit["fits"]:
                print(
                    f"{'':<24} fits on {fit['device']}: {fit['plan']} "
                    f"(peak {gb(fit['peak_vram'])} VRAM, {gb(fit['peak_ram'])} RAM)"
                )
            else:
                print(f"{'':<24} does not fit on {fit['device']}: {fit['reason']}")
    for other in payload["other_installed"]:
        match = (other["match"] or {}).get("message") or "; ".join(other["problems"])
        print(f"{other['path']}: {other['kind']}: {match}")
    print(f"\nsmoke models (tiny, random: output is noise): {', '.join(payload['smoke'])}")


# --- check and diagnose ---------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    config = store_config(args)
    depth = depth_report(args.model, config)
    if depth is not None:
        if args.json:
            _print_json(depth)
        else:
            size = f"{depth['params']:,} parameters, " if depth["params"] else ""
            print(
                f"{depth['path']}\n  depth model: {depth['architecture']} ({size}"
                f"{gb(depth['weights_bytes'])} of safetensors weights)\n  OK"
            )
        return 0
    report = model_report(args.model, config, verify_checksums=args.checksums)
    load = None
    if args.load and report.ok:
        single = report.detection.kind == "single_file"
        base = base_for_single_file(report, config) if single else None
        load = load_and_generate(report.detection, report.entry, base)
    if args.json:
        _print_json({**report.to_dict(), **({"load": load} if load else {})})
    else:
        _print_check(report, load)
    return 0 if report.ok else EXIT_BAD_INPUT


def base_for_single_file(report: ModelReport, config: store.StoreConfig) -> Path:
    """An installed Diffusers model of the checkpoint's architecture (text encoder, VAE, ...)."""
    match = report.match
    candidates = [match.model_id, *match.also] if match and match.model_id else []
    for model_id in candidates:
        try:
            return store.resolve(model_id, config).path
        except WanError:
            continue
    wanted = ", ".join(candidates) or "a Wan model of the same architecture"
    raise WanError(
        f"{report.model.path} holds only a transformer; install a base model for its "
        f"text encoder, tokenizer and VAE ({wanted}) with `python -m wan download ID`"
    )


def load_and_generate(
    detection: Detection, entry: CatalogEntry | None, base_folder: Path | None = None
) -> dict[str, Any]:
    """Load the pipeline, apply this machine's plan and generate 5 frames in 2 steps."""
    from wan.models.apply_plan import apply_plan
    from wan.models.loader import load_pipeline, quick_generate

    system = probe_system()
    width, height = min(entry.sizes, key=lambda s: s[0] * s[1]) if entry else (480, 272)
    dtype = "float32" if entry is not None and entry.smoke else "bfloat16"
    start = time.perf_counter()
    pipe = load_pipeline(detection, dtype=dtype, base_folder=base_folder)
    load_seconds = time.perf_counter() - start
    applied = None
    if entry is not None:
        plan = choose_plan(
            entry, width, height, 5, system.free_vram, system.free_ram, system.has_accelerator
        )
        applied = apply_plan(pipe, plan, system.accelerator or "cpu")
    elif system.accelerator:
        pipe.to(system.accelerator)
    run = quick_generate(
        pipe, detection.task or "t2v", width, height, device=system.accelerator or "cpu"
    )
    return {
        "load_seconds": round(load_seconds, 3),
        "generate": run.to_dict(),
        "plan": applied.to_metadata() if applied is not None else None,
        "peak_ram": peak_rss_bytes(),
        "peak_vram": peak_vram_bytes(),
    }


def _print_check(report: ModelReport, load: dict[str, Any] | None) -> None:
    detection, match = report.detection, report.match
    print(f"{report.model.path} ({report.model.source})")
    if report.smoke:
        print("  smoke model: tiny and random, its output is noise")
    print(f"  kind: {detection.kind}, pipeline: {detection.pipeline}, task: {detection.task}")
    if detection.transformer_params:
        print(f"  transformer: {detection.transformer_params / 1e9:.2f} B parameters")
    if match is not None:
        print(f"  catalog: {match.message}")
    for problem in detection.problems:
        print(f"  problem: {problem}")
    print("  " + report.validation.summary().replace("\n", "\n  "))
    if load:
        gen = load["generate"]
        print(
            f"  load: {load['load_seconds']} s; {gen['frames']} frames at "
            f"{gen['size'][0]}x{gen['size'][1]} in {gen['steps']} steps: {gen['seconds']} s; "
            f"peak RAM {gb(load['peak_ram'])}, peak VRAM {gb(load['peak_vram'])}"
        )
    print("  OK" if report.ok else "  NOT USABLE: see the problems above")


def run_diagnose(args: argparse.Namespace) -> int:
    """Always writes the report, even when the model cannot be resolved: that is its point."""
    data = diagnose_report(args.model, store_config(args))
    target = write_diagnose_report(data, Path(args.output))
    if args.json:
        _print_json({"report": str(target), "problems": data["problems"]})
    else:
        print(f"{len(data['problems'])} problem(s); report: {target}")
    return 0


def run_download(args: argparse.Namespace) -> int:
    config = store_config(args)
    last = {"file": None}

    def progress(name: str, done: int, total: int) -> None:
        if name != last["file"] or done == total:
            print(f"  {name} {done}/{total}", file=sys.stderr)
            last["file"] = name

    path = store.download(args.model, config, progress=progress)  # verified, or raises
    if args.json:
        _print_json({"path": str(path)})
    else:
        print(path)
    return 0
