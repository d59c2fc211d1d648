"""Reports about models, shared by the CLI (`models`, `check`, `diagnose`), the API (GET /models)
and the tab's Models page: what each catalog model takes and how it fits this machine, and one
model's detection, catalog match and validation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.errors import WanError
from wan.models import store
from wan.models.catalog import (
    CatalogEntry,
    depth_entries,
    enhancer_entries,
    get_entry,
    parse_model_ref,
    wan_entries,
)
from wan.models.depth_folder import check_depth_folder, looks_like_depth_folder
from wan.models.depth_model import resolve_depth_model
from wan.models.detect import Detection, detect_model
from wan.models.match import MatchResult
from wan.models.optimize import choose_plan
from wan.models.smoke import SMOKE_IDS, is_smoke_folder
from wan.models.system import SystemInfo, probe_system
from wan.models.validate import ValidationReport, validate_model


@dataclass(frozen=True)
class ModelReport:
    """One model resolved, detected, matched against the catalog and validated."""

    ref: str
    model: store.InstalledModel
    smoke: bool
    detection: Detection
    match: MatchResult | None
    validation: ValidationReport

    @property
    def ok(self) -> bool:
        return self.detection.is_wan and self.validation.ok

    @property
    def entry(self) -> CatalogEntry | None:
        """The catalog entry the model matched, if any."""
        if self.match is None or self.match.model_id is None:
            return None
        return get_entry(self.match.model_id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of `check --json` and of the diagnose report."""
        return {
            "model": self.ref,
            "resolved": self.model.to_dict(),
            "smoke": self.smoke,
            "detection": self.detection.to_dict(),
            "match": self.match.to_dict() if self.match else None,
            "validation": self.validation.to_dict(),
            "ok": self.ok,
        }


def model_report(
    ref: str,
    config: store.StoreConfig,
    allow_unsafe_weights: bool = False,
    verify_checksums: bool = False,
) -> ModelReport:
    """Detection, catalog match and validation of one model; raises WanError if unresolvable."""
    model = store.resolve(ref, config)
    detection = detect_model(model.path)
    return ModelReport(
        ref=ref,
        model=model,
        smoke=is_smoke_folder(model.path),
        detection=detection,
        match=detection.match(wan_entries()) if detection.is_wan else None,
        validation=validate_model(
            model.path,
            allow_unsafe_weights=allow_unsafe_weights,
            verify_checksums=verify_checksums,
        ),
    )


def depth_report(ref: str, config: store.StoreConfig) -> dict[str, Any] | None:
    """`check` of a depth model (its folder checked, no weights loaded); None when `ref` names
    something else. A depth model that cannot be used raises ModelError saying why."""
    try:
        entry = get_entry(parse_model_ref(ref).id)
    except WanError:
        entry = None
    if entry is not None and entry.kind == "depth":
        info = resolve_depth_model(ref, config)
    else:
        try:
            model = store.resolve(ref, config)
        except WanError:
            return None
        if not looks_like_depth_folder(model.path):
            return None
        info = check_depth_folder(model.path)
    return {"model": ref, **info.to_dict(), "smoke": is_smoke_folder(info.path), "ok": True}


def fit_report(entry: CatalogEntry, system: SystemInfo) -> dict[str, Any]:
    """How a catalog model at its default size and clip length would run on this machine."""
    width, height = entry.default_size
    device = system.accelerator or "cpu"
    try:
        plan = choose_plan(
            entry,
            width,
            height,
            entry.max_clip_frames,
            system.free_vram,
            system.free_ram,
            system.has_accelerator,
        )
    except WanError as exc:
        return {"fits": False, "device": device, "reason": str(exc)}
    return {
        "fits": True,
        "device": device,
        "plan": plan.summary,
        "peak_vram": plan.estimate.peak_vram,
        "peak_ram": plan.estimate.peak_ram,
    }


def disk_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def models_payload(config: store.StoreConfig, system: SystemInfo | None = None) -> dict[str, Any]:
    """Catalog models (installed or not) with what each takes and how it fits; `models --json`
    and the API's `GET /wan/v1/models` answer this."""
    system = system or probe_system()
    installed = store.discover(config)
    by_id: dict[str, list] = {}
    for model in installed:
        by_id.setdefault(model.entry_id or "", []).append(model)
    rows = [
        {
            **model_row(entry, system),
            "installed": [
                {**m.to_dict(), "size_on_disk": disk_size(m.path)} for m in by_id.get(entry.id, [])
            ],
        }
        for entry in (*wan_entries(), *enhancer_entries(), *depth_entries())
        if not entry.smoke
    ]
    others = [_other_model(m) for m in by_id.get("", [])]
    return {
        "models_dir": str(config.models_dir()),
        "system": system.to_dict(),
        "catalog": rows,
        "other_installed": others,
        "smoke": list(SMOKE_IDS),
    }


def model_row(entry: CatalogEntry, system: SystemInfo) -> dict[str, Any]:
    """What a catalog model takes and makes, and how it fits on this machine."""
    return {
        "id": entry.id,
        "kind": entry.kind,
        "title": entry.title,
        "smoke": entry.smoke,
        "task": entry.task,
        "inputs": list(entry.inputs),
        "sizes": [list(size) for size in entry.sizes],
        "native_fps": entry.native_fps,
        "max_clip_frames": entry.max_clip_frames,
        "fit": fit_report(entry, system) if entry.is_wan else None,
    }


def _other_model(model: store.InstalledModel) -> dict[str, Any]:
    detection = detect_model(model.path)
    match = detection.match(wan_entries()) if detection.is_wan else None
    return {
        **model.to_dict(),
        "size_on_disk": disk_size(model.path),
        "kind": detection.kind,
        "match": match.to_dict() if match else None,
        "problems": list(detection.problems),
    }


def diagnose_report(ref: str, config: store.StoreConfig) -> dict[str, Any]:
    """The compatibility report of one model; a model that cannot be resolved is a problem in
    it, not an error (the CLI's `diagnose` and the tab's Models page write it)."""
    system = probe_system()
    data: dict[str, Any] = {"model": ref, "system": system.to_dict(), "problems": []}
    try:
        report = model_report(ref, config)
        data.update(report.to_dict())
        entry = report.entry
        data["plan"] = fit_report(entry, system) if entry else None
        data["problems"] += [
            {"what": p["what"], "fix": p["fix"], "where": p.get("file") or p.get("component")}
            for p in data["validation"]["problems"]
        ]
        data["problems"] += [{"what": p, "fix": None} for p in data["detection"]["problems"]]
    except WanError as exc:
        data["problems"].append({"what": str(exc), "fix": None})
    return data


def write_diagnose_report(data: dict[str, Any], output: Path) -> Path:
    """`<output>/<model>_compat.json`."""
    name = Path(data["model"]).name.replace("@", "_").replace("#", "_") or "model"
    output.mkdir(parents=True, exist_ok=True)
    target = output / f"{name}_compat.json"
    target.write_text(json.dumps(data, indent=2, default=str))
    return target
