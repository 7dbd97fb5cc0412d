"""The embedded sample end to end: texts attached, SFT targets that the CycleReviewer parser reads back."""

from __future__ import annotations

import json

import pytest

from cyclebench.builders import review5k
from cyclebench.builders.review5k import Review5KConfig
from cyclebench.cli.build import sample_dir
from cyclebench.protocols import get_protocol


def test_sample_counts_reconcile(review5k_sample_build):
    counts = json.loads((review5k_sample_build / "manifest.json").read_text())["counts"]
    assert counts["papers_in"] == 40
    assert counts["papers_rejected"] == {"desk_rejected": 1, "withdrawn": 3}
    assert counts["papers_kept"] == 36
    assert counts["reviews_rejected"] == {"missing_rating": 1}
    assert counts["review_versions_superseded"] == 4
    assert counts["text_sources"] == {"markdown": 36}
    assert counts["splits"]["sft"] == counts["splits"]["default"]


def test_sample_texts_are_cleaned(review5k_sample_build):
    from datasets import load_dataset

    rows = load_dataset(str(review5k_sample_build), split="train").to_list()
    for row in rows:
        assert row["text_cleaning"] == "clean-v1"
        assert "Under review as a conference paper" not in row["paper_text"]
        assert "## References" not in row["paper_text"]
        assert len(row["text_sha256"]) == 64


def test_sft_targets_round_trip(review5k_sample_build):
    from datasets import load_dataset

    protocol = get_protocol("cyclereviewer")
    papers = {r["id"]: r for split in ("train", "test") for r in load_dataset(str(review5k_sample_build), split=split).to_list()}
    sft = [r for split in ("train", "test") for r in load_dataset(str(review5k_sample_build), "sft", split=split).to_list()]
    assert len(sft) == len(papers)
    for row in sft:
        roles = [m["role"] for m in row["messages"]]
        assert roles[-1] == "assistant" and "user" in roles
        parsed = protocol.parse(row["messages"][-1]["content"])
        paper = papers[row["id"]]
        human = [r["rating"] for r in paper["reviews"]]
        assert parsed.rating == pytest.approx(sum(human) / len(human))
        assert parsed.decision == ("accept" if paper["decision"] == "Accept" else "reject")
        assert row["decision"] == paper["decision"]
        assert len(parsed.reviewers) == len(human)


def test_sample_ships_inside_the_package():
    assert (sample_dir() / "openreview.jsonl").is_file()
    assert len(list((sample_dir() / "papers").glob("*.md"))) == 40


def test_corpus_texts_attach_by_id(corpus, tmp_path):
    """Real paper texts (the corpus markdown) attached to real ICLR 2026 notes through a papers folder."""
    papers = tmp_path / "papers"
    papers.mkdir()
    texts = sorted((corpus / "papers" / "markdown" / "iclr2022").glob("*.txt"))[:20]
    ids = [json.loads(line)["id"] for line in (corpus / "openreview" / "iclr2026_v2.jsonl").read_text().splitlines()]
    for paper_id, text in zip(ids, texts):
        # copied, not linked: a link out of the papers folder is an ``outside_input`` reject (issue 11)
        (papers / f"{paper_id}.txt").write_bytes(text.read_bytes())
    report = review5k.build(corpus / "openreview" / "iclr2026_v2.jsonl", papers, tmp_path / "out",
                            Review5KConfig(), progress=False)
    counts = report.manifest["counts"]
    assert counts["papers_in"] == 300
    assert counts["papers_kept"] + sum(counts["papers_rejected"].values()) == 300
    assert 0 < counts["papers_kept"] <= 20
    assert counts["papers_kept"] + counts["papers_rejected"]["no_paper_text"] == 205
    assert counts["text_sources"] == {"text": counts["papers_kept"]}
    assert len(report.manifest["inputs"]["paper_texts"]) == counts["papers_kept"]
