"""Research-14K builder on hand-written LaTeX projects: rows, rejects, split, messages, model outline, CLI."""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cyclebench.builders import research14k
from cyclebench.builders.research14k import (
    Research14KConfig,
    build,
    latex_safe,
    parse_metadata_row,
)

from cyclebench.hub.load import read_front_matter
from cyclebench.protocols.cycleresearcher import parse_training_messages
from cyclebench.records import RecordError

FX = Path(__file__).resolve().parents[1] / "fixtures" / "research14k"

# What every fixture paper becomes (tests/fixtures/research14k/README.md says why).
EXPECTED_REJECTS = {
    "bib_missing": 1,  # r14-nobib
    "duplicate_paper_id": 1,
    "latex_missing_end_document": 1,  # r14-noend
    "latex_no_main_file": 1,  # r14-nomain.tar.gz
    "latex_unbalanced_braces": 1,  # r14-braces
    "latex_unbalanced_environment": 1,  # r14-env
    "metadata_invalid": 3,  # bad year, no venue, not JSON
    "no_experiments_or_conclusion_section": 1,  # r14-noexp
    "source_empty": 1,  # r14-empty.tex
    "source_not_found": 1,  # r14-absent
}
KEPT = {"r14-good", "r14-tar", "r14-bbl", "r14-gz", "r14-md"}


def _tar(src: Path, target: Path) -> None:
    with tarfile.open(target, "w:gz") as tf:
        for p in sorted(src.rglob("*")):
            info = tf.gettarinfo(str(p), arcname=p.relative_to(src).as_posix())
            info.mtime = 0
            if p.is_file():
                with open(p, "rb") as fh:
                    tf.addfile(info, fh)
            else:
                tf.addfile(info)


def prepare_papers(tmp: Path) -> Path:
    """The fixture papers plus the shapes made here: an e-print tarball, one without a main file, a
    gzip'd single-file e-print and an empty file."""
    papers = tmp / "papers"
    shutil.copytree(FX / "papers", papers)
    _tar(FX / "papers" / "r14-good", papers / "r14-tar.tar.gz")
    _tar(FX / "nomain_sources", papers / "r14-nomain.tar.gz")
    (papers / "r14-gz.gz").write_bytes(gzip.compress((FX / "papers" / "r14-inline.tex").read_bytes(), mtime=0))
    (papers / "r14-empty.tex").write_bytes(b"")
    return papers


def read_rows(out: Path) -> dict[str, dict]:
    rows = {}
    for shard in sorted((out / "data").glob("*.parquet")):
        split = shard.name.split("-", 1)[0]
        for row in pq.read_table(shard).to_pylist():
            rows[row["paperId"]] = {**row, "_split": split}
    return rows


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("r14")
    papers = prepare_papers(tmp)
    report = build(FX / "metadata.jsonl", papers, tmp / "out", Research14KConfig(outline_scores=(7, 6, 8)),
                   abstracts=FX / "abstracts.jsonl", workers=1, progress=False)
    return report, read_rows(report.out)


