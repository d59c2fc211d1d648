"""The WebUIs' BLIP (Interrogate CLIP) imports helpers from `transformers.modeling_utils` that
transformers 4.57 keeps only in `transformers.pytorch_utils` (seen in a real A1111 and Forge), and
its caption decoder calls `generate`, which 4.50+ gives only to GenerationMixin subclasses."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from transformers import (
    GenerationMixin,
    PretrainedConfig,
    PreTrainedModel,
    modeling_utils,
    pytorch_utils,
)
from transformers.modeling_outputs import CausalLMOutput

from tests.host.stand_ins import import_script
from wan.host import torch_check
from wan.host.transformers_compat import (
    MOVED_TO_PYTORCH_UTILS,
    inherit_generation_mixin_again,
    restore_moved_transformers_names,
)

BLIP_MED_IMPORTS = Path(__file__).parents[1] / "fixtures" / "hosts" / "blip_med_imports.py"
BLIP_NAMES = ("apply_chunking_to_forward", "find_pruneable_heads_and_indices", "prune_linear_layer")


@pytest.fixture(autouse=True)
def without_moved_names() -> Iterator[None]:
    """`transformers.modeling_utils` without the moved names, as transformers 4.57 ships it
    (any test that loads the extension has added them to this process's module); the module is
    put back as it was after the test."""
    shipped = vars(modeling_utils)
    before = {name: shipped[name] for name in MOVED_TO_PYTORCH_UTILS if name in shipped}
    for name in before:
        delattr(modeling_utils, name)
    yield
    for name in MOVED_TO_PYTORCH_UTILS:
        if name in before:
            setattr(modeling_utils, name, before[name])
        else:
            vars(modeling_utils).pop(name, None)


def _run_blip_imports() -> dict:
    """BLIP's models/med.py transformers imports, run in a fresh namespace."""
    namespace: dict = {"__name__": "blip_med_imports"}
    exec(compile(BLIP_MED_IMPORTS.read_text(), str(BLIP_MED_IMPORTS), "exec"), namespace)
    return namespace


def _assert_restored() -> None:
    for name in MOVED_TO_PYTORCH_UTILS:
        if hasattr(pytorch_utils, name):
            assert vars(modeling_utils)[name] is getattr(pytorch_utils, name), name


def test_blip_imports_fail_without_the_layer():
    """The issue's error, as this transformers gives it."""
    with pytest.raises(ImportError, match="apply_chunking_to_forward"):
        _run_blip_imports()


def test_blip_imports_work_with_the_layer_and_get_the_real_functions(caplog):
    with caplog.at_level(logging.INFO, logger="wan.host.transformers_compat"):
        restored = restore_moved_transformers_names()
    assert set(BLIP_NAMES) <= set(restored)
    assert all(name in caplog.text for name in restored)
    namespace = _run_blip_imports()
    for name in BLIP_NAMES:
        assert namespace[name] is getattr(pytorch_utils, name), name
    assert namespace["PreTrainedModel"] is modeling_utils.PreTrainedModel
    _assert_restored()


def test_applying_twice_changes_nothing():
    first = restore_moved_transformers_names()
    values = {name: vars(modeling_utils)[name] for name in first}
    assert restore_moved_transformers_names() == []
    assert {name: vars(modeling_utils)[name] for name in first} == values
    assert all(vars(modeling_utils)[name] is value for name, value in values.items())


def test_a_name_transformers_has_is_never_replaced(monkeypatch):
    """transformers 4.30 and 4.46 (the WebUIs' pins) have them all: nothing changes there."""
    own = object()
    monkeypatch.setattr(modeling_utils, "apply_chunking_to_forward", own, raising=False)
    restored = restore_moved_transformers_names()
    assert "apply_chunking_to_forward" not in restored
    assert modeling_utils.apply_chunking_to_forward is own
    assert modeling_utils.prune_linear_layer is pytorch_utils.prune_linear_layer


def test_a_name_pytorch_utils_lacks_is_not_made_up(monkeypatch):
    monkeypatch.delattr(pytorch_utils, "prune_layer")
    assert "prune_layer" not in restore_moved_transformers_names()
    assert not hasattr(modeling_utils, "prune_layer")


def test_no_transformers_changes_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # `import transformers` fails
    assert restore_moved_transformers_names() == []
    monkeypatch.delitem(sys.modules, "transformers")
    monkeypatch.setattr("importlib.util.find_spec", lambda name, package=None: None)
    assert restore_moved_transformers_names() == []
    assert not any(hasattr(modeling_utils, name) for name in BLIP_NAMES)


def test_loading_the_extension_applies_it(webui):
    import_script()
    _assert_restored()
    namespace = _run_blip_imports()
    assert namespace["apply_chunking_to_forward"] is pytorch_utils.apply_chunking_to_forward


def test_it_is_applied_even_where_wan_cannot_run(webui, monkeypatch):
    """The WebUI's own Interrogate breaks whether or not the WAN tab works."""
    monkeypatch.setattr(torch_check, "torch_version", lambda: "2.1.2+cu121")
    import_script()
    assert len(webui.callbacks("ui_tabs")) == 1  # the tab that says why
    _assert_restored()
    _run_blip_imports()


@pytest.fixture
def shipped_init_subclass() -> Iterator[None]:
    """PreTrainedModel as transformers ships it during the test (loading the extension in other
    tests applied the layer to this process), as it was after."""
    if issubclass(PreTrainedModel, GenerationMixin):
        pytest.skip("transformers < 4.50: every model has generate, nothing to give back")
    current = PreTrainedModel.__dict__["__init_subclass__"]
    PreTrainedModel.__init_subclass__ = getattr(current.__func__, "_wan_replaced", current)
    yield
    PreTrainedModel.__init_subclass__ = current


def blip_like_decoder() -> type:
    """A decoder written as BLIP's BertLMHeadModel is: `prepare_inputs_for_generation` defined,
    no GenerationMixin among its bases (it relied on PreTrainedModel having `generate`)."""

    class TinyDecoderConfig(PretrainedConfig):
        model_type = "tiny-blip-like-decoder"

    class TinyDecoder(PreTrainedModel):
        config_class = TinyDecoderConfig

        def __init__(self, config):
            super().__init__(config)
            self.embed = torch.nn.Embedding(8, 8)
            self.head = torch.nn.Linear(8, 8)

        def forward(self, input_ids, **kwargs):
            return CausalLMOutput(logits=self.head(self.embed(input_ids)))

        def prepare_inputs_for_generation(self, input_ids, **kwargs):
            return {"input_ids": input_ids}

    return TinyDecoder


def test_a_decoder_written_for_old_transformers_can_generate_again(shipped_init_subclass):
    """BLIP's caption decoder calls generate(), which 4.50+ gives only with GenerationMixin."""
    assert not hasattr(blip_like_decoder(), "generate")  # the next error Interrogate would hit
    assert inherit_generation_mixin_again()
    decoder_class = blip_like_decoder()
    assert issubclass(decoder_class, GenerationMixin) and decoder_class.__bases__[0] is (
        PreTrainedModel
    )
    torch.manual_seed(0)
    config = decoder_class.config_class(num_hidden_layers=1, hidden_size=8, vocab_size=8)
    model = decoder_class(config)
    tokens = model.generate(torch.tensor([[1]]), max_new_tokens=3, do_sample=False, pad_token_id=0)
    assert tokens.shape == (1, 4) and tokens[0, 0] == 1
    assert not inherit_generation_mixin_again()  # once is enough


def test_models_that_do_not_define_it_are_untouched(shipped_init_subclass):
    inherit_generation_mixin_again()

    class Encoder(PreTrainedModel):
        config_class = PretrainedConfig

    class Decoder(PreTrainedModel, GenerationMixin):
        def prepare_inputs_for_generation(self, input_ids, **kwargs):
            return {"input_ids": input_ids}

    assert Encoder.__bases__ == (PreTrainedModel,)
    assert Decoder.__bases__ == (PreTrainedModel, GenerationMixin)
    assert Encoder.config_class is PretrainedConfig  # the shipped __init_subclass__ still runs
