"""Colour matching, joins and frame-rate resampling on small synthetic frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from wan.render.frames import (
    Join,
    color_match,
    drop_duplicate_start,
    interpolate,
    resample_indices,
    resample_stream,
    splice,
)

H, W = 64, 128


def _lab(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)


def _delta_e(a: np.ndarray, b: np.ndarray) -> float:
    """Mean per-pixel Lab distance (CIE76) between two frames of the same scene."""
    return float(np.linalg.norm(_lab(a) - _lab(b), axis=-1).mean())


def _mean_lab_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Distance between the mean Lab colours of two frames."""
    return float(np.linalg.norm(_lab(a).reshape(-1, 3).mean(0) - _lab(b).reshape(-1, 3).mean(0)))


# Colour matching ----------------------------------------------------------------------------


def _scene() -> np.ndarray:
    """A textured scene twice as wide as a frame (smooth noise plus a gradient), values 50-200."""
    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.uniform(0, 1, (H, 2 * W, 3)).astype(np.float32), (0, 0), 4)
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    ramp = np.linspace(0, 1, 2 * W, dtype=np.float32)[None, :, None]
    return 50 + 150 * (0.6 * noise + 0.4 * ramp)


def _pan_frame(scene: np.ndarray, i: int, cast: bool = False) -> np.ndarray:
    """Frame i of a 2 px/frame pan over the scene, optionally with a warm, brighter cast."""
    image = scene[:, 2 * i : 2 * i + W]
    if cast:
        image = image * np.array([1.12, 1.0, 0.85]) + np.array([10.0, 6.0, -4.0])
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _drifted_join():
    scene = _scene()
    previous = np.stack([_pan_frame(scene, i) for i in range(8)])
    # The new clip starts at the previous clip's last moment (frame 7) but has drifted.
    new = np.stack([_pan_frame(scene, i, cast=True) for i in range(7, 20)])
    truth = np.stack([_pan_frame(scene, i) for i in range(7, 20)])
    return previous, new, truth


def test_color_match_removes_the_colour_jump_at_the_join() -> None:
    previous, new, _ = _drifted_join()
    matched = color_match(new, previous[-4:])
    before, after = _delta_e(previous[-1], new[0]), _delta_e(previous[-1], matched[0])
    reduction = 1 - after / before
    gap_before = _mean_lab_gap(previous[-1], new[0])
    gap_after = _mean_lab_gap(previous[-1], matched[0])
    gap_reduction = 1 - gap_after / gap_before
    message = (
        f"join: mean per-pixel Lab difference {before:.2f} -> {after:.2f} "
        f"({reduction:.1%} less); mean Lab colour gap {gap_before:.2f} -> {gap_after:.2f} "
        f"({gap_reduction:.1%} less)"
    )
    print(message)
    assert reduction >= 0.8, message
    assert gap_reduction >= 0.8, message


