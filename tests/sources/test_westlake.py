"""Readers for the original WestlakeNLP files and the deepreview-13k task on them (files written here)."""

from __future__ import annotations

import csv
import json

import pytest

from cyclebench.plots import bars, scatter
from cyclebench.sources.westlake import iter_research14k, paper_text_from_messages, rating_values, read_ratings
from cyclebench.tasks import get_task

from tests.conftest import FIXTURES

PAPER = "# A Paper\n\n## Abstract\nWe study things.\n\n## 1 Introduction\nText."


def _deepreview_rows(prefix: str, n: int, modes: int = 1):
    rows = []
    for i in range(n):
        for mode in range(modes):
            rows.append({
                "id": f"{prefix}{i}", "title": f"Paper {i}", "decision": "Accept" if i % 2 else "Reject",
                "rating": json.dumps(["6: marginally above the acceptance threshold", "8: accept, good paper",
                                      "10: strong accept"][: 1 + i % 3]),
                "reviewer_comments": "[]",
                "inputs": json.dumps([{"role": "system", "content": f"mode {mode}"}, {"role": "user", "content": PAPER}]),
                "outputs": json.dumps([{"role": "assistant", "content": "\\boxed_review{...}"}]),
            })
    return rows


def _write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def deepreview_folder(tmp_path):
    _write_csv(tmp_path / "train.csv", _deepreview_rows("t", 6, modes=3))
    _write_csv(tmp_path / "test_2024.csv", _deepreview_rows("a", 4) + [{**_deepreview_rows("x", 1)[0], "rating": "[]"}])
    _write_csv(tmp_path / "test_2025.csv", _deepreview_rows("b", 3))
    return tmp_path


def test_deepreview_splits_kept_apart(deepreview_folder):
    task = get_task("deepreview-13k")
    test24 = task.load(str(deepreview_folder), "test_2024")
    test25 = task.load(str(deepreview_folder), "test_2025")
    assert [e.paper_id for e in test24.examples] == ["a0", "a1", "a2", "a3"]
    assert test24.skipped == {"no_ratings": 1}
    assert [e.paper_id for e in test25.examples] == ["b0", "b1", "b2"]
    assert test24.fingerprint != test25.fingerprint
    example = test24.examples[2]
    assert example.ratings == (6.0, 8.0, 10.0)  # "10: strong accept" is 10
    assert example.paper_text == PAPER and example.accepted is False


def test_deepreview_train_keeps_each_paper_once(deepreview_folder):
    train = get_task("deepreview-13k").load(str(deepreview_folder), "train")
    assert len(train.examples) == 6
    assert train.skipped == {"repeated_mode_row": 12}


def test_deepreview_missing_split_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="test_2025"):
        get_task("deepreview-13k").load(str(tmp_path), "test_2025")


def test_baseline_runs_on_deepreview_files(deepreview_folder, tmp_path_factory):
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

    results = run_review_evaluation(
        ReviewRunConfig(task="deepreview-13k", data=str(deepreview_folder), protocol="deepreviewer",
                        protocol_options={"mode": "fast"}, backend="baseline-constant", n_resamples=100),
        tmp_path_factory.mktemp("runs") / "run", progress=False)  # not inside the data folder (issue 11)
    assert results["task"]["split"] == "test_2024"
    assert results["counts"]["n_evaluated"] == 4


def test_rating_values_and_messages():
    assert rating_values('["6: marginally above", "10: strong accept"]') == (6.0, 10.0)
    assert rating_values([3, "5"]) == (3.0, 5.0)
    assert rating_values("") == ()
    assert paper_text_from_messages('[{"role": "user", "content": "x"}, {"role": "user", "content": "paper"}]') == "paper"
    assert paper_text_from_messages("not json") == "not json"
    assert paper_text_from_messages([{"role": "system", "content": "s"}]) is None


def test_research14k_reader(tmp_path):
    rows = [{"paperId": "p1", "title": "T", "abstract": "A", "venue": "ICLR", "year": "2024", "references": "[]",
             "arxiv": "2401.00001", "sections": json.dumps([{"heading": "Intro", "text": "x"}]), "figure": "[]",
             "messages": json.dumps([{"role": "system", "content": "s"}, {"role": "user", "content": "refs"}])}]
    _write_csv(tmp_path / "train.csv", rows)
    out = list(iter_research14k(tmp_path / "train.csv"))
    assert out[0]["messages"][1]["content"] == "refs" and out[0]["sections"][0]["heading"] == "Intro"
    _write_csv(tmp_path / "bad.csv", [{"id": "x"}])
    with pytest.raises(ValueError, match="Research-14K"):
        list(iter_research14k(tmp_path / "bad.csv"))


