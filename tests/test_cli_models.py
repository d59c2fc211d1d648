import json

import pytest

from wan.cli.main import main


def run(capsys, *argv, code=0):
    assert main(list(argv)) == code
    return capsys.readouterr()


def test_models_lists_catalog_installed_and_smoke(capsys, tmp_path, smoke_root):
    models = tmp_path / "models"
    (models / "Wan2.1-T2V-1.3B").mkdir(parents=True)
    (models / "Wan2.1-T2V-1.3B" / "model_index.json").write_text('{"_class_name": "WanPipeline"}')
    data = json.loads(run(capsys, "models", "--json", "--models-dir", str(models)).out)
    rows = {row["id"]: row for row in data["catalog"]}
    assert "Wan2.2-TI2V-5B" in rows and "Qwen2.5-7B-Instruct" in rows
    assert rows["Wan2.1-T2V-1.3B"]["installed"][0]["path"].endswith("Wan2.1-T2V-1.3B")
    assert rows["Wan2.1-T2V-1.3B"]["fit"]["device"] == "cpu"
    assert "tiny-t2v" in data["smoke"] and data["system"]["accelerator"] is None
    human = run(capsys, "models", "--models-dir", str(models)).out
    assert "Wan2.2-T2V-A14B" in human and "output is noise" in human


@pytest.mark.parametrize("model_id", ["tiny-t2v", "tiny-t2v-a14b", "tiny-vace"])
def test_check_smoke_models(capsys, smoke_root, model_id):
    data = json.loads(run(capsys, "check", model_id, "--json").out)
    assert data["ok"] and data["smoke"]
    assert data["match"]["status"] == "exact" and data["match"]["model_id"] == model_id
    assert data["validation"]["ok"]


def test_check_load_generates(capsys, smoke_root):
    data = json.loads(run(capsys, "check", "tiny-i2v", "--json", "--load").out)
    load = data["load"]
    assert load["generate"]["frames"] == 5 and load["generate"]["steps"] == 2
    assert load["peak_ram"] > 0 and load["plan"]["skipped"] is not None
    text = run(capsys, "check", "tiny-t2v", "--load").out
    assert "5 frames at 64x64 in 2 steps" in text and "OK" in text


def test_check_a_stable_diffusion_folder_is_not_usable(capsys, tmp_path):
    folder = tmp_path / "sd15"
    folder.mkdir()
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    out = run(capsys, "check", str(folder), code=2).out
    assert "not_wan" in out and "NOT USABLE" in out


def test_check_not_installed(capsys, tmp_path):
    err = run(capsys, "check", "Wan2.2-TI2V-5B", "--models-dir", str(tmp_path), code=2).err
    assert "python -m wan download Wan2.2-TI2V-5B" in err and err.count("\n") == 1


def test_diagnose_writes_a_report(capsys, tmp_path, smoke_root):
    out = run(capsys, "diagnose", "tiny-ti2v", "--output", str(tmp_path)).out
    report = json.loads((tmp_path / "tiny-ti2v_compat.json").read_text())
    assert "report:" in out and report["ok"]
    assert report["system"]["versions"]["diffusers"]
    assert report["detection"]["task"] == "ti2v" and report["plan"]["fits"]


def test_diagnose_reports_even_when_the_model_is_missing(capsys, tmp_path):
    run(
        capsys,
        "diagnose",
        "Wan2.1-T2V-14B",
        "--output",
        str(tmp_path),
        "--models-dir",
        str(tmp_path),
    )
    report = json.loads((tmp_path / "Wan2.1-T2V-14B_compat.json").read_text())
    assert "not installed" in report["problems"][0]["what"]


def test_download_offline_is_a_clear_error(capsys, tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    err = run(capsys, "download", "Wan2.1-T2V-1.3B", "--models-dir", str(tmp_path), code=2).err
    assert "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in err and "by hand" in err


def test_check_load_of_a_single_file_uses_an_installed_base(capsys, smoke_root, tmp_path):
    from diffusers import WanTransformer3DModel

    from tests.models.checkpoints import write_checkpoint
    from wan.models.smoke import ensure_smoke_model

    base = ensure_smoke_model("tiny-t2v", root=smoke_root)
    transformer = WanTransformer3DModel.from_pretrained(base / "transformer")
    checkpoint = write_checkpoint(tmp_path / "wan_tiny_t2v.safetensors", transformer, "comfyui")
    data = json.loads(run(capsys, "check", str(checkpoint), "--json", "--load").out)
    assert data["detection"]["kind"] == "single_file" and data["detection"]["layout"] == "comfyui"
    assert data["load"]["generate"]["shape"][1] == 5
