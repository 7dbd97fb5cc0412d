"""``build research-14k-metadata``: accepted papers of the ICLR 2026 corpus snapshot, counts reconciled with the
raw JSON, authors from both API shapes, rows the Research-14K reader accepts, inputs never overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cyclebench.builders.research14k import PaperMeta, read_metadata
from cyclebench.builders.research14k_metadata import MetadataCounts, metadata_rows, venue_name
from cyclebench.cli import main
from cyclebench.sources.openreview import parse_submission

SNAPSHOT = "openreview/iclr2026_v2.jsonl"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openreview"


def test_corpus_snapshot_lists_every_accepted_paper_and_counts_the_rest(corpus, tmp_path, capsys):
    raw = [json.loads(line) for line in open(corpus / SNAPSHOT, encoding="utf-8")]
    tails = [n["content"]["venueid"]["value"].rsplit("/", 1)[-1] for n in raw]
    accepted = [n for n, t in zip(raw, tails) if t == "Conference"]  # venueid "ICLR.cc/2026/Conference"
    out = tmp_path / "meta.jsonl"
    assert main(["build", "research-14k-metadata", "--openreview", str(corpus / SNAPSHOT), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["paperId"] for r in rows] == [n["id"] for n in accepted] and len(rows) == 60
    assert [r["authors"] for r in rows] == [n["content"]["authors"]["value"] for n in accepted]
    assert {(r["venue"], r["year"]) for r in rows} == {("ICLR", 2026)}
    assert summary["notes_in"] == len(raw) == summary["rows"] + sum(summary["skipped"].values())
    assert summary["skipped"] == {"decision_reject": tails.count("Rejected_Submission"),
                                  "decision_withdrawn": tails.count("Withdrawn_Submission"),
                                  "decision_desk_rejected": tails.count("Desk_Rejected_Submission")}
    # The Research-14K reader takes every row, with keywords as the topic.
    metas = [m for _, m in read_metadata(out)]
    assert len(metas) == 60 and all(isinstance(m, PaperMeta) for m in metas)
    assert all(m.topic_source == "metadata:keywords" for m in metas if m.topic)


def test_research14k_build_reads_the_written_metadata(corpus, tmp_path):
    from cyclebench.builders.research14k import Research14KConfig, build

    out = tmp_path / "meta.jsonl"
    main(["build", "research-14k-metadata", "--openreview", str(corpus / SNAPSHOT), "--out", str(out)])
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    papers = tmp_path / "papers"
    papers.mkdir()
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "research14k" / "papers" / "r14-good"
    import shutil

    shutil.copytree(fixture, papers / first["paperId"])
    report = build(out, papers, tmp_path / "r14", Research14KConfig(), workers=1, progress=False)
    counts = report.manifest["counts"]
    assert counts["papers_in"] == 60 and counts["papers_kept"] == 1
    assert counts["papers_rejected"] == {"source_not_found": 59}


def test_authors_are_read_from_both_api_shapes():
    v1 = json.loads((FIXTURES / "iclr2022_v1.jsonl").read_text(encoding="utf-8").splitlines()[0])
    v2 = json.loads((FIXTURES / "iclr2024_v2.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert isinstance(v1["content"]["authors"], list) and isinstance(v2["content"]["authors"], dict)
    assert list(parse_submission(v1).submission.authors) == [a.strip() for a in v1["content"]["authors"]]
    assert list(parse_submission(v2).submission.authors) == [a.strip() for a in v2["content"]["authors"]["value"]]
    v1["content"]["authors"] = [1, "x"]
    with pytest.raises(Exception, match="invalid_authors"):
        parse_submission(v1)


def test_anonymous_authors_unreadable_lines_and_duplicates_are_counted(tmp_path):
    good = json.loads((FIXTURES / "iclr2024_v2.jsonl").read_text(encoding="utf-8").splitlines()[0])
    good["content"]["venueid"] = {"value": "ICLR.cc/2024/Conference"}
    anonymous = json.loads(json.dumps(good)) | {"id": "Anon1234"}
    anonymous["content"]["authors"] = {"value": ["Anonymous"]}
    snap = tmp_path / "s.jsonl"
    snap.write_text("\n".join([json.dumps(good), "{not json", json.dumps(anonymous), json.dumps(good)]) + "\n")
    counts = MetadataCounts()
    rows = list(metadata_rows([snap], ["accept"], counts))
    assert [r["paperId"] for r in rows] == [good["id"], "Anon1234"] and rows[1]["authors"] == []
    assert counts.as_dict() == {"notes_in": 4, "rows": 2, "anonymous_authors": 1,
                                "skipped": {"duplicate_paper_id": 1, "malformed_json": 1}}
    with pytest.raises(ValueError, match="decisions must be among"):
        list(metadata_rows([snap], ["accepted"]))
    assert venue_name("NeurIPS.cc/2023/Conference") == "NeurIPS"


def test_out_refuses_inputs_and_foreign_files(corpus, tmp_path, capsys):
    snap = corpus / SNAPSHOT
    foreign = tmp_path / "notes.txt"
    foreign.write_text("my notes\n")
    assert main(["build", "research-14k-metadata", "--openreview", str(snap), "--out", str(snap)]) == 2
    assert main(["build", "research-14k-metadata", "--openreview", str(snap), "--out", str(foreign), "--overwrite"]) == 2
    assert foreign.read_text() == "my notes\n"
    out = tmp_path / "meta.jsonl"
    assert main(["build", "research-14k-metadata", "--openreview", str(snap), "--out", str(out)]) == 0
    assert main(["build", "research-14k-metadata", "--openreview", str(snap), "--out", str(out)]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert main(["build", "research-14k-metadata", "--openreview", str(snap), "--out", str(out), "--overwrite",
                 "--decisions", "accept", "reject"]) == 0
    assert len(out.read_text().splitlines()) == 60 + 145
