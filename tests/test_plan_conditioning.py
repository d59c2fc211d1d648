"""The plan's label for the first clip is what the render does with it (issue 13): with an init
image from --init-image, `wan.init_image` or Deforum's use_init, clip 0 is "init_image" in
`plan --json`, POST /plan's JSON and the run's plan.json, and the render conditions it on the
image; without one it is "text" and the render is text to video."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from wan.cli.main import main
from wan.planning.plan_service import plan_request

# A one-clip 2D animation the smoke models render in a second (also tests/test_error_kinds.py).
SHORT = {
    "animation_mode": "2D",
    "max_frames": 6,
    "fps": 16,
    "W": 64,
    "H": 64,
    "seed": 3,
    "prompts": {"0": "a red lighthouse"},
}


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "first.png"
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(path)
    return str(path)


def cases(image: str) -> dict[str, tuple[dict, list[str]]]:
    """(settings, extra CLI flags) of each way to give an init image, and of none."""
    return {
        "none": (SHORT, []),
        "--init-image": (SHORT, ["--init-image", image]),
        "use_init": ({**SHORT, "use_init": True, "init_image": image}, []),
        "use_init off": ({**SHORT, "use_init": False, "init_image": image}, []),
    }


EXPECTED = {"none": "text", "--init-image": "init_image", "use_init": "init_image"}


@pytest.mark.parametrize("case", ["none", "--init-image", "use_init", "use_init off"])
def test_plan_and_render_agree_on_the_first_clip(case, image, tmp_path, capsys, smoke_root):
    settings, flags = cases(image)[case]
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    assert main(["plan", str(path), "--model", "tiny-t2v", "--json", *flags]) == 0
    planned = json.loads(capsys.readouterr().out)["clips"][0]["conditioning"]
    assert planned == EXPECTED.get(case, "text")

    out = tmp_path / "run"
    argv = ["render", str(path), "--model", "tiny-t2v", "--size", "64x64", "--steps", "1"]
    assert main([*argv, "--quiet", "--out", str(out), *flags]) == 0
    capsys.readouterr()
    assert json.loads((out / "plan.json").read_text())["clips"][0]["conditioning"] == planned
    clip = json.loads((out / "metadata.json").read_text())["clips"][0]
    assert clip["mode"] == "t2v"  # a text model: from text, or following the init image's guide
    assert clip["camera_follow"]["mode"] == ("text" if planned == "text" else "guide")


def test_the_api_s_init_image_option_labels_the_first_clip(image):
    """POST /plan's path (wan.init_image is a data URL there, a file once taken in)."""
    _, payload = plan_request(SHORT, {"model": "tiny-t2v", "init_image": image})
    assert payload["clips"][0]["conditioning"] == "init_image"
    _, payload = plan_request(SHORT, {"model": "tiny-t2v"})
    assert payload["clips"][0]["conditioning"] == "text"
