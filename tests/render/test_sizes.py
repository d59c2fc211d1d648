"""Deforum's W x H to the size a model renders at: the rule of wan/core/sizes.py, as a table."""

from __future__ import annotations

from dataclasses import replace

import pytest

from wan.core.sizes import MAX_ASPECT, choose_size, nearest_valid, parse_size
from wan.errors import OptionsError
from wan.models.catalog import get_entry, wan_entries


def profile(model_id: str):
    return get_entry(model_id).profile()


# (model, Deforum W, Deforum H, expected width, expected height)
TABLE = [
    # 480p model, 16-pixel grid: its own sizes, square, 16:9 both ways, odd sizes
    ("Wan2.1-T2V-1.3B", 832, 480, 832, 480),
    ("Wan2.1-T2V-1.3B", 480, 832, 480, 832),
    ("Wan2.1-T2V-1.3B", 512, 512, 624, 624),  # sqrt(399360) = 631.9 -> 39.5 multiples -> 624
    ("Wan2.1-T2V-1.3B", 1024, 1024, 624, 624),  # only one class: the pixel count comes down
    ("Wan2.1-T2V-1.3B", 1280, 720, 848, 480),  # 16:9 at 480p's pixel count
    ("Wan2.1-T2V-1.3B", 720, 1280, 480, 848),
    ("Wan2.1-T2V-1.3B", 513, 301, 832, 480),  # odd: 825.0 x 484.1 -> 832 x 480
    ("Wan2.1-T2V-1.3B", 64, 64, 624, 624),
    # two classes (480p, 720p): the nearer pixel count wins
    ("Wan2.1-T2V-14B", 1280, 720, 1280, 720),
    ("Wan2.1-T2V-14B", 1920, 1080, 1280, 720),
    ("Wan2.1-T2V-14B", 1024, 1024, 960, 960),  # 1.05 MP: nearer 720p's 0.92 MP
    ("Wan2.1-T2V-14B", 768, 768, 624, 624),  # 0.59 MP: nearer 480p's 0.40 MP
    ("Wan2.1-T2V-14B", 1024, 576, 848, 480),
    ("Wan2.2-T2V-A14B", 576, 1024, 480, 848),
    ("Wan2.1-VACE-14B", 1280, 720, 1280, 720),
    # 720p only
    ("Wan2.1-I2V-14B-720P", 832, 480, 1264, 736),
    ("Wan2.1-FLF2V-14B-720P", 512, 512, 960, 960),
    # TI2V-5B: 1280x704 on a 32-pixel grid
    ("Wan2.2-TI2V-5B", 720, 1280, 704, 1280),  # 9:16 at ~0.9 MP: 712 x 1266 -> 704 x 1280
    ("Wan2.2-TI2V-5B", 1280, 720, 1280, 704),
    ("Wan2.2-TI2V-5B", 512, 512, 960, 960),
    ("Wan2.2-TI2V-5B", 513, 301, 1248, 736),
    # tiny smoke profiles: 64x64
    ("tiny-t2v", 64, 64, 64, 64),
    ("tiny-t2v", 512, 512, 64, 64),
    ("tiny-t2v", 832, 480, 80, 48),
    ("tiny-vace", 480, 832, 48, 80),
    ("tiny-ti2v", 1024, 576, 96, 64),  # 32-pixel grid: 85.3 x 48 -> 96 x 64 (48/32 = 1.5 rounds up)
    ("tiny-i2v-a14b", 513, 301, 80, 48),
    # extreme aspect ratios are capped at 4:1
    ("Wan2.1-T2V-1.3B", 4096, 64, 1264, 320),
    ("tiny-t2v", 64, 4096, 32, 128),
]


@pytest.mark.parametrize(("model", "w", "h", "width", "height"), TABLE)
def test_size_table(model: str, w: int, h: int, width: int, height: int) -> None:
    choice = choose_size(w, h, profile(model))
    assert (choice.width, choice.height) == (width, height), choice.reason
    multiple = profile(model).size_multiple
    assert choice.width % multiple == 0 and choice.height % multiple == 0


