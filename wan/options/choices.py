"""The closed lists of choices a render takes, defined once: the options' types, the memory
planner, the CLI flags and the tab's dropdowns all read them from here."""

from __future__ import annotations

AUTO = "auto"  # the tab's and the memory plan's "decide for me"
OFFLOADS = ("none", "model", "group_block", "group_leaf")  # least offload first
ATTENTIONS = ("native", "flash", "sage")
CACHES = ("none", "first_block", "mag")
PRESETS = ("quality", "balanced", "fast")  # speed presets (wan/options/presets.py)
DTYPES = (AUTO, "bfloat16", "float16", "float32")
FPS_MODES = ("deforum", "native")  # Deforum's frame count and fps, or the model's own fps
LANGUAGES = ("en", "zh")  # of enhanced prompts
CAMERA_MODES = ("guide", "words")  # follow the camera guide (dual clock), or words only
# how a VACE model follows the camera guide: as its control video and mask, or the dual clock
VACE_CAMERA_MODES = ("control", "clock")
# what each clip's guide video is: the camera guide built by Deforum's warp, or the frames of the
# Deforum run the settings come from (a re-render; wan.render.guide_source)
GUIDE_SOURCES = ("camera", "run")
