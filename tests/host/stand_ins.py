"""Stand-ins for the WebUI's `modules` package (AUTOMATIC1111 1.10 and Forge) and Forge's `backend`.

They are real packages written into a temporary folder and imported by their real names, with the
functions and attributes the extension uses as the hosts name them (docs/FACTS.md section 3). Every
call the extension makes is appended to `modules.CALLS`, so tests can check the order. Reading
`shared.sd_model` fails the test: in A1111 its getter loads a checkpoint.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "wan_deforum.py"
HOST_PACKAGES = ("modules", "backend")

MODULES_INIT = """
CALLS = []
FAILURES = []
"""

SCRIPT_CALLBACKS = """
from modules import CALLS

callbacks = {
    "ui_tabs": [], "ui_settings": [], "app_started": [], "before_reload": [],
    "script_unloaded": [],
}


def on_ui_tabs(callback, *, name=None):
    callbacks["ui_tabs"].append(callback)


def on_ui_settings(callback, *, name=None):
    callbacks["ui_settings"].append(callback)


def on_app_started(callback, *, name=None):
    callbacks["app_started"].append(callback)


def on_before_reload(callback, *, name=None):
    callbacks["before_reload"].append(callback)


def on_script_unloaded(callback, *, name=None):
    callbacks["script_unloaded"].append(callback)
"""

SHARED = """
import sys
import types
from argparse import Namespace

from modules import CALLS, FAILURES


class OptionInfo:
    def __init__(self, default=None, label="", component=None, component_args=None,
                 onchange=None, section=None, refresh=None, comment_before="", comment_after="",
                 infotext=None, restrict_api=False, category_id=None):
        self.default = default
        self.label = label
        self.component = component
        self.component_args = component_args
        self.section = section
        self.category_id = category_id
        self.comment_after = comment_after

    def info(self, info):
        self.comment_after += f"<span class='info'>({info})</span>"
        return self


class Options:
    def __init__(self):
        object.__setattr__(self, "data_labels", {})
        object.__setattr__(self, "data", {})

    def add_option(self, key, info):
        self.data_labels[key] = info
        self.data.setdefault(key, info.default)

    def __getattr__(self, item):
        if item in self.data:
            return self.data[item]
        raise AttributeError(item)

    def __setattr__(self, key, value):
        self.data[key] = value


class State:
    skipped = False
    interrupted = False
    job = ""
    job_no = 0
    job_count = 0
    sampling_step = 0
    sampling_steps = 0
    textinfo = None

    def begin(self, job="(unknown)"):
        CALLS.append(("state.begin", job))
        self.skipped = False
        self.interrupted = False
        self.job = job
        self.job_no = 0
        self.job_count = -1
        self.sampling_step = 0
        self.textinfo = None

    def end(self):
        CALLS.append(("state.end",))
        self.job = ""
        self.job_count = 0

    def interrupt(self):
        self.interrupted = True

    def skip(self):
        self.skipped = True


opts = Options()
opts.data["outdir_samples"] = ""
cmd_opts = Namespace(api_auth=None, wan_models_dir=None, wan_output_dir=None, wan_data_dir=None,
                     lora_dir=None, hide_ui_dir_config=False)
state = State()
hide_dirs = {"visible": True}
restricted_opts = {"outdir_samples"}


class Shared(types.ModuleType):
    @property
    def sd_model(self):
        FAILURES.append("shared.sd_model was read: in the WebUI this loads a checkpoint")
        raise AssertionError("shared.sd_model was read: in the WebUI this loads a checkpoint")


sys.modules[__name__].__class__ = Shared
"""

SD_MODELS_A1111 = """
from modules import CALLS, devices, shared


class StandInModel:
    lowvram = False
    device = "cuda"

    def __init__(self, title="sd15.safetensors"):
        self.title = title


class SdModelData:
    def __init__(self):
        self.sd_model = StandInModel()
        self.loaded_sd_models = [self.sd_model]


model_data = SdModelData()


def send_model_to_cpu(m):
    CALLS.append(("send_model_to_cpu", m))
    if m is not None:
        m.device = "cpu"
    devices.torch_gc()


def send_model_to_device(m):
    CALLS.append(("send_model_to_device", m))
    m.device = "cuda"


def unload_model_weights(sd_model=None, info=None):
    CALLS.append(("unload_model_weights", sd_model))
    send_model_to_cpu(sd_model or shared.sd_model)  # as A1111 1.10 does
    return sd_model
"""

SD_MODELS_FORGE = """
from backend import memory_management
from modules import CALLS


class FakeInitialModel:
    def __init__(self):
        self.cond_stage_model = None
        self.chunk_length = 75


