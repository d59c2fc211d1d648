"""What each model task is, in one table: the tab's label, whether it needs a first image, the
clip modes a loaded model of the task generates, how a clip continues the one before it, the
inputs besides text and the diffusers pipeline. Every other module reads it from here, so a new
task (or a change to one) is one row.

Clip modes (a `ClipRequest`'s mode): t2v (text only), i2v (a first image), vace (known frames in
a control video), v2v (an init video denoised at a strength).
"""

from __future__ import annotations

from dataclasses import dataclass

from wan.core.profiles import IMAGE, LAST_IMAGE, REFERENCE, VIDEO

CLIP_MODES = ("t2v", "i2v", "vace", "v2v")
NONE, OPTIONAL, REQUIRED = "none", "optional", "required"  # a task's need of a first image
# How a clip continues the previous one (and starts from an init image):
AS_FIRST_IMAGE = "first image"  # i2v: the previous clip's last frame is the first image
AS_KNOWN_FRAMES = "known frames"  # vace: the previous clip's last frames lead the control video
AS_INIT_VIDEO = "init video"  # v2v: the last frame warped along the camera, denoised


@dataclass(frozen=True)
class Task:
    id: str
    label: str  # what the tab says the model does
    first_image: str  # NONE | OPTIONAL | REQUIRED: the init image input
    modes: tuple[str, ...]  # the clip modes a loaded model of this task generates
    continues_by: str  # AS_FIRST_IMAGE | AS_KNOWN_FRAMES | AS_INIT_VIDEO
    inputs: frozenset[str]  # conditioning inputs besides text (wan.core.profiles)
    pipeline: str  # the diffusers pipeline class (TI2V's image mode derives its own)

    @property
    def clip_mode(self) -> str:
        """The mode of a clip that continues another (or starts from an init image)."""
        return {AS_FIRST_IMAGE: "i2v", AS_KNOWN_FRAMES: "vace", AS_INIT_VIDEO: "v2v"}[
            self.continues_by
        ]


_ALL = (
    Task("t2v", "text to video", NONE, ("t2v", "v2v"), AS_INIT_VIDEO, frozenset(), "WanPipeline"),
    Task(
        "i2v", "image to video, needs an init image", REQUIRED, ("i2v",), AS_FIRST_IMAGE,
        frozenset({IMAGE}), "WanImageToVideoPipeline",
    ),
    Task(
        "flf2v", "first and last frame to video, needs an init image", REQUIRED, ("i2v",),
        AS_FIRST_IMAGE, frozenset({IMAGE, LAST_IMAGE}), "WanImageToVideoPipeline",
    ),
    Task(
        "ti2v", "text or image to video, init image optional", OPTIONAL, ("t2v", "i2v"),
        AS_FIRST_IMAGE, frozenset({IMAGE}), "WanPipeline",
    ),
    # VACE does text-only (no control video) and first-image (one known frame) too
    Task(
        "vace", "VACE (text, video, references), init image optional", OPTIONAL,
        ("t2v", "i2v", "vace"), AS_KNOWN_FRAMES, frozenset({VIDEO, REFERENCE}), "WanVACEPipeline",
    ),
)  # fmt: skip
TASKS: dict[str, Task] = {task.id: task for task in _ALL}
TASK_IDS = tuple(TASKS)
DEFAULT_TASK = "t2v"  # a model whose task nothing says


def task_of(task_id: str | None) -> Task:
    """The task's row (the default task's for None or an unknown id)."""
    return TASKS.get(task_id or DEFAULT_TASK, TASKS[DEFAULT_TASK])


def takes_first_image(task_id: str | None) -> bool:
    """Whether the task's models condition on a first image (i2v, flf2v, ti2v)."""
    return task_of(task_id).continues_by == AS_FIRST_IMAGE
