"""Numbers past what Deforum can mean are refused naming the setting (they crashed with
OverflowError deep in the seed code: issue 12's reproducers)."""

from __future__ import annotations

import pytest

from wan.core.deforum.settings import parse_settings
from wan.errors import SettingsError


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"seed_iter_N": 10**30}, r"'seed_iter_N' is .*; it must be at most 2147483647"),
        ({"seed": 2**63, "seed_behavior": "alternate"}, r"'seed' is .* from 0 to 4294967295"),
        ({"seed": 2**63, "seed_behavior": "fixed"}, r"'seed' is .* from 0 to 4294967295"),
        ({"seed": -2}, "use -1 for a random seed"),
    ],
)
def test_numbers_past_deforums_range_are_refused(settings, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(settings, "a.txt")


def test_the_largest_seed_still_plans():
    assert parse_settings({"seed": 2**32 - 1}).seed == 2**32 - 1