@pytest.mark.parametrize("entry", wan_entries(), ids=lambda e: e.id)
def test_every_trained_size_maps_to_itself(entry) -> None:
    base = entry.profile()
    for size in base.sizes:
        assert choose_size(*size, base).size == size
        # the formula alone gives it back too: only the other orientation (same area) listed
        flipped = replace(base, sizes=((size[1], size[0]),))
        if size[0] != size[1]:
            assert choose_size(*size, flipped).size == size


def test_reason_says_what_and_why() -> None:
    choice = choose_size(512, 512, profile("Wan2.1-T2V-1.3B"))
    assert choice.reason == (
        "624x624: Deforum's 512x512 (aspect 1:1) scaled to the model's nearest pixel count, "
        "832x480 (399,360 px), on multiples of 16"
    )
    assert choice.to_dict() == {"width": 624, "height": 624, "reason": choice.reason}
    same = choose_size(832, 480, profile("Wan2.1-T2V-1.3B"))
    assert same.reason == "832x480: Deforum's size, supported by the model"
    capped = choose_size(64, 4096, profile("tiny-t2v"))
    assert "aspect 1:64, capped at 4:1" in capped.reason
    assert MAX_ASPECT == 4.0


def test_ties_go_to_the_smaller_class() -> None:
    tied = replace(profile("tiny-t2v"), sizes=((32, 32), (64, 64)))
    # 40 x 64 = 2560 px: exactly between 1024 and 4096; the smaller class gives 25.3 x 40.5
    assert choose_size(40, 64, tied).size == (32, 48)
    assert choose_size(40, 65, tied).size == (48, 80)  # a pixel more: the larger class


@pytest.mark.parametrize(
    ("requested", "expected"),
    [("832x480", (832, 480)), (" 640 X 352 ", (640, 352)), ((480, 832), (480, 832))],
)
def test_requested_size_is_used_as_given(requested, expected) -> None:
    choice = choose_size(512, 512, profile("Wan2.1-T2V-1.3B"), requested)
    assert choice.size == expected
    assert "set by --size" in choice.reason


def test_requested_size_off_the_trained_list_is_noted() -> None:
    choice = choose_size(512, 512, profile("Wan2.1-T2V-1.3B"), "640x640")
    assert choice.size == (640, 640)
    assert "not one of the model's trained sizes 832x480, 480x832" in choice.reason
    assert "trained sizes" not in choose_size(1, 1, profile("tiny-t2v"), "64x64").reason


@pytest.mark.parametrize(
    ("model", "requested", "message"),
    [
        (
            "Wan2.1-T2V-1.3B",
            "830x480",
            "--size 830x480: Wan2.1-T2V-1.3B needs width and height in "
            "multiples of 16; use --size 832x480",
        ),
        (
            "Wan2.2-TI2V-5B",
            "1280x720",
            "--size 1280x720: Wan2.2-TI2V-5B needs width and height in "
            "multiples of 32; use --size 1280x704",
        ),
        ("tiny-t2v", "8x8", "use --size 16x16"),
        ("tiny-t2v", "big", "--size 'big': use WIDTHxHEIGHT"),
        ("tiny-t2v", "0x64", "--size '0x64': use WIDTHxHEIGHT"),
        ("tiny-t2v", (64, -64), "--size (64, -64): use WIDTHxHEIGHT"),
    ],
)
def test_bad_requested_size_names_the_flag_and_the_fix(model, requested, message) -> None:
    with pytest.raises(OptionsError) as error:
        choose_size(512, 512, profile(model), requested)
    assert message in str(error.value)


def test_parse_and_nearest() -> None:
    assert parse_size("832x480") == (832, 480)
    assert parse_size("832×480") == (832, 480)
    assert parse_size([16, 32]) == (16, 32)
    for bad in ("", "832", "832x", "x480", "-8x8", "8.5x8", [1], [True, 2], None):
        with pytest.raises(ValueError):
            parse_size(bad)
    assert nearest_valid(830, 470, 16) == (832, 464)
    assert nearest_valid(3, 3, 16) == (16, 16)


def test_bad_deforum_size() -> None:
    with pytest.raises(OptionsError, match="W and H must be positive"):
        choose_size(0, 480, profile("tiny-t2v"))
