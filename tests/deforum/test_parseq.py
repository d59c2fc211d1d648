"""Parseq manifests give Deforum's values (wan.core.deforum.parseq).

The manifests are in Parseq's own format (what its renderer writes and Deforum's
parseq_adapter_test.py feeds the adapter: `options`, `rendered_frames` with each managed field,
its `_delta` and `_pc`, `deforum_prompt`, `subseed`), with values written for these tests. Each
expected value restates the rule of Deforum's parseq_adapter.py that gives it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from wan.core.deforum.parseq import parseq_values, prompt_runs, schedule_text
from wan.core.deforum.prompts import clip_prompt, prompt_for_frame, split_prompt
from wan.core.deforum.schedules import evaluate_schedule
from wan.core.deforum.seeds import frame_seeds, seed_cadence
from wan.core.deforum.settings import load_settings, parse_settings, with_parseq_text
from wan.errors import SettingsError
from wan.limits import Limits

# Four frames as Parseq renders them: 'angle' 0, 5, 10, 10 (its _delta: the value at frame 0,
# then the change), 'zoom' 1.0, 1.02, 1.06, 1.06 (its _delta: 1 + the change), 'strength',
# 'scale', 'fov', 'transform_center_x' and 'seed' (whose fraction Parseq turns into subseed and
# subseed_strength), and the prompt of each frame.
FRAMES = [
    {
        "frame": 0,
        "angle": 0, "angle_delta": 0, "angle_pc": 0,
        "zoom": 1.0, "zoom_delta": 1.0, "zoom_pc": 94.34,
        "strength": 0.65, "strength_delta": 0.65, "strength_pc": 100,
        "scale": 7, "scale_delta": 7, "scale_pc": 77.78,
        "fov": 40, "fov_delta": 40, "fov_pc": 100,
        "transform_center_x": 0.5, "transform_center_x_delta": 0.5, "transform_center_x_pc": 100,
        "seed": 303, "seed_delta": 303, "seed_pc": 99.02, "subseed": 303, "subseed_strength": 0,
        "deforum_prompt": "a lighthouse at dusk --neg blurry",
    },
    {
        "frame": 1,
        "angle": 5, "angle_delta": 5, "angle_pc": 50,
        "zoom": 1.02, "zoom_delta": 1.02, "zoom_pc": 96.23,
        "strength": 0.6, "strength_delta": -0.05, "strength_pc": 92.31,
        "scale": 8, "scale_delta": 1, "scale_pc": 88.89,
        "fov": 40, "fov_delta": 0, "fov_pc": 100,
        "transform_center_x": 0.5, "transform_center_x_delta": 0, "transform_center_x_pc": 100,
        "seed": 304.5, "seed_delta": 1.5, "seed_pc": 99.51, "subseed": 305,
        "subseed_strength": 0.5,
        "deforum_prompt": "a lighthouse at dusk --neg blurry",
    },
    {
        "frame": 2,
        "angle": 10, "angle_delta": 5, "angle_pc": 100,
        "zoom": 1.06, "zoom_delta": 1.04, "zoom_pc": 100,
        "strength": 0.55, "strength_delta": -0.05, "strength_pc": 84.62,
        "scale": 9, "scale_delta": 1, "scale_pc": 100,
        "fov": 40, "fov_delta": 0, "fov_pc": 100,
        "transform_center_x": 0.5, "transform_center_x_delta": 0, "transform_center_x_pc": 100,
        "seed": 306, "seed_delta": 1.5, "seed_pc": 100, "subseed": 306, "subseed_strength": 0,
        "deforum_prompt": "a storm at sea --neg blurry",
    },
    {
        "frame": 3,
        "angle": 10, "angle_delta": 0, "angle_pc": 100,
        "zoom": 1.06, "zoom_delta": 1, "zoom_pc": 100,
        "strength": 0.55, "strength_delta": 0, "strength_pc": 84.62,
        "scale": 9, "scale_delta": 0, "scale_pc": 100,
        "fov": 40, "fov_delta": 0, "fov_pc": 100,
        "transform_center_x": 0.5, "transform_center_x_delta": 0, "transform_center_x_pc": 100,
        "seed": 306, "seed_delta": 0, "seed_pc": 100, "subseed": 306, "subseed_strength": 0,
        "deforum_prompt": "a storm at sea --neg blurry",
    },
]  # fmt: skip


def manifest(frames=FRAMES, **options) -> dict:
    """Parseq's manifest around `frames`: its metadata, options and per-field summary."""
    fields = sorted({k for f in frames for k in f if k != "frame" and "_" not in k[-6:]})
    return {
        "meta": {"generated_by": "sd_parseq", "version": "0.1.94"},
        "options": {"input_fps": 20, "bpm": 140, "output_fps": 20, "cadence": 2, **options},
        "managedFields": fields,
        "rendered_frames": frames,
        "rendered_frames_meta": {"angle": {"max": 10, "min": 0, "isFlat": False}},
    }


