"""How well a video model follows the Deforum camera: one held-out camera move rendered with
`--camera guide` and with `--camera words`, the adherence of each printed side by side.

For a machine with a GPU and real weights (no network needed once the model is installed):

    python benchmarks/camera_follow.py --model Wan2.1-I2V-14B-480P --init-image first.png \
        --move orbit --size 832x480 --frames 81

On this CPU it runs on smoke models (the default, tiny-i2v): their output is noise, so the
figures mean nothing there; the run exercises the whole path (guide, dual clock, measurement).

The moves are not the repository's examples (held out): an orbit (3D truck with a counter-pan),
a dolly (3D push in) and a pan (2D). Adherence is the per-clip figure of `wan.render.adherence`:
`error_px`, the mean endpoint error between the requested and the measured motion per frame
(lower is better), and `score` 0..1 against the size of the move (higher is better).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wan.core.deforum.settings import parse_settings
from wan.core.plan import CONTINUATION_OVERLAP, build_plan
from wan.host.standalone import StandaloneHost
from wan.models.identify import profile_for
from wan.options.render_options import parse_options
from wan.render.runner import Runner

MOVES = {
    "orbit": {"animation_mode": "3D", "translation_x": "0: (2.5)", "rotation_3d_y": "0: (-0.7)"},
    "dolly": {"animation_mode": "3D", "translation_z": "0: (3)"},
    "pan": {"animation_mode": "2D", "translation_x": "0: (-3)"},
}
PROMPT = "a harbour town on a hillside at golden hour, boats, detailed stone houses"


def settings_for(move: str, frames: int, fps: int, size: tuple[int, int]) -> dict:
    width, height = size
    return {
        "W": width, "H": height, "fps": fps, "max_frames": frames, "seed": 7,
        "strength_schedule": "0: (0.65)", "prompts": {"0": PROMPT}, **MOVES[move],
    }  # fmt: skip


def render(settings: dict, model: str, camera: str, args, out: Path) -> list[dict]:
    data = parse_settings(settings)
    plan = build_plan(
        data, profile_for(model), seed=7, overlap=CONTINUATION_OVERLAP, init_image=args.init_image
    )
    options = {"model": model, "size": args.size, "camera": camera}
    options |= {"init_image": args.init_image} if args.init_image else {}
    options |= {"steps": args.steps} if args.steps else {}
    options |= {"depth_model": args.depth_model} if args.depth_model else {}
    host = StandaloneHost(output_dir=str(out), models_dir=args.models_dir)
    result = Runner().run(plan, parse_options(options), host, run_dir=out / camera)
    metadata = json.loads((result.run_dir / "metadata.json").read_text())
    return [clip["camera"]["adherence"] for clip in metadata["clips"]]


def mean(values: list) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def shown(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-i2v")
    parser.add_argument("--move", choices=[*MOVES, "all"], default="all")
    parser.add_argument("--init-image", default=None, help="first frame (image models need one)")
    parser.add_argument("--size", default=None, help="WIDTHxHEIGHT (default: the model's)")
    parser.add_argument("--frames", type=int, default=33, help="Deforum frames of the move")
    parser.add_argument("--fps", type=int, default=16)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--depth-model", default=None)
    parser.add_argument("--models-dir", default=None)
    args = parser.parse_args()
    profile = profile_for(args.model)
    if profile.smoke:
        print(f"note: {args.model} is a smoke model: its output is noise, so these figures mean "
              "nothing; they show the path runs (guide, dual clock, measurement)")  # fmt: skip
    if args.init_image is None and profile.task in ("i2v", "flf2v"):
        args.init_image = str(_test_card(Path(tempfile.mkdtemp()), args))
    size = tuple(int(v) for v in (args.size or "832x480").split("x"))
    moves = list(MOVES) if args.move == "all" else [args.move]
    print(f"{'move':<6} {'camera':<6} {'error px':>9} {'score':>6}  per clip")
    with tempfile.TemporaryDirectory() as folder:
        for move in moves:
            settings = settings_for(move, args.frames, args.fps, size)
            for camera in ("guide", "words"):
                figures = render(settings, args.model, camera, args, Path(folder) / move)
                error = mean([f["error_px"] for f in figures])
                score = mean([f["score"] for f in figures])
                clips = ", ".join(shown(f["score"], 2) for f in figures)
                print(f"{move:<6} {camera:<6} {shown(error, 2):>9} {shown(score, 3):>6}  {clips}")
    return 0


def _test_card(folder: Path, args) -> Path:
    """The guide's neutral test card as the first frame when none is given."""
    from PIL import Image

    from wan.render.camera_guide import test_card

    width, height = (int(v) for v in (args.size or "832x480").split("x"))
    path = folder / "card.png"
    Image.fromarray(test_card(width, height)).save(path)
    return path


if __name__ == "__main__":
    sys.exit(main())
