"""Red-team cases for form score strings and the original WestlakeNLP cells: every odd answer is a value or a
counted reason, never an exception."""

from __future__ import annotations

import pytest

from cyclebench.records import RecordError
from cyclebench.sources.scores import parse_optional_score, parse_score
from cyclebench.sources.westlake import (
    deepreview_example,
    paper_text_from_messages,
    read_ratings,
)

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("raw,value", [("8: accept, good paper", 8), ("10 - strong accept", 10), ("+8", 8),
                                       ("**6**: marginally above", 6), ("8/10", 8), (8, 8), (8.0, 8)])
def test_other_forms_rating_strings_read(raw, value):
    assert parse_score(raw, "1-10", "rating").value == value


@pytest.mark.parametrize("raw", ["\u0661\u0660: accept", "\uff18: accept", "6.5", "N/A", "-", "", " ", "eight",
                                 "1e1", "0x8", ["8"], {"value": {"value": 8}}, None, True, float("nan"), 10**400])
def test_unreadable_rating_is_a_reasoned_reject(raw):
    with pytest.raises(RecordError) as caught:
        parse_score(raw, "1-10", "rating")
    assert caught.value.reason.endswith("_rating")


@pytest.mark.parametrize("raw,reason", [("Not applicable", "not_applicable_soundness"), ("N/A", "not_applicable_soundness"),
                                        ("-", "not_applicable_soundness"), ("", "unparseable_soundness"),
                                        ({"value": {"value": 3}}, "unparseable_soundness"),
                                        ("\uff13 good", "unparseable_soundness"), (None, "missing_soundness")])
def test_optional_aspect_is_null_with_its_reason_and_raw_kept(raw, reason):
    score, why = parse_optional_score(raw, "1-4", "soundness")
    assert score.value is None and why == reason and score.raw is not None


@pytest.mark.parametrize("cell", [DEEP, "[1e400]", "['6: a', 'N/A']", {"value": {"value": 8}}, [None], "x" * 1_000_000])
def test_westlake_rating_cells_that_do_not_read_are_reasoned(cell):
    assert read_ratings(cell) == ((), "unreadable_rating")


def test_westlake_messages_nested_too_deep_are_text_not_a_crash():
    assert paper_text_from_messages(DEEP) == DEEP  # JSON too deep to decode stays the string it is
    example, why = deepreview_example({"id": "p1", "rating": DEEP, "inputs": DEEP})
    assert example is None and why == "unreadable_rating"


def test_original_research14k_row_with_json_nested_too_deep_passes_as_text():
    from cyclebench.generation import original_row

    row = original_row({"paperId": "p", "title": "T", "messages": DEEP, "sections": "not json {"})
    assert row["messages"] == DEEP and row["sections"] == "not json {"
