"""Issue 11 follow-up: readers turn garbage into reasoned rejects, never into dataset rows.

An adversarial probe fed the readers values of the wrong type or range and got them back as rows: a title
``{"v": 1}`` written as ``"{'v': 1}"``, a date of -2**62, one LaTeX project under five paperIds (train and test
at once), a PDF cut off after a third kept as a whole paper, a PDF of a million blank pages, two notes on one
JSONL line. Each attack here must end as a counted reject with its reason (papers in = kept + rejected), the
rest of the input untouched.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyclebench.builders import deepreview13k, research14k, review5k
from cyclebench.builders.paper_extract import extract_text_paper
from cyclebench.records import RecordError
from cyclebench.sources import text as text_module
from cyclebench.sources.confined import SourceLimits
from cyclebench.sources.openreview import iter_raw_notes, parse_submission
from cyclebench.sources.text import PapersDirectory, check_pdf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SNAPSHOT = FIXTURES / "openreview" / "iclr2024_v2.jsonl"
R14_GOOD = FIXTURES / "research14k" / "papers" / "r14-good"
CORPUS_PDF = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "papers" / "pdf" / "STpxO1Siaq.pdf"
NOTES = [json.loads(line) for line in SNAPSHOT.read_text().splitlines() if line.strip()]
VICTIM = NOTES[0]["id"]


# ---------------------------------------------------------------------------------------------
# Helpers


def _kept_review(note: dict[str, Any]) -> dict[str, Any]:
    """A review of ``note`` that the reader keeps and that has no other version (so an edit to it counts)."""
    kept = {r.note_id for r in parse_submission(note).submission.reviews if r.versions_seen == 1}
    return next(r for r in note["details"]["directReplies"] if r.get("id") in kept)


def _reply(kind: str, content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": f"{kind}1", "invitations": [f"ICLR.cc/2024/Conference/Submission2204/-/{kind}"],
            "signatures": ["ICLR.cc/2024/Conference/Submission2204/Authors"], "cdate": 1_700_000_000_000,
            "content": {k: {"value": v} for k, v in content.items()}, **extra}


def _write(tmp: Path, notes: list[dict[str, Any]]) -> Path:
    path = tmp / "snapshot.jsonl"
    path.write_text("".join(json.dumps(n) + "\n" for n in notes))
    return path


def _build(tmp: Path, snapshot: Path, builder: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """One build without paper texts, keeping papers with a single review: (counts, rejects, row text)."""
    out = tmp / f"out-{builder}"
    if builder == "review-5k":
        report = review5k.build(snapshot, None, out, review5k.Review5KConfig(require_text=False, min_reviews=1),
                                progress=False)
    else:
        report = deepreview13k.build(snapshot, None, out,
                                     deepreview13k.DeepReview13KConfig(require_text=False, min_reviews=1),
                                     workers=1, progress=False)
    rejects = [json.loads(line) for line in (report.out / "rejects.jsonl").read_text().splitlines()]
    rows = "\n".join(json.dumps(pq.read_table(p).to_pylist(), default=str) for p in sorted(report.out.rglob("*.parquet")))
    return report.manifest["counts"], rejects, rows


_BASELINE: dict[str, tuple[dict[str, Any], list[dict[str, Any]], str]] = {}


def _baseline(tmp_path_factory: pytest.TempPathFactory, builder: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    if builder not in _BASELINE:
        tmp = tmp_path_factory.mktemp(f"base-{builder}")
        _BASELINE[builder] = _build(tmp, _write(tmp, NOTES), builder)
    return _BASELINE[builder]


def _reconciles(counts: dict[str, Any]) -> None:
    assert counts["papers_kept"] + sum(counts["papers_rejected"].values()) == counts["papers_in"]
    assert counts["reviews_kept"] + sum(counts["reviews_rejected"].values()) + counts["reviews_dropped_with_paper"] \
        == counts["reviews_in"]


def _pdf(path: Path, pages: int, words: str = "") -> Path:
    pymupdf = pytest.importorskip("pymupdf")
    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page()
        if words:
            page.insert_text((72, 72), f"{words} page {i + 1}")
    path.write_bytes(doc.tobytes())
    doc.close()
    return path


# ---------------------------------------------------------------------------------------------
# 1, 2. OpenReview values of the wrong type or range: the paper is rejected with the reason, not stringified


def _set(field: str, value: Any):
    def mutate(note: dict[str, Any]) -> None:
        note["content"][field] = value
    return mutate


def _top(**values: Any):
    def mutate(note: dict[str, Any]) -> None:
        note.update(values)
    return mutate


def _venue_int(note: dict[str, Any]) -> None:
    note["content"]["venue"] = {"value": 5}
    note["content"].pop("venueid")


def _add_reply(reply: dict[str, Any]):
    def mutate(note: dict[str, Any]) -> None:
        note["details"]["directReplies"].append(reply)
    return mutate


PAPER_ATTACKS = {
    # The probe's findings, each with the reason that must now reject the paper.
    "title_object": (_set("title", {"v": 1}), "invalid_title"),
    "title_list_with_null": (_set("title", {"value": ["a", None]}), "invalid_title"),
    "title_huge_number": (_set("title", {"value": 10**40}), "invalid_title"),
    "abstract_object": (_set("abstract", {"value": {"x": [1, 2]}}), "invalid_abstract"),
    "keywords_mixed": (_set("keywords", {"value": [None, {"a": 1}, [1]]}), "invalid_keywords"),
    "tldr_number": (_set("TLDR", {"value": 3}), "invalid_tldr"),
    "venue_number": (_venue_int, "invalid_venue"),
    "id_with_nul": (_top(id="ab\x00c"), "invalid_id"),
    "id_100k_chars": (_top(id="x" * 100_000), "invalid_id"),
    "id_path": (_top(id="../../etc/passwd"), "invalid_id"),
    "id_number": (_top(id=12345), "invalid_id"),
    "forum_object": (_top(forum={"a": 1}), "invalid_forum"),
    "dates_minus_2_62": (_top(cdate=-2**62, odate=-2**62, pdate=-2**62), "implausible_date"),
    "odate_2_62": (_top(odate=2**62), "implausible_date"),
    "cdate_string": (_top(cdate="2024-01-01"), "implausible_date"),
    "decision_object": (_add_reply(_reply("Decision", {"decision": {"x": 1}})), "invalid_decision"),
    "meta_review_list": (_add_reply(_reply("Meta_Review", {"metareview": [1, {"a": None}]})), "invalid_meta_review"),
    "comment_object": (_add_reply(_reply("Official_Comment", {"comment": {"a": 1}})), "invalid_comment"),
    "comment_date": (_add_reply({**_reply("Official_Comment", {"comment": "Thanks."}), "cdate": -1}), "implausible_date"),
}


@pytest.mark.parametrize("builder", ["review-5k", "deepreview-13k"])
@pytest.mark.parametrize("attack", sorted(PAPER_ATTACKS))
def test_wrong_typed_note_values_reject_the_paper_with_the_reason(tmp_path, tmp_path_factory, builder, attack):
    base_counts, _base_rejects, base_rows = _baseline(tmp_path_factory, builder)
    assert VICTIM in base_rows  # the untouched note is kept: only the attack can reject it
    mutate, reason = PAPER_ATTACKS[attack]
    notes = copy.deepcopy(NOTES)
    mutate(notes[0])
    counts, rejects, rows = _build(tmp_path, _write(tmp_path, notes), builder)
    _reconciles(counts)
    assert counts["papers_in"] == base_counts["papers_in"]
    assert counts["papers_kept"] == base_counts["papers_kept"] - 1
    assert Counter(counts["papers_rejected"]) == Counter(base_counts["papers_rejected"]) + Counter({reason: 1})
    assert VICTIM not in rows and "{'" not in rows and "1e+40" not in rows
    [reject] = [r for r in rejects if r["reason"] == reason]
    assert reject["detail"] and len(json.dumps(reject)) < 1000  # a 100k-character id is not echoed back


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("summary", {"x": 1}, "invalid_review_field"),  # a JSON object where text belongs
    ("weaknesses", [1, "two"], "invalid_review_field"),  # a list that is not a list of strings
    ("correctness", {"a": 1}, "invalid_review_field"),  # an object as a score answer
])
def test_a_structured_value_in_a_review_rejects_that_review_only(tmp_path, field, value, reason):
    notes = copy.deepcopy(NOTES)
    review = _kept_review(notes[0])
    review["content"][field] = {"value": value}
    counts, rejects, rows = _build(tmp_path, _write(tmp_path, notes), "review-5k")
    _reconciles(counts)
    assert [r["record_id"] for r in rejects if r["reason"] == reason] == [review["id"]]
    assert "{'" not in rows and "[1, 'two']" not in rows


def test_a_malformed_review_id_rejects_that_review_without_echoing_it(tmp_path):
    notes = copy.deepcopy(NOTES)
    _kept_review(notes[0])["id"] = "r" * 100_000
    counts, rejects, rows = _build(tmp_path, _write(tmp_path, notes), "review-5k")
    _reconciles(counts)
    assert counts["reviews_rejected"].get("invalid_reply_id") == 1 and VICTIM in rows
    [reject] = [r for r in rejects if r["reason"] == "invalid_reply_id"]
    assert reject["record_id"] == "(invalid id)" and len(json.dumps(reject)) < 1000


def test_implausible_review_date_rejects_the_review(tmp_path):
    notes = copy.deepcopy(NOTES)
    review = _kept_review(notes[0])
    review["tmdate"] = -2**62
    counts, rejects, _rows = _build(tmp_path, _write(tmp_path, notes), "review-5k")
    _reconciles(counts)
    assert [r["record_id"] for r in rejects if r["reason"] == "implausible_date"] == [review["id"]]


# Any JSON value a broken crawler could write.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
TEXT_FIELDS = {"title": "title", "abstract": "abstract", "primary_area": "primary_area", "TLDR": "tldr",
               "pdf": "pdf", "venue": "venue", "keywords": "keywords"}


@settings(max_examples=80, deadline=None)
@given(field=st.sampled_from(sorted(TEXT_FIELDS)), value=json_values)
def test_a_text_field_is_the_string_given_or_a_reasoned_reject(field, value):
    note = copy.deepcopy(NOTES[0])
    note["content"][field] = {"value": value}
    readable = value is None or isinstance(value, str) or (
        field == "keywords" and isinstance(value, list) and all(isinstance(k, str) for k in value))
    try:
        sub = parse_submission(note).submission
    except RecordError as exc:
        if readable:  # only an empty title may reject a readable value
            assert field == "title" and exc.reason == "missing_title" and not (value or "").strip()
        else:
            assert exc.reason == f"invalid_{TEXT_FIELDS[field]}"
        return
    assert readable
    if field in ("title", "abstract"):
        got, expected = getattr(sub, field), (value or "").strip()
    elif field == "keywords":
        got, expected = sub.keywords, (tuple(value) if isinstance(value, list) else sub.keywords)
    elif field == "venue":
        got, expected = type(sub.decision.raw), str
    else:
        got = {"primary_area": sub.primary_area, "TLDR": sub.tldr, "pdf": sub.pdf}[field]
        expected = value or None if field == "TLDR" else value
    assert got == expected


def _reference_id_rule(value: str) -> bool:
    """Written apart from the reader's regex: 1-128 printable ASCII, no '/', '\\', space; not '.' or '..'."""
    return (0 < len(value) <= 128 and all(33 <= ord(c) <= 126 and c not in "/\\" for c in value)
            and value not in (".", ".."))


