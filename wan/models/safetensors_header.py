"""Reading a safetensors file's header (8-byte length + JSON: names, dtypes, shapes, offsets).

Cheap even for a 28 GB file and needs no torch: single-file detection reads tensor names and
shapes from it, and validation checks every shard of a Diffusers folder with it (a corrupt
header or a truncated download is caught before any weights load).
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.errors import ModelError

MAX_HEADER_BYTES = 100_000_000  # the limit safetensors itself enforces
DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}
DTYPE_NAMES = {
    "BF16": "bf16",
    "F16": "fp16",
    "F32": "fp32",
    "F64": "fp64",
    "F8_E4M3": "fp8_e4m3fn",
    "F8_E5M2": "fp8_e5m2",
}


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True)
class SafetensorsHeader:
    """A safetensors file's table of contents; `expected_size` is what an intact file measures."""

    path: str
    header_bytes: int
    tensors: Mapping[str, TensorInfo]
    metadata: Mapping[str, str]

    @property
    def data_bytes(self) -> int:
        return max((t.end for t in self.tensors.values()), default=0)

    @property
    def expected_size(self) -> int:
        return 8 + self.header_bytes + self.data_bytes


class SafetensorsHeaderError(ModelError):
    """A safetensors header that cannot be read; `what` and `fix` are kept apart for reports."""

    def __init__(self, what: str, fix: str = "download this file again") -> None:
        self.what, self.fix = what, fix
        super().__init__(f"{what}; {fix}")


def read_safetensors_header(path: str | Path) -> SafetensorsHeader:
    """Parse the header; raises SafetensorsHeaderError naming the file if it is not valid.

    Checks what safetensors checks at load time except the total file size, which the caller
    compares with `expected_size` (a short file is a truncated download, not a bad header).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise SafetensorsHeaderError(
                    f"{path}: {size} bytes, too short for a safetensors file"
                )
            (length,) = struct.unpack("<Q", prefix)
            if length > MAX_HEADER_BYTES or length > size - 8:
                raise SafetensorsHeaderError(
                    f"{path}: the header length ({length} bytes) does not fit the file ({size} "
                    "bytes): the file is not safetensors or is corrupt"
                )
            raw = handle.read(length)
    except OSError as exc:
        raise SafetensorsHeaderError(
            f"{path} cannot be read ({exc})", "check that it exists and is readable"
        ) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SafetensorsHeaderError(
            f"{path}: the safetensors header is not valid JSON ({exc})"
        ) from exc
    if not isinstance(data, dict):
        raise SafetensorsHeaderError(f"{path}: the safetensors header is not a JSON object")
    metadata = data.pop("__metadata__", None) or {}
    tensors = {name: _tensor_info(path, name, entry) for name, entry in data.items()}
    _check_offsets(path, tensors)
    meta = {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}
    return SafetensorsHeader(str(path), length, tensors, meta)


def _tensor_info(path: Path, name: str, entry: Any) -> TensorInfo:
    try:
        dtype = str(entry["dtype"])
        shape = tuple(int(n) for n in entry["shape"])
        start, end = (int(n) for n in entry["data_offsets"])
    except (TypeError, KeyError, ValueError) as exc:
        raise SafetensorsHeaderError(
            f"{path}: tensor {name!r} has a malformed header entry ({exc!r}), the file is corrupt"
        ) from exc
    expected = math.prod(shape) * DTYPE_BYTES.get(dtype, 0)
    if start < 0 or end < start or (dtype in DTYPE_BYTES and end - start != expected):
        raise SafetensorsHeaderError(
            f"{path}: tensor {name!r} ({dtype} {list(shape)}) has offsets {start}..{end}, which "
            "do not match its size: the file is corrupt"
        )
    return TensorInfo(dtype, shape, start, end)


def _check_offsets(path: Path, tensors: Mapping[str, TensorInfo]) -> None:
    """Tensors must tile the data area with no gap or overlap, as safetensors requires."""
    position = 0
    for name, info in sorted(tensors.items(), key=lambda item: (item[1].start, item[1].end)):
        if info.start != position:
            raise SafetensorsHeaderError(
                f"{path}: tensor {name!r} starts at byte {info.start} of the data, expected "
                f"{position} (a gap or overlap): the file is corrupt"
            )
        position = info.end


def size_problem(header: SafetensorsHeader, actual: int) -> str | None:
    """A message when the file's size is not what its header says (a truncated download)."""
    if actual == header.expected_size:
        return None
    if actual < header.expected_size:
        what = f"is truncated: {actual} bytes, its header needs {header.expected_size}"
    else:
        what = f"has {actual - header.expected_size} bytes beyond its last tensor"
    return f"{header.path} {what} (an interrupted or damaged download): download it again"


def main_dtype(tensors: Iterable[TensorInfo]) -> str | None:
    """The dtype holding most of the bytes, in torch's spelling (bf16, fp16, fp8_e4m3fn...)."""
    totals: dict[str, int] = {}
    for info in tensors:
        totals[info.dtype] = totals.get(info.dtype, 0) + info.end - info.start
    if not totals:
        return None
    top = max(totals, key=lambda k: totals[k])
    return DTYPE_NAMES.get(top, top.lower())
