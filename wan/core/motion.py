"""Camera motion of a span of Deforum frames, in numbers and in words (pure: numpy only).

Deforum camera schedules are per-frame VELOCITIES: frame f-1 is warped into frame f with the
value at f, so a constant translation_x of 2 is a steady pan, not a still camera. Zoom is a
per-frame scale factor (1.0 = none); angles are degrees per frame.

Span rule: the movement of frames [start, end] is the values of frames start+1..end (the motion
INTO each frame after the first), except that a one-frame span (start == end) uses frame start.

Sign conventions (x right, y down), the camera meaning of a POSITIVE value:

    2D  translation_x  pans left          3D  translation_x  trucks right
    2D  translation_y  moves up           3D  translation_y  moves up (pedestal)
    2D  zoom (>1)      zooms in           3D  translation_z  dollies forward (pushes in)
    2D  angle          rolls clockwise    3D  rotation_3d_x  tilts up
                                          3D  rotation_3d_y  pans right
                                          3D  rotation_3d_z  rolls clockwise

2D translation_y reads "moves up / down", as in 3D: it slides the image content down (up for a
negative value) with no turn of the camera and no perspective change (tests/render/test_warp.py,
SIGNS), which is a camera raised or lowered parallel to the picture; "tilts" names only
rotation_3d_x, the schedule that turns the camera. (2D translation_x, the same kind of slide,
keeps Deforum users' word "pans".)

2D reads only translation_x/y, zoom and angle; 3D only translation_x/y/z and rotation_3d_x/y/z.

Intensity comes from the whole-span amount of movement (`AxisMotion.total`, counted regardless
of direction, so a back-and-forth move is not "still"), compared with INTENSITY_THRESHOLDS, the
upper bounds (exclusive) of still / subtle / gentle / moderate; anything above is strong:

    translation  fraction of image width   0.01  0.05  0.15  0.40
                 (2D px / width; 3D units * 1.8 / 512, i.e. 1.8 px per unit at 512 px, fov 70)
    rotation     degrees                   1     5     15    45
    scale        |scale change|            0.01  0.05  0.15  0.40
                 (zoom, and translation_z at about x1.009 per frame for z = 1.75)

Trend: "oscillates" when the movement turns back at least twice (OSCILLATION_TURNS sign changes
of the per-frame movement; frames under SWING_FLOOR of the largest, and swings carrying under
SWING_SHARE of the largest swing, are ignored) and both directions each carry at least
REVERSE_SHARE of it: a sway, a pulse; `AxisMotion.period` is then the mean period in frames
(twice the mean distance between turns), else 0. Otherwise "reverses" when both directions each
carry at least REVERSE_SHARE of the movement (there and back: one turn); otherwise "speeds up" /
"slows down" when the mean magnitude of one half of the span exceeds the other's by more than
TREND_RATIO; otherwise "steady".

Orbit (3D only): a truck and a pan the other way (translation_x and rotation_3d_y of opposite
signs), or a pedestal and a tilt the other way (translation_y and rotation_3d_x), turn the camera
back toward what it passes: a subject in front stays centred while what lies behind it slides the
way the camera turns. It reads "orbits right around the subject", named by the way the camera
TRAVELS (the translation's direction: truck right + pan left = orbits right; pedestal up + tilt
down = orbits up). The two count as one orbit when, in image terms (translation 1.8 px per unit
at 512 px, rotation WIDTH_PER_DEGREE of the width per degree at Deforum's default fov 70), what
they move cancels: sum|a + b| / (sum|a| + sum|b|) <= ORBIT_CANCEL (1 for moves the same way, 0
for a subject at the nominal depth held exactly; 0.6 allows one to be up to 4 times the other),
and neither is still. Its intensity is the stronger axis', its trend and period the
translation's. 2D has no orbit: a 2D step is one affine map of the flat picture (every point
slides, scales and turns together), so nothing can hold a subject while the rest swings around
it; a slide with a roll is a roll about another point, and reads as the two moves.

Phrase: "static camera", or "the camera" + adverb (subtle "very slowly", gentle "slowly", moderate
"steadily" unless its speed changes, strong "quickly") + the strongest movement, its speed trend
(", speeding up" / ", slowing down"), then up to two weaker movements as "while X and Y". A
reversing movement reads "pans right and then left" wherever it appears; an oscillating one by
its movement (SWINGS): pan and truck "sways left and right", pedestal "bobs up and down", tilt
"nods up and down", zoom and dolly "pulses in and out", roll "rocks from side to side", orbit
"orbits left and right around the subject".
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from wan.errors import PlanError

MODES = ("2D", "3D")
VIDEO_INPUT = "Video Input"  # no camera schedules: the input video is the camera

# key -> (kind, movement, direction of a positive value, direction of a negative value)
_AXIS_INFO: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "2D": {
        "translation_x": ("translation", "pan", "left", "right"),
        "translation_y": ("translation", "pedestal", "up", "down"),
        "zoom": ("scale", "zoom", "in", "out"),
        "angle": ("rotation", "roll", "clockwise", "counter-clockwise"),
    },
    "3D": {
        "translation_x": ("translation", "truck", "right", "left"),
        "translation_y": ("translation", "pedestal", "up", "down"),
        "translation_z": ("scale", "dolly", "forward", "backward"),
        "rotation_3d_x": ("rotation", "tilt", "up", "down"),
        "rotation_3d_y": ("rotation", "pan", "right", "left"),
        "rotation_3d_z": ("rotation", "roll", "clockwise", "counter-clockwise"),
    },
}
AXES: dict[str, tuple[str, ...]] = {mode: tuple(info) for mode, info in _AXIS_INFO.items()}

INTENSITY_LEVELS = ("still", "subtle", "gentle", "moderate", "strong")
INTENSITY_THRESHOLDS: dict[str, tuple[float, float, float, float]] = {
    "translation": (0.01, 0.05, 0.15, 0.40),
    "rotation": (1.0, 5.0, 15.0, 45.0),
    "scale": (0.01, 0.05, 0.15, 0.40),
}
REVERSE_SHARE = 0.2  # share of the movement each direction needs for "reverses"
OSCILLATION_TURNS = 2  # this many turns or more: "oscillates" (one turn: "reverses")
SWING_FLOOR = 0.1  # frames moving less than this share of the largest move do not turn
SWING_SHARE = 0.25  # a swing carrying less than this share of the largest swing does not turn
ORBIT_CANCEL = 0.6  # a translation and an opposite rotation cancelling this well: an orbit
WIDTH_PER_DEGREE = math.tan(math.radians(1)) / (2 * math.tan(math.radians(35)))  # fov 70
TREND_RATIO = 1.5  # one half of the span this many times faster: "speeds up" / "slows down"
PX_PER_3D_UNIT_AT_512 = 1.8
LOG_SCALE_PER_Z_UNIT = math.log(1.009) / 1.75  # translation_z 1.75 ~ x1.009 per frame

_NEUTRAL = {"zoom": 1.0}
# The words of a camera phrase (also read by wan.prompting.camera_text to translate them).
OPPOSITE = {"left": "right", "up": "down", "in": "out", "forward": "backward"}
OPPOSITE |= {b: a for a, b in OPPOSITE.items()}
OPPOSITE |= {"clockwise": "counter-clockwise", "counter-clockwise": "clockwise"}
VERBS = {
    "pan": ("pans", "panning"),
    "tilt": ("tilts", "tilting"),
    "truck": ("trucks", "trucking"),
    "pedestal": ("moves", "moving"),
    "zoom": ("zooms", "zooming"),
    "roll": ("rolls", "rolling"),
}
# (translation, rotation) of an orbit and the movement of each: see "Orbit" above.
ORBIT_PAIRS = (("translation_x", "rotation_3d_y"), ("translation_y", "rotation_3d_x"))
# movement -> third person, gerund, both directions: an oscillating movement's words.
SWINGS = {
    "pan": ("sways", "swaying", "left and right"),
    "truck": ("sways", "swaying", "left and right"),
    "pedestal": ("bobs", "bobbing", "up and down"),
    "tilt": ("nods", "nodding", "up and down"),
    "zoom": ("pulses", "pulsing", "in and out"),
    "dolly": ("pulses", "pulsing", "in and out"),
    "roll": ("rocks", "rocking", "from side to side"),
}
ORBIT_WORDS = ("orbits", "orbiting", "around the subject")
DOLLY = {"forward": ("pushes", "pushing", "in"), "backward": ("pulls", "pulling", "out")}
_ADVERBS = {
    "subtle": "very slowly",
    "gentle": "slowly",
    "moderate": "steadily",
    "strong": "quickly",
}
_TREND_WORDS = {"speeds up": "speeding up", "slows down": "slowing down"}


@dataclass(frozen=True)
class AxisMotion:
    """What one camera schedule does over a span; see the module docstring for the units."""

    key: str
    movement: str  # pan | tilt | truck | pedestal | dolly | zoom | roll
    direction: str  # "" when still; for "reverses", the direction of the first movement
    net: float  # mean velocity per frame (zoom: geometric mean factor per frame)
    peak: float  # signed per-frame value of largest magnitude (zoom: factor farthest from 1)
    total: float  # whole-span amount regardless of direction, in the units of its intensity
    intensity: str  # still | subtle | gentle | moderate | strong
    trend: str  # steady | speeds up | slows down | reverses | oscillates
    period: float = 0.0  # frames per back-and-forth when oscillating, else 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Orbit:
    """A 3D translation and an opposite rotation read as one move around the subject."""

    keys: tuple[str, str]  # (translation, rotation), one of ORBIT_PAIRS
    direction: str  # the way the camera travels: the translation's direction
    cancel: float  # sum|a + b| / (sum|a| + sum|b|) of their image movement: 0 holds the subject
    intensity: str  # the stronger axis'
    trend: str  # the translation's
    period: float  # the translation's

    @property
    def movement(self) -> str:
        return "orbit"

    def to_dict(self) -> dict:
        return {**asdict(self), "keys": list(self.keys)}


@dataclass(frozen=True)
class ClipMotion:
    """The camera motion of frames start_frame..end_frame (inclusive) and a phrase for it."""

    mode: str
    start_frame: int
    end_frame: int
    axes: tuple[AxisMotion, ...]  # every axis of the mode, in AXES order
    phrase: str
    orbits: tuple[Orbit, ...] = ()  # pairs of axes the phrase names as one orbit

    @property
    def moving(self) -> tuple[AxisMotion, ...]:
        """The axes that move, strongest first (ties keep AXES order)."""
        return _strongest_first(self.axes)

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "phrase": self.phrase,
            "axes": {axis.key: axis.to_dict() for axis in self.axes},
            "orbits": [orbit.to_dict() for orbit in self.orbits],
        }


def positive_meaning(mode: str, key: str) -> str:
    """The camera phrase for a positive value of `key`, e.g. "pans right" (for labels)."""
    _, movement, direction, _ = _mode_info(mode)[key]
    return _movement_words(movement, direction, gerund=False)


def analyse_motion(
    schedules: Mapping[str, np.ndarray], mode: str, start_frame: int, end_frame: int, width: int
) -> ClipMotion:
    """Describe the camera motion of frames start_frame..end_frame of a 2D or 3D animation.
    A Video Input animation has no camera schedules: the input video carries the camera (it is
    each clip's guide), so its motion is empty and says nothing (no words for the prompt)."""
    if mode == VIDEO_INPUT:
        return ClipMotion(mode, int(start_frame), int(end_frame), (), "")
    info = _mode_info(mode)
    if width <= 0:
        raise PlanError(f"image width must be positive to measure camera motion, got {width}")
    start, end = int(start_frame), int(end_frame)
    if start < 0 or end < start:
        raise PlanError(
            f"frame span {start_frame}..{end_frame} is not a valid span (0 <= start <= end)"
        )
    spans = {key: _span_values(schedules, key, start, end) for key in info}
    with np.errstate(over="ignore", invalid="ignore"):  # checked below, naming the schedule
        axes = tuple(_analyse_axis(key, info[key], spans[key], mode, width) for key in info)
    for axis in axes:
        if not all(math.isfinite(number) for number in (axis.net, axis.peak, axis.total)):
            raise PlanError(
                f"schedule '{axis.key}' moves too far to measure in frames {start}..{end} "
                f"(a value of {axis.peak:g} per frame adds up past what a number can hold); "
                "use values of a sensible size"
            )
    orbits = _orbits(axes, spans) if mode == "3D" else ()
    return ClipMotion(mode, start, end, axes, _phrase(_movements(axes, orbits)), orbits)


def _mode_info(mode: str) -> dict[str, tuple[str, str, str, str]]:
    if mode not in _AXIS_INFO:
        accepted = ", ".join(repr(m) for m in MODES)
        raise PlanError(f"animation mode {mode!r} has no camera motion to analyse; use {accepted}")
    return _AXIS_INFO[mode]


def _span_values(schedules: Mapping[str, np.ndarray], key: str, start: int, end: int) -> np.ndarray:
    """The per-frame values that move the camera within the span (see the span rule)."""
    neutral = _NEUTRAL.get(key, 0.0)
    if key not in schedules:
        return np.full(max(end - start, 1), neutral)
    values = np.asarray(schedules[key], dtype=np.float64)
    if values.ndim != 1 or end >= len(values):
        raise PlanError(
            f"frame span {start}..{end} is outside schedule '{key}' "
            f"(frames 0..{len(values) - 1 if values.ndim == 1 else '?'})"
        )
    span = values[start + 1 : end + 1] if end > start else values[start : start + 1]
    bad = ~np.isfinite(span) | ((span <= 0) if key == "zoom" else False)
    if bad.any():
        frame = start + int(np.argmax(bad)) + (1 if end > start else 0)
        raise PlanError(f"schedule '{key}' has an unusable value {span[bad][0]} at frame {frame}")
    return span


def _displacement(key: str, values: np.ndarray, mode: str, width: int) -> np.ndarray:
    """Per-frame movement in the units of the axis' intensity (log scale for scales)."""
    if key == "zoom":
        return np.log(values)
    if key == "translation_z":
        return values * LOG_SCALE_PER_Z_UNIT
    if key.startswith("translation"):
        return values * (PX_PER_3D_UNIT_AT_512 / 512 if mode == "3D" else 1.0 / width)
    return values


def _analyse_axis(
    key: str, info: tuple[str, str, str, str], values: np.ndarray, mode: str, width: int
) -> AxisMotion:
    kind, movement, positive, negative = info
    d = _displacement(key, values, mode, width)
    i_peak = int(np.argmax(np.abs(d)))
    net = float(np.exp(d.mean())) if key == "zoom" else float(values.mean())
    total = _gross_scale_change(d) if kind == "scale" else float(np.abs(d).sum())
    intensity = INTENSITY_LEVELS[bisect.bisect_right(INTENSITY_THRESHOLDS[kind], total)]
    if intensity == "still":
        return AxisMotion(key, movement, "", net, float(values[i_peak]), total, intensity, "steady")
    trend, period = _trend(d)
    # A reversing or oscillating axis is named by the direction it starts with, any other by its
    # net movement.
    first = d[np.argmax(np.abs(d) >= SWING_FLOOR * np.abs(d).max())]
    sign = first if trend in ("reverses", "oscillates") else d.sum()
    direction = positive if sign > 0 else negative
    peak = float(values[i_peak])
    return AxisMotion(key, movement, direction, net, peak, total, intensity, trend, period)


def _gross_scale_change(d: np.ndarray) -> float:
    """Sum of |scale change| over the runs of one direction (|product - 1| if it never turns)."""
    d = d[d != 0]
    if d.size == 0:
        return 0.0
    starts = np.concatenate(([0], np.flatnonzero(np.diff(np.sign(d))) + 1))
    run_logs = np.minimum(np.add.reduceat(d, starts), 100.0)  # cap: e**100 is "strong" anyway
    return float(np.abs(np.expm1(run_logs)).sum())


def _trend(d: np.ndarray) -> tuple[str, float]:
    """The trend of a per-frame movement and, when it oscillates, its period in frames."""
    magnitude = np.abs(d)
    forward, backward = d[d > 0].sum(), -d[d < 0].sum()
    if min(forward, backward) >= REVERSE_SHARE * magnitude.sum():
        turns = _turns(d)
        if turns.size >= OSCILLATION_TURNS:
            return "oscillates", float(2 * (turns[-1] - turns[0]) / (turns.size - 1))
        return "reverses", 0.0
    half = d.size // 2
    if half == 0:
        return "steady", 0.0
    first, second = magnitude[:half].mean(), magnitude[-half:].mean()
    if second > TREND_RATIO * first:
        return "speeds up", 0.0
    if first > TREND_RATIO * second:
        return "slows down", 0.0
    return "steady", 0.0


def _turns(d: np.ndarray) -> np.ndarray:
    """Where the movement changes direction (frame offsets, halfway between the swings either
    side). Frames under SWING_FLOOR of the largest movement are ignored, and so are swings
    carrying less than SWING_SHARE of the largest swing (a short tail after a move is no sway)."""
    moving = np.flatnonzero(np.abs(d) >= SWING_FLOOR * np.abs(d).max())
    signs = np.sign(d[moving])
    starts = np.concatenate(([0], np.flatnonzero(np.diff(signs)) + 1))
    ends = np.concatenate((starts[1:], [moving.size])) - 1
    sizes = np.add.reduceat(np.abs(d[moving]), starts)
    turns: list[float] = []
    last_sign, last_end = 0.0, 0
    for start, end, size in zip(starts, ends, sizes, strict=True):
        if size < SWING_SHARE * sizes.max():
            continue
        if last_sign and signs[start] != last_sign:
            turns.append((moving[last_end] + moving[start]) / 2)
        last_sign, last_end = signs[start], end
    return np.asarray(turns)


def _image_movement(key: str, values: np.ndarray) -> np.ndarray:
    """A 3D axis' per-frame camera movement as a fraction of the image width (positive: the
    camera goes right / up), for comparing a translation with a rotation."""
    if key.startswith("translation"):
        return values * (PX_PER_3D_UNIT_AT_512 / 512)
    return values * WIDTH_PER_DEGREE


def _orbits(axes: tuple[AxisMotion, ...], spans: Mapping[str, np.ndarray]) -> tuple[Orbit, ...]:
    """The ORBIT_PAIRS whose translation and rotation turn the camera back toward a subject."""
    by_key = {axis.key: axis for axis in axes}
    orbits = []
    for move, turn in ORBIT_PAIRS:
        a, b = by_key[move], by_key[turn]
        if "still" in (a.intensity, b.intensity):
            continue
        da, db = _image_movement(move, spans[move]), _image_movement(turn, spans[turn])
        cancel = float(np.abs(da + db).sum() / (np.abs(da).sum() + np.abs(db).sum()))
        if cancel <= ORBIT_CANCEL:
            intensity = max(a.intensity, b.intensity, key=INTENSITY_LEVELS.index)
            orbits.append(Orbit((move, turn), a.direction, cancel, intensity, a.trend, a.period))
    return tuple(orbits)


def _movements(
    axes: tuple[AxisMotion, ...], orbits: tuple[Orbit, ...]
) -> tuple[AxisMotion | Orbit, ...]:
    """What the phrase names, strongest first: each orbit in place of its two axes."""
    by_key = {axis.key: axis for axis in axes}
    paired = {key for orbit in orbits for key in orbit.keys}
    ranked: list[tuple[tuple[int, float], int, AxisMotion | Orbit]] = []
    for order, axis in enumerate(axes):
        if axis.intensity != "still" and axis.key not in paired:
            ranked.append((_strength(axis), order, axis))
    for orbit in orbits:
        strength = max(_strength(by_key[key]) for key in orbit.keys)
        ranked.append((strength, min(AXES["3D"].index(k) for k in orbit.keys), orbit))
    ranked.sort(key=lambda item: (item[0][0], item[0][1], -item[1]), reverse=True)
    return tuple(item for _, _, item in ranked)


def _strength(axis: AxisMotion) -> tuple[int, float]:
    """Comparable across kinds: intensity level, then total relative to the 'strong' bound."""
    kind = (
        "scale"
        if axis.key in ("zoom", "translation_z")
        else "translation"
        if axis.key.startswith("translation")
        else "rotation"
    )
    return INTENSITY_LEVELS.index(axis.intensity), axis.total / INTENSITY_THRESHOLDS[kind][-1]


def _strongest_first(axes: tuple[AxisMotion, ...]) -> tuple[AxisMotion, ...]:
    moving = [axis for axis in axes if axis.intensity != "still"]
    return tuple(sorted(moving, key=_strength, reverse=True))


def _movement_words(movement: str, direction: str, gerund: bool) -> str:
    if movement == "dolly":
        third, ing, direction = DOLLY[direction]
    else:
        third, ing = VERBS[movement]
    return f"{ing if gerund else third} {direction}"


def _axis_phrase(axis: AxisMotion | Orbit, gerund: bool) -> str:
    """E.g. "pans right", "pushing in", "pans right and then left" for a reversal, "sways left
    and right" for an oscillation, "orbits right around the subject"."""
    if axis.movement == "orbit":
        third, ing, around = ORBIT_WORDS
        verb = ing if gerund else third
        if axis.trend == "oscillates":
            both = "left and right" if axis.direction in ("left", "right") else "up and down"
            return f"{verb} {both} {around}"
        if axis.trend == "reverses":
            return f"{verb} {axis.direction} and then {OPPOSITE[axis.direction]} {around}"
        return f"{verb} {axis.direction} {around}"
    if axis.trend == "oscillates":
        third, ing, both = SWINGS[axis.movement]
        return f"{ing if gerund else third} {both}"
    text = _movement_words(axis.movement, axis.direction, gerund)
    if axis.trend == "reverses":
        back = _movement_words(axis.movement, OPPOSITE[axis.direction], gerund)
        verb = text.split(" ")[0]
        text += " and then " + (back[len(verb) + 1 :] if back.startswith(verb + " ") else back)
    return text


def _phrase(moving: tuple[AxisMotion | Orbit, ...]) -> str:
    """A camera direction: the strongest movement with adverb and trend, then up to two more."""
    if not moving:
        return "static camera"
    main, others = moving[0], moving[1:3]
    adverb = _ADVERBS[main.intensity]
    if main.intensity == "moderate" and main.trend != "steady":
        adverb = ""  # "steadily" would contradict a speed change or a reversal
    text = " ".join(w for w in ("the camera", adverb, _axis_phrase(main, gerund=False)) if w)
    if main.trend in _TREND_WORDS:
        text += ", " + _TREND_WORDS[main.trend] + ("," if others else "")
    if others:
        text += " while " + " and ".join(_axis_phrase(axis, gerund=True) for axis in others)
    return text