@settings(max_examples=80, deadline=None)
@given(st.text(min_size=1, max_size=140) | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=127),
                                                    min_size=1, max_size=140))
def test_an_id_is_kept_exactly_when_it_is_a_safe_name(paper_id):
    note = copy.deepcopy(NOTES[0])
    note.update(id=paper_id, forum=paper_id)
    try:
        sub = parse_submission(note).submission
    except RecordError as exc:
        assert exc.reason == "invalid_id" and not _reference_id_rule(paper_id)
    else:
        assert _reference_id_rule(paper_id) and sub.id == paper_id


DATE_MIN, DATE_MAX = 631_152_000_000, 4_102_444_800_000  # 1990-01-01, 2100-01-01 (ms since 1970)


@settings(max_examples=60, deadline=None)
@given(field=st.sampled_from(["cdate", "mdate", "pdate", "odate"]),
       value=st.integers(min_value=-2**63, max_value=2**63 - 1) | st.integers(DATE_MIN - 5, DATE_MIN + 5)
       | st.integers(DATE_MAX - 5, DATE_MAX + 5))
def test_a_date_is_kept_only_inside_1990_to_2100(field, value):
    note = copy.deepcopy(NOTES[0])
    note[field] = value
    try:
        sub = parse_submission(note).submission
    except RecordError as exc:
        assert exc.reason == "implausible_date" and not DATE_MIN <= value < DATE_MAX
    else:
        assert DATE_MIN <= value < DATE_MAX
        assert field == "odate" or getattr(sub, field) == value


