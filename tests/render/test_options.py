"""RenderOptions: parsing, errors, the generated CLI flags, and pydantic 1 / 2 agreement."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest

from wan.errors import OptionsError, WanError
from wan.models.plan_overrides import OVERRIDES
from wan.options import render_options as opts
from wan.options.checks import PYDANTIC_V2, field_specs
from wan.options.choices import ATTENTIONS, CACHES, OFFLOADS
from wan.options.flags import add_option_arguments, option_flags, options_from_args
from wan.options.render_options import RenderOptions, json_schema, options_to_dict, parse_options

ROOT = Path(__file__).resolve().parents[2]
CHECK_SCRIPT = Path(__file__).with_name("pydantic1_check.py")


def _pydantic1_python() -> Path | None:
    """The interpreter with pydantic 1: $WAN_A1111_PYTHON (set by the Makefile, so CI fails
    rather than skips when it is missing), else the A1111-pinned .venv-a1111, else /tmp/pyd1."""
    chosen = os.environ.get("WAN_A1111_PYTHON")
    if chosen:
        return Path(chosen)
    candidates = [ROOT / ".venv-a1111" / "bin" / "python", Path("/tmp/pyd1/bin/python")]
    return next((path for path in candidates if path.exists()), None)


PYDANTIC1_PYTHON = _pydantic1_python()


def _check_module() -> Any:
    spec = importlib.util.spec_from_file_location("pydantic1_check", CHECK_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(prog="render")
    add_option_arguments(result)
    return result


def from_argv(*argv: str) -> RenderOptions:
    return options_from_args(parser().parse_args(list(argv)))


def _leaves(data: dict, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for key, value in data.items():
        if isinstance(value, dict) and key != "prompt_overrides":
            out |= _leaves(value, (*prefix, key))
        else:
            out.add((*prefix, key))
    return out


# ----------------------------------------------------------------------------------------------
# The model


def test_defaults() -> None:
    options = parse_options(None)
    assert options == parse_options({}) == RenderOptions()
    assert options_to_dict(options) == {
        "model": None,
        "size": None,
        "steps": None,
        "guidance": None,
        "guidance_2": None,
        "flow_shift": None,
        "seed": None,
        "overlap": None,
        "fps_mode": "deforum",
        "dtype": "auto",
        "depth_model": None,
        "memory": {
            "offload": None,
            "fp8": None,
            "vae_tiling": None,
            "text_encoder_on_cpu": None,
            "attention": None,
            "force": None,
        },
        "cache": "none",
        "cache_threshold": None,
        "preset": None,
        "loras": [],
        "enhance": {"enabled": False, "model": "rules", "lang": "en", "style": "none"},
        "prompt_overrides": {},
        "init_image": None,
        "last_image": None,
        "colour_match": True,
        "crossfade": False,
        "camera": "guide",
        "camera_weak": 0.04,
        "camera_strong": 0.1,
        "vace_camera": "control",
        "init_frame": None,
        "guide_from": "camera",
    }


def test_full_body_parses_normalises_and_round_trips() -> None:
    data = _check_module().GOOD[2]
    options = parse_options(data)
    assert options.model == "tiny-t2v"
    assert options.size == "832x480"
    assert options.steps == 30 and isinstance(options.steps, int)
    assert options.overlap == 2
    assert options.memory.fp8 is True and options.memory.force is False
    assert options.loras[1].strength == 1.0
    assert options.prompt_overrides == {0: "a cat", 3: "a fox"}
    dumped = options_to_dict(options)
    assert list(dumped["prompt_overrides"]) == ["0", "3"]
    assert json.loads(json.dumps(dumped)) == dumped
    assert parse_options(dumped) == options
    assert list(dumped) == list(options_to_dict(RenderOptions()))  # stable key order


def test_options_are_frozen_and_pass_through() -> None:
    options = parse_options({"steps": 4})
    with pytest.raises((TypeError, ValueError)):
        options.steps = 5  # type: ignore[misc]
    assert parse_options(options) is options


def test_choices_match_the_memory_plan() -> None:
    spec = field_specs(opts.MemoryOptions)
    assert get_args(spec["offload"].base) == OFFLOADS
    assert get_args(spec["attention"].base) == ATTENTIONS
    assert get_args(opts.Cache) == CACHES
    memory_names = set(field_specs(opts.MemoryOptions))
    assert memory_names <= set(OVERRIDES)
    assert {"cache", "cache_threshold"} <= set(OVERRIDES)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stpes": 3}, "unknown option 'stpes' (did you mean 'steps'?); options here: model, "),
        ({"steps": 0}, "steps 0: use a whole number >= 1 (or null for the default)"),
        ({"steps": 2.5}, "steps 2.5: use a whole number >= 1"),
        ({"steps": True}, "steps True: use a whole number >= 1"),
        ({"steps": 500}, "steps is 500, past the limit of 200 denoising steps per clip"),
        ({"guidance": 31}, "guidance 31: use a number from 0 to 30"),
        ({"guidance_2": -1}, "guidance_2 -1: use a number from 0 to 30"),
        ({"flow_shift": 0}, "flow_shift 0: use a number above 0 and <= 100"),
        ({"seed": -2}, "seed -2: use a whole number from -1 to 4294967295"),
        ({"overlap": -1}, "overlap -1: use a whole number >= 0"),
        ({"fps_mode": "fast"}, "fps_mode 'fast': use one of deforum, native"),
        ({"dtype": "fp16"}, "dtype 'fp16': use one of auto, bfloat16, float16, float32"),
        ({"memory": {"ofload": "model"}}, "unknown option 'ofload' in memory (did you mean"),
        ({"memory": {"offload": "disk"}}, "memory.offload 'disk': use one of none, model, "),
        ({"memory": {"fp8": "maybe"}}, "memory.fp8 'maybe': use true or false"),
        ({"cache": "tea"}, "cache 'tea': use one of none, first_block, mag"),
        ({"cache_threshold": 0.1}, "cache_threshold needs a step cache: set cache to"),
        ({"loras": [{"path": "a", "strength": 9}]}, "loras[0].strength 9: use a number from -5"),
        ({"loras": [{"strength": 1}]}, "loras[0].path: required"),
        ({"loras": [{"path": "a", "weight": 1}]}, "unknown option 'weight' in loras"),
        ({"enhance": {"lang": "fr"}}, "enhance.lang 'fr': use one of en, zh"),
        ({"prompt_overrides": {"first": "x"}}, "clip index 'first': use a clip number 0, 1"),
        ({"prompt_overrides": {"\u00b2": "x"}}, "clip index '\u00b2': use a clip number 0, 1"),
        ({"prompt_overrides": {"1": " "}}, "clip 1: the prompt must be non-empty text"),
        ({"init_image": "https://x.org/a.png"}, "init_image 'https://x.org/a.png': URLs are not"),
        ({"size": "big"}, "size 'big': use WIDTHxHEIGHT with positive whole numbers"),
        ({"model": 5}, "model 5: use non-empty text"),
        ({"colour_match": None}, "colour_match None: use true or false"),
    ],
)
def test_errors_name_the_key_and_the_fix(data: dict, message: str) -> None:
    with pytest.raises(OptionsError) as error:
        parse_options(data)
    assert message in str(error.value)
    assert isinstance(error.value, WanError)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(OptionsError) as error:
        parse_options({"steps": 0, "guidance": -1, "typo": 1})
    text = str(error.value)
    assert "steps 0" in text and "guidance -1" in text and "unknown option 'typo'" in text


def test_not_an_object() -> None:
    with pytest.raises(OptionsError, match="expected a JSON object of options, not list"):
        parse_options([1, 2])  # type: ignore[arg-type]


def test_json_schema() -> None:
    schema = json_schema()
    json.dumps(schema)
    assert list(schema["properties"]) == list(options_to_dict(RenderOptions()))
    assert schema["additionalProperties"] is False
    assert schema["properties"]["steps"]["description"].startswith("sampling steps")


# ----------------------------------------------------------------------------------------------
# Command line


def test_every_field_has_a_flag() -> None:
    fields = _leaves(options_to_dict(RenderOptions()))
    flags = {item.path: item.flag for item in option_flags()}
    assert set(flags) == fields
    assert len(set(flags.values())) == len(flags)
    text = parser().format_help()
    for flag in flags.values():
        assert flag in text


def test_the_documented_flags_exist() -> None:
    text = parser().format_help()
    for flag in (
        "--model", "--size WxH", "--steps", "--guidance", "--guidance-2", "--flow-shift", "--seed",
        "--overlap", "--fps-mode", "--dtype", "--offload", "--fp8", "--no-fp8", "--vae-tiling",
        "--no-vae-tiling", "--text-encoder-on-cpu", "--attention", "--force-memory-plan",
        "--cache", "--cache-threshold", "--lora FILE[:STRENGTH]", "--enhance", "--no-enhance",
        "--enhance-model", "--lang", "--style", "--prompt CLIP=TEXT", "--init-image",
        "--no-colour-match", "--crossfade", "--camera {guide,words}", "--camera-weak",
        "--camera-strong",
    ):  # fmt: skip
        assert flag in text, flag
    assert "sampling steps (default: model's)" in text  # help from the field descriptions


def test_only_given_flags_change_anything() -> None:
    assert from_argv() == RenderOptions()
    options = from_argv("--steps", "8")
    assert options_to_dict(options) == {**options_to_dict(RenderOptions()), "steps": 8}
    args = parser().parse_args([])
    assert args.steps is None and args.colour_match is None and args.lora is None


def test_flags_fill_every_part_of_the_model() -> None:
    options = from_argv(
        "--model", "tiny-vace", "--size", "640x352", "--steps", "8", "--guidance", "4.5",
        "--guidance-2", "3", "--flow-shift", "5", "--seed", "-1", "--overlap", "2",
        "--fps-mode", "native", "--dtype", "float32", "--offload", "group_leaf", "--no-fp8",
        "--vae-tiling", "--text-encoder-on-cpu", "--attention", "native",
        "--force-memory-plan", "--cache", "first_block", "--cache-threshold", "0.08",
        "--preset", "fast", "--lora", "a.safetensors:0.5", "--enhance",
        "--enhance-model", "tiny-qwen",
        "--lang", "zh", "--style", "anime", "--prompt", "1=a fox", "--init-image", "start.png",
        "--no-colour-match", "--crossfade", "--camera", "words", "--camera-weak", "0.1",
        "--camera-strong", "0.3", "--vace-camera", "clock", "--last-image", "end.png",
        "--init-frame", "3", "--guide-from", "run",
    )  # fmt: skip
    assert options_to_dict(options) == {
        "model": "tiny-vace",
        "size": "640x352",
        "steps": 8,
        "guidance": 4.5,
        "guidance_2": 3.0,
        "flow_shift": 5.0,
        "seed": -1,
        "overlap": 2,
        "fps_mode": "native",
        "dtype": "float32",
        "depth_model": None,
        "memory": {
            "offload": "group_leaf",
            "fp8": False,
            "vae_tiling": True,
            "text_encoder_on_cpu": True,
            "attention": "native",
            "force": True,
        },
        "cache": "first_block",
        "cache_threshold": 0.08,
        "preset": "fast",
        "loras": [{"path": "a.safetensors", "strength": 0.5}],
        "enhance": {"enabled": True, "model": "tiny-qwen", "lang": "zh", "style": "anime"},
        "prompt_overrides": {"1": "a fox"},
        "init_image": "start.png",
        "last_image": "end.png",
        "colour_match": False,
        "crossfade": True,
        "camera": "words",
        "camera_weak": 0.1,
        "camera_strong": 0.3,
        "vace_camera": "clock",
        "init_frame": 3,
        "guide_from": "run",
    }


@pytest.mark.parametrize(
    ("arg", "path", "strength"),
    [
        ("C:\\loras\\x.safetensors:0.8", "C:\\loras\\x.safetensors", 0.8),
        ("C:\\loras\\x.safetensors", "C:\\loras\\x.safetensors", 1.0),
        ("C:/loras/x.safetensors:-1.5", "C:/loras/x.safetensors", -1.5),
        ("/loras/x.safetensors:2", "/loras/x.safetensors", 2.0),
        ("/mnt/a:b/x.safetensors", "/mnt/a:b/x.safetensors", 1.0),
        ("x.safetensors", "x.safetensors", 1.0),
        ("x.safetensors:.5", "x.safetensors", 0.5),
    ],
)
def test_lora_flag_splits_on_the_last_colon(arg: str, path: str, strength: float) -> None:
    (lora,) = from_argv("--lora", arg).loras
    assert (lora.path, lora.strength) == (path, strength)


def test_repeated_flags() -> None:
    options = from_argv(
        "--lora", "a.safetensors", "--lora", "b.safetensors:0.3",
        "--prompt", "0=a cat", "--prompt", "2=a dog = happy", "--prompt", "0=a lion",
    )  # fmt: skip
    assert [(x.path, x.strength) for x in options.loras] == [
        ("a.safetensors", 1.0),
        ("b.safetensors", 0.3),
    ]
    assert options.prompt_overrides == {0: "a lion", 2: "a dog = happy"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "500"], "--steps is 500, past the limit of 200 denoising steps per clip"),
        (["--steps", "ten"], "--steps 'ten': use a whole number >= 1"),
        (["--guidance", "x"], "--guidance 'x': use a number from 0 to 30"),
        (["--offload", "disk"], "--offload 'disk': use one of none, model, group_block"),
        (["--fps-mode", "fast"], "--fps-mode 'fast': use one of deforum, native"),
        (["--lang", "fr"], "--lang 'fr': use one of en, zh"),
        (["--lora", "x.safetensors:9"], "--lora 'x.safetensors:9': strength: use a number from"),
        (["--lora", "x.safetensors:strong"], "--lora 'x.safetensors:strong': strength 'strong'"),
        (["--prompt", "a fox"], "--prompt 'a fox': use CLIP=TEXT with a 0-based clip number"),
        (["--prompt", "-1=a fox"], "--prompt '-1=a fox': use CLIP=TEXT"),
        (["--size", "830"], "--size '830': use WIDTHxHEIGHT"),
        (["--init-image", "http://x.org/a.png"], "--init-image 'http://x.org/a.png': URLs are"),
        (["--cache-threshold", "0.1"], "--cache-threshold needs a step cache: set --cache to"),
    ],
)
def test_cli_errors_name_the_flag(argv: list[str], message: str) -> None:
    with pytest.raises(OptionsError) as error:
        from_argv(*argv)
    assert message in str(error.value)
    assert "(or null for the default)" not in str(error.value)


def test_flags_sit_beside_other_arguments() -> None:
    command = argparse.ArgumentParser()
    command.add_argument("settings")
    command.add_argument("--json", action="store_true")
    add_option_arguments(command)
    args = command.parse_args(["s.txt", "--json", "--seed", "5"])
    assert args.settings == "s.txt" and args.json and args.seed == "5"
    assert options_from_args(args).seed == 5


# ----------------------------------------------------------------------------------------------
# Host environments


def test_import_pulls_in_no_torch() -> None:
    code = (
        "import sys, wan.options.flags, wan.core.sizes, wan.core.prompt_syntax; "
        "print(sorted({'torch', 'diffusers', 'numpy'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_check_script_agrees_in_process() -> None:
    results = _check_module().run_checks()
    assert results["round_trip"] and results["frozen"] and results["schema_json"]
    assert all("ok" in case for case in results["good"])
    assert all("error" in case for case in results["bad"])


@pytest.mark.skipif(
    PYDANTIC1_PYTHON is None,
    reason="no pydantic 1 interpreter: `make setup-a1111` builds .venv-a1111",
)
@pytest.mark.skipif(
    not PYDANTIC_V2, reason="this interpreter is the pydantic 1 one: compared from the other"
)
def test_pydantic1_gives_the_same_results() -> None:
    assert PYDANTIC1_PYTHON is not None
    assert PYDANTIC1_PYTHON.exists(), f"{PYDANTIC1_PYTHON} is missing: run `make setup-a1111`"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [str(PYDANTIC1_PYTHON), "-W", "error", str(CHECK_SCRIPT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    under_v1 = json.loads(result.stdout)
    assert under_v1.pop("pydantic").startswith("1.")
    assert under_v1.pop("pydantic_v2") is False
    assert under_v1.pop("heavy_imports") == []
    assert under_v1 == _check_module().run_checks()
