"""RenderOptions under whichever pydantic this interpreter has; prints the outcome as JSON.

AUTOMATIC1111 pins pydantic 1 and Forge has pydantic 2, so `tests/render/test_options.py` runs
this script with a pydantic 1 interpreter (.venv-a1111) and compares its output with the same
checks run in-process under pydantic 2: parsing, dumping, validation errors, the CLI and the
schema must agree. Needs only pydantic (no torch, no pytest):

    PYTHONPATH=. .venv-a1111/bin/python tests/render/pydantic1_check.py
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import pydantic

from wan.errors import OptionsError
from wan.options import flags
from wan.options import render_options as opts
from wan.options.checks import PYDANTIC_V2

GOOD = [
    None,
    {},
    {
        "model": " tiny-t2v ",
        "size": "832 X 480",
        "steps": "30",
        "guidance": 4,
        "guidance_2": 3.5,
        "flow_shift": 5,
        "seed": -1,
        "overlap": 2.0,
        "fps_mode": "native",
        "dtype": "bfloat16",
        "memory": {"offload": "group_block", "fp8": "yes", "attention": "native", "force": 0},
        "cache": "first_block",
        "cache_threshold": 0.1,
        "loras": [{"path": "C:\\loras\\a.safetensors", "strength": -0.5}, {"path": "b"}],
        "enhance": {"enabled": True, "model": "tiny-qwen", "lang": "zh", "style": "cinematic"},
        "prompt_overrides": {"3": " a fox ", 0: "a cat"},
        "init_image": "C:\\images\\start.png",
        "colour_match": False,
        "crossfade": True,
        "camera": "words",
        "camera_weak": 0,
        "camera_strong": "0.5",
        "vace_camera": "clock",
        "last_image": "C:\\images\\end.png",
    },
    {"size": [640, 360], "prompt_overrides": None},
]

BAD = [
    {"stpes": 3},
    {"steps": 0},
    {"steps": 201},
    {"steps": 2.5},
    {"steps": True},
    {"steps": "many"},
    {"guidance": 31},
    {"guidance": "nan"},
    {"seed": -2},
    {"overlap": -1},
    {"flow_shift": 0},
    {"fps_mode": "fast"},
    {"dtype": "fp16"},
    {"memory": {"ofload": "model"}},
    {"memory": {"offload": "disk"}},
    {"memory": {"fp8": "maybe"}},
    {"memory": 3},
    {"cache": "tea"},
    {"cache_threshold": 1.5, "cache": "mag"},
    {"cache_threshold": 0.1},
    {"loras": [{"path": "a", "strength": 9}]},
    {"loras": [{"strength": 1}]},
    {"loras": [{"path": "a", "weight": 1}]},
    {"loras": [3]},
    {"loras": "a.safetensors"},
    {"enhance": {"lang": "fr"}},
    {"enhance": {"model": ""}},
    {"prompt_overrides": {"first": "a fox"}},
    {"prompt_overrides": {"-1": "a fox"}},
    {"prompt_overrides": {"1": ""}},
    {"prompt_overrides": ["a fox"]},
    {"init_image": "https://example.com/a.png"},
    {"init_image": "data:image/png;base64,AAAA"},
    {"size": "big"},
    {"size": "0x480"},
    {"model": 5},
    {"model": ""},
    {"colour_match": None},
    {"crossfade": 2},
    {"camera": "orbit"},
    {"camera_weak": 1},
    {"vace_camera": "latents"},
    {"last_image": "https://example.com/end.png"},
    {"camera_weak": 0.3, "camera_strong": 0.2},
    {"steps": 0, "guidance": -1, "typo": 1},
]

ARGV = [
    [],
    ["--model", "tiny-vace", "--steps", "8", "--guidance-2", "3", "--seed", "7"],
    ["--size", "640x360", "--overlap", "2", "--fps-mode", "native", "--dtype", "float32"],
    ["--offload", "model", "--fp8", "--no-vae-tiling", "--text-encoder-on-cpu"],
    ["--attention", "native", "--force-memory-plan", "--cache", "mag", "--cache-threshold", "0.2"],
    ["--lora", "C:\\loras\\x.safetensors:0.8", "--lora", "C:\\loras\\y.safetensors"],
    ["--lora", "/loras/a:b/z.safetensors", "--lora", "rel/w.safetensors:-1.5"],
    ["--enhance", "--enhance-model", "tiny-qwen", "--lang", "zh", "--style", "anime"],
    ["--prompt", "0=a cat", "--prompt", "2=a dog = happy", "--init-image", "start.png"],
    ["--no-colour-match", "--crossfade"],
    ["--camera", "words", "--camera-weak", "0.08", "--camera-strong", "0.2"],
    ["--steps", "500"],
    ["--steps", "ten"],
    ["--offload", "disk"],
    ["--lora", "x.safetensors:9"],
    ["--lora", "x.safetensors:strong"],
    ["--prompt", "a fox"],
    ["--prompt", "x=a fox"],
    ["--size", "830"],
    ["--init-image", "http://example.com/a.png"],
    ["--cache-threshold", "0.1"],
    ["--camera-weak", "0.5"],
]


def _outcome(make: Any) -> dict[str, Any]:
    try:
        return {"ok": opts.options_to_dict(make())}
    except OptionsError as exc:
        return {"error": str(exc)}


def run_checks() -> dict[str, Any]:
    """Every case's dump or error message, plus facts about the CLI and the schema."""
    parser = argparse.ArgumentParser(
        prog="check", formatter_class=lambda prog: argparse.HelpFormatter(prog, width=100)
    )
    flags.add_option_arguments(parser)
    good = [_outcome(lambda d=data: opts.parse_options(d)) for data in GOOD]
    round_trip = all(
        opts.parse_options(case["ok"]) == opts.parse_options(data)
        for data, case in zip(GOOD, good, strict=True)
    )
    schema = opts.json_schema()
    return {
        "good": good,
        "bad": [_outcome(lambda d=data: opts.parse_options(d)) for data in BAD],
        "argv": [
            _outcome(lambda a=argv: flags.options_from_args(parser.parse_args(a))) for argv in ARGV
        ],
        "round_trip": round_trip,
        "flags": [item.flag for item in flags.option_flags()],
        "help": parser.format_help(),
        "schema_properties": sorted(schema.get("properties", {})),
        "schema_json": bool(json.dumps(schema)),
        "frozen": _is_frozen(),
    }


def _is_frozen() -> bool:
    options = opts.parse_options({})
    try:
        options.steps = 3  # type: ignore[misc]
    except (TypeError, ValueError, AttributeError):
        return True
    return False


def main() -> int:
    results = run_checks()
    results["pydantic"] = pydantic.VERSION
    results["pydantic_v2"] = PYDANTIC_V2
    results["heavy_imports"] = sorted({"torch", "diffusers"} & set(sys.modules))
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