# ---------------------------------------------------------------------------------------------
# 6. Two notes on one line: one record in, one reject out, and the reason says what happened


def test_two_notes_on_one_line_is_one_reject_that_says_so(tmp_path):
    lines = [json.dumps(n) for n in NOTES]
    snapshot = tmp_path / "snapshot.jsonl"
    snapshot.write_text(lines[0] + lines[1] + "\n" + "\n".join(lines[2:]) + "\n")
    counts, rejects, rows = _build(tmp_path, snapshot, "review-5k")
    _reconciles(counts)
    assert counts["papers_in"] == len(NOTES) - 1
    [reject] = [r for r in rejects if r["reason"] == "malformed_json"]
    assert reject["record_id"] == "snapshot.jsonl:1"
    assert f"column {len(lines[0]) + 1}" in reject["detail"] and "two notes on one line?" in reject["detail"]
    assert VICTIM not in rows and NOTES[1]["id"] not in rows


def test_other_trailing_data_is_named_without_the_two_notes_guess(tmp_path):
    snapshot = tmp_path / "s.jsonl"
    snapshot.write_text(json.dumps(NOTES[0]) + " trailing\n")
    [raw] = list(iter_raw_notes(snapshot))
    assert raw.error is not None and raw.error.reason == "malformed_json"
    assert "extra data after the first JSON value" in raw.error.detail and "two notes" not in raw.error.detail