def test_color_match_corrects_the_whole_clip_without_fading() -> None:
    previous, new, truth = _drifted_join()
    matched = color_match(new, previous[-4:])
    for index in (0, len(new) // 2, len(new) - 1):
        before, after = _delta_e(truth[index], new[index]), _delta_e(truth[index], matched[index])
        assert after < 0.2 * before, f"frame {index}: {before:.2f} -> {after:.2f}"
    # Identical input frames get identical output frames wherever they sit in the clip.
    same = np.repeat(new[:1], 5, axis=0)
    out = color_match(same, previous[-1])
    assert all(np.array_equal(out[0], frame) for frame in out)


def test_color_match_strength_and_shapes() -> None:
    previous, new, _ = _drifted_join()
    unchanged = color_match(new, previous[-2:], strength=0.0)
    assert np.abs(unchanged.astype(int) - new).max() <= 1  # Lab round trip only
    half = _delta_e(previous[-1], color_match(new, previous[-2:], strength=0.5)[0])
    full = _delta_e(previous[-1], color_match(new, previous[-2:], strength=1.0)[0])
    assert full < half < _delta_e(previous[-1], new[0])
    # One frame in, one frame out; the reference may have another size.
    small_reference = cv2.resize(previous[-1], (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    single = color_match(new[0], small_reference)
    assert single.shape == new[0].shape and single.dtype == np.uint8
    assert _delta_e(previous[-1], single) < 0.3 * _delta_e(previous[-1], new[0])


def test_color_match_leaves_flat_frames_flat() -> None:
    flat = np.full((3, 8, 8, 3), 120, np.uint8)
    reference = np.random.default_rng(1).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    out = color_match(flat, reference)
    assert np.ptp(out.reshape(-1, 3), axis=0).max() <= 1


@pytest.mark.parametrize(
    "clip, reference, strength",
    [
        (np.zeros((2, 8, 8, 3), np.float32), np.zeros((8, 8, 3), np.uint8), 1.0),
        (np.zeros((2, 8, 8, 4), np.uint8), np.zeros((8, 8, 3), np.uint8), 1.0),
        (np.zeros((2, 8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8), 1.0),
        (np.zeros((2, 8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8), 1.5),
        (np.zeros((2, 8, 8, 3), np.uint8), np.zeros((0, 8, 8, 3), np.uint8), 1.0),
    ],
)
def test_color_match_rejects_bad_input(clip, reference, strength) -> None:
    with pytest.raises(ValueError):
        color_match(clip, reference, strength)


# Joins --------------------------------------------------------------------------------------


def _numbered(values: range, size: tuple[int, int] = (4, 6)) -> np.ndarray:
    """Frames whose every pixel holds the frame's number: what came from where is visible."""
    return np.stack([np.full((*size, 3), v, np.uint8) for v in values])


def test_splice_drops_the_repeated_moments_by_default() -> None:
    tail = _numbered(range(10, 14))
    clip = _numbered(range(100, 108))
    join = splice(tail, clip, overlap=3)
    assert isinstance(join, Join)
    assert join.replace_tail.shape == (0, 4, 6, 3)
    assert [int(f[0, 0, 0]) for f in join.new_frames] == [103, 104, 105, 106, 107]


def test_splice_without_overlap_keeps_every_frame() -> None:
    join = splice(_numbered(range(2)), _numbered(range(50, 55)), overlap=0, crossfade=True)
    assert len(join.replace_tail) == 0
    assert [int(f[0, 0, 0]) for f in join.new_frames] == [50, 51, 52, 53, 54]


def test_splice_crossfade_blends_linearly_and_replaces_the_tail() -> None:
    tail = _numbered(range(0, 5))  # the overlap is its last 3 frames: 2, 3, 4
    clip = np.stack([np.full((4, 6, 3), 200, np.uint8)] * 6)
    join = splice(tail, clip, overlap=3, crossfade=True)
    blended = [float(f[0, 0, 0]) for f in join.replace_tail]
    expected = [old + (200 - old) * w for old, w in zip((2, 3, 4), (0.25, 0.5, 0.75), strict=True)]
    assert blended == pytest.approx(expected, abs=0.5)
    assert len(join.new_frames) == 3
    # Writing it: drop len(replace_tail) frames, then add both parts; no moment shows twice.
    video = [*tail[: len(tail) - len(join.replace_tail)], *join.replace_tail, *join.new_frames]
    assert len(video) == len(tail) + len(clip) - 3


@pytest.mark.parametrize("overlap", [-1, 4, 9])
def test_splice_rejects_impossible_overlaps(overlap: int) -> None:
    with pytest.raises(ValueError):
        splice(_numbered(range(3)), _numbered(range(8)), overlap=overlap)


def test_splice_rejects_mismatched_sizes() -> None:
    with pytest.raises(ValueError, match="sizes differ"):
        splice(_numbered(range(3)), _numbered(range(8), size=(4, 8)), overlap=1)


def test_drop_duplicate_start() -> None:
    rng = np.random.default_rng(2)
    last = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    noise = rng.integers(-2, 3, last.shape)
    near_copy = np.clip(last.astype(int) + noise, 0, 255).astype(np.uint8)
    moved = np.roll(last, 3, axis=1)
    clip = np.stack([near_copy, moved, moved])
    assert len(drop_duplicate_start(last, clip, threshold=3.0)) == 2
    assert len(drop_duplicate_start(last, clip[1:], threshold=3.0)) == 2  # nothing to drop
    assert len(drop_duplicate_start(last, clip, threshold=0.5)) == 3  # stricter threshold
    assert drop_duplicate_start(last, clip[:1]).shape == (0, 16, 16, 3)
    with pytest.raises(ValueError):
        drop_duplicate_start(last[:8], clip)


# Resampling ---------------------------------------------------------------------------------

SQUARE = 16
BACKGROUND, CONTRAST = 30, 200


def _square_frame(x: float, y: float = 24.0) -> np.ndarray:
    """A bright SQUARE at sub-pixel position (x, y) (top-left), anti-aliased by supersampling."""
    scale = 8
    big = np.zeros((H * scale, W * scale), np.float32)
    x0, y0 = round(x * scale), round(y * scale)
    big[y0 : y0 + SQUARE * scale, x0 : x0 + SQUARE * scale] = 1
    cover = cv2.resize(big, (W, H), interpolation=cv2.INTER_AREA)
    return np.repeat(BACKGROUND + CONTRAST * cover[..., None], 3, axis=2).round().astype(np.uint8)


def _square_centre(frame: np.ndarray) -> tuple[float, float]:
    """Sub-pixel centroid of the square, weighting only what is brighter than half its contrast.

    A plain intensity-weighted centroid would be fooled by a cross-fade, whose two half-bright
    ghosts average to the right place; here they weigh (almost) nothing.
    """
    level = (frame[..., 0].astype(np.float64) - BACKGROUND) / CONTRAST
    weight = np.clip(2 * level - 1, 0, 1)
    ys, xs = np.indices(weight.shape)
    return float((weight * xs).sum() / weight.sum()), float((weight * ys).sum() / weight.sum())


def test_upsampling_follows_the_motion() -> None:
    speed, src_fps, dst_fps, count = 3.0, 16, 30, 16
    source = [_square_frame(8 + speed * i) for i in range(count)]
    dst_count = 28  # source time 0..14.93 frames: every output has two real neighbours
    out = list(resample_stream(iter(source), src_fps, dst_fps, dst_count))
    assert len(out) == dst_count
    errors, fade_position_errors, truth_errors, fade_errors, areas = [], [], [], [], []
    for k, (frame, (i0, i1, t)) in enumerate(
        zip(out, resample_indices(count, src_fps, dst_fps, dst_count), strict=True)
    ):
        truth = _square_frame(8 + speed * k * src_fps / dst_fps)
        (x, y), (tx, ty) = _square_centre(frame), _square_centre(truth)
        errors.append(float(np.hypot(x - tx, y - ty)))
        bright = (frame[..., 0].astype(np.int16) - BACKGROUND > CONTRAST / 2).sum()
        areas.append(bright / SQUARE**2)
        truth_errors.append(np.abs(frame.astype(int) - truth).mean())
        fade = np.rint(source[i0] * (1 - t) + source[i1] * t).astype(np.uint8)
        fx, fy = _square_centre(fade)
        fade_position_errors.append(float(np.hypot(fx - tx, fy - ty)))
        fade_errors.append(np.abs(fade.astype(int) - truth).mean())
    worst = max(errors)
    message = (
        f"worst square position error {worst:.3f} px over {dst_count} frames "
        f"(a plain cross-fade: {max(fade_position_errors):.3f} px)"
    )
    print(message)
    assert worst <= 1.0, message
    # The square keeps its size (a cross-fade shrinks its bright part to the overlap of ghosts).
    assert min(areas) > 0.95 and max(areas) < 1.05, (min(areas), max(areas))
    # Motion compensation, not a cross-fade: far closer to the true frame than blending is.
    assert max(truth_errors) < 0.25 * max(fade_errors), (max(truth_errors), max(fade_errors))


def test_upsampling_a_textured_pan() -> None:
    scene = _scene().astype(np.uint8)
    source = [np.ascontiguousarray(scene[:, 3 * i : 3 * i + W]) for i in range(3)]
    middle = interpolate(source[0], source[1], 0.5)
    half_step = cv2.warpAffine(
        scene, np.float32([[1, 0, -1.5], [0, 1, 0]]), (2 * W, H), flags=cv2.INTER_LINEAR
    )[:, :W]
    inner = (slice(8, -8), slice(8, -8))
    fade = ((source[0].astype(float) + source[1]) / 2)[inner]
    error = np.abs(middle[inner].astype(float) - half_step[inner]).mean()
    assert error < 0.5 * np.abs(fade - half_step[inner]).mean()


def test_downsampling_drops_frames_evenly() -> None:
    indices = resample_indices(60, 30, 16, 32)
    assert all(i0 == i1 and t == 0.0 for i0, i1, t in indices)
    picked = [i0 for i0, _, _ in indices]
    assert picked[:9] == [0, 2, 4, 6, 8, 9, 11, 13, 15]  # k * 1.875 rounded, halves up
    steps = np.diff(picked)
    assert set(steps.tolist()) <= {1, 2} and picked[-1] == round(31 * 30 / 16)
    source = _numbered(range(60))
    out = list(resample_stream(iter(source), 30, 16, 32))
    assert [int(f[0, 0, 0]) for f in out] == picked


def test_counts_are_exact_and_the_last_frame_is_held() -> None:
    source = _numbered(range(10))
    for dst_fps, dst_count in ((16, 25), (30, 40), (24, 0), (8, 7)):
        out = list(resample_stream(iter(source), 16, dst_fps, dst_count))
        assert len(out) == dst_count
        assert len(resample_indices(10, 16, dst_fps, dst_count)) == dst_count
    held = list(resample_stream(iter(source), 16, 16, 14))
    assert [int(f[0, 0, 0]) for f in held] == [*range(10), 9, 9, 9, 9]
    assert resample_indices(10, 16, 30, 40)[-1] == (9, 9, 0.0)


def test_equal_fps_is_the_identity() -> None:
    source = list(_numbered(range(7)))
    out = list(resample_stream(iter(source), 24, 24, 7))
    assert all(a is b for a, b in zip(out, source, strict=True))  # yielded as they are, not copied
    assert resample_indices(7, 24, 24, 7) == [(i, i, 0.0) for i in range(7)]


def test_one_frame_input() -> None:
    frame = _numbered(range(42, 43))
    for dst_fps in (8, 16, 30):
        out = list(resample_stream(iter(frame), 16, dst_fps, 5))
        assert len(out) == 5 and all(np.array_equal(f, frame[0]) for f in out)
    assert resample_indices(1, 16, 30, 3) == [(0, 0, 0.0)] * 3


def test_indices_match_the_sampling_rule() -> None:
    for i0, i1, t in resample_indices(100, 16, 30, 150):
        assert 0 <= t < 1 and i1 in (i0, i0 + 1) and (t > 0) == (i1 > i0)
    k = 7
    i0, i1, t = resample_indices(100, 16, 30, 8)[k]
    assert (i0, i1) == (3, 4) and i0 + t == pytest.approx(k * 16 / 30)


def test_stream_holds_at_most_two_source_frames() -> None:
    alive: set[int] = set()
    peak = 0

    class Tracked(np.ndarray):
        def __del__(self) -> None:
            alive.discard(id(self))

    def source():
        nonlocal peak
        for i in range(40):
            frame = np.full((4, 6, 3), i, np.uint8).view(Tracked)
            alive.add(id(frame))
            peak = max(peak, len(alive))
            yield frame
            del frame

    for _ in resample_stream(source(), 30, 16, 21):
        pass
    assert peak <= 3  # two held plus the one being handed over


def test_stream_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no frames"):
        list(resample_stream(iter([]), 16, 30, 3))
    with pytest.raises(ValueError, match="sizes differ"):
        list(
            resample_stream(
                iter([_numbered(range(1))[0], np.zeros((5, 6, 3), np.uint8)]), 16, 16, 2
            )
        )
    with pytest.raises(ValueError):
        list(resample_stream(iter(_numbered(range(3))), 0, 16, 2))
    with pytest.raises(ValueError):
        resample_indices(0, 16, 30, 3)