SETTINGS = {
    "animation_mode": "2D",
    "max_frames": 10,
    "fps": 15,
    "diffusion_cadence": 1,
    "seed": 42,
    "seed_behavior": "iter",
    "translation_x": "0: (3)",  # not in the manifest: the settings' schedule stays
    "translation_y": "0: (-1)",
    "angle": "0: (45)",
    "prompts": {"0": "a forest"},
    "animation_prompts_positive": "masterpiece",
    "animation_prompts_negative": "ugly",
}


def settings(manifest_value, **changes):
    data = {**SETTINGS, "parseq_manifest": manifest_value, **changes}
    return parse_settings(data, "anim.txt")


def values(s, name):
    return evaluate_schedule(s.schedules[name], s.max_frames, s.seed, name).tolist()


def test_motion_reads_deltas_and_the_rest_absolute_values():
    s = settings(json.dumps(manifest()))
    # parseq_use_deltas (default on): angle_series and zoom_series are angle_delta / zoom_delta.
    assert values(s, "angle") == [0, 5, 5, 0]
    assert values(s, "zoom") == [1.0, 1.02, 1.04, 1]
    # Never deltas: strength, scale -> cfg_scale_schedule, fov -> fov_schedule, and
    # transform_center_x (found by its series' name less '_series').
    assert values(s, "strength_schedule") == [0.65, 0.6, 0.55, 0.55]
    assert values(s, "cfg_scale_schedule") == [7, 8, 9, 9]
    assert values(s, "fov_schedule") == [40] * 4
    assert values(s, "transform_center_x") == [0.5] * 4
    # Not managed by the manifest: Deforum falls back to the settings' schedules.
    assert values(s, "translation_x") == [3] * 4 and values(s, "translation_y") == [-1] * 4


def test_without_deltas_motion_reads_the_absolute_values():
    s = settings(json.dumps(manifest()), parseq_use_deltas=False)
    assert values(s, "angle") == [0, 5, 10, 10]
    assert values(s, "zoom") == [1.0, 1.02, 1.06, 1.06]
    assert values(s, "strength_schedule") == [0.65, 0.6, 0.55, 0.55]  # the same either way


def test_with_deltas_a_manifest_without_them_leaves_motion_to_the_settings():
    frames = [{"frame": f, "angle": 10.0 * f, "strength": 0.5} for f in range(3)]
    s = settings(json.dumps(manifest(frames, cadence=1)))
    assert values(s, "angle") == [45] * 3  # Deforum reads only 'angle_delta': none, so settings'
    assert values(s, "strength_schedule") == [0.5] * 3
    (note,) = s.parseq_notes
    assert "'angle' but no 'angle_delta'" in note and "parseq_use_deltas" in note


def test_non_schedule_overrides_take_frames_fps_and_cadence_from_the_manifest():
    s = settings(json.dumps(manifest()))  # parseq_non_schedule_overrides: default on
    # max_frames = len(rendered_frames); fps = options.output_fps; cadence = options.cadence
    assert (s.max_frames, s.fps, s.diffusion_cadence) == (4, 20, 2)
    assert s.parseq_notes == (
        "parseq_manifest's options.cadence 2 is the diffusion_cadence: Wan generates every "
        "frame, so it only sets how often the seed advances (as in Deforum)",
    )
    s = settings(json.dumps(manifest()), parseq_non_schedule_overrides=False)
    assert (s.max_frames, s.fps, s.diffusion_cadence) == (10, 15, 1)
    s = settings(json.dumps(manifest(output_fps=0, cadence=None)))  # unset: the settings' own
    assert (s.max_frames, s.fps, s.diffusion_cadence) == (4, 15, 1)


def test_a_manifest_shorter_than_max_frames_holds_its_last_values():
    s = settings(json.dumps(manifest()), parseq_non_schedule_overrides=False)
    # frames 0-3 from the manifest; 4-9: the last entry's value (parseq_to_series's final loop)
    assert values(s, "angle") == [0, 5, 5, 0, 0, 0, 0, 0, 0, 0]
    assert values(s, "zoom") == [1.0, 1.02, 1.04] + [1] * 7
    assert values(s, "strength_schedule") == [0.65, 0.6] + [0.55] * 8
    (note,) = s.parseq_notes
    assert note.startswith("parseq_manifest has 4 frames and max_frames is 10: frames 3 to 9")


