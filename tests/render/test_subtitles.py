"""Prompt subtitles: exact SRT text, and cues in the final video's time base."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from wan.core.deforum.settings import parse_settings
from wan.core.plan import build_plan
from wan.models.identify import profile_for
from wan.render.subtitles import format_timestamp, prompt_entries, srt_text, write_srt


@dataclass(frozen=True)
class Span:
    start_frame: int
    end_frame: int
    prompt: str


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "00:00:00,000"),
        (2.5, "00:00:02,500"),
        (1 / 3, "00:00:00,333"),
        (2 / 3, "00:00:00,667"),
        (59.9996, "00:01:00,000"),  # rounding carries into the minutes
        (3661.007, "01:01:01,007"),
        (100 * 3600, "100:00:00,000"),
    ],
)
def test_format_timestamp(seconds, text):
    assert format_timestamp(seconds) == text


@pytest.mark.parametrize("seconds", [-0.5, float("nan"), float("inf")])
def test_format_timestamp_refuses_impossible_times(seconds):
    with pytest.raises(ValueError):
        format_timestamp(seconds)


def test_srt_is_exact():
    text = srt_text([(0, 2, "a cat"), (2, 4.5, "a dog")])
    assert text == (
        "1\n00:00:00,000 --> 00:00:02,000\na cat\n\n2\n00:00:02,000 --> 00:00:04,500\na dog\n"
    )


def test_multi_line_text_stays_readable():
    text = srt_text([(0, 1, "first line\r\n\n  second line  \n"), (1, 2, "   "), (2, 3, "next")])
    assert text == (
        "1\n00:00:00,000 --> 00:00:01,000\nfirst line\nsecond line\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\nnext\n"
    )  # no blank line inside a cue (it would end it); the empty cue is left out


def test_cue_ending_before_it_starts_is_a_bug():
    with pytest.raises(ValueError, match="ends"):
        srt_text([(2, 1, "x")])


def test_write_srt(tmp_path):
    path = write_srt(tmp_path / "sub" / "prompts.srt", [(0, 1.25, "rêve, 夢")])
    assert path.read_bytes() == "1\n00:00:00,000 --> 00:00:01,250\nrêve, 夢\n".encode()
    assert sorted(p.name for p in path.parent.iterdir()) == ["prompts.srt"]
    write_srt(path, [])
    assert path.read_bytes() == b""


def test_prompt_entries_cover_each_clip():
    clips = [Span(0, 29, "a"), Span(30, 59, "b"), Span(60, 74, "c")]
    assert prompt_entries(clips, 15) == [(0.0, 2.0, "a"), (2.0, 4.0, "b"), (4.0, 5.0, "c")]


def test_prompt_entries_merge_repeats_and_start_at_new_frames():
    clips = [Span(0, 40, "a"), Span(35, 80, "a"), Span(76, 100, " b "), Span(90, 100, "c")]
    # the second clip repeats the prompt: one cue; the third starts after the frames it shares;
    # the fourth adds no frame
    assert prompt_entries(clips, 10) == [(0.0, 8.1, "a"), (8.1, 10.1, "b")]


def test_prompt_entries_fractional_fps():
    entries = prompt_entries([Span(0, 29, "a"), Span(30, 89, "b")], 29.97)
    assert entries[1] == (pytest.approx(30 / 29.97), pytest.approx(90 / 29.97), "b")
    assert srt_text(entries).splitlines()[5] == "00:00:01,001 --> 00:00:03,003"


def test_prompt_entries_of_a_real_plan_with_overlap():
    prompts = {"0": "a forest", "70": "a city", "150": "sea"}
    settings = parse_settings({"max_frames": 200, "fps": 15, "prompts": prompts})
    plan = build_plan(settings, profile_for("Wan2.1-T2V-1.3B"), seed=1, overlap=8)
    pairs = itertools.pairwise(plan.clips)
    assert any(later.start_frame <= earlier.end_frame for earlier, later in pairs)  # overlapping
    entries = prompt_entries(plan.clips, plan.fps)
    assert [text for _, _, text in entries] == ["a forest", "a city", "sea"]
    assert entries[0][0] == 0 and entries[-1][1] == pytest.approx(200 / 15)
    for before, after in itertools.pairwise(entries):
        assert before[1] == after[0]  # contiguous, never overlapping
    assert entries[1][0] == pytest.approx(70 / 15, abs=2 / 15)  # near the key (4n+1 lengths)


def test_prompt_entries_refuse_bad_fps():
    with pytest.raises(ValueError, match="fps"):
        prompt_entries([Span(0, 1, "a")], 0)
