"""A split whose every row is skipped: the error names each reason with its count and what it means."""

from __future__ import annotations

import json

import pytest

from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation


def test_no_examples_message_names_the_skip_reasons(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"id": "p1", "title": "A", "reviews": [{"rating": 6}]},
            {"id": "p2", "title": "B", "reviews": [{"rating": 4}]},
            {"id": "p3", "title": "C", "paper_text": "# C\n\ntext", "reviews": []}]
    (data / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = ReviewRunConfig(task="review-5k", data=str(data), protocol="cyclereviewer", backend="baseline-constant",
                             split="test")
    with pytest.raises(ValueError, match="has no examples") as info:
        run_review_evaluation(config, tmp_path / "run", progress=False)
    message = str(info.value)
    assert "no_paper_text 2" in message and "no_ratings 1" in message
    assert "abstract_fallback=true" in message and "--papers" in message  # the message says the fix


def test_no_fix_hint_when_no_row_lacked_a_text(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"id": "p3", "title": "C", "paper_text": "# C\n\ntext", "reviews": []}]
    (data / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = ReviewRunConfig(task="review-5k", data=str(data), protocol="cyclereviewer", backend="baseline-constant",
                             split="test")
    with pytest.raises(ValueError, match="has no examples") as info:
        run_review_evaluation(config, tmp_path / "run", progress=False)
    assert "abstract_fallback" not in str(info.value)
