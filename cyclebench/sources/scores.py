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
)
# Fallback when a venue/year is not in the table: a plausible range, named as assumed.
UNKNOWN_RATING_SCALE = "0-10?"
UNKNOWN_CONFIDENCE_SCALE = "1-5?"

_LEADING_INT = re.compile(r"^\s*\**\s*([+-]?\d+(?:\.\d+)?)\s*\**\s*(?:[:.)\-\u2013/]|\s|$)")


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
    """Read one form score. Raises ``RecordError`` with a countable reason when it cannot be read."""
    if isinstance(raw, bool) or raw is None:
        raise RecordError(f"missing_{field}", repr(raw))
    if isinstance(raw, int):
        value, text = raw, str(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw) or raw != int(raw):
            raise RecordError(f"non_integer_{field}", repr(raw))
        value, text = int(raw), repr(raw)
    elif isinstance(raw, str):
        text = raw
        match = _LEADING_INT.match(raw)
        if not match:
            raise RecordError(f"unparseable_{field}", raw[:80])
        number = float(match.group(1))
        if number != int(number):
            raise RecordError(f"non_integer_{field}", raw[:80])
        value = int(number)
    else:
        raise RecordError(f"unparseable_{field}", f"{type(raw).__name__}: {str(raw)[:60]}")
    if not scale_allows(scale, value):
        raise RecordError(f"out_of_scale_{field}", f"{value} not on scale {scale}")
    return Score(value=value, raw=text, scale=scale)
