"""The model dropdown: which models, how each is labelled, what each needs (sizes, an image).

A choice's text starts with the model reference (catalog id, smoke id or path) followed by
`SEPARATOR` and what the model takes, so it reads well in the dropdown and the reference is
recovered from it the same way on gradio 3.41 (string choices only) and 4.x. A value typed by
the user (a folder or file path) is taken as the reference itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from wan.core.sizes import format_size
from wan.core.tasks import NONE, TASKS
from wan.errors import WanError
from wan.models import store
from wan.models.catalog import depth_entries, enhancer_entries, get_entry, wan_entries
from wan.models.identify import DEFAULT_MODEL, profile_for
from wan.models.validate import validate_model

log = logging.getLogger(__name__)

SEPARATOR = " · "
AUTO_SIZE = "auto"


@dataclass(frozen=True)
class ModelChoice:
    ref: str  # what RenderOptions.model gets
    task: str
    installed: bool
    smoke: bool
    problem: str = ""  # why an installed model cannot load (its files' validation), "" if none

    @property
    def usable(self) -> bool:
        return not self.problem

    @property
    def label(self) -> str:
        if self.smoke:
            status = "smoke model (tiny, random: output is noise)"
        elif self.problem:
            status = f"NOT USABLE: {self.problem} (Models tab: check it)"
        elif self.installed:
            status = "installed"
        else:
            status = "not installed (download it in Models)"
        return SEPARATOR.join((self.ref, _task_label(self.task), status))


def model_choices(config: store.StoreConfig) -> list[ModelChoice]:
    """Installed models first, then the catalog's other Wan models, then the smoke models."""
    installed: list[ModelChoice] = []
    installed_ids: set[str] = set()
    for model in store.discover(config):
        if model.entry_id:
            try:
                entry = get_entry(model.entry_id)
            except WanError:
                continue
            if entry.is_wan and entry.id not in installed_ids:
                installed_ids.add(entry.id)
                problem = _files_problem(model.path)
                installed.append(ModelChoice(entry.id, str(entry.task), True, False, problem))
            continue
        other = _other_model(str(model.path))
        if other is not None:
            installed.append(other)
    catalog = [e for e in wan_entries() if e.id not in installed_ids]
    return [
        *installed,
        *(ModelChoice(e.id, str(e.task), False, False) for e in catalog if not e.smoke),
        *(ModelChoice(e.id, str(e.task), False, True) for e in catalog if e.smoke),
    ]


def _other_model(path: str) -> ModelChoice | None:
    """A Wan folder or checkpoint the catalog does not name (a fine-tune); None otherwise."""
    try:
        profile = profile_for(path)
    except WanError as exc:
        log.debug("not offered in the model list: %s (%s)", path, exc)
        return None
    return ModelChoice(path, profile.task, True, False, _files_problem(Path(path)))


def _files_problem(path: Path) -> str:
    """The first problem `check` would report for the model's files (sizes, headers; no weights
    are read), "" when none: an unusable model is labelled so and never preselected."""
    report = validate_model(path)
    if report.ok:
        return ""
    first = report.problems[0]
    where = "/".join(part for part in (first.component, first.file) if part)
    more = f" (+{len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
    return f"{where + ': ' if where else ''}{first.what}{more}"


def ref_from_choice(choice: str | None) -> str | None:
    """The model reference a dropdown value stands for (a typed path is its own reference)."""
    if not choice or not str(choice).strip():
        return None
    return str(choice).split(SEPARATOR, 1)[0].strip()


def choice_for(ref: str | None, choices: list[ModelChoice]) -> str | None:
    """The dropdown value showing `ref` (the bare reference when it is not listed)."""
    if not ref:
        return None
    listed = _listed(ref, choices)
    return listed.label if listed is not None else ref


def default_choice(host_defaults: dict, choices: list[ModelChoice]) -> str | None:
    """The host's default model, else the first installed one, else the catalog's default;
    never a model whose files are unusable (None when nothing else is left)."""
    wanted = host_defaults.get("model")
    if wanted:
        listed = _listed(str(wanted), choices)
        if listed is None:
            return str(wanted)  # a path the list does not show
        if listed.usable:
            return listed.label
    for choice in choices:
        if choice.installed and not choice.smoke and choice.usable:
            return choice.label
    listed = _listed(DEFAULT_MODEL, choices)
    return listed.label if listed is not None and listed.usable else None


def _listed(ref: str, choices: list[ModelChoice]) -> ModelChoice | None:
    for choice in choices:
        if choice.ref == ref or choice.ref.lower() == ref.lower():
            return choice
    return None


def image_need(ref: str | None) -> str:
    """ "required", "optional" or "none": whether the model takes an init image."""
    if not ref:
        return "none"
    try:
        task = profile_for(ref).task
    except WanError:
        return "none"
    return TASKS[task].first_image if task in TASKS else NONE


def lora_files(folders: list[Path]) -> list[str]:
    """The LoRA files (*.safetensors) in the host's LoRA folders and their subfolders."""
    found: list[str] = []
    for folder in folders:
        if Path(folder).is_dir():
            found += sorted(str(p) for p in Path(folder).rglob("*.safetensors") if p.is_file())
    return list(dict.fromkeys(found))


def enhancer_choices() -> list[str]:
    """ "rules" (no model) and the prompt models of the catalog."""
    return ["rules", *(e.id for e in enhancer_entries())]


def depth_choices() -> list[str]:
    """The depth models of the catalog (a folder or Hub id may be typed in)."""
    return [e.id for e in depth_entries()]


def size_choices(ref: str | None) -> list[str]:
    """ "auto" (Deforum's W x H moved to the model's nearest size) and the model's sizes."""
    try:
        sizes = profile_for(ref).sizes if ref else ()
    except WanError:
        sizes = ()
    return [AUTO_SIZE, *(format_size(w, h) for w, h in sizes)]


def _task_label(task: str) -> str:
    return TASKS[task].label if task in TASKS else task
