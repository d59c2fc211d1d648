import itertools
import json

import pytest

from tests.conftest import SETTINGS_FILES
from wan.core.deforum.settings import load_settings, parse_settings
from wan.core.plan import build_plan, clip_length_nearest, clip_length_up, to_model_frame
from wan.errors import LimitError, ModelError, PlanError, ScheduleError, SettingsError
from wan.limits import Limits
from wan.models.catalog import wan_entries
from wan.models.identify import profile_for as get_profile

T2V = get_profile("Wan2.1-T2V-1.3B")  # 16 fps, 81 frames
TI2V = get_profile("Wan2.2-TI2V-5B")  # 24 fps, 121 frames


def make(frames=120, fps=15, prompts=None, **extra):
    return parse_settings(
        {"max_frames": frames, "fps": fps, "prompts": prompts or {"0": "a"}, **extra}
    )


def check_invariants(plan, settings, profile, overlap=0):
    clips = plan.clips
    assert clips[0].model_start == 0 and clips[0].start_frame == 0
    assert clips[-1].end_frame == settings.max_frames - 1
    assert clips[-1].model_end == to_model_frame(
        settings.max_frames - 1, settings.fps, profile.native_fps
    )
    for clip in clips:
        assert (clip.num_frames - 1) % 4 == 0
        assert 5 <= clip.num_frames <= profile.max_clip_frames
        assert clip.model_end - clip.model_start + 1 <= clip.num_frames
        assert clip.start_frame <= clip.end_frame
    for before, after in itertools.pairwise(clips):
        assert (
            before.model_end - before.model_start + 1 == before.num_frames
        )  # only the last is trimmed
        assert after.model_start == before.model_end + 1 - overlap
        assert after.overlap == overlap
    assert plan.model_frames == clips[-1].model_end + 1


@pytest.mark.parametrize("fps", [15, 24, 30])
@pytest.mark.parametrize("profile", [T2V, TI2V], ids=lambda p: p.id)
def test_frame_mapping(fps, profile):
    settings = make(frames=200, fps=fps)
    plan = build_plan(settings, profile, seed=1)
    check_invariants(plan, settings, profile)
    ratio = profile.native_fps / fps
    for clip in plan.clips:
        # every Deforum frame of the clip maps inside the clip's model span
        for f in (clip.start_frame, clip.end_frame):
            assert clip.model_start <= to_model_frame(f, fps, profile.native_fps) <= clip.model_end
        assert (
            to_model_frame(clip.start_frame, fps, profile.native_fps)
            == round(clip.start_frame * ratio)
            or clip.index == 0
        )


@pytest.mark.parametrize(
    "fps, model_fps, expected",
    [
        (15, 16, [0, 1, 2, 3, 4, 5, 6, 7, 9, 10]),
        (24, 16, [0, 1, 1, 2, 3, 3, 4, 5, 5, 6]),
        (30, 16, [0, 1, 1, 2, 2, 3, 3, 4, 4, 5]),
        (15, 24, [0, 2, 3, 5, 6, 8, 10, 11, 13, 14]),
        (24, 24, list(range(10))),
        (30, 24, [0, 1, 2, 2, 3, 4, 5, 6, 6, 7]),
        (32, 16, [0, 1, 1, 2, 2, 3, 3, 4, 4, 5]),  # halves round up
    ],
)
def test_to_model_frame_table(fps, model_fps, expected):
    assert [to_model_frame(f, fps, model_fps) for f in range(10)] == expected


def test_clip_length_helpers():
    assert [clip_length_up(n) for n in (1, 5, 6, 9, 10)] == [1, 5, 9, 9, 13]
    assert [clip_length_nearest(n) for n in (5, 6, 7, 8, 9)] == [5, 5, 9, 9, 9]


@pytest.mark.parametrize("frames", [1, 3, 5])
def test_shorter_than_a_minimal_clip_is_one_five_frame_clip(frames):
    settings = make(frames=frames, fps=16)
    plan = build_plan(settings, T2V, seed=3)
    assert len(plan.clips) == 1
    clip = plan.clips[0]
    assert clip.num_frames == 5 and clip.model_end == frames - 1 and clip.end_frame == frames - 1