def test_a_manifest_longer_than_max_frames_is_cut():
    s = settings(json.dumps(manifest()), parseq_non_schedule_overrides=False, max_frames=2)
    assert values(s, "angle") == [0, 5] and values(s, "cfg_scale_schedule") == [7, 8]


def test_duplicate_frames_the_later_wins_and_order_does_not_matter():
    frames = [
        {"frame": 1, "strength": 0.4},
        {"frame": 0, "strength": 0.9},
        {"frame": 1, "strength": 0.3},  # the later entry for frame 1 wins
    ]
    s = settings(json.dumps(manifest(frames)), parseq_non_schedule_overrides=False, max_frames=3)
    # the last entry's value holds from the last entry's frame on
    assert values(s, "strength_schedule") == [0.9, 0.3, 0.3]


def test_prompts_come_from_the_manifest_as_written():
    s = settings(json.dumps(manifest()))
    # keys where deforum_prompt changes; not merged with the positive / negative fields
    assert s.prompts == (
        ("0", "a lighthouse at dusk --neg blurry"),
        ("2", "a storm at sea --neg blurry"),
    )
    assert s.prompts_merged and s.positive_prompt == "" and s.negative_prompt == ""
    first, later = prompt_for_frame(s, 1), prompt_for_frame(s, 3)
    assert (first.positive, first.negative) == ("a lighthouse at dusk", "blurry")
    assert (later.positive, later.negative) == ("a storm at sea", "blurry")


def test_without_a_manifest_prompt_the_settings_prompts_stay():
    frames = [{"frame": 0, "strength": 0.5}]
    s = settings(json.dumps(manifest(frames)))
    assert s.prompts == (("0", "a forest"),) and not s.prompts_merged
    assert prompt_for_frame(s, 0).positive == "masterpiece a forest"


def test_manifest_prompts_need_no_settings_prompts():
    assert settings(json.dumps(manifest()), prompts={}).prompts[0][0] == "0"


def test_a_prompt_blend_is_one_key_whose_weights_follow_the_manifest():
    # Parseq blends by rewriting the weights every frame; Deforum uses each frame's text.
    blend = [f"cat :{1 - f / 10:.2f} AND dog :{f / 10:.2f} --neg blur" for f in range(11)]
    runs = prompt_runs([*blend, "a storm", "a storm"])
    assert [key for key, _ in runs] == ["0", "11"] and runs[1][1] == "a storm"
    for frame in range(11):  # each frame's weights, as the manifest wrote them
        words = split_prompt(runs[0][1], frame, 13).positive.split()
        assert abs(float(words[1][1:]) - (1 - frame / 10)) < 0.01
        assert abs(float(words[4][1:]) - frame / 10) < 0.01
    assert clip_prompt(runs[0][1], range(11), 13).positive == "cat :0.5 AND dog :0.5"


def test_prompts_whose_numbers_jump_about_keep_a_key_per_change():
    zigzag = [f"cat :{0.1 if f % 2 else 0.9}" for f in range(16)]
    assert [key for key, _ in prompt_runs(zigzag)] == [str(f) for f in range(16)]
    ticks = ["a `t/10` cat", "a `t/10` cat", "a `t/5` cat"]  # backticks: left as written
    assert prompt_runs(ticks) == (("0", "a `t/10` cat"), ("2", "a `t/5` cat"))


def test_seeds_come_from_the_manifest():
    s = settings(json.dumps(manifest()))
    # 'seed' in the first frame: every diffused frame's seed is int(seed_series[frame]),
    # whatever seed_behavior says; the manifest's cadence 2 diffuses frames 0 and 2.
    assert s.seed_behavior == "schedule" and values(s, "seed_schedule") == [303, 304.5, 306, 306]
    seeds = frame_seeds(
        s.seed_behavior,
        s.seed,
        s.max_frames,
        s.seed_iter_n,
        evaluate_schedule(s.schedules["seed_schedule"], s.max_frames, s.seed),
        seed_cadence(s.mode, s.diffusion_cadence),
    )
    assert seeds == (303, 303, 306, 306)
    plain = settings(json.dumps(manifest([{"frame": 0, "strength": 0.5}])))
    assert plain.seed_behavior == "iter"  # no 'seed': Deforum's own seed behaviour


