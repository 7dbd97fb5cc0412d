"""Score strings and scales of review forms.

OpenReview forms wrote scores as strings ("6: marginally above the acceptance threshold", "3 good") up to
ICLR 2024 and as integers from 2025 on, on scales that change by year. A score is read from its leading
integer (so "10: strong accept" is 10, never 1) and checked against the scale of its venue and year.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from cyclebench.records import RecordError, Score

# Allowed values per (venue family, year, field). A scale is written as "1/3/6/8" (discrete) or "1-4"
# (every integer in range); the written form travels with each score.
_RATING_SCALES: dict[tuple[str, int], str] = {
    ("ICLR", 2017): "1-10",
    ("ICLR", 2018): "1-10",
    ("ICLR", 2019): "1-10",
    ("ICLR", 2020): "1/3/6/8",
    ("ICLR", 2021): "1-10",
    ("ICLR", 2022): "1/3/5/6/8/10",
    ("ICLR", 2023): "1/3/5/6/8/10",
    ("ICLR", 2024): "1/3/5/6/8/10",
    ("ICLR", 2025): "1/3/5/6/8/10",
    ("ICLR", 2026): "0/2/4/6/8/10",
    # NeurIPS on OpenReview: 1-10 from 2021 to 2024, "overall" 1-6 in 2025 (6: Strong Accept ... 1: Strong Reject).
    ("NEURIPS", 2021): "1-10",
    ("NEURIPS", 2022): "1-10",
    ("NEURIPS", 2023): "1-10",
    ("NEURIPS", 2024): "1-10",
    ("NEURIPS", 2025): "1-6",
}
_CONFIDENCE_SCALE = "1-5"
_ASPECT_SCALE = "1-4"
ASPECT_FIELDS = (
    "soundness",
    "presentation",
    "contribution",
    "correctness",
    "technical_novelty_and_significance",
    "empirical_novelty_and_significance",
    # NeurIPS 2025 (1-4 each).
    "quality",
    "clarity",
    "significance",
    "originality",
)
# Fallback when a venue/year is not in the table: a plausible range, named as assumed.
UNKNOWN_RATING_SCALE = "0-10?"
UNKNOWN_CONFIDENCE_SCALE = "1-5?"

# The leading number of a score string, ASCII digits only: sign, integer digits, optional fraction digits.
_LEADING_NUMBER = re.compile(r"^\s*\**\s*([+-]?)([0-9]+)(?:\.([0-9]+))?\s*\**\s*(?:[:.)\-\u2013/]|\s|$)")
# No form has a score beyond this; a longer number is rejected before it is converted (a 5000-digit string
# cannot become a float, and str() of a huge int raises).
_MAX_SCORE_DIGITS = 6
_MAX_SCORE_ABS = 10**_MAX_SCORE_DIGITS


@lru_cache(maxsize=1024)
def scale_for(venue_id: str, year: int | None, field: str) -> str:
    """The scale a field of a review form was on, by venue and year."""
    family = venue_id.split(".", 1)[0].upper() if venue_id else ""
    if field in ("rating", "recommendation"):
        return _RATING_SCALES.get((family, year or 0), UNKNOWN_RATING_SCALE)
    if field == "confidence":
        return _CONFIDENCE_SCALE if (family, year or 0) in _RATING_SCALES else UNKNOWN_CONFIDENCE_SCALE
    return _ASPECT_SCALE


def scale_allows(scale: str, value: int) -> bool:
    return value in _allowed_values(scale)


@lru_cache(maxsize=256)
def _allowed_values(scale: str) -> frozenset[int]:
    spec = scale.rstrip("?")
    if "/" in spec:
        return frozenset(int(v) for v in spec.split("/"))
    lo, hi = (int(v) for v in spec.split("-"))
    return frozenset(range(lo, hi + 1))


def parse_score(raw: object, scale: str, field: str) -> Score:
    """Read one form score. Raises ``RecordError`` with a countable reason when it cannot be read.

    Numbers are read exactly (no float round trip), so a huge integer, NaN, infinity, negative zero or
    ``6.0000001`` is a reasoned reject of that score, never an exception or a silently rounded value.
    """
    if isinstance(raw, bool) or raw is None:
        raise RecordError(f"missing_{field}", repr(raw))
    if isinstance(raw, int):
        value, text = _integer_score(raw, field), str(raw)
    elif isinstance(raw, float):
        value, text = _float_score(raw, field), repr(raw)
    elif isinstance(raw, str):
        value, text = _text_score(raw, field), raw
    else:
        raise RecordError(f"unparseable_{field}", f"{type(raw).__name__}: {_preview(raw)}")
    if not scale_allows(scale, value):
        raise RecordError(f"out_of_scale_{field}", f"{value} not on scale {scale}")
    return Score(value=value, raw=text, scale=scale)


# Answers of optional form questions that say "no score" (the ICLR 2022-23 forms offer "Not applicable" for
# empirical novelty; hand-edited snapshots write "N/A", "none", "-").
_NOT_APPLICABLE = re.compile(r"^\s*(?:not\s+applicable|n\s*/\s*a|na|none|-+|\u2013|\u2014)\s*\.?\s*$", re.IGNORECASE)


def parse_optional_score(raw: object, scale: str, field: str) -> tuple[Score, str | None]:
    """Read an optional form score (confidence, the aspects). Never raises: an answer that is not a score
    on ``scale`` becomes ``Score(None, raw, scale)`` with the countable reason; only the rating decides
    whether a review is usable (REFERENCE section 3)."""
    try:
        return parse_score(raw, scale, field), None
    except RecordError as exc:
        text = raw if isinstance(raw, str) else _preview(raw)
        if isinstance(raw, str) and _NOT_APPLICABLE.match(raw):
            return Score(value=None, raw=text, scale=scale), f"not_applicable_{field}"
        return Score(value=None, raw=text, scale=scale), exc.reason


def _integer_score(raw: int, field: str) -> int:
    if abs(raw) >= _MAX_SCORE_ABS:
        raise RecordError(f"out_of_scale_{field}", f"an integer of {raw.bit_length()} bits")
    return raw


def _float_score(raw: float, field: str) -> int:
    if not math.isfinite(raw) or raw != int(raw):
        raise RecordError(f"non_integer_{field}", repr(raw))
    if raw == 0 and math.copysign(1.0, raw) < 0:
        raise RecordError(f"negative_zero_{field}", repr(raw))
    return _integer_score(int(raw), field)


def _text_score(raw: str, field: str) -> int:
    match = _LEADING_NUMBER.match(raw)
    if not match:
        raise RecordError(f"unparseable_{field}", raw[:80])
    sign, digits, fraction = match.groups()
    if fraction and fraction.strip("0"):
        raise RecordError(f"non_integer_{field}", raw[:80])
    digits = digits.lstrip("0") or "0"
    if len(digits) > _MAX_SCORE_DIGITS:
        raise RecordError(f"out_of_scale_{field}", f"a {len(digits)}-digit number: {raw[:40]}")
    value = int(digits)
    if sign == "-" and value == 0:
        raise RecordError(f"negative_zero_{field}", raw[:80])
    return -value if sign == "-" else value


def _preview(raw: object) -> str:
    """A short, never-raising description of an unexpected value (str() of a huge int raises)."""
    try:
        return str(raw)[:60]
    except ValueError:
        return type(raw).__name__
