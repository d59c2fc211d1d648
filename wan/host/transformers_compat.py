"""Give back the names the WebUIs' code imports from where transformers used to keep them.

Wan needs transformers 4.57, newer than the WebUIs pin (AUTOMATIC1111 1.10: 4.30.2, Forge:
4.46.1). Those versions re-exported some helpers of `transformers.pytorch_utils` from
`transformers.modeling_utils`; 4.57 no longer does, and BLIP (which both WebUIs clone into
`repositories/BLIP` for Interrogate CLIP) imports three of them from there, so Interrogate failed
with "cannot import name 'apply_chunking_to_forward' from 'transformers.modeling_utils'" (seen in
a real AUTOMATIC1111 1.10.1 and Forge). Each name of that re-export block that
`transformers.modeling_utils` lacks is set to the very object `transformers.pytorch_utils` has:
nothing is redefined, and a name the installed transformers still has is never touched.

BLIP's caption decoder then calls `generate`, which a model class gets from transformers 4.50 on
only by inheriting `GenerationMixin` (before, every `PreTrainedModel` had it; 4.45 to 4.49 warned
that classes defining `prepare_inputs_for_generation` without the mixin would lose it). Model
classes defined after the extension loads that define `prepare_inputs_for_generation` and lack
the mixin get it as their last base, which is what transformers tells their authors to do.
"""

from __future__ import annotations

import importlib.util
import logging
import sys

log = logging.getLogger(__name__)
_MARK = "_wan_replaced"  # on our __init_subclass__: the one it wraps

# What transformers 4.30.2 and 4.46.1's modeling_utils.py re-export from `.pytorch_utils` (their
# "F401" import block), less id_tensor_storage, which 4.57 still imports there.
MOVED_TO_PYTORCH_UTILS = (
    "Conv1D",
    "apply_chunking_to_forward",
    "find_pruneable_heads_and_indices",
    "is_torch_greater_or_equal_than_1_13",
    "prune_conv1d_layer",
    "prune_layer",
    "prune_linear_layer",
)


def apply_transformers_compat() -> list[str]:
    """Both fixes of this module; what they restored (empty where nothing was needed)."""
    restored = restore_moved_transformers_names()
    if inherit_generation_mixin_again():
        restored.append("GenerationMixin for models defining prepare_inputs_for_generation")
    return restored


def inherit_generation_mixin_again() -> bool:
    """From now on, a `PreTrainedModel` subclass that defines `prepare_inputs_for_generation`
    itself but does not inherit `GenerationMixin` gets it (transformers < 4.50 behaviour); True
    if installed now. Classes defined before, and classes that inherit the mixin, are untouched."""
    if "transformers" not in sys.modules and importlib.util.find_spec("transformers") is None:
        return False
    try:
        from transformers import GenerationMixin, PreTrainedModel
    except Exception as error:
        log.debug("transformers compatibility not applied: %s", error)
        return False
    shipped = PreTrainedModel.__dict__.get("__init_subclass__")
    shipped_init = getattr(shipped, "__func__", None)  # a classmethod, where transformers has one
    if issubclass(PreTrainedModel, GenerationMixin) or hasattr(shipped_init, _MARK):
        return False  # transformers < 4.50, or already applied

    def __init_subclass__(cls, **kwargs):
        if shipped_init is not None:
            shipped_init(cls, **kwargs)
        else:
            super(PreTrainedModel, cls).__init_subclass__(**kwargs)
        defines = "prepare_inputs_for_generation" in vars(cls)
        if defines and not issubclass(cls, GenerationMixin):
            cls.__bases__ = (*cls.__bases__, GenerationMixin)
            log.debug("%s inherits GenerationMixin (written for transformers < 4.50)", cls)

    setattr(__init_subclass__, _MARK, shipped)  # the shipped one, for tests to put back
    PreTrainedModel.__init_subclass__ = classmethod(__init_subclass__)
    log.info(
        "transformers: model classes defining prepare_inputs_for_generation inherit "
        "GenerationMixin again (for the WebUI's BLIP, written for transformers < 4.50)"
    )
    return True


def restore_moved_transformers_names() -> list[str]:
    """Alias in `transformers.modeling_utils` the names above it lacks; the names restored.

    Idempotent, and a no-op where transformers is not installed, cannot import its torch
    modules, or still has the names (the WebUIs' own pins)."""
    if "transformers" not in sys.modules and importlib.util.find_spec("transformers") is None:
        return []
    try:
        from transformers import modeling_utils, pytorch_utils
    except Exception as error:  # no torch, a broken install: environment_problems() says so
        log.debug("transformers compatibility not applied: %s", error)
        return []
    restored = []
    for name in MOVED_TO_PYTORCH_UTILS:
        if hasattr(modeling_utils, name) or not hasattr(pytorch_utils, name):
            continue
        setattr(modeling_utils, name, getattr(pytorch_utils, name))
        restored.append(name)
    if restored:
        log.info(
            "transformers.modeling_utils: restored %s from transformers.pytorch_utils "
            "(for the WebUI's BLIP and other code written for older transformers)",
            ", ".join(restored),
        )
    return restored