def test_schedule_text_gives_back_the_exact_values():
    rng = np.random.default_rng(3)
    series = np.concatenate(
        [
            rng.normal(0, 10, 40),
            [1e-20, -3.5e15, 0.1, 0.1, 0.1, -0.0, 0.0, 2.0, 2.0],
            np.arange(300, 340, dtype=float),  # an exact ramp
            np.linspace(0.65, 0.2, 30),  # a ramp whose in-betweens are not all exact
            [7] * 5,
        ]
    )
    text = schedule_text(series)
    assert "e" not in text  # Deforum's number check refuses exponents
    np.testing.assert_array_equal(evaluate_schedule(text, len(series)), series)
    assert "49:(300), 88:(339)" in text  # the exact ramp is its two ends
    assert schedule_text([1.5] * 6) == "0:(1.5)"
    assert schedule_text([500.0 + f for f in range(24)]) == "0:(500), 23:(523)"


def test_parseq_values_alone():
    result = parseq_values(manifest(), 10, use_deltas=False, non_schedule_overrides=False)
    assert result.max_frames == 10 and result.fps is None and result.manages_seed
    assert result.schedules["angle"].tolist() == [0, 5, 10] + [10] * 7
    assert result.prompts[9] == "a storm at sea --neg blurry"
    assert "subseed_schedule" in result.schedules  # Parseq writes subseed with seed


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("{not json", r"parseq_manifest' is not a Parseq manifest: invalid JSON at line 1"),
        ('{"options": {}}', r"parseq_manifest' has no frames.*rendered_frames"),
        ('{"rendered_frames": []}', r"parseq_manifest' has no frames"),
        ('["a", "list"]', r"JSON but not a Parseq manifest"),
        ('{"rendered_frames": [{"angle": 1}]}', r'rendered_frames\[0\] has "frame": None'),
        (
            json.dumps(manifest([{"frame": 0, "strength": 0.5}, {"frame": 2, "strength": 0.4}])),
            r"has no frame 1 in rendered_frames",
        ),
        (
            json.dumps(manifest([{"frame": 0, "strength": 0.5}, {"frame": 1}])),
            r"rendered_frames\[1\] \(frame 1\) has no 'strength', which the first frame manages",
        ),
        (
            json.dumps(manifest([{"frame": 0, "strength": "high"}])),
            r"'strength' at frame 0 is 'high'; it must be a number",
        ),
        (
            json.dumps(manifest([{"frame": 0, "strength": 0.5}], output_fps=-3)),
            r"options.output_fps is -3",
        ),
        (
            "https://sd-parseq.web.app/api/render?docId=doc-1",
            r"is a URL \('https://sd-parseq.web.app/api/render\?docId=doc-1'\) that was not "
            r"downloaded .*paste the manifest's JSON",
        ),
    ],
)
def test_a_bad_manifest_is_a_clear_error_naming_the_file_and_setting(value, match):
    with pytest.raises(SettingsError, match=match) as caught:
        settings(value)
    assert str(caught.value).startswith("anim.txt: setting 'parseq_manifest'")


def test_frames_past_the_limit_are_refused():
    data = {**SETTINGS, "max_frames": 2, "parseq_manifest": json.dumps(manifest())}
    with pytest.raises(SettingsError, match=r"rendered_frames.*WAN_LIMIT_MAX_FRAMES"):
        parse_settings(data, "anim.txt", Limits(max_frames=3))


def test_a_fetched_manifest_is_passed_in_and_kept_inline():
    url = "https://sd-parseq.web.app/api/render?docId=doc-1"
    text = json.dumps(manifest())
    s = parse_settings({**SETTINGS, "parseq_manifest": url}, "anim.txt", parseq_text=text)
    assert s.max_frames == 4 and s.raw["parseq_manifest"] == text
    assert s.raw["parseq_manifest_source"] == url
    again = parse_settings(dict(s.raw), "anim.txt")  # what a job stores parses alone
    assert again.schedules == s.schedules
    assert with_parseq_text({"parseq_manifest": url}, text)["parseq_manifest"] == text


def test_a_settings_file_may_name_a_saved_manifest(tmp_path):
    (tmp_path / "parseq").mkdir()
    (tmp_path / "parseq" / "doc.json").write_text(json.dumps(manifest()))
    path = tmp_path / "anim.txt"
    path.write_text(json.dumps({**SETTINGS, "parseq_manifest": "parseq/doc.json"}))
    s = load_settings(path)
    assert s.max_frames == 4 and s.raw["parseq_manifest"].startswith("{")
    path.write_text(json.dumps({**SETTINGS, "parseq_manifest": "parseq/missing.json"}))
    with pytest.raises(SettingsError, match=r"anim.txt: setting 'parseq_manifest' is neither"):
        load_settings(path)


def test_an_empty_manifest_setting_means_no_parseq():
    for empty in ("", "  ", None, "None"):
        s = settings(empty)
        assert s.max_frames == 10 and values(s, "angle") == [45] * 10
