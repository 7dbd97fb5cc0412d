"""Research-14K on the real corpus: the ICLR 2021 LaTeX paper, markdown and PDF fallbacks, broken copies."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from cyclebench.builders.research14k import Research14KConfig, build

from cyclebench.protocols.cycleresearcher import parse_training_messages

from .conftest import RESEARCH14K_MARKDOWN as MARKDOWN
from .conftest import (
    RESEARCH14K_PDFS as PDFS,  # the two quickest of the five to extract
)
from .test_research14k import read_rows


def _meta(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def corpus_build(research14k_corpus_build):
    """The LaTeX paper, ``MARKDOWN`` and ``PDFS`` built once per session (``tests/builders/conftest.py``)."""
    return research14k_corpus_build, read_rows(research14k_corpus_build.out)


def test_latex_paper_becomes_sections_and_messages(corpus_build):
    report, rows = corpus_build
    assert report.manifest["counts"]["papers_kept"] == 6 and report.manifest["counts"]["papers_rejected"] == {}
    row = rows["iclr2021_calibration"]
    assert row["title"] == "Calibration tests beyond classification" and row["text_source"] == "latex"
    body = [(s["number"], s["heading"]) for s in row["sections"] if not s["appendix"] and s["level"] == 1]
    assert body == [("1", "Introduction"), ("2", "Calibration error: A general framework"), ("3", "Kernel calibration error"),
                    ("4", "Alternative approaches"), ("5", "Experiments"), ("6", "Conclusion")]
    assert sum(s["appendix"] for s in row["sections"]) == 20
    assert len(row["figure"]) == 12 and row["figure"][0]["label"] == "fig:ols_motivation"
    assert (row["references_cited"], row["references_in_bib"]) == (68, 68)
    assert {i["source"]: i["count"] for i in row["references_abstract_sources"]} == {"key": 1}
    assert "@inproceedings{Guo2017," in row["references"] and "Confidence calibration is important" in row["references"]
    assert {"acknowledgements", "bibliography", "appendix_flagged"} <= set(row["notes"])
    paper = parse_training_messages(row["messages"], row["paperId"])
    assert paper.status == "ok", paper.problems
    assert paper.latex_body.startswith("\\section{Introduction}")
    assert paper.experiments_latex.startswith("\\section{Experiments}") and "\\section{Conclusion}" in paper.experiments_latex
    assert [s.name for s in paper.setup] == ["Empirical properties and computational efficiency", "Friedman 1 regression problem"]
    assert [r.name for r in paper.results] == ["Figure 2", "Figure 3"]
    assert row["_split"] == "train"


def test_markdown_and_pdf_fallbacks(corpus_build):
    report, rows = corpus_build
    assert report.manifest["counts"]["text_sources"] == {"latex": 1, "pdf:pymupdf-layout": 2, "text": 3}  # issue 16: fast PDF default
    for pid in MARKDOWN + PDFS:
        row = rows[pid]
        headings = [s["heading"].lower() for s in row["sections"] if s["level"] == 1]
        assert "introduction" in headings[0] and len(headings) >= 4, (pid, headings)
        assert row["references_source"] == "text-list" and row["references_cited"] >= 20
        paper = parse_training_messages(row["messages"], pid)
        assert paper.title and paper.abstract and paper.latex_body and paper.experiments_latex, (pid, paper.problems)
    assert {pid for pid, r in rows.items() if r["_split"] == "test"} == set(PDFS)  # 2025, the latest year


def test_broken_copies_of_the_latex_paper_are_reasoned_skips(corpus, tmp_path):
    src = corpus / "papers" / "latex" / "iclr2021_calibration"
    papers = tmp_path / "papers"
    (papers / "nobib").mkdir(parents=True)
    shutil.copy(src / "main.tex", papers / "nobib" / "main.tex")  # the .bib left out
    text = (src / "main.tex").read_text()
    (papers / "truncated").mkdir()
    (papers / "truncated" / "main.tex").write_text(text[: len(text) * 3 // 5])
    shutil.copy(src / "references.bib", papers / "truncated" / "references.bib")
    (papers / "unbalanced").mkdir()
    (papers / "unbalanced" / "main.tex").write_text(text.replace("\\section{Conclusion}", "\\section{Conclusion}\\textbf{"))
    shutil.copy(src / "references.bib", papers / "unbalanced" / "references.bib")
    with tarfile.open(papers / "bibonly.tar.gz", "w:gz") as tf:
        tf.add(src / "references.bib", arcname="references.bib")
    (papers / "empty.tex").write_text("")
    ids = ["nobib", "truncated", "unbalanced", "bibonly", "empty"]
    report = build(_meta(tmp_path / "meta.jsonl", [{"paperId": i, "venue": "ICLR", "year": 2021} for i in ids]), papers,
                   tmp_path / "out", workers=1, progress=False)
    rejects = {json.loads(x)["record_id"]: json.loads(x) for x in (report.out / "rejects.jsonl").read_text().splitlines()}
    assert {i: rejects[i]["reason"] for i in ids} == {
        "nobib": "bib_missing", "truncated": "latex_missing_end_document", "unbalanced": "latex_unbalanced_braces",
        "bibonly": "latex_no_main_file", "empty": "source_empty",
    }
    assert report.manifest["counts"]["papers_kept"] == 0 and sum(report.manifest["counts"]["papers_rejected"].values()) == 5