# ---------------------------------------------------------------------------------------------
# 3. Research-14K: one source is one paper, and an input folder is no paper's source


def test_one_source_under_many_paper_ids_is_one_row(tmp_path):
    papers = tmp_path / "papers"
    shutil.copytree(R14_GOOD, papers / "calib")
    shutil.copytree(R14_GOOD, papers / "grp" / "inner")
    (papers / "alias").symlink_to("calib")
    rows = [
        {"paperId": "calib", "year": 2021},  # found by name: takes papers/calib
        {"paperId": "calib2", "year": 2023, "source": "papers/calib"},
        {"paperId": "x5", "year": 2023, "source": "papers/../papers/calib"},
        {"paperId": "x4", "year": 2023, "source": "papers/calib/main.tex"},  # a file inside it
        {"paperId": "alias", "year": 2023},  # a link to it, found by name
        {"paperId": "x1", "year": 2023, "source": "."},  # the metadata file's folder
        {"paperId": "x3", "year": 2023, "source": "papers"},  # the --papers folder
        {"paperId": "inner", "year": 2021, "source": "papers/grp/inner"},
        {"paperId": "grp", "year": 2023, "source": "papers/grp"},  # a folder holding a taken source
    ]
    meta = tmp_path / "meta.jsonl"
    meta.write_text("".join(json.dumps({"venue": "ICLR", **r}) + "\n" for r in rows))
    report = research14k.build(meta, papers, tmp_path / "out", research14k.Research14KConfig(), progress=False)
    counts = report.manifest["counts"]
    assert counts["papers_in"] == len(rows) == counts["papers_kept"] + sum(counts["papers_rejected"].values())
    rejects = {r["record_id"]: r for r in map(json.loads, (report.out / "rejects.jsonl").read_text().splitlines())}
    assert {pid: r["reason"] for pid, r in rejects.items()} == {
        "calib2": "duplicate_source", "x5": "duplicate_source", "x4": "duplicate_source", "alias": "duplicate_source",
        "x1": "source_is_input_root", "x3": "source_is_input_root", "grp": "duplicate_source"}
    assert all("'calib'" in rejects[pid]["detail"] for pid in ("calib2", "x5", "x4", "alias"))
    assert "'inner'" in rejects["grp"]["detail"]
    assert counts["papers_kept"] == 2 and counts["splits"] == {"train": 2, "test": 0}  # never the same paper in test


