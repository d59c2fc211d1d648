"""A local Qwen chat model that rewrites clip prompts for Wan (shell: torch and transformers).

The enhancer runs before the Wan model loads, on the same GPU, so it is built for a short
visit: it loads once per render, answers every clip's prompt in one batch, then `close()` frees
its memory for Wan. It goes on the GPU only when its weights fit in the free VRAM; otherwise the
CPU is slower but cannot run out of video memory.

Decoding is greedy (`do_sample=False`): the same requests give the same answers, which is what
lets the prompt cache and resumed renders trust an answer computed earlier.

Only local folders, only safetensors, never the model repo's own code (`trust_remote_code`).
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wan.errors import ModelError
from wan.models.system import SystemInfo, probe_system
from wan.prompting.instruction import DEFAULT_MAX_WORDS, build_messages
from wan.prompting.request import EnhanceRequest

log = logging.getLogger(__name__)

DEFAULT_MAX_NEW_TOKENS = 256
REPETITION_PENALTY = 1.05  # Qwen's own recommendation; keeps small models out of loops
MEMORY_FACTOR = 1.2  # weights x this: room for activations and the KV cache of the batch
_DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}


def decoding_settings(max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS) -> dict[str, Any]:
    """Everything that decides which tokens come out, besides the model and the messages."""
    return {
        "do_sample": False,
        "num_beams": 1,
        "repetition_penalty": REPETITION_PENALTY,
        "max_new_tokens": int(max_new_tokens),
    }


# ----------------------------------------------------------------------------------------------
# Folder checks and sizing (no torch)


def check_folder(path: str | Path) -> Path:
    """The folder of a transformers chat model with safetensors weights, or a clear error."""
    folder = Path(path).expanduser()
    if folder.is_file():
        raise ModelError(
            f"{folder} is a single file; a prompt model is a folder with config.json, "
            "*.safetensors and the tokenizer files (e.g. Qwen2.5-1.5B-Instruct)"
        )
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such prompt model folder")
    if (folder / "model_index.json").is_file():
        raise ModelError(
            f"{folder} is a diffusers pipeline (a video model), not a prompt model; "
            "pick a Qwen2.5 Instruct model or 'rules'"
        )
    if not (folder / "config.json").is_file():
        raise ModelError(f"{folder} has no config.json; it is not a transformers model folder")
    if not any(folder.glob("*.safetensors")):
        raise ModelError(
            f"{folder} has no *.safetensors weights (other formats are not loaded, for safety); "
            "download the model again with `python -m wan download <id>`"
        )
    return folder


def _stored_dtype_bytes(folder: Path) -> int:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 2
    name = config.get("torch_dtype") or config.get("dtype") or "bfloat16"
    return _DTYPE_BYTES.get(str(name), 2)


def weights_bytes(folder: Path, dtype_bytes: int = 2, params: int | None = None) -> int:
    """Memory the weights take at `dtype_bytes` per parameter (catalog count or file size)."""
    if params:
        return int(params) * dtype_bytes
    on_disk = sum(f.stat().st_size for f in Path(folder).glob("*.safetensors"))
    return on_disk * dtype_bytes // _stored_dtype_bytes(Path(folder))


def choose_device(need_bytes: int, info: SystemInfo) -> str:
    """The GPU when the model fits in its free memory with room to spare, else the CPU."""
    need = int(need_bytes * MEMORY_FACTOR)
    if info.accelerator == "cuda" and need <= info.free_vram:
        return "cuda"
    if info.accelerator == "mps" and need <= info.free_ram:  # unified memory
        return "mps"
    if info.accelerator:
        log.info(
            "prompt model needs about %.1f GB; it does not fit in the free GPU memory "
            "(%.1f GB): running it on the CPU",
            need / 1e9,
            (info.free_vram if info.accelerator == "cuda" else info.free_ram) / 1e9,
        )
    return "cpu"


def _default_dtype(device: str, folder: Path, params: int | None, info: SystemInfo | None) -> Any:
    """Half precision on a GPU; float32 on the CPU unless only half precision fits in RAM."""
    import torch

    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("mps"):
        return torch.float16
    if info is not None and weights_bytes(folder, 4, params) * MEMORY_FACTOR > info.free_ram:
        return torch.bfloat16
    return torch.float32


def _as_dtype(dtype: Any) -> Any:
    if isinstance(dtype, str):
        from wan.models.loader import torch_dtype

        return torch_dtype(dtype)
    return dtype


def _dtype_kwarg() -> str:
    """transformers 4.56 renamed torch_dtype to dtype (the old name now warns)."""
    import transformers
    from packaging.version import Version

    return "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"


def _move(model: Any, device: str, automatic: bool) -> str:
    """Put the model on `device`; if the GPU fills up anyway, an automatic choice uses the CPU."""
    import torch

    try:
        model.to(device)
        return device
    except torch.cuda.OutOfMemoryError:
        model.to("cpu")
        gc.collect()
        torch.cuda.empty_cache()
        if not automatic:
            raise ModelError(
                f"the prompt model does not fit in the free memory of {device}; close other "
                "GPU programs, pick a smaller model (e.g. Qwen2.5-1.5B-Instruct) or run it on "
                "the CPU"
            ) from None
        log.warning("the prompt model did not fit on %s after all; running it on the CPU", device)
        return "cpu"


# ----------------------------------------------------------------------------------------------
# The enhancer


class QwenEnhancer:
    """A loaded chat model and its tokenizer; use `load`, `enhance_batch`, then `close`."""

    def __init__(self, model: Any, tokenizer: Any, device: str, path: Path) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self.device = device
        self.path = path

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: str | None = None,
        dtype: Any = None,
        params: int | None = None,
    ) -> QwenEnhancer:
        """Load a local chat model folder; device None picks the GPU when the model fits.

        `params` is the catalog's parameter count, for the memory estimate before loading
        (without it the safetensors size is used). `dtype` is a torch dtype or its name.
        """
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = check_folder(path)
        info = None
        if device is None:
            info = probe_system()
            dtype_bytes = 2 if info.accelerator else 4
            device = choose_device(weights_bytes(folder, dtype_bytes, params), info)
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelError(
                f"the prompt model was asked to run on {device}, but torch sees no CUDA GPU; "
                "leave the device unset (automatic) or use 'cpu'"
            )
        dtype = (
            _as_dtype(dtype) if dtype is not None else _default_dtype(device, folder, params, info)
        )
        start = time.perf_counter()
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                str(folder), local_files_only=True, trust_remote_code=False
            )
            model = AutoModelForCausalLM.from_pretrained(
                str(folder),
                local_files_only=True,
                use_safetensors=True,
                trust_remote_code=False,
                **{_dtype_kwarg(): dtype},
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(
                f"{folder}: transformers could not load it as a chat model "
                f"({type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}). "
                "Use a Qwen2.5 Instruct folder with safetensors weights; models that need their "
                "own code are not run"
            ) from None
        if not getattr(tokenizer, "chat_template", None):
            raise ModelError(
                f"{folder}: the tokenizer has no chat template, so this is not a chat (Instruct) "
                "model; use a Qwen2.5 Instruct model"
            )
        tokenizer.padding_side = "left"  # generation continues right after each prompt
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        device = _move(model, device, automatic=info is not None)
        model.eval()
        log.info(
            "loaded prompt model %s on %s (%s) in %.1f s",
            folder.name,
            device,
            str(dtype).removeprefix("torch."),
            time.perf_counter() - start,
        )
        return cls(model, tokenizer, device, folder)

    @property
    def model(self) -> Any:
        if self._model is None:
            raise RuntimeError("this prompt model was closed; load it again")
        return self._model

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            raise RuntimeError("this prompt model was closed; load it again")
        return self._tokenizer

    def render_chat(self, request: EnhanceRequest, max_words: int = DEFAULT_MAX_WORDS) -> str:
        """The exact text the model reads for a request (chat template, assistant turn open)."""
        return self.tokenizer.apply_chat_template(
            build_messages(request, max_words), tokenize=False, add_generation_prompt=True
        )

    def enhance_batch(
        self,
        requests: Sequence[EnhanceRequest],
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        max_words: int = DEFAULT_MAX_WORDS,
    ) -> list[str]:
        """Raw answers for all requests, generated together in one greedy batch."""
        import torch

        if not requests:
            return []
        tokenizer, model = self.tokenizer, self.model
        texts = [self.render_chat(request, max_words) for request in requests]
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        batch = batch.to(self.device)
        settings = decoding_settings(max_new_tokens)
        generation = model.generation_config
        start = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(
                **batch,
                **settings,
                temperature=None,  # unset the model's sampling defaults: greedy ignores them
                top_p=None,
                top_k=None,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=generation.eos_token_id or tokenizer.eos_token_id,
            )
        answers = tokenizer.batch_decode(
            output[:, batch["input_ids"].shape[1] :], skip_special_tokens=True
        )
        log.info(
            "prompt model answered %d prompt(s) in %.1f s",
            len(answers),
            time.perf_counter() - start,
        )
        return answers

    def close(self) -> None:
        """Unload the model and return its memory (the Wan model loads next)."""
        if self._model is None:
            return
        self._model = None
        self._tokenizer = None
        gc.collect()
        try:
            import torch
        except ImportError:  # pragma: no cover - torch is always there when a model was loaded
            return
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            torch.mps.empty_cache()
        log.info("unloaded prompt model %s", self.path.name)

    def __enter__(self) -> QwenEnhancer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
