"""The Wan Video settings, the render defaults they give, and where the adapters put things."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from wan.options.render_options import parse_options
from wan.webui.hosts import make_host
from wan.webui.settings import (
    MEMORY_POLICIES,
    SETTINGS,
    option_defaults_from,
    register_settings,
)


@pytest.mark.parametrize("policy", list(MEMORY_POLICIES))
def test_every_memory_policy_is_valid_render_options(a1111, policy):
    register_settings(a1111.shared, gr)
    a1111.shared.opts.wan_memory_policy = policy
    defaults = option_defaults_from(a1111.shared.opts, has_accelerator=True)
    options = parse_options(defaults)
    for knob, value in MEMORY_POLICIES[policy].items():
        assert getattr(options.memory, knob) == value
    on_cpu = option_defaults_from(a1111.shared.opts, has_accelerator=False).get("memory", {})
    assert on_cpu.get("offload", "none") == "none"


def test_defaults_from_the_settings_read_at_use_time(a1111):
    register_settings(a1111.shared, gr)
    host = make_host(a1111.namespace())
    assert host.option_defaults() == {}
    opts = a1111.shared.opts
    opts.wan_default_model, opts.wan_enhancer_model = "tiny-t2v", " rules "
    opts.wan_memory_policy = "balanced"
    memory = {"offload": "model", "vae_tiling": True} if _gpu() else {"vae_tiling": True}
    assert host.option_defaults() == {
        "model": "tiny-t2v",
        "memory": memory,
        "enhance": {"model": "rules"},
    }
    parse_options(host.option_defaults())


def test_an_unknown_policy_falls_back_to_auto_with_a_warning(a1111, caplog):
    a1111.shared.opts.wan_memory_policy = "turbo"
    assert option_defaults_from(a1111.shared.opts) == {}
    assert "turbo" in caplog.text and "Settings > Wan Video" in caplog.text


def test_folder_settings_follow_hide_ui_dir_config(a1111):
    a1111.shared.hide_dirs = {"visible": False}
    register_settings(a1111.shared, gr)
    labels = a1111.shared.opts.data_labels
    for setting in SETTINGS:
        args = labels[setting.key].component_args
        if setting.folder:
            assert args == {"visible": False}
            assert setting.key in a1111.shared.restricted_opts
        else:
            assert not isinstance(args, dict) or "visible" not in args


def test_output_root_flag_then_setting_then_outdir_samples_then_outputs(webui, tmp_path):
    host = make_host(webui.namespace())
    root = webui.root
    assert host.output_root() == root / "outputs"  # the adapter adds nothing: the Runner adds
    webui.shared.opts.outdir_samples = "outputs/all"  # relative: the WebUI's folder
    assert host.output_root() == root / "outputs" / "all"
    webui.shared.opts.wan_output_dir = str(tmp_path / "setting")
    assert host.output_root() == tmp_path / "setting"
    webui.shared.cmd_opts.wan_output_dir = str(tmp_path / "flag")
    assert host.output_root() == tmp_path / "flag"


def test_lora_dirs_and_store_config(webui, tmp_path):
    host = make_host(webui.namespace())
    assert host.lora_dirs() == [webui.root / "models" / "Lora"]
    webui.shared.cmd_opts.lora_dir = str(tmp_path / "loras")
    assert host.lora_dirs() == [tmp_path / "loras"]
    config = host.store_config()
    assert config.host_root == str(webui.root) and config.models_dir_flag is None
    assert config.models_dir() == webui.root / "models" / "Wan"
    webui.shared.opts.wan_models_dir = "wan-models"
    assert Path(host.store_config().setting_dir) == webui.root / "wan-models"
    webui.shared.cmd_opts.wan_models_dir = str(tmp_path / "flag")
    assert host.store_config().models_dir() == tmp_path / "flag"


def _gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def test_a_host_whose_option_info_has_no_category_gets_none():
    """A1111 before 1.7 has no categories: passing one would break its Settings tab."""
    from wan.webui.settings import _category

    class OldOptionInfo:
        def __init__(self, default=None, label="", component=None, component_args=None,
                     onchange=None, section=None):  # fmt: skip
            pass

    assert _category(OldOptionInfo) == {}
