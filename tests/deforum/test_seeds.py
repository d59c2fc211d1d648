import pytest

from wan.core.deforum.schedules import evaluate_schedule
from wan.core.deforum.seeds import frame_seeds, seed_cadence
from wan.errors import SettingsError


def deforum_step_seeds(behavior, seed, max_frames, iter_n=1, cadence=1, schedule=None):
    """A restatement of Deforum's logic, for testing only (random left out): the loop of
    scripts/deforum_helpers/render.py (`frame_idx` from 0, advanced by `turbo_steps`, the seed
    taken from seed_schedule at each diffused frame for 'schedule', `next_seed` called once
    after each diffusion) and `next_seed` of seed.py. Returns {diffused frame: its seed}."""
    out, internal, frame_idx = {}, 0, 0
    while frame_idx < max_frames:
        if behavior == "schedule":
            seed = int(schedule[frame_idx])
        out[frame_idx] = seed
        frame_idx += cadence
        if behavior == "iter":
            seed += 1 if internal % iter_n == 0 else 0
            internal += 1
        elif behavior == "ladder":
            seed += 2 if internal == 0 else -1
            internal = 1 if internal == 0 else 0
        elif behavior == "alternate":
            seed += 1 if internal == 0 else -1
            internal = 1 if internal == 0 else 0
    return out


def expected_frames(steps, max_frames, cadence):
    """Each frame takes the seed of the diffusion at or before it (frame floor(f/c)*c)."""
    return tuple(steps[f // cadence * cadence] for f in range(max_frames))


@pytest.mark.parametrize("cadence", [1, 2, 3, 5])
@pytest.mark.parametrize(
    "behavior, iter_n",
    [("iter", 1), ("iter", 3), ("fixed", 1), ("ladder", 1), ("alternate", 1)],
)
def test_behaviours_match_deforum_at_every_cadence(behavior, iter_n, cadence):
    steps = deforum_step_seeds(behavior, 100, 26, iter_n, cadence)
    seeds = frame_seeds(behavior, 100, 26, iter_n, cadence=cadence)
    assert seeds == expected_frames(steps, 26, cadence)
    assert {f: seeds[f] for f in steps} == steps  # every diffused frame has Deforum's seed


def test_hand_traced_values():
    # iter, N=1, cadence 2: Deforum diffuses frames 0, 2, 4, ...; next_seed adds 1 after each,
    # so frame 70 (step 35) and the in-between 71 have 1000+35 (not 1000+71).
    seeds = frame_seeds("iter", 1000, 80, 1, cadence=2)
    assert (seeds[0], seeds[1], seeds[2], seeds[70], seeds[71], seeds[72]) == (
        1000, 1000, 1001, 1035, 1035, 1036
    )  # fmt: skip
    # iter, N=3, cadence 4: calls 1, 4, 7, ... add 1 (internal 0, 3, 6 % 3 == 0); step k has
    # seed + ceil(k/3): frame 12 is step 3 -> +1, frame 16 step 4 -> +2, frame 28 step 7 -> +3.
    seeds = frame_seeds("iter", 10, 30, 3, cadence=4)
    assert (seeds[3], seeds[4], seeds[12], seeds[16], seeds[27], seeds[28]) == (
        10, 11, 11, 12, 12, 13
    )  # fmt: skip
    # ladder, cadence 3: steps 0, 1, 2, 3, 4 at frames 0, 3, 6, 9, 12: 5, 7, 6, 8, 7.
    assert frame_seeds("ladder", 5, 14, cadence=3) == (
        5, 5, 5, 7, 7, 7, 6, 6, 6, 8, 8, 8, 7, 7
    )  # fmt: skip
    # alternate, cadence 2: 5, 6, 5, 6 per step.
    assert frame_seeds("alternate", 5, 7, cadence=2) == (5, 5, 6, 6, 5, 5, 6)
    assert frame_seeds("fixed", 5, 7, cadence=4) == (5,) * 7


def test_random_draws_one_seed_per_diffusion_step():
    first = frame_seeds("random", 5, 10)
    assert first == frame_seeds("random", 5, 10)
    assert first[0] == 5 and len(set(first)) == 10
    assert first != frame_seeds("random", 6, 10)
    with_cadence = frame_seeds("random", 5, 10, cadence=3)  # steps at frames 0, 3, 6, 9
    assert with_cadence == (first[0],) * 3 + (first[1],) * 3 + (first[2],) * 3 + (first[3],)


def test_schedule_uses_the_seed_schedule_and_draws_for_minus_one():
    schedule = evaluate_schedule('0:(s), 1:(-1), "max_f-2":(-1), "max_f-1":(s)', 6, seed=77)
    seeds = frame_seeds("schedule", 77, 6, schedule=schedule)
    assert seeds[0] == 77 and seeds[-1] == 77
    assert all(0 <= s < 2**32 for s in seeds[1:-1])
    assert seeds == frame_seeds("schedule", 77, 6, schedule=schedule)


@pytest.mark.parametrize("cadence", [1, 2, 4])
def test_schedule_is_read_at_the_diffused_frames(cadence):
    schedule = evaluate_schedule("0:(10), 9:(19.9)", 12, seed=3)  # 10, 11.1, ..., 19.9, 19.9
    steps = deforum_step_seeds("schedule", 3, 12, cadence=cadence, schedule=schedule)
    seeds = frame_seeds("schedule", 3, 12, schedule=schedule, cadence=cadence)
    assert seeds == expected_frames(steps, 12, cadence)
    # cadence 4: frames 0-3 read int(10.0), 4-7 int(14.4) (10 + 4 * 1.1), 8-11 int(18.8)
    if cadence == 4:
        assert seeds == (10,) * 4 + (14,) * 4 + (18,) * 4


def test_video_input_diffuses_every_frame():
    assert seed_cadence("Video Input", 3) == 1
    assert seed_cadence("3D", 3) == 3 and seed_cadence("2D", 1) == 1


def test_errors():
    with pytest.raises(SettingsError, match="resolved"):
        frame_seeds("iter", -1, 3)
    with pytest.raises(SettingsError, match="needs the evaluated seed_schedule"):
        frame_seeds("schedule", 1, 3)
    with pytest.raises(SettingsError, match="unknown"):
        frame_seeds("spin", 1, 3)
    with pytest.raises(SettingsError, match="at least 1"):
        frame_seeds("iter", 1, 3, cadence=0)