def test_twenty_frames():
    settings = make(frames=20, fps=15, prompts={"0": "a", "10": "b"})
    plan = build_plan(settings, T2V, seed=3)
    check_invariants(plan, settings, T2V)
    assert [c.prompt for c in plan.clips] == ["a", "b"]
    assert abs(plan.clips[1].model_start - to_model_frame(10, 15, 16)) <= 2


def test_long_animation_splits_evenly():
    settings = make(frames=10_000, fps=15)
    plan = build_plan(settings, T2V, seed=3)
    check_invariants(plan, settings, T2V)
    lengths = [c.num_frames for c in plan.clips]
    assert len(plan.clips) == -(-plan.model_frames // 81)  # as few clips as the limit allows
    assert max(lengths[:-1]) - min(lengths[:-1]) <= 4  # even, not 81 + a stub


def test_boundaries_fall_on_prompt_keys():
    prompts = {"0": "a", "45": "b", "150": "c", "160": "d", "300": "e"}
    settings = make(frames=400, fps=24, prompts=prompts)
    plan = build_plan(settings, T2V, seed=3)
    check_invariants(plan, settings, T2V)
    starts = [c.model_start for c in plan.clips]
    for key in (45, 150, 160, 300):
        target = to_model_frame(key, 24, 16)
        assert min(abs(s - target) for s in starts) <= 2, (key, starts)


def test_identical_prompts_do_not_cut_clips():
    settings = make(frames=60, fps=16, prompts={"0": "same", "20": "same", "40": "same"})
    assert len(build_plan(settings, T2V, seed=1).clips) == 1


def test_prompt_dense_keys_are_merged():
    prompts = {str(f): f"prompt {f}" for f in range(0, 40, 2)}  # a new prompt every 2 frames
    settings = make(frames=40, fps=16, prompts=prompts)
    plan = build_plan(settings, T2V, seed=1)
    check_invariants(plan, settings, T2V)
    assert all(c.num_frames >= 5 for c in plan.clips)
    listed = {c.prompt for c in plan.clips} | {m for c in plan.clips for m in c.merged_prompts}
    assert listed == set(prompts.values())  # nothing is lost
    for clip in plan.clips:
        assert clip.prompt not in clip.merged_prompts


def test_majority_prompt_wins():
    settings = make(frames=40, fps=16, prompts={"0": "short", "2": "long"})
    clip = build_plan(settings, T2V, seed=1).clips[0]
    assert clip.prompt == "long" and clip.merged_prompts == ("short",)


@pytest.mark.parametrize("overlap", [1, 4, 8])
def test_overlap(overlap):
    settings = make(frames=300, fps=16, prompts={"0": "a", "100": "b"})
    plan = build_plan(settings, T2V, seed=1, overlap=overlap)
    check_invariants(plan, settings, T2V, overlap)
    assert plan.clips[0].overlap == 0


def test_bad_overlap_and_seed():
    with pytest.raises(PlanError, match="overlap 90"):
        build_plan(make(), T2V, seed=1, overlap=90)
    with pytest.raises(PlanError, match="overlap -1"):
        build_plan(make(), T2V, seed=1, overlap=-1)
    with pytest.raises(PlanError, match="resolve -1"):
        build_plan(make(), T2V, seed=-1)


def test_clip_content():
    settings = make(
        frames=100,
        fps=16,
        prompts={"0": "a cat --neg dog", "50": "a bird"},
        animation_prompts_negative="blurry",
        seed_behavior="iter",
        strength_schedule="0:(0.5), 50:(0.8)",
        translation_x="0:(5)",
        use_init=True,
        init_image="start.png",
    )
    plan = build_plan(settings, T2V, seed=10)
    first, second = plan.clips
    assert (first.prompt, first.negative_prompt) == ("a cat", "dog blurry")
    assert (second.prompt, second.negative_prompt) == ("a bird", "blurry")
    # Deforum's default cadence 2: one seed per diffused frame 0, 2, 4, ... (iter: +1 each)
    assert first.seed == 10 and second.seed == 10 + second.start_frame // 2
    assert first.strength == 0.5
    assert second.strength == pytest.approx(0.5 + 0.3 * second.start_frame / 50)
    assert first.conditioning == "init_image" and second.conditioning == "continue"
    assert "pans left" in first.motion.phrase


@pytest.mark.parametrize(
    "behavior, cadence, expected",
    [
        # 150 frames at 16 fps, prompts at 0 and 73 (T2V at 16 fps: the second clip starts at
        # frame 73). Hand-traced from Deforum's loop (render.py: diffusion at frames 0, c, 2c,
        # ...; next_seed of seed.py once after each): frame 73 is covered by the diffusion of
        # frame floor(73 / c) * c, step floor(73 / c).
        ("iter", 1, 1000 + 73),  # step 73: +1 per call
        ("iter", 2, 1000 + 36),  # step 36 (frame 72)
        ("iter", 3, 1000 + 24),  # step 24 (frame 72)
        ("fixed", 2, 1000),
        ("ladder", 2, 1000 + 18),  # step 36: 18 calls of +2, 18 of -1
        ("ladder", 5, 1000 + 7),  # step 14 (frame 70): 7 of +2, 7 of -1
        ("alternate", 2, 1000),  # step 36: even
        ("alternate", 8, 1000 + 1),  # step 9 (frame 72): odd
    ],
)
def test_clip_seeds_follow_deforum_with_cadence(behavior, cadence, expected):
    settings = make(
        frames=150, fps=16, prompts={"0": "a", "73": "b"},
        seed_behavior=behavior, diffusion_cadence=cadence,
    )  # fmt: skip
    first, second = build_plan(settings, T2V, seed=1000).clips[:2]
    assert first.seed == 1000 and second.start_frame == 73
    assert second.seed == expected


def test_a_seed_schedule_is_read_at_the_diffused_frame():
    settings = make(
        frames=150, fps=16, prompts={"0": "a", "73": "b"}, seed_behavior="schedule",
        seed_schedule="0:(s), 72:(5000), 73:(6000)", diffusion_cadence=2,
    )  # fmt: skip
    second = build_plan(settings, T2V, seed=9).clips[1]
    assert second.start_frame == 73 and second.seed == 5000  # Deforum diffuses 72, not 73
    once = build_plan(parse_settings({**settings.raw, "diffusion_cadence": 1}), T2V, seed=9)
    assert once.clips[1].seed == 6000


def test_backtick_weights_are_the_mean_over_the_clip_not_the_start_frame():
    alternating = "(cat:`where(floor(t/5)%2 == 0, 1.2, 0.4)`)"  # 1.2 for 5 frames, 0.4 for 5
    prompts = {"0": alternating, "73": "(dog:`(t-73)/10`)"}
    first, second = build_plan(make(frames=150, fps=16, prompts=prompts), T2V, seed=1).clips
    assert (first.start_frame, first.end_frame, second.end_frame) == (0, 72, 149)
    # frames 0..72: 38 at 1.2 (0-4, 10-14, ..., 60-64, 70-72) and 35 at 0.4: 59.6 / 73
    assert first.prompt == "(cat:0.816)"
    assert second.prompt == "(dog:3.8)"  # a ramp from 0 at 73 to 7.6 at 149: its middle
    # a prompt merged into a clip is averaged over its own frames: "b" is in force 2..39
    clip = build_plan(make(frames=40, fps=16, prompts={"0": "a `t`", "2": "b `t`"}), T2V, seed=1)
    assert clip.clips[0].prompt == "b 20.5" and clip.clips[0].merged_prompts == ("a 0.5",)


def test_deterministic_with_stable_hash():
    settings = load_settings(SETTINGS_FILES[0])
    one, two = build_plan(settings, T2V, seed=5), build_plan(settings, T2V, seed=5)
    assert one == two and one.hash == two.hash and len(one.hash) == 16
    assert build_plan(settings, T2V, seed=6).hash != one.hash
    assert build_plan(settings, TI2V, seed=5).hash != one.hash


def test_plan_json_contract():
    plan = build_plan(load_settings(SETTINGS_FILES[1]), T2V, seed=5)
    data = json.loads(json.dumps(plan.to_dict()))
    for key in ("fps", "model_fps", "frames", "model", "seed", "hash", "clips"):
        assert key in data
    for key in (
        "index", "start_frame", "end_frame", "model_start", "model_end", "num_frames",
        "overlap", "prompt", "negative_prompt", "merged_prompts", "motion", "seed", "conditioning",
    ):  # fmt: skip
        assert key in data["clips"][0]


@pytest.mark.parametrize("path", SETTINGS_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("model", sorted(e.id for e in wan_entries()))
def test_every_fixture_plans_with_every_model(path, model):
    settings = load_settings(path)
    profile = get_profile(model)
    check_invariants(build_plan(settings, profile, seed=1), settings, profile)


def test_profile_lookup():
    assert get_profile("Wan-AI/Wan2.2-TI2V-5B-Diffusers") == TI2V
    assert get_profile("wan2.1-t2v-1.3b") == T2V
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        get_profile("nope")


def test_the_seed_rule_an_explicit_seed_wins_and_minus_one_is_derived_from_the_settings():
    from wan.planning.plan_service import plan_seed

    random_seed = make(seed=-1)
    derived = plan_seed(random_seed)
    assert 0 <= derived < 2**32 and plan_seed(make(seed=-1)) == derived  # stable
    assert plan_seed(random_seed, -1) == derived  # -1 given is the same derived seed
    assert plan_seed(random_seed, 7) == 7 and plan_seed(make(seed=5), 7) == 7  # override wins
    assert plan_seed(make(seed=5)) == 5 and plan_seed(make(seed=0), None) == 0
    assert plan_seed(make(seed=5), -1) == derived  # the seed itself is not part of the content
    # where the settings came from and the init image's copy do not change it; content does
    same = parse_settings({"max_frames": 120, "fps": 15, "prompts": {"0": "a"}, "seed": -1}, "x")
    assert plan_seed(same) == derived
    assert plan_seed(make(seed=-1, init_image="/a.png")) == plan_seed(make(seed=-1))
    assert plan_seed(make(seed=-1, prompts={"0": "b"})) != derived
    assert plan_seed(make(seed=-1, translation_x="0: (2)")) != derived


def test_errors_in_the_settings_name_where_they_came_from_once():
    data = {"max_frames": 30, "prompts": {"0": "a"}, "zoom": "0:(1), 9:(1+wobble)"}
    with pytest.raises(ScheduleError) as caught:
        build_plan(parse_settings(data, "deforum_settings[1]"), T2V, seed=1)
    error = caught.value  # still a ScheduleError with its parts, for the UI and the API
    assert (error.source, error.setting, error.frame) == ("deforum_settings[1]", "zoom", 9)
    assert str(error).startswith("deforum_settings[1]: 'zoom': unknown name 'wobble'")
    with pytest.raises(SettingsError, match=r"^x\.json: prompts\['0'\]: prompt expression"):
        build_plan(parse_settings({**data, "zoom": "0:(1)", "prompts": {"0": "`1/`"}}, "x.json"),
                   T2V, seed=1)  # fmt: skip
    with pytest.raises(LimitError) as caught:  # a message that names the file already
        build_plan(parse_settings({**data, "max_frames": 5000}, "x.json"), T2V, seed=1,
                   limits=Limits(max_frames=100))  # fmt: skip
    assert str(caught.value).startswith("x.json: the model's video")
    assert str(caught.value).count("x.json") == 1
    with pytest.raises(PlanError, match=r"^overlap 90 does not fit"):  # an option: no file
        build_plan(parse_settings(data, "x.json"), T2V, seed=1, overlap=90)