def test_svg_labels_are_escaped():
    svg = bars(["<script>alert(1)</script>"], [0.5], [0.4], [0.6], title="a & b", ylabel="MAE")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a &amp; b" in svg
    assert scatter([(5, 6)], title="t", xlabel="x", ylabel="y").startswith("<svg")


# --- The original files' shapes (issue 13): rating cells as the published files and their copies write them.

SAMPLE = FIXTURES / "westlake" / "deepreview_sample.json"


def test_sample_json_records_are_read():
    """tests/fixtures/westlake/deepreview_sample.json: three records in the published columns whose ``rating``
    cells are a pandas-written Python list, raw API v2 ``{"value": n}`` entries and a tuple literal (the
    reader of issue 12 loaded 0 of 3, every row ``no_ratings``)."""
    loaded = get_task("deepreview-13k").load(str(SAMPLE), "test_2024")
    assert [(e.paper_id, e.ratings, e.accepted) for e in loaded.examples] == [
        ("aB3dE5fG7h", (6.0, 8.0, 5.0), True), ("Kx9_Lm2Np4", (3.0, 5.0, 3.0), False),
        ("-Qw8Er7Ty6", (8.0, 10.0), True)]
    assert loaded.skipped == {}
    assert loaded.fingerprint.startswith("sha256:") and loaded.source["path"] == str(SAMPLE)


@pytest.mark.parametrize(("cell", "want"), [
    ('["6: marginally above the acceptance threshold", "10: strong accept"]', ((6.0, 10.0), None)),
    ("['5: marginally below the acceptance threshold', '3: reject, not good enough']", ((5.0, 3.0), None)),
    ([{"value": 6}, {"value": "8: accept, good paper"}], ((6.0, 8.0), None)),
    ([6, 8.0], ((6.0, 8.0), None)),
    ("6: marginally above the acceptance threshold", ((6.0,), None)),
    ("[]", ((), "no_ratings")), ("", ((), "no_ratings")), (None, ((), "no_ratings")),
    ('["6: marginally above", "N/A"]', ((), "unreadable_rating")),
    ([{"score": 6}], ((), "unreadable_rating")), ([True], ((), "unreadable_rating")),
    ("[6, 'x'", ((), "unreadable_rating")),
])
def test_rating_cells(cell, want):
    assert read_ratings(cell) == want


def test_nothing_usable_names_the_reasons(tmp_path):
    rows = _deepreview_rows("a", 3)
    rows[0]["rating"] = "[]"
    rows[1]["rating"] = '["N/A"]'
    rows[2]["inputs"] = "[]"
    _write_csv(tmp_path / "test_2024.csv", rows)
    with pytest.raises(ValueError) as info:
        get_task("deepreview-13k").load(str(tmp_path), "test_2024")
    message = str(info.value)
    assert "none of 3 DeepReview-13K rows is usable" in message
    assert "no_ratings 1" in message and "unreadable_rating 1" in message and "no_paper_text 1" in message
    assert "JSON list of the human rating strings" in message


def test_counts_reconcile_on_mixed_rows(tmp_path):
    rows = _deepreview_rows("a", 4) + [{**_deepreview_rows("x", 1)[0], "rating": '["N/A"]'},
                                        {**_deepreview_rows("y", 1)[0], "id": ""}]
    path = tmp_path / "test_2024.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + json.dumps(["not", "a", "record"]) + "\n")
    loaded = get_task("deepreview-13k").load(str(tmp_path), "test_2024")
    assert loaded.skipped == {"unreadable_rating": 1, "missing_id": 1, "not_a_record": 1}
    assert len(loaded.examples) + sum(loaded.skipped.values()) == len(rows) + 1


def test_baseline_runs_on_one_original_file(tmp_path_factory):
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

    results = run_review_evaluation(
        ReviewRunConfig(task="deepreview-13k", data=str(SAMPLE), split="test_2024", protocol="deepreviewer",
                        protocol_options={"mode": "fast"}, backend="fake", n_resamples=0),
        tmp_path_factory.mktemp("runs") / "run", progress=False)
    assert results["counts"]["n_papers"] == 3 and results["task"]["n_examples"] == 3
    assert results["task"]["source"]["format"] == "WestlakeNLP original (one file)"
