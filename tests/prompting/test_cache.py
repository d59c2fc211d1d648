"""wan.prompting.cache: keys, hits and misses, invalidation, corrupt entries, atomic writes."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest

from wan.prompting import cache as cache_module
from wan.prompting.cache import PromptCache, cache_key, canonical_json, default_cache_dir

PARTS = {
    "enhancer": "qwen",
    "model": {"id": "Qwen2.5-1.5B-Instruct", "revision": "989aa79"},
    "instruction": "v3",
    "prompt": "1girl, forest ruins, (glowing eyes:1.2)",
    "motion": "the camera slowly pans right while pushing in",
    "lang": "en",
    "style": "cinematic",
    "max_words": "120",
    "decoding": {"do_sample": False, "max_new_tokens": 256, "temperature": 0.0},
}
CHANGES = {
    "model id": ("model", {"id": "Qwen2.5-3B-Instruct", "revision": "989aa79"}),
    "model revision": ("model", {"id": "Qwen2.5-1.5B-Instruct", "revision": "aa8e725"}),
    "instruction version": ("instruction", "v4"),
    "prompt": ("prompt", "1girl, forest ruins, (glowing eyes:1.3)"),
    "motion": ("motion", "static camera"),
    "language": ("lang", "zh"),
    "style": ("style", "anime"),
    "limits": ("max_words", "80"),
    "decoding": ("decoding", {"do_sample": True, "max_new_tokens": 256, "temperature": 0.7}),
}


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".json")]


def test_miss_put_hit(tmp_path):
    cache = PromptCache(tmp_path)
    key = cache_key(PARTS)
    assert cache.get(key) is None
    cache.put(key, "A girl stands in forest ruins.")
    assert cache.get(key) == "A girl stands in forest ruins."
    assert cache.path(key) == tmp_path / key[:2] / f"{key}.json"


def test_key_is_sha256_of_canonical_parts():
    key = cache_key(PARTS)
    assert len(key) == 64 and int(key, 16) >= 0
    assert cache_key(dict(reversed(list(PARTS.items())))) == key  # order does not matter
    assert cache_key(json.loads(json.dumps(PARTS))) == key  # nor a JSON round trip
    assert cache_key({**PARTS, "decoding": {**PARTS["decoding"], "extra": (1, 2)}}) == cache_key(
        {**PARTS, "decoding": {**PARTS["decoding"], "extra": [1, 2]}}
    )
    assert canonical_json({"b": 1, "a": Path("x/y")}) == '{"a":"x/y","b":1}'
    with pytest.raises(TypeError):
        cache_key(["not", "a", "mapping"])  # type: ignore[arg-type]


@pytest.mark.parametrize("change", CHANGES.values(), ids=list(CHANGES))
def test_every_part_changes_the_key(tmp_path, change):
    cache = PromptCache(tmp_path)
    cache.put(cache_key(PARTS), "old answer")
    name, value = change
    changed = cache_key({**PARTS, name: value})
    assert changed != cache_key(PARTS)
    assert cache.get(changed) is None  # invalidated: the old entry is simply not hit
    assert cache.get(cache_key(PARTS)) == "old answer"


def test_new_instruction_version_misses_and_prune_removes_old(tmp_path):
    cache = PromptCache(tmp_path)
    v3, v4 = cache_key(PARTS), cache_key({**PARTS, "instruction": "v4"})
    cache.put(v3, "answer from v3")
    assert cache.get(v4) is None
    cache.put(v4, "answer from v4")
    assert cache.prune(keep_versions=["v4"]) == 1
    assert cache.get(v3) is None and cache.get(v4) == "answer from v4"
    assert cache.prune(keep_versions=["v4"]) == 0
    assert PromptCache(tmp_path / "absent").prune(["v4"]) == 0


def test_survives_restart(tmp_path):
    key = cache_key(PARTS)
    PromptCache(tmp_path).put(key, "kept across processes")
    assert PromptCache(tmp_path).get(key) == "kept across processes"
    assert PromptCache(str(tmp_path)).get(key) == "kept across processes"


def test_entry_file_is_readable_json_with_parts(tmp_path):
    cache = PromptCache(tmp_path)
    key = cache_key(PARTS)
    cache.put(key, "Un texte — with ünïcode 文字")
    entry = json.loads(cache.path(key).read_text(encoding="utf-8"))
    assert entry == {
        "format": 1,
        "key": key,
        "parts": json.loads(json.dumps(PARTS)),
        "text": "Un texte — with ünïcode 文字",
    }
    assert "文字" in cache.path(key).read_text(encoding="utf-8")  # not \\u escapes


def test_explicit_parts_must_match_the_key(tmp_path):
    cache = PromptCache(tmp_path)
    other = {**PARTS, "prompt": "x"}
    key = cache_key(other)
    cache_module._RECENT_PARTS.clear()  # parts not remembered: put stores none ...
    cache.put(key, "no parts")
    assert "parts" not in json.loads(cache.path(key).read_text())
    cache.put(key, "with parts", parts=other)  # ... unless given
    assert json.loads(cache.path(key).read_text())["parts"]["prompt"] == "x"
    with pytest.raises(ValueError, match="do not hash"):
        cache.put(key, "wrong", parts=PARTS)
    assert cache.get(key) == "with parts"


@pytest.mark.parametrize("bad", ["abc", "../" + "0" * 61, "A" * 64, "g" * 64, 7])
def test_bad_keys_are_refused(tmp_path, bad):
    with pytest.raises(ValueError, match="not a prompt cache key"):
        PromptCache(tmp_path).get(bad)  # type: ignore[arg-type]


CORRUPTIONS = {
    "bad json": lambda key: b'{"key": "' + key.encode() + b'", "text": "cut',
    "empty file": lambda key: b"",
    "not utf-8": lambda key: b"\xff\xfe\x00garbage",
    "not an object": lambda key: b'["a list"]',
    "wrong key inside": lambda key: json.dumps({"key": "0" * 64, "text": "x"}).encode(),
    "no text": lambda key: json.dumps({"key": key, "text": None}).encode(),
    "parts of another request": lambda key: json.dumps(
        {"key": key, "parts": {**PARTS, "prompt": "else"}, "text": "x"}
    ).encode(),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=list(CORRUPTIONS))
def test_corrupt_entry_is_a_warned_miss_then_repaired(tmp_path, caplog, corrupt):
    cache = PromptCache(tmp_path)
    key = cache_key(PARTS)
    path = cache.path(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(corrupt(key))
    with caplog.at_level(logging.WARNING, logger="wan.prompting.cache"):
        assert cache.get(key) is None
    assert any(
        "discarded" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )
    assert not path.exists()  # discarded, so the next run does not warn again
    cache.put(key, "repaired")
    assert cache.get(key) == "repaired"


def test_prune_removes_corrupt_entries_and_stale_temp_files(tmp_path):
    cache = PromptCache(tmp_path)
    key = cache_key(PARTS)
    cache.put(key, "good")
    bad = cache.path(cache_key({**PARTS, "prompt": "other"}))
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("{broken")
    stale = cache.path(key).parent / ".leftover-1.tmp"
    fresh = cache.path(key).parent / ".leftover-2.tmp"
    stale.write_text("x")
    fresh.write_text("x")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    assert cache.prune(keep_versions=["v3"]) == 2
    assert cache.get(key) == "good" and not bad.exists() and not stale.exists() and fresh.exists()


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path):
    cache = PromptCache(tmp_path)
    keys = [cache_key({**PARTS, "prompt": f"prompt {i}"}) for i in range(20)]
    for i, key in enumerate(keys):
        cache.put(key, f"answer {i}")
        cache.put(key, f"answer {i} again")  # overwrite in place
    assert temp_files(tmp_path) == []
    assert [cache.get(k) for k in keys] == [f"answer {i} again" for i in range(20)]


def test_failed_write_keeps_old_entry_and_no_temporary_file(tmp_path, monkeypatch):
    cache = PromptCache(tmp_path)
    key = cache_key(PARTS)
    cache.put(key, "old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        cache.put(key, "new")
    monkeypatch.undo()
    assert cache.get(key) == "old"
    assert temp_files(tmp_path) == []


def test_unreadable_entry_is_a_miss(tmp_path, caplog):
    cache = PromptCache(tmp_path)
    key = cache_key(PARTS)
    cache.path(key).mkdir(parents=True)  # a folder where the file should be: read fails
    with caplog.at_level(logging.WARNING, logger="wan.prompting.cache"):
        assert cache.get(key) is None
    assert "treated as a miss" in caplog.text


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("WAN_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c" / "prompts"
    monkeypatch.setenv("WAN_CACHE_DIR", "  ")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "wan-deforum" / "prompts"
