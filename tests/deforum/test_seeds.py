import pytest

from wan.core.deforum.schedules import evaluate_schedule
from wan.core.deforum.seeds import frame_seeds
from wan.errors import SettingsError


def deforum_next_seed(behavior, seed, frames, iter_n=1):
    """Deforum's next_seed loop, as written in its seed.py (random left out)."""
    out, internal = [], 0
    for _ in range(frames):
        out.append(seed)
        if behavior == "iter":
            seed += 1 if internal % iter_n == 0 else 0
            internal += 1
        elif behavior == "ladder":
            seed += 2 if internal == 0 else -1
            internal = 1 if internal == 0 else 0
        elif behavior == "alternate":
            seed += 1 if internal == 0 else -1
            internal = 1 if internal == 0 else 0
    return tuple(out)


@pytest.mark.parametrize(
    "behavior, iter_n",
    [("iter", 1), ("iter", 3), ("fixed", 1), ("ladder", 1), ("alternate", 1)],
)
def test_behaviours_match_deforum(behavior, iter_n):
    assert frame_seeds(behavior, 100, 25, iter_n) == deforum_next_seed(behavior, 100, 25, iter_n)


def test_random_is_reproducible_from_the_resolved_seed():
    first = frame_seeds("random", 5, 10)
    assert first == frame_seeds("random", 5, 10)
    assert first[0] == 5 and len(set(first)) == 10
    assert first != frame_seeds("random", 6, 10)


def test_schedule_uses_the_seed_schedule_and_draws_for_minus_one():
    schedule = evaluate_schedule('0:(s), 1:(-1), "max_f-2":(-1), "max_f-1":(s)', 6, seed=77)
    seeds = frame_seeds("schedule", 77, 6, schedule=schedule)
    assert seeds[0] == 77 and seeds[-1] == 77
    assert all(0 <= s < 2**32 for s in seeds[1:-1])
    assert seeds == frame_seeds("schedule", 77, 6, schedule=schedule)


def test_errors():
    with pytest.raises(SettingsError, match="resolved"):
        frame_seeds("iter", -1, 3)
    with pytest.raises(SettingsError, match="needs the evaluated seed_schedule"):
        frame_seeds("schedule", 1, 3)
    with pytest.raises(SettingsError, match="unknown"):
        frame_seeds("spin", 1, 3)