# ---------------------------------------------------------------------------------------------
# 4. A truncated PDF is not a paper


def test_a_generated_pdf_cut_after_a_third_is_pdf_truncated(tmp_path):
    whole = _pdf(tmp_path / "whole.pdf", 6, "words of a generated paper")
    (tmp_path / "third.pdf").write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    assert check_pdf(whole, (tmp_path,)) == 6
    with pytest.raises(RecordError) as exc:
        PapersDirectory(tmp_path).read("third")
    assert exc.value.reason == "pdf_truncated"
    with pytest.raises(RecordError) as exc:
        extract_text_paper(tmp_path / "third.pdf", "pdf", roots=(tmp_path,))  # the Research-14K reader
    assert exc.value.reason == "pdf_truncated"


@pytest.mark.skipif(not CORPUS_PDF.is_file(), reason=f"real corpus PDF not found at {CORPUS_PDF}")
@pytest.mark.parametrize("damage", ["first_third", "broken_startxref"])
def test_a_damaged_real_pdf_is_pdf_truncated(tmp_path, damage):
    data = CORPUS_PDF.read_bytes()
    if damage == "first_third":
        data = data[: len(data) // 3]
    else:  # %%EOF is there, but the cross-reference offset is wrong: the reader rebuilds the table
        at = data.rindex(b"startxref") + len(b"startxref\n")
        end = data.index(b"\n", at)
        data = data[:at] + str(int(data[at:end]) + 7).encode() + data[end:]
    (tmp_path / "paper.pdf").write_bytes(data)
    with pytest.raises(RecordError) as exc:
        PapersDirectory(tmp_path).read("paper")
    assert exc.value.reason == "pdf_truncated"
    assert check_pdf(CORPUS_PDF, (CORPUS_PDF.parent,)) == 15  # the whole file passes


# ---------------------------------------------------------------------------------------------
# 5. A bound on pages, checked before any text is extracted


def test_too_many_pages_is_rejected_before_extraction(tmp_path, monkeypatch):
    assert SourceLimits().max_pdf_pages == 300 == research14k.Research14KConfig().max_pdf_pages
    _pdf(tmp_path / "long.pdf", 301)
    _pdf(tmp_path / "ok.pdf", 300)

    def never(path):
        raise AssertionError(f"extracted {path} although it has too many pages")

    monkeypatch.setattr(text_module, "extract_pdf_text", never)
    with pytest.raises(RecordError) as exc:
        PapersDirectory(tmp_path).read("long")
    assert exc.value.reason == "pdf_too_many_pages" and "301 pages > 300" in exc.value.detail
    assert check_pdf(tmp_path / "ok.pdf", (tmp_path,)) == 300


def test_the_page_bound_is_a_research14k_config_field(tmp_path):
    config = research14k.Research14KConfig(max_pdf_pages=2)
    assert config.source_limits().max_pdf_pages == 2
    with pytest.raises(ValueError, match="max_pdf_pages"):
        research14k.Research14KConfig(max_pdf_pages=0)
    pdf = _pdf(tmp_path / "three.pdf", 3, "text")
    with pytest.raises(RecordError) as exc:
        extract_text_paper(pdf, "pdf", roots=(tmp_path,), limits=config.source_limits())
    assert exc.value.reason == "pdf_too_many_pages"


def test_a_file_no_reader_opens_stays_pdf_unreadable(tmp_path):
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00not a pdf at all\n" * 40)
    assert check_pdf(tmp_path / "junk.pdf", (tmp_path,)) is None
    with pytest.raises(RecordError) as exc:
        PapersDirectory(tmp_path).read("junk")
    assert exc.value.reason == "pdf_unreadable"
    assert os.path.exists(tmp_path / "junk.pdf")  # nothing the user gave is removed
