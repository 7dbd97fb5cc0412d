"""The DeepReview-13K builder on the real ICLR 2026 corpus (+ the 2024/2025 fixtures): accounting, splits,
the round trip of every output through the deepreviewer protocol, determinism across workers, reasoned skips."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from cyclebench.builders import deepreview13k
from cyclebench.builders.base import EmptyBuildError
from cyclebench.builders.deepreview13k import DeepReview13KConfig
from cyclebench.protocols import get_protocol
from cyclebench.sources.openreview import iter_raw_notes, parse_submission

from tests.conftest import FIXTURES
from .test_deepreview13k_chain import comment, note, review, write_jsonl

FIXTURE_YEARS = [FIXTURES / "openreview" / "iclr2024_v2.jsonl", FIXTURES / "openreview" / "iclr2025_v2.jsonl"]


def _inputs(corpus: Path) -> list[Path]:
    return [corpus / "openreview" / "iclr2026_v2.jsonl", *FIXTURE_YEARS]


def _build(inputs, out, workers=1, papers=None, **config):
    cfg = DeepReview13KConfig(**{"require_text": papers is not None, **config})
    return deepreview13k.build(inputs, papers, out, cfg, workers=workers, progress=False)


def _rows(out: Path) -> list[dict]:
    return [row for path in sorted((out / "data").glob("*.parquet")) for row in pq.read_table(path).to_pylist()]


@pytest.fixture(scope="module")
def built(deepreview13k_corpus_build):
    """``_build(_inputs(corpus), out, workers=1, max_rows_per_shard=100)``, made once per session (conftest)."""
    return deepreview13k_corpus_build


def test_counts_reconcile_and_splits_are_named_by_year(built):
    counts = built.manifest["counts"]
    # 300 corpus papers (95 withdrawn/desk-rejected) + 11 fixture papers.
    assert counts["papers_in"] == 311
    assert counts["papers_kept"] + sum(counts["papers_rejected"].values()) == 311
    assert counts["papers_rejected"]["withdrawn"] == 79 + 1 and counts["papers_rejected"]["desk_rejected"] == 16 + 1
    assert counts["papers_rejected"]["undecided"] == 1 and counts["papers_rejected"]["no_reviews"] == 1
    assert counts["reviews_rejected"] == {"missing_rating": 2}
    assert counts["reviews_kept"] + sum(counts["reviews_rejected"].values()) + counts["reviews_dropped_with_paper"] == counts["reviews_in"]
    # The few 2024/2025 fixture papers all hash into train at 10%: a year without test papers gets no
    # empty split (datasets could not load the folder), and the manifest says so.
    assert list(counts["splits"]["rows"]) == ["train", "test_2026"]
    assert counts["empty_splits_omitted"] == ["test_2024", "test_2025"]
    assert sum(counts["splits"]["rows"].values()) == 3 * counts["papers_kept"]
    assert counts["text_sources"] == {"title+abstract": counts["papers_kept"]}
    rejects = [json.loads(line) for line in (built.out / "rejects.jsonl").read_text().splitlines()]
    assert len([r for r in rejects if r["stage"] == "paper"]) == sum(counts["papers_rejected"].values())
    assert all(r["reason"] for r in rejects)
    card = (built.out / "README.md").read_text()
    assert "test_2026" in card and "from-reviews-v1" in card and "heuristic" in card


def _truth(inputs: list[Path]) -> dict[str, dict]:
    """Human means and the real decision per paper, read with the foundation parser and the raw venueid."""
    truth = {}
    for path in inputs:
        for raw in iter_raw_notes(path):
            sub = parse_submission(raw.note).submission
            venueid = raw.note["content"]["venueid"]["value"] if "venueid" in raw.note["content"] else ""
            reviews = [r for r in sub.reviews if any(v.strip() for k, v in r.texts.items() if k != "title")]
            scores = {}
            for name in ("rating", "soundness", "presentation", "contribution", "confidence"):
                values = [getattr(r, name).value for r in reviews if getattr(r, name) is not None]
                scores[name] = sum(values) / len(values) if values else None
            truth[sub.id] = {"scores": scores, "accepted": venueid == sub.venue_id or sub.decision.label == "accept",
                             "ratings": [r.rating.value for r in reviews], "title": sub.title, "abstract": sub.abstract}
    return truth


def test_every_output_round_trips_to_the_human_scores_and_decision(built, corpus):
    truth = _truth(_inputs(corpus))
    rows = _rows(built.out)
    assert len(rows) == 3 * built.manifest["counts"]["papers_kept"]
    for row in rows:
        t = truth[row["id"]]
        protocol = get_protocol("deepreviewer", mode=row["mode"], reviewers=row["num_reviews"])
        # inputs are exactly what the protocol builds from the paper (here title + abstract).
        assert row["inputs"] == protocol.build_messages(f"# {t['title']}\n\n## Abstract\n\n{t['abstract']}", t["title"])
        parsed = protocol.parse(row["outputs"])
        assert parsed.status == "ok", (row["id"], parsed.problems)
        assert parsed.problems == ()
        for name, mean in t["scores"].items():
            got = getattr(parsed, name)
            if mean is None:
                assert got is None
            else:  # the writer renders floats exactly; the builder rounds means to 2 decimals
                assert got == round(mean, 2) and abs(got - mean) <= 0.005, (row["id"], name)
        assert parsed.decision == ("accept" if t["accepted"] else "reject")
        assert row["decision"] == parsed.decision.capitalize()
        assert row["rating_mean"] == pytest.approx(t["scores"]["rating"])
        if row["mode"] == "fast":
            assert parsed.reviewers == ()
        else:
            assert [r.rating for r in parsed.reviewers] == [float(v) for v in t["ratings"]]
            assert parsed.sections["verification"].count("**Conclusion:**") >= 1
        assert ("search_questions" in parsed.sections and "analysis" in parsed.sections) == (row["mode"] == "best")


def test_each_year_built_gets_its_test_split(tmp_path):
    report = _build(FIXTURE_YEARS, tmp_path / "out", test_fraction=0.9)
    assert list(report.manifest["counts"]["splits"]["papers"]) == ["train", "test_2024", "test_2025"]
    assert {r["year"] for r in _rows(report.out) if r["id"] in {"uR7tYp4Ks1", "8kQpW3zXn1"}} == {2024, 2025}


def test_model_chain_in_the_build_counts_its_failures(tmp_path):
    from cyclebench.builders.reasoning_chain import ChainByModel
    from cyclebench.backends import build_backend

    from .test_deepreview13k_chain import _model_answer

    # 2025 fixture papers kept: 8kQpW3zXn1 (3 reviews), _yU3iO9pA2 (4), mT6yHv2Lq9 (3).
    answers = write_jsonl(tmp_path / "answers.jsonl", [
        {"request_id": "8kQpW3zXn1", "text": _model_answer(3)},
        {"request_id": "_yU3iO9pA2", "text": _model_answer(4)},
        {"request_id": "mT6yHv2Lq9", "text": _model_answer(2)},  # one reviewer short
    ])
    chain = ChainByModel(build_backend("fake", {"responses": str(answers)}))
    report = deepreview13k.build(FIXTURE_YEARS[1], None, tmp_path / "out", DeepReview13KConfig(require_text=False),
                                 chain=chain, workers=2, model_batch_size=2, progress=False)
    counts = report.manifest["counts"]
    assert counts["papers_kept"] == 2 and counts["papers_rejected"]["chain_model_unparseable"] == 1
    assert report.manifest["chain"]["method"] == "model:fake"
    rows = _rows(report.out)
    assert {r["chain_method"] for r in rows} == {"model:fake"} and len(rows) == 6
    best = next(r for r in rows if r["id"] == "_yU3iO9pA2" and r["mode"] == "best")
    parsed = get_protocol("deepreviewer", mode="best", reviewers=4).parse(best["outputs"])
    assert parsed.reviewers[0].summary == "Rewritten summary 1." and parsed.decision == "accept"


def test_published_columns_and_scale(built):
    rows = _rows(built.out)
    first = rows[0]
    assert list(first)[:7] == ["id", "title", "decision", "rating", "reviewer_comments", "inputs", "outputs"]
    by_year = {r["year"]: r for r in rows}
    assert by_year[2026]["rating_scale"] == "0/2/4/6/8/10"
    assert json.loads(by_year[2024]["rating"])[0].split(":")[0].isdigit()  # "6: marginally above ..." strings
    assert all(r["chain_method"] == "from-reviews-v1" for r in rows)
    assert {r["mode"] for r in rows} == {"fast", "standard", "best"}
    zero = [r for r in rows if r["year"] == 2026 and "0" in json.loads(r["rating"])]
    assert zero, "ICLR 2026 ratings of 0 are valid and kept"


def test_one_and_two_workers_give_byte_identical_shards(built, corpus, tmp_path):
    two = _build(_inputs(corpus), tmp_path / "two", workers=2, max_rows_per_shard=100)
    shards = sorted(built.manifest["shards"])
    assert shards == sorted(two.manifest["shards"]) and len(shards) > 4
    for rel in shards:
        assert (built.out / rel).read_bytes() == (two.out / rel).read_bytes(), rel
    assert (built.out / "rejects.jsonl").read_bytes() == (two.out / "rejects.jsonl").read_bytes()
    assert built.manifest["counts"] == two.manifest["counts"]


def test_build_reads_back_through_the_task_reader_and_datasets(built):
    from datasets import load_dataset

    from cyclebench.sources.westlake import read_deepreview_split

    papers = built.manifest["counts"]["splits"]["papers"]
    examples, skipped, _source = read_deepreview_split(str(built.out), "test_2026")
    assert len(examples) == papers["test_2026"] and skipped.get("repeated_mode_row") == 2 * papers["test_2026"]
    ds = load_dataset(str(built.out))
    assert set(ds) == {"train", "test_2026"}
    assert ds["train"].num_rows == built.manifest["counts"]["splits"]["rows"]["train"]


def test_reasoned_skips_for_bad_papers_and_reviews(tmp_path):
    def good(p, n, **kw):
        return [review(p, n, f"{p}a", "aaaa", 6, **kw), review(p, n, f"{p}b", "bbbb", 3)]

    notes = [
        note("A1emptyrev", 1, [*good("A1emptyrev", 1), review("A1emptyrev", 1, "A1c", "cccc", 8, texts={})]),
        note("B2allempty", 2, [review("B2allempty", 2, "B2a", "aaaa", 5, texts={"summary": "   "})]),
        note("C3noreplys", 3, []),
        note("D4undecide", 4, good("D4undecide", 4), decision="undecided"),
        note("E5withdraw", 5, good("E5withdraw", 5), decision="withdrawn"),
        note("F6onlyone1", 6, [review("F6onlyone1", 6, "F6a", "aaaa", 6),
                               {**review("F6onlyone1", 6, "F6b", "bbbb", 6), "content": {"summary": {"value": "no rating"}}}]),
        note("G7reject01", 7, good("G7reject01", 7) + [comment("G7reject01", 7, "G7c", "G7reject01a")], decision="reject"),
    ]
    path = write_jsonl(tmp_path / "raw.jsonl", notes)
    with open(path, "a") as handle:
        handle.write("{not json\n")
        handle.write(orjson.dumps(notes[0]).decode() + "\n")  # the same paper twice
        handle.write(orjson.dumps(notes[4]).decode() + "\n")  # a rejected paper twice
    report = _build(path, tmp_path / "out")
    counts = report.manifest["counts"]
    assert counts["papers_rejected"] == {
        "duplicate_paper_id": 2, "malformed_json": 1, "no_reviews": 2, "too_few_reviews": 1, "undecided": 1, "withdrawn": 1,
    }
    # Empty reviews: A1c, B2a and A1c again in the duplicate copy (review-level verdicts of a copy stay).
    assert counts["reviews_rejected"] == {"empty_review": 3, "missing_rating": 1}
    assert counts["reviews_in"] == 12 + 3 + 2  # the duplicates' reviews come in and leave with them
    assert counts["reviews_kept"] + 4 + counts["reviews_dropped_with_paper"] == 17
    assert counts["papers_kept"] == 2
    rejects = [json.loads(line) for line in (report.out / "rejects.jsonl").read_text().splitlines()]
    by_record = {(r["record_id"], r["reason"]) for r in rejects}
    assert ("A1c", "empty_review") in by_record and ("B2allempty", "no_reviews") in by_record
    assert ("C3noreplys", "no_reviews") in by_record and ("F6onlyone1", "too_few_reviews") in by_record
    kept = {r["id"]: r for r in _rows(report.out) if r["mode"] == "standard"}
    assert set(kept) == {"A1emptyrev", "G7reject01"} and kept["A1emptyrev"]["num_reviews"] == 2
    assert kept["G7reject01"]["decision"] == "Reject"
    assert "their first reply" in kept["G7reject01"]["outputs"]

    as_reject = _build(path, tmp_path / "keep", withdrawn="as_reject")
    rows = {r["id"]: r for r in _rows(as_reject.out)}
    assert rows["E5withdraw"]["decision"] == "Reject" and rows["E5withdraw"]["decision_raw"].endswith("Withdrawn_Submission")


def test_paper_texts_from_a_folder(tmp_path):
    from cyclebench.cli.build import sample_dir

    sample = sample_dir()
    report = _build(sample / "openreview.jsonl", tmp_path / "out", papers=sample / "papers")
    counts = report.manifest["counts"]
    assert counts["text_sources"] == {"markdown": counts["papers_kept"]} and counts["papers_kept"] > 20
    assert len(report.manifest["inputs"]["paper_texts"]) == counts["papers_kept"]
    row = _rows(report.out)[0]
    text = (sample / "papers" / f"{row['id']}.md").read_text()
    assert row["text_source"] == "markdown" and len(row["inputs"][1]["content"]) > 0.5 * len(text)
    missing = tmp_path / "empty_papers"
    missing.mkdir()
    with pytest.raises(EmptyBuildError, match="no paper kept") as info:  # an empty build fails, writing nothing
        _build(sample / "openreview.jsonl", tmp_path / "none", papers=missing)
    assert info.value.counts["papers_kept"] == 0 and not (tmp_path / "none").exists()
    assert info.value.counts["papers_rejected"]["no_paper_text"] == counts["papers_kept"]


def test_output_is_atomic_and_needs_overwrite(corpus, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = deepreview13k.paper_rows
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 50:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(deepreview13k, "paper_rows", failing)
    with pytest.raises(KeyboardInterrupt):
        _build(FIXTURE_YEARS + [corpus / "openreview" / "iclr2026_v2.jsonl"], out)
    assert os.listdir(tmp_path) == []
    monkeypatch.setattr(deepreview13k, "paper_rows", real)
    _build(FIXTURE_YEARS, out)
    with pytest.raises(FileExistsError):
        _build(FIXTURE_YEARS, out)


def test_config_and_input_errors_are_clear(tmp_path):
    with pytest.raises(ValueError):
        DeepReview13KConfig(modes=("fast", "slow"))
    with pytest.raises(ValueError):
        DeepReview13KConfig(min_reviews=0)
    with pytest.raises(ValueError, match="papers"):
        deepreview13k.build(FIXTURE_YEARS, None, tmp_path / "o", DeepReview13KConfig())
    with pytest.raises(FileNotFoundError):
        deepreview13k.build(tmp_path / "missing.jsonl", None, tmp_path / "o", DeepReview13KConfig(require_text=False))


def test_cli_builds_with_workers_and_selected_years(tmp_path, capsys):
    from cyclebench.cli.build_deepreview13k import (
        add_deepreview13k_arguments,
        run_deepreview13k,
    )

    parser = argparse.ArgumentParser()
    add_deepreview13k_arguments(parser.add_subparsers(dest="dataset"))
    args = parser.parse_args(["deepreview-13k", "--openreview", *map(str, FIXTURE_YEARS), "--out", str(tmp_path / "o"),
                              "--allow-missing-text", "--workers", "1", "--years", "2025", "--modes", "fast", "best",
                              "--test-fraction", "0.9"])
    assert run_deepreview13k(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert list(summary["splits"]) == ["train", "test_2025"] and summary["splits"]["test_2025"] >= 2
    assert summary["papers_rejected"]["year_not_selected"] == 5
    assert {r["mode"] for r in _rows(tmp_path / "o")} == {"fast", "best"}
    bad = parser.parse_args(["deepreview-13k", "--openreview", str(FIXTURE_YEARS[0]), "--out", str(tmp_path / "m"),
                             "--allow-missing-text", "--chain", "model"])
    with pytest.raises(ValueError, match="chain-backend"):
        run_deepreview13k(bad)
