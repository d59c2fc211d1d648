"""A few hundred mutated Deforum settings files through `python -m wan plan` (fuzz/settings.py
runs 10,000 outside the suite): each plans or fails with a clear error, within 10 s, and every
plan printed is standard JSON (issue 12)."""

from __future__ import annotations

import collections

import pytest

from fuzz.settings_cases import load_bases, make_case
from fuzz.settings_run import CLEAR, NON_STANDARD_JSON, OK, Pool, Result, _check_json, plan_text

SEED = 12  # another seed than the 10,000-case run's 0, so the suite adds cases of its own
CASES = 300


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[object, Result]]:
    bases = load_bases()
    cases = [make_case(SEED, index, bases) for index in range(CASES)]
    folder = tmp_path_factory.mktemp("fuzz")
    with Pool(str(folder), timeout=10.0, jobs=2) as pool:
        return list(pool.run(cases))


def test_fuzzed_settings_plan_or_fail_clearly_in_time(outcomes):
    bad = [
        f"case {case.index} ({'+'.join(case.mutations)}): {result.status} {result.key}\n"
        f"{result.detail}"
        for case, result in outcomes
        if result.status not in (OK, CLEAR)
    ]
    assert len(outcomes) == CASES
    rebuild = f"(settings: fuzz.settings_cases.make_case({SEED}, INDEX, load_bases()).text)"
    assert not bad, "\n\n".join([*bad, rebuild])


def test_the_mutations_reach_both_plans_and_errors(outcomes):
    counts = collections.Counter(result.status for _, result in outcomes)
    assert counts[OK] >= CASES // 5 and counts[CLEAR] >= CASES // 5


def test_cases_are_the_same_for_the_same_seed_and_index():
    bases = load_bases()
    assert make_case(0, 7, bases) == make_case(0, 7, bases)
    assert make_case(0, 7, bases).text != make_case(1, 7, bases).text


def test_a_plan_with_infinity_is_non_standard_json():
    result = _check_json('{"clips": [{"strength": Infinity}]}', 0.0)
    assert result.status == NON_STANDARD_JSON
    assert result.key == "clips.strength" and "Infinity" not in result.key


def test_the_pipeline_is_the_clis(tmp_path):
    assert plan_text('{"max_frames": 5, "seed": 3}', tmp_path / "a.txt").status == OK
    refused = plan_text('{"max_frames": 0}', tmp_path / "b.txt")
    assert refused.status == CLEAR and "max_frames" in refused.detail
