import json

from wan.models.system import package_versions, probe_system, ram_bytes


def test_probe_on_this_machine():
    info = probe_system()
    assert info.accelerator is None and not info.has_accelerator  # CI is CPU only
    assert info.total_vram == 0 and info.free_vram == 0
    assert info.total_ram > info.free_ram > 0
    assert info.versions["diffusers"].startswith("0.")
    json.dumps(info.to_dict())


def test_ram_and_versions():
    total, free = ram_bytes()
    assert total >= 1 << 30 and 0 < free <= total
    assert package_versions(("no-such-package-xyz",)) == {"no-such-package-xyz": None}