class SdModelData:
    def __init__(self):
        self.sd_model = FakeInitialModel()
        self.forge_loading_parameters = {}
        self.forge_hash = ""


model_data = SdModelData()


def send_model_to_cpu(m):
    pass


def send_model_to_device(m):
    CALLS.append(("send_model_to_device", m))


def unload_model_weights(sd_model=None, info=None):
    CALLS.append(("unload_model_weights", sd_model))
    memory_management.unload_all_models()
"""

MEMORY_MANAGEMENT = """
from modules import CALLS

current_loaded_models = []


def unload_all_models():
    CALLS.append(("unload_all_models", len(current_loaded_models)))
    current_loaded_models.clear()


def soft_empty_cache(force=False):
    CALLS.append(("soft_empty_cache",))


def get_free_memory(dev=None, torch_free_too=False):
    return (8 << 30, 8 << 30) if torch_free_too else 8 << 30
"""

DEVICES_A1111 = """
from modules import CALLS


def torch_gc():
    CALLS.append(("torch_gc",))
"""

DEVICES_FORGE = """
from backend import memory_management


def torch_gc():
    memory_management.soft_empty_cache()
"""

CALL_QUEUE = """
import threading

from modules import CALLS


class FIFOLock:
    \"\"\"Not re-entrant, like the hosts' modules.fifo_lock.FIFOLock.\"\"\"

    def __init__(self):
        self._lock = threading.Lock()
        self.observer = None  # a test's callable, told "acquire" and "release"

    def acquire(self, blocking=True):
        if self.observer is not None:
            self.observer("acquire")
        got = self._lock.acquire(blocking)
        if got:
            CALLS.append(("queue_lock.acquire",))
        return got

    def release(self):
        if self.observer is not None:
            self.observer("release")
        CALLS.append(("queue_lock.release",))
        self._lock.release()

    def locked(self):
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, t, v, tb):
        self.release()


queue_lock = FIFOLock()
"""

PATHS_INTERNAL = """
import os

script_path = {root!r}
data_path = script_path
models_path = os.path.join(data_path, "models")
default_output_dir = os.path.join(data_path, "outputs")
"""


@dataclass
class StandInHost:
    """The imported stand-in modules of one host, and its call log."""

    kind: str  # "a1111" | "forge"
    root: Path
    modules: ModuleType
    shared: ModuleType
    sd_models: ModuleType
    devices: ModuleType
    call_queue: ModuleType
    paths_internal: ModuleType
    script_callbacks: ModuleType
    memory_management: ModuleType | None

    @property
    def calls(self) -> list:
        return self.modules.CALLS

    def names(self) -> list[str]:
        return [call[0] for call in self.calls]

    def callbacks(self, kind: str) -> list:
        return self.script_callbacks.callbacks[kind]

    def namespace(self):
        from types import SimpleNamespace

        return SimpleNamespace(
            shared=self.shared,
            sd_models=self.sd_models,
            devices=self.devices,
            call_queue=self.call_queue,
            paths_internal=self.paths_internal,
            memory_management=self.memory_management,
        )


def write_host(folder: Path, kind: str) -> Path:
    """Write the packages for `kind` under folder/site; returns that folder (for sys.path)."""
    site = folder / "site"
    root = folder / "webui"
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "modules/__init__.py": MODULES_INIT,
        "modules/script_callbacks.py": SCRIPT_CALLBACKS,
        "modules/shared.py": SHARED,
        "modules/call_queue.py": CALL_QUEUE,
        "modules/paths_internal.py": PATHS_INTERNAL.format(root=str(root)),
    }
    if kind == "forge":
        files |= {
            "backend/__init__.py": "",
            "backend/memory_management.py": MEMORY_MANAGEMENT,
            "modules/sd_models.py": SD_MODELS_FORGE,
            "modules/devices.py": DEVICES_FORGE,
        }
    else:
        files |= {"modules/sd_models.py": SD_MODELS_A1111, "modules/devices.py": DEVICES_A1111}
    for name, text in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return site


def forget_host_modules() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in HOST_PACKAGES:
            del sys.modules[name]


def import_host(site: Path, kind: str) -> StandInHost:
    """Import the stand-ins fresh from `site` (already on sys.path)."""
    forget_host_modules()
    import modules
    from modules import call_queue, devices, paths_internal, script_callbacks, sd_models, shared

    manager = None
    if kind == "forge":
        from backend import memory_management as manager
    return StandInHost(
        kind,
        Path(paths_internal.script_path),
        modules,
        shared,
        sd_models,
        devices,
        call_queue,
        paths_internal,
        script_callbacks,
        manager,
    )


def import_script(name: str = "wan_deforum_under_test") -> ModuleType:
    """Execute scripts/wan_deforum.py as the WebUI does: a fresh module each time."""
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
