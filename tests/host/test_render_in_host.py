"""Real smoke renders through the Runner with the WebUI adapters: the host's lock is held while
Wan generates, progress reaches `shared.state`, and the host's Interrupt stops the render."""

from __future__ import annotations

import pytest
import torch

from wan.core.deforum.settings import parse_settings
from wan.core.plan import CONTINUATION_OVERLAP, build_plan
from wan.host import torch_settings
from wan.models.identify import profile_for
from wan.options.render_options import parse_options
from wan.render.runner import Runner
from wan.webui.hosts import make_host

SETTINGS = {
    "animation_mode": "2D",
    "max_frames": 24,
    "fps": 12,
    "W": 64,
    "H": 64,
    "seed": 5,
    "translation_x": "0: (2)",
    "prompts": {"0": "a lighthouse", "12": "a blue sea"},
}


def render(tmp_path, host, progress):
    settings = parse_settings(SETTINGS)
    plan = build_plan(
        settings, profile_for("tiny-t2v"), seed=settings.seed, overlap=CONTINUATION_OVERLAP
    )
    options = parse_options({"model": "tiny-t2v", "size": "64x64", "steps": 3})
    return Runner().run(plan, options, host, progress=progress, run_dir=tmp_path / "run")


def test_lock_held_and_progress_in_state_while_wan_generates(webui, tmp_path, smoke_root):
    host = make_host(webui.namespace())
    state = webui.shared.state
    seen = []

    def progress(event):
        if event.phase == "denoising":
            seen.append((event, webui.call_queue.queue_lock.locked(), state.job, state.textinfo))
            mirrored = (state.job_count, state.job_no, state.sampling_step, state.sampling_steps)
            assert mirrored == (event.clips, event.clip - 1, event.step, event.steps)

    result = render(tmp_path, host, progress)
    assert result.status == "done" and result.video.is_file()
    assert {event.clip for event, *_ in seen} == set(range(1, seen[0][0].clips + 1))
    assert all(locked and job == "wan" for _, locked, job, _ in seen)
    first, *_, text = seen[0]
    assert text == f"Wan: clip 1/{first.clips}, denoising 1/3"
    names = webui.names()
    assert names.count("state.begin") == 1 and names.count("state.end") == 1
    assert names.index("state.end") < names.index("queue_lock.release")
    assert not webui.call_queue.queue_lock.locked()
    if webui.kind == "a1111":
        model = webui.sd_models.model_data.sd_model
        assert names.index("unload_model_weights") < names.index("send_model_to_device")
        assert model.device == "cuda"  # back for the host's next txt2img
    assert state.job == ""
    # /sdapi/v1/progress shows nothing of ours once the job ended (the host's end() keeps it)
    assert state.textinfo is None and (state.sampling_step, state.sampling_steps) == (0, 0)


def test_host_interrupt_stops_a_real_render(webui, tmp_path, smoke_root):
    host = make_host(webui.namespace())
    state = webui.shared.state
    state.interrupted = True  # left over from an interrupted txt2img: begin() clears it

    def progress(event):
        if event.phase == "denoising" and event.step == 1:
            state.interrupt()  # the WebUI's Interrupt button

    result = render(tmp_path, host, progress)
    assert result.status == "cancelled" and result.video is None
    assert result.clips_generated == 0
    assert not webui.call_queue.queue_lock.locked()
    assert "state.end" in webui.names()
    assert state.textinfo is None


def test_skip_stops_it_too(a1111, tmp_path, smoke_root):
    host = make_host(a1111.namespace())
    state = a1111.shared.state

    def progress(event):
        if event.phase == "denoising" and event.step == 2:
            state.skip()

    assert render(tmp_path, host, progress).status == "cancelled"


def test_a_job_queued_in_the_webui_renders_with_the_settings_default_model(webui, smoke_root):
    """The process's queue, the worker's file lock, the Runner and the adapter together; the
    request names no model, the "Wan Video" setting does."""
    import gradio as gr

    from wan.webui.extension import process_host, process_queue
    from wan.webui.settings import register_settings

    register_settings(webui.shared, gr)
    webui.shared.opts.wan_default_model = "tiny-t2v"
    queue = process_queue(webui.namespace())
    job = queue.submit(SETTINGS, {"size": "64x64", "steps": 2}, source="ui")
    assert job.options["model"] == "tiny-t2v"
    done = queue.wait(job.id, timeout=120)
    assert done.status == "SUCCEEDED", done.error
    video = queue.video_path(job.id)
    output_root = process_host(webui.namespace()).output_root()
    assert video.is_file() and output_root / "wan-videos" in video.parents
    assert not webui.call_queue.queue_lock.locked()
    assert webui.names().count("state.begin") == 1 and "state.end" in webui.names()


@pytest.fixture
def host_torch_settings():
    """torch as a WebUI process might have left it, and as it was after the test."""
    before = torch_settings.current()
    host = torch_settings.TorchSettings(
        threads=1,
        deterministic=True,
        deterministic_warn_only=True,
        anomaly=True,
        mkldnn=False,
        default_dtype=torch.float64,
    )
    torch_settings.apply(host)
    yield host
    torch_settings.apply(before)


def test_the_hosts_torch_settings_do_not_reach_a_render_and_come_back_after(
    webui, tmp_path, smoke_root, host_torch_settings
):
    """A1111 made the same render 3.5x slower than Forge: the render's thread team now tips
    the process over the CPUs whatever the host runs (wan/host/torch_settings.py), and what a
    host sets process-wide (threads, deterministic mode, anomaly detection, oneDNN, default
    dtype) is the render's own while it holds the GPU lock."""
    host = make_host(webui.namespace())
    during = []

    def progress(event):
        if event.phase == "denoising":
            during.append(torch_settings.current())

    result = render(tmp_path, host, progress)
    assert result.status == "done" and during
    assert set(during) == {torch_settings.for_render()}
    assert torch_settings.for_render().threads == torch_settings.available_cpus() + 1
    assert torch_settings.current() == host_torch_settings  # the host's, back after the render
