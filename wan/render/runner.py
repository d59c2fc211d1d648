"""`Runner.run`: the one entry point that turns a plan into a video in a run folder.

Flow: prepare the job (no weights) -> run folder, refusing to resume a different render -> free
the host's model, load Wan once under the host's GPU lock, apply the memory plan and LoRAs ->
each unfinished clip: build its conditioning, generate (retry once one memory step leaner on
out-of-memory), colour-match to the frames it continues, measure its camera against the
schedules' (wan.render.adherence), checkpoint atomically -> assemble the clips as a stream,
resample to the output fps, write video.mp4, metadata.json, prompts.srt, adherence.png.
Cancel is checked at every denoising step; finished clips stay on disk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wan.core.plan import GenerationPlan
from wan.errors import Cancelled, InternalError
from wan.host.base import (
    DECODING,
    DENOISING,
    DEPTH,
    GUIDE,
    GUIDE_ENCODING,
    LOADING,
    TEXT_ENCODING,
    WRITING,
    Host,
    ProgressEvent,
)
from wan.options.render_options import RenderOptions
from wan.render import run_folder
from wan.render.adherence import RenderCamera, measured_motion
from wan.render.assemble import output_stream
from wan.render.checkpoints import clip_preview, finished_clips, load_clip, save_clip
from wan.render.conditioning import continue_request, first_request
from wan.render.deforum_warp import warp_settings_of
from wan.render.depth import DepthEstimator, depth_for_warp
from wan.render.frames import color_match
from wan.render.job import RenderJob, prepare_job
from wan.render.model_session import ModelSession
from wan.render.subtitles import prompt_entries, write_srt
from wan.render.video import write_video

log = logging.getLogger(__name__)

ProgressCallback = Callable[[ProgressEvent], None]
CancelCheck = Callable[[], bool]
COLOR_REFERENCE_FRAMES = 4  # frames of the previous clip the colour statistics come from


@dataclass
class RunResult:
    run_dir: Path
    video: Path | None
    status: str  # done | cancelled
    clips_generated: int
    clips_resumed: int
    size: tuple[int, int] = (0, 0)
    size_reason: str = ""
    warnings: list[str] = field(default_factory=list)


class Runner:
    """Stateless between runs; one instance may serve a job queue."""

    def run(
        self,
        plan: GenerationPlan,
        options: RenderOptions,
        host: Host,
        cancel: CancelCheck | None = None,
        progress: ProgressCallback | None = None,
        run_dir: Path | None = None,
        resume: bool = False,
    ) -> RunResult:
        started = time.perf_counter()
        if plan.settings is None:
            raise InternalError("the plan has no Deforum settings: build it with build_plan")
        enhance = options.enhance
        if enhance is not None and enhance.enabled and enhance.model != "rules":
            host.free_host_memory()  # the prompt model may want the GPU, before Wan does
        job = prepare_job(plan, plan.settings, options, host.store_config(), host.lora_dirs())
        folder = run_folder.open_run(job, host.output_root(), run_dir, resume)
        report = _Reporter(host, progress, len(plan.clips), started)
        should_stop = _stop_check(host, cancel)
        done = finished_clips(folder)[0]
        timings: dict[str, float] = {}
        clip_meta: list[dict] = [load_clip(folder, i)[1] for i in done]
        session = None
        try:
            if len(done) < len(plan.clips):
                report(LOADING, 0)
                host.free_host_memory()
                with host.gpu_lock():
                    session = ModelSession.open(job, timings)
                    depth = None
                    try:
                        depth = _open_depth(job)
                        clip_meta += self._generate(
                            job, folder, session, done, report, should_stop, depth
                        )
                    finally:
                        session.close()  # Wan's weights go before the host may take the GPU back
                        if depth is not None:
                            depth.close()
            if should_stop():  # e.g. pressed while the last clip decoded
                raise Cancelled("cancelled before the video was written")
            report(WRITING, len(plan.clips))
            video = self._assemble(job, folder, timings, should_stop)
        except Cancelled:
            run_folder.write_state(folder, job, "cancelled")
            log.info("render cancelled; finished clips are kept in %s", folder)
            generated = len(finished_clips(folder)[0]) - len(done)
            size = (job.width, job.height)
            return RunResult(folder, None, "cancelled", generated, len(done), size, job.size_reason)
        except BaseException:
            run_folder.write_state(folder, job, "failed")
            raise
        finally:
            if session is not None:
                session.close()
            host.release()
        run_folder.write_metadata(folder, job, session, clip_meta, timings, video)
        run_folder.write_adherence(folder, job, clip_meta)
        run_folder.write_state(folder, job, "done")
        notes = [f"clip {m['index']}: {n}" for m in clip_meta for n in m.get("notes", [])]
        return RunResult(
            folder,
            video.path,
            "done",
            len(plan.clips) - len(done),
            len(done),
            (job.width, job.height),
            job.size_reason,
            [*job.warnings, *video.warnings, *notes],
        )

    def _generate(
        self, job: RenderJob, folder: Path, session, done, report, should_stop, depth
    ) -> list[dict]:
        metas = []
        plan = job.plan
        init = session.init_image_array()
        last = session.last_image_array()  # the user's last frame: the last clip's
        previous = load_clip(folder, done[-1])[0] if done else None
        reference = load_clip(folder, 0)[0][0] if done else None
        camera = RenderCamera.of(plan, job.settings, (job.width, job.height))
        for clip in plan.clips[len(done) :]:
            if should_stop():
                raise Cancelled(f"cancelled before clip {clip.index}")
            requested = camera.requested(clip)
            start = time.perf_counter()
            depth_of = _depth_function(depth, job, lambda n=clip.index + 1: report(DEPTH, n))
            report(GUIDE, clip.index + 1)
            if previous is None:
                request = first_request(job, clip, init, depth_of, _last(clip, plan, last))
            else:
                request = continue_request(
                    job, clip, previous, reference, depth_of, _last(clip, plan, last)
                )
            if job.frame_source is not None and request.guide is not None:
                requested = measured_motion(request.guide)  # the frames' own camera, not the
                # schedules' (Video Input has none; a re-render follows what the run did)
            session.timings["guide"] = session.timings.get("guide", 0.0) + (
                time.perf_counter() - start
            )
            report(GUIDE_ENCODING if request.guide is not None else TEXT_ENCODING, clip.index + 1)

            decode_started = [0.0]

            def on_step(
                step: int, total: int, number: int = clip.index + 1, mark: list = decode_started
            ) -> None:
                report(DENOISING, number, step, total)
                if step == total:
                    mark[0] = time.perf_counter()
                    report(DECODING, number, step, total)

            result = session.generate(request, on_step=on_step, cancel=should_stop)
            if decode_started[0]:
                decode = time.perf_counter() - decode_started[0]
                session.timings["decode"] = session.timings.get("decode", 0.0) + decode
                session.timings["denoise"] -= decode
            frames = result.frames
            if previous is not None and job.options.colour_match:
                frames = color_match(frames, previous[-COLOR_REFERENCE_FRAMES:])
            measuring = time.perf_counter()
            record = camera.record(requested, frames)
            session.timings["camera"] = session.timings.get("camera", 0.0) + (
                time.perf_counter() - measuring
            )
            seconds = time.perf_counter() - start
            meta = run_folder.clip_metadata(job, clip, request, result, seconds, record)
            save_clip(folder, clip.index, frames, meta)
            clip_preview(folder, clip.index, fps=plan.model_fps)
            metas.append(meta)
            previous = frames
            if reference is None:
                reference = frames[0]
        return metas

    def _assemble(
        self, job: RenderJob, folder: Path, timings: dict[str, float], should_stop: CancelCheck
    ):
        start = time.perf_counter()
        frames, fps, count = output_stream(
            folder, job.plan, job.options.fps_mode, job.options.crossfade
        )
        soundtrack = run_folder.soundtrack(job.settings)
        frames = _until_stopped(frames, should_stop)
        video = write_video(frames, folder / "video.mp4", fps, soundtrack=soundtrack)
        if video.frames != count:
            raise InternalError(f"{video.path} has {video.frames} frames, expected {count}")
        write_srt(folder / "prompts.srt", prompt_entries(_UsedPrompts(job), job.plan.fps))
        timings["write"] = time.perf_counter() - start
        return video


class _UsedPrompts(list):
    """The clips with the prompt each actually used, for the subtitles."""

    def __init__(self, job: RenderJob):
        super().__init__(
            _ClipText(c.start_frame, c.end_frame, job.prompts[c.index].used) for c in job.plan.clips
        )


@dataclass(frozen=True)
class _ClipText:
    start_frame: int
    end_frame: int
    prompt: str


def _until_stopped(frames, should_stop: CancelCheck):
    """The frames, until a cancel: write_video then removes its partial files."""
    for frame in frames:
        if should_stop():
            raise Cancelled("cancelled while the video was written")
        yield frame


def _last(clip, plan: GenerationPlan, last_image):
    return last_image if clip.index == len(plan.clips) - 1 else None


def _open_depth(job: RenderJob) -> DepthEstimator | None:
    """The depth model beside Wan for the clips' 3D camera guides (kept loaded: it is small,
    `wan.render.depth`), or None when the guides read no depth (or flat depth)."""
    return DepthEstimator.load(job.depth_model) if job.depth_model is not None else None


def _depth_function(
    estimator: DepthEstimator | None, job: RenderJob, on_start: Callable[[], None]
) -> Callable | None:
    """A frame -> its depth in the warp's convention, reporting the depth phase first."""
    if estimator is None:
        return None
    algorithm = warp_settings_of(job.settings).depth_algorithm

    def depth_of(frame):
        on_start()
        return depth_for_warp(estimator.depth(frame), algorithm)

    return depth_of


def _stop_check(host: Host, cancel: CancelCheck | None) -> CancelCheck:
    return lambda: bool((cancel is not None and cancel()) or host.interrupted())


class _Reporter:
    """Builds progress events with elapsed and remaining time, for the callback and the host."""

    def __init__(self, host: Host, callback: ProgressCallback | None, clips: int, started: float):
        self.host, self.callback, self.clips, self.started = host, callback, clips, started
        self.first_step_at: float | None = None
        self.steps_done = 0

    def __call__(self, phase: str, clip: int, step: int = 0, steps: int = 0) -> None:
        now = time.perf_counter()
        remaining = None
        if phase == DENOISING and steps:
            if self.first_step_at is None:
                self.first_step_at = now
            self.steps_done += 1
            total = self.clips * steps
            per_step = (now - self.first_step_at) / max(self.steps_done - 1, 1)
            remaining = per_step * max(total - ((clip - 1) * steps + step), 0)
        event = ProgressEvent(phase, clip, self.clips, step, steps, now - self.started, remaining)
        self.host.report(event)
        if self.callback is not None:
            self.callback(event)
