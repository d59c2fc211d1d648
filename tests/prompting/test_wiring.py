"""Enhanced prompts reach the render job, the plan command and the enhance command."""

from __future__ import annotations

import json

from tests.conftest import FIXTURES
from wan.cli.main import main
from wan.core.deforum.settings import load_settings
from wan.core.plan import build_plan
from wan.host.standalone import StandaloneHost
from wan.models.identify import profile_for
from wan.options.render_options import parse_options
from wan.render.job import prepare_job

SETTINGS = FIXTURES / "deforum__scripts_default_settings.txt"


def job_for(options: dict):
    settings = load_settings(SETTINGS)
    plan = build_plan(settings, profile_for("tiny-t2v"), seed=3, overlap=1)
    host = StandaloneHost()
    return prepare_job(plan, settings, parse_options(options), host.store_config(), [])


def test_enhanced_prompts_are_used_and_overrides_win(smoke_root):
    job = job_for({"model": "tiny-t2v", "enhance": {"enabled": True}, "prompt_overrides": {1: "x"}})
    first, second = job.prompts[0], job.prompts[1]
    assert first.enhanced and first.used != first.given
    assert job.plan.clips[0].motion.phrase.split()[-1] in first.used.lower()
    assert second.override and second.enhanced is None and second.used == "x"


def test_enhancement_changes_the_render_hash(smoke_root):
    plain = job_for({"model": "tiny-t2v"})
    enhanced = job_for({"model": "tiny-t2v", "enhance": {"enabled": True}})
    assert plain.prompts[0].enhanced is None
    assert plain.hash_parts()["prompts"] != enhanced.hash_parts()["prompts"]


def test_plan_enhance_json(capsys):
    assert (
        main(["plan", str(SETTINGS), "--json", "--seed", "1", "--enhance", "--style", "cinematic"])
        == 0
    )
    clips = json.loads(capsys.readouterr().out)["clips"]
    assert all(c["enhance_source"] == "rules" for c in clips)
    assert "cinematic lighting" in clips[0]["enhanced_prompt"].lower()


def test_enhance_command(capsys):
    argv = ["enhance", "a red fox, snow, forest", "--motion", "the camera pans left", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == "rules" and "The camera pans left." in data["text"]