def test_every_paper_is_a_row_or_a_reasoned_reject(built):
    report, rows = built
    counts = report.manifest["counts"]
    assert counts["papers_in"] == 17 and counts["papers_kept"] == 5 and set(rows) == KEPT
    assert counts["papers_rejected"] == EXPECTED_REJECTS
    rejects = [json.loads(line) for line in (report.out / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 12 and all(r["reason"] and r["detail"] for r in rejects)
    by_id = {r["record_id"]: r for r in rejects}
    assert "closes \\begin{itemize}" in by_id["r14-env"]["detail"]
    assert by_id["r14-nomain"]["detail"].startswith("no file has both \\documentclass")


def test_temporal_split_and_published_columns(built):
    report, rows = built
    assert {pid for pid, r in rows.items() if r["_split"] == "test"} == {"r14-tar", "r14-md"}  # 2024, the latest year
    assert report.manifest["counts"]["splits"] == {"train": 3, "test": 2}
    published = ["paperId", "title", "abstract", "venue", "year", "references", "arxiv", "sections", "figure", "messages"]
    assert research14k.SCHEMA.names[: len(published)] == published
    good = rows["r14-good"]
    assert (good["venue"], good["year"], good["arxiv"]) == ("NeurIPS", 2023, "2301.00001")
    assert good["topic"] == "calibration of retrieval models" and rows["r14-tar"]["topic"] == "retrieval, calibration"
    assert rows["r14-gz"]["year"] == 2023  # "2023" as a string in the metadata
    assert [s["heading"] for s in good["sections"]][-1] == "Proof of Proposition 1" and good["sections"][-1]["appendix"]
    assert [(f["kind"], f["label"]) for f in good["figure"]] == [("table", "tab:main"), ("figure", "fig:rel")]
    assert good["references_missing_from_bib"] == ["missing2020ghost"]
    assert {i["source"]: i["count"] for i in good["references_abstract_sources"]} == {"bib": 1, "key": 1, "arxiv": 1, "doi": 1, "title": 1}
    assert good["part_split"] == "experiments" and good["outline_method"] == "from-sections-v1+fixed-scores"
    assert rows["r14-gz"]["part_split"] == "conclusion-only" and rows["r14-gz"]["references_source"] == "thebibliography"
    assert rows["r14-md"]["text_source"] == "markdown" and rows["r14-md"]["references_source"] == "text-list"
    assert rows["r14-tar"]["source_path"] == "r14-tar.tar.gz"


def test_messages_are_five_turns_that_parse_back(built):
    _report, rows = built
    for pid in ("r14-good", "r14-tar", "r14-md"):
        row = rows[pid]
        messages = row["messages"]
        assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
        assert messages[3]["content"].startswith("## Experimental_results")
        paper = parse_training_messages(messages, pid)
        assert paper.status == "ok", (pid, paper.problems)
        assert paper.title == row["title"]
        assert (paper.outline.interestingness, paper.outline.feasibility, paper.outline.novelty) == (7, 6, 8)
        assert paper.setup and paper.results and paper.experiments_latex
        assert row["references"] in messages[1]["content"]
    good = parse_training_messages(rows["r14-good"]["messages"])
    assert good.latex_body.startswith("\\section{Introduction}") and "\\section{Experiments}" not in good.latex_body
    assert good.experiments_latex.startswith("\\section{Experiments}") and "\\section{Conclusion}" in good.experiments_latex
    assert "Proof of Proposition" not in good.experiments_latex  # no appendix in the generator's target
    assert [r.name for r in good.results] == ["Table 1", "Figure 1"]
    # Papers without result floats still parse; the protocol names what is empty.
    bbl = parse_training_messages(rows["r14-bbl"]["messages"])
    assert bbl.status == "partial" and any(p.startswith("results_empty") for p in bbl.problems)


def test_scores_omitted_when_no_prior_is_configured(tmp_path):
    papers = prepare_papers(tmp_path)
    meta = tmp_path / "meta.jsonl"
    meta.write_text(json.dumps({"paperId": "r14-good", "venue": "NeurIPS", "year": 2023}) + "\n")
    report = build(meta, papers, tmp_path / "out", abstracts=FX / "abstracts.jsonl", workers=1, progress=False)
    row = read_rows(report.out)["r14-good"]
    assert "## Novelty" not in row["messages"][2]["content"]
    paper = parse_training_messages(row["messages"])
    assert {"interestingness_missing", "feasibility_missing", "novelty_missing"} <= set(paper.problems)
    assert paper.title and paper.setup and paper.results
    assert report.manifest["definitions"]["outline"].endswith("scores not written")
    assert report.manifest["definitions"]["split"].startswith("temporal: papers of years [2023] are test")


def test_manifest_card_and_rebuild_refusal(built):
    report, _rows = built
    manifest = json.loads((report.out / "manifest.json").read_text())
    assert manifest["builder_version"] == research14k.VERSION and len(manifest["config_sha256"]) == 64
    assert manifest["inputs"]["abstracts_rows"] == {"rows": 12, "rejected": {"invalid_row": 1, "no_abstract": 1, "no_identifier": 1},
                                                    "duplicates": 1}
    assert set(manifest["inputs"]["paper_sources"]) == KEPT
    assert all(s["rows"] >= 0 and len(s["sha256"]) == 64 for s in manifest["shards"].values())
    card = (report.out / "README.md").read_text()
    front = read_front_matter(report.out)  # Hub metadata first (builder 1.3.0), then configs
    assert (front["license"], front["license_name"]) == ("other", "arxiv-per-paper-licenses")
    assert "| latex_unbalanced_braces | 1 |" in card
    with pytest.raises(FileExistsError):
        build(FX / "metadata.jsonl", FX / "papers", report.out, workers=1, progress=False)


def test_venue_and_year_filters_and_explicit_test_years(tmp_path):
    papers = prepare_papers(tmp_path)
    config = Research14KConfig(venues=("NeurIPS", "ICLR", "EMNLP"), years=(2023, 2024), test_years=(2023,))
    report = build(FX / "metadata.jsonl", papers, tmp_path / "out", config, workers=1, progress=False)
    rejected = report.manifest["counts"]["papers_rejected"]
    assert rejected["venue_not_selected"] == 2  # ICML r14-bbl, ACL r14-gz
    rows = read_rows(report.out)
    assert {pid: r["_split"] for pid, r in rows.items()} == {"r14-good": "test", "r14-tar": "train", "r14-md": "train"}


def test_model_outline_build_with_a_fake_backend(tmp_path):
    from .test_research14k_outline import GOOD_ANSWER

    papers = prepare_papers(tmp_path)
    meta = tmp_path / "meta.jsonl"
    meta.write_text("\n".join(json.dumps({"paperId": p, "venue": "ICLR", "year": 2024}) for p in ("r14-good", "r14-md", "r14-bbl")) + "\n")
    responses = tmp_path / "responses.jsonl"
    responses.write_text(json.dumps({"request_id": "r14-good", "text": GOOD_ANSWER}) + "\n"
                         + json.dumps({"request_id": "r14-md", "text": "## Motivation\nonly this"}) + "\n")
    config = Research14KConfig(outline="model", outline_backend="fake",
                               outline_model_args=f"responses={responses},fail_ids=r14-bbl", outline_batch_size=2)
    report = build(meta, papers, tmp_path / "out", config, workers=1, outline_cache=tmp_path / "cache", progress=False)
    rows = read_rows(report.out)
    assert set(rows) == {"r14-good"} and rows["r14-good"]["outline_method"] == "model:fake"
    paper = parse_training_messages(rows["r14-good"]["messages"])
    assert paper.status == "ok" and paper.outline.motivation == "Retrievers are over-confident."
    assert [r.name for r in paper.results] == ["NQ", "Plot"]
    rejects = {json.loads(x)["record_id"]: json.loads(x) for x in (report.out / "rejects.jsonl").read_text().splitlines()}
    assert rejects["r14-md"]["reason"] == "outline_unparseable" and "Main Idea: missing" in rejects["r14-md"]["detail"]
    assert rejects["r14-bbl"]["detail"] == "backend_error: fake_failure"
    assert (tmp_path / "cache").is_dir()


def test_metadata_rows_are_validated():
    meta = parse_metadata_row({"id": " p1 ", "venue": "ICLR", "year": "2024", "keywords": "a; b",
                               "cited_abstracts": {"k": "abs"}, "arxiv": "https://arxiv.org/abs/2101.00001v1"})
    assert (meta.paper_id, meta.year, meta.topic, meta.topic_source, meta.arxiv) == ("p1", 2024, "a, b", "metadata:keywords", "2101.00001")
    assert meta.cited_abstracts == ({"paperId": "p1", "key": "k", "abstract": "abs"},)
    for bad, why in [({"venue": "x", "year": 2020}, "paperId"), ({"paperId": "a/b", "venue": "x", "year": 2020}, "paperId"),
                     ({"paperId": "p", "year": 2020}, "venue"), ({"paperId": "p", "venue": "x", "year": True}, "year"),
                     ({"paperId": "p", "venue": "x", "year": 2020, "cited_abstracts": "text"}, "cited_abstracts"),
                     ({"paperId": "p", "venue": 3, "year": 2020}, "venue must be a string")]:
        with pytest.raises(RecordError, match=why) as err:
            parse_metadata_row(bad)
        assert err.value.reason == "metadata_invalid"


def test_config_validation():
    for bad in ({"outline": "llm"}, {"outline_scores": (1, 2)}, {"outline": "model"}, {"text_prefer": ("html",)},
                {"max_rows_per_shard": 0}):
        with pytest.raises(ValueError):
            Research14KConfig(**bad)


def test_latex_safe_keeps_the_format_parseable():
    text = "Code:\n```python\nprint(1)\n```\n# Motivation\nbody \\clearpage end"
    assert latex_safe(text) == "Code:\n\\begin{verbatim}\nprint(1)\n\\end{verbatim}\nMotivation\nbody  end"


def test_cli_wiring_builds(tmp_path, capsys):
    from cyclebench.cli.build_research14k import (
        add_research14k_arguments,
        run_research14k,
    )

    papers = prepare_papers(tmp_path)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="dataset")
    add_research14k_arguments(sub)
    args = parser.parse_args(["research-14k", "--papers", str(papers), "--metadata", str(FX / "metadata.jsonl"),
                              "--abstracts", str(FX / "abstracts.jsonl"), "--out", str(tmp_path / "out"), "--workers", "1",
                              "--outline-scores", "7", "6", "8", "--test-years", "2023"])
    assert run_research14k(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["papers_kept"] == 5 and printed["splits"] == {"train": 3, "test": 2}
    args = parser.parse_args(["research-14k", "--papers", str(papers), "--metadata", str(tmp_path / "nope.jsonl"),
                              "--out", str(tmp_path / "out2")])
    with pytest.raises(FileNotFoundError, match="metadata file not found"):
        run_research14k(args)
