"""Paper-text cleaning, PDF extraction and the papers folder index, on hand-written and real texts."""

from __future__ import annotations

import builtins
import hashlib
import io
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyclebench.records import PaperText, RecordError
from cyclebench.sources import text as text_mod
from cyclebench.sources.text import (
    CLEANING_VERSION,
    PaperFile,
    PapersDirectory,
    clean_paper_text,
    extract_pdf_text,
)

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
PDF_IDS = ("6w9qffvXkq", "STpxO1Siaq", "kbeX97jExm", "n7RqgqbxP7", "tpHqsyZ3YX")


def corpus_dir(*parts: str) -> Path:
    p = CORPUS.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real corpus not found at {p}")
    return p.resolve()


def clean(t: str) -> str:
    return clean_paper_text(t)[0]


def ops(t: str) -> tuple[str, ...]:
    return clean_paper_text(t)[1]


PAPER = """Under review as a conference paper at ICLR 2022
# A TITLE SPLIT OVER LI## NES
## AND A SECOND LINE

**Anonymous authors**
Paper under double-blind review

ABSTRACT

We study things.

1 INTRODUCTION

Body text (Smith et al., 2020).
Under review as a conference paper at ICLR 2022
More body.

REFERENCES

A. Author. A paper. In Proceedings of Something, 2019.

A APPENDIX

Appendix text.
"""


# ---------------------------------------------------------------------------------------------
# Cleaning, one operation at a time


def test_full_example_keeps_title_and_abstract_to_references() -> None:
    out, applied = clean_paper_text(PAPER)
    assert out.startswith("# A TITLE SPLIT OVER LINES AND A SECOND LINE\n\nABSTRACT\n\nWe study things.")
    assert "Anonymous authors" not in out
    assert "Under review" not in out
    assert "More body." in out
    assert "REFERENCES" not in out and "Appendix text" not in out
    assert {"header_stripped", "title_kept", "kept_from_abstract", "cut_at_references"} <= set(applied)
    assert out.endswith("More body.\n")


def test_crlf_and_lone_cr_become_newlines() -> None:
    out, applied = clean_paper_text("Abstract\r\nline one\rline two\r\n")
    assert "\r" not in out
    assert "line one\nline two" in out
    assert "newlines_normalized" in applied


def test_nul_and_control_chars_are_dropped_but_tabs_kept() -> None:
    out, applied = clean_paper_text("ABSTRACT\nclassi\x00\x01fier\x0c and\tthe\x7f \x85end\x1b")
    assert out == "ABSTRACT\nclassifier and\tthe end\n"
    assert "control_chars_removed" in applied


def test_private_use_glyphs_are_dropped() -> None:
    out, applied = clean_paper_text("ABSTRACT\nx \uf8f0\uf8ee= y\U000f0001")
    assert out == "ABSTRACT\nx = y\n"
    assert "private_use_removed" in applied


@pytest.mark.parametrize(
    "header",
    [
        "Under review as a conference paper at ICLR 2022",
        "Published as a conference paper at ICLR 2024",
        "Workshop track - ICLR 2018",
        "<u>Under review as a conference paper at ICLR 2025</u>",
        "_Published as a conference paper at ICLR 2021_",
        "Accepted as a workshop paper at ICLR 2019",
    ],
)
def test_running_headers_are_stripped_everywhere(header: str) -> None:
    t = f"{header}\nTITLE\n\nABSTRACT\nfirst page\n{header}\nsecond page\n\n{header}\n"
    out, applied = clean_paper_text(t)
    assert header not in out
    assert "first page\nsecond page" in out
    assert "header_stripped" in applied


def test_header_words_inside_prose_are_kept() -> None:
    t = "ABSTRACT\nThis was under review as a conference paper at ICLR 2022 and then accepted.\n"
    assert clean(t) == t


def test_line_number_gutter_is_removed_only_when_it_is_one() -> None:
    gutter = "\n".join(f"**{i:03d}**" for i in range(40))
    out, applied = clean_paper_text(f"{gutter}\n# TITLE\n\nABSTRACT\n\ntext **017** inline\n**100**\n")
    assert "**000**" not in out and "**039**" not in out
    assert "text **017** inline" in out
    assert "line_numbers_removed" in applied
    few = "ABSTRACT\n\nBest result:\n**100**\n"
    assert clean(few) == few


@pytest.mark.parametrize(
    "heading",
    ["ABSTRACT", "Abstract", "# Abstract", "## ABSTRACT", "**Abstract**", "A B S T R AC T", "1 Abstract"],
)
def test_abstract_heading_forms(heading: str) -> None:
    out, applied = clean_paper_text(f"MY TITLE\nJane Doe\njane@x.org\n\n{heading}\n\nWe study things.\n")
    assert out == f"# MY TITLE\n\n{heading}\n\nWe study things.\n"
    assert "kept_from_abstract" in applied


@pytest.mark.parametrize("para", ["Abstract. We study things.", "Abstract: We study things.", "**Abstract**—We study things."])
def test_abstract_as_paragraph_start(para: str) -> None:
    out = clean(f"My Title\nJane Doe\n\n{para}\n\n1 Introduction\n")
    assert out == f"# My Title\n\n{para}\n\n1 Introduction\n"


def test_no_abstract_heading_keeps_everything() -> None:
    t = "Some title\nAuthors\n\nBody without the heading.\n"
    out, applied = clean_paper_text(t)
    assert out == t
    assert "no_abstract_heading" in applied
    assert "no_references_heading" in applied


@pytest.mark.parametrize(
    "heading",
    ["References", "REFERENCES", "## References", "# 7 References", "**References**", "7. REFERENCES", "Bibliography",
     "R E F E R E N C E S", "_References_"],
)
def test_references_heading_forms_cut(heading: str) -> None:
    t = f"ABSTRACT\nbody\n\n{heading}\n\n[1] A. Author. Title. 2020.\n\nAppendix A\nmore\n"
    out, applied = clean_paper_text(t)
    assert out == "ABSTRACT\nbody\n"
    assert "cut_at_references" in applied


def test_earlier_references_lookalike_does_not_cut_the_paper() -> None:
    t = (
        "ABSTRACT\nbody\n\n"
        "10 References\n"  # looks like a heading, but prose follows, not a list
        "Our method needs only a handful of examples.\n"
        "see the 10 references below for related methods.\n\n"
        "5 CONCLUSION\nWe conclude.\n\n"
        "REFERENCES\n\nA. Author, B. Author. A paper. NeurIPS, 2019.\n"
    )
    out = clean(t)
    assert "We conclude." in out
    assert "10 References" in out
    assert "A. Author" not in out


def test_appendix_with_its_own_references_cuts_at_the_main_list() -> None:
    """The shape of cU8rknuhxc in the ICLR 2022 corpus: a short REFERENCES list again in the appendix."""
    t = (
        "ABSTRACT\nmain text\n\nREFERENCES\n\nJoshua Achiam, Harrison Edwards. Variational option discovery. 2018.\n\n"
        "A APPENDIX\nappendix text\n\nREFERENCES\n\nDiederik Kingma and Jimmy Ba. Adam. ICLR, 2015.\n"
    )
    out = clean(t)
    assert out == "ABSTRACT\nmain text\n"
    assert clean(out) == out


def test_long_author_list_after_references_still_counts_as_a_list() -> None:
    names = ", ".join(f"Firstname{i} Lastname{i}" for i in range(60))
    wrapped = "\n".join(names[i : i + 90] for i in range(0, len(names), 90))
    t = f"ABSTRACT\nbody\n\nREFERENCES\n\n{wrapped}\n"
    assert clean(t) == "ABSTRACT\nbody\n"


def test_references_heading_at_the_very_end_cuts() -> None:
    assert clean("ABSTRACT\nbody\n\nReferences\n\n-----\n") == "ABSTRACT\nbody\n"


def test_no_references_heading_is_reported() -> None:
    out, applied = clean_paper_text("ABSTRACT\nbody only\n")
    assert out == "ABSTRACT\nbody only\n"
    assert "no_references_heading" in applied


def test_blank_runs_collapse_to_two_and_page_separators_at_the_end_go() -> None:
    out, applied = clean_paper_text("ABSTRACT\n\n\n\n\n\npara   \n\n\n-----\n\n")
    assert out == "ABSTRACT\n\n\npara\n"
    assert "blank_lines_collapsed" in applied


def test_empty_and_blank_inputs() -> None:
    assert clean_paper_text("") == ("", ("no_abstract_heading", "no_references_heading"))
    assert clean("\x00\x00\n \n")[0:1] == ""


def test_hand_examples_are_idempotent() -> None:
    for t in (PAPER, "ABSTRACT\n\n\n\n\nx\r\n", "T\n\nAbstract. x\n\nReferences\n[1] y 2020\n"):
        once = clean(t)
        assert clean(once) == once


# ---------------------------------------------------------------------------------------------
# Property: never raises, cleaning twice changes nothing more than once


_LINES = st.sampled_from(
    [
        "ABSTRACT", "# Abstract", "**Abstract**", "Abstract. We do x.", "REFERENCES", "References", "## 7 References",
        "Bibliography", "Under review as a conference paper at ICLR 2022", "Workshop track - ICLR 2018", "**017**",
        "-----", "", " ", "# TITLE SPLIT## TED", "## SECOND LINE", "ALL CAPS LINE", "Jane Doe, John Roe, Max Mu, Ann Li,",
        "A. Author. A paper. In Proceedings, 2019.", "prose about the method", "\t indented", "#", "##",
        "\x00\x01", "\uf8f0", "\r", "\u2028", "abstract", "1 INTRODUCTION",
    ]
)
_FREE = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_LINES, _LINES, _FREE), max_size=40), st.sampled_from(["\n", "\r\n", "\r"]))
def test_cleaning_never_raises_and_is_idempotent(parts: list[str], sep: str) -> None:
    text = sep.join(parts)
    once, applied = clean_paper_text(text)
    assert isinstance(once, str) and all(isinstance(a, str) for a in applied)
    assert "\r" not in once and "\x00" not in once
    assert clean(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_cleaning_arbitrary_unicode(text: str) -> None:
    once = clean(text)
    assert clean(once) == once


# ---------------------------------------------------------------------------------------------
# The 150 real ICLR 2022 texts


@pytest.fixture(scope="module")
def markdown_papers() -> dict[str, PaperText]:
    d = PapersDirectory(corpus_dir("papers", "markdown"))
    return {pid: d.read(pid) for pid in d.ids()}  # type: ignore[misc]


def test_all_corpus_markdown_texts_clean(markdown_papers: dict[str, PaperText]) -> None:
    assert len(markdown_papers) == 150
    assert any(pid.startswith("-") for pid in markdown_papers)
    root = corpus_dir("papers", "markdown")
    for pid, pt in markdown_papers.items():
        assert pt is not None and pt.paper_id == pid
        assert pt.source == "text"
        assert pt.source_path == f"iclr2022/{pid}.txt"
        assert pt.cleaning == CLEANING_VERSION
        assert pt.source_sha256 == hashlib.sha256((root / pt.source_path).read_bytes()).hexdigest()
        assert len(pt.text) > 5000, pid
        assert "\x00" not in pt.text and "\r" not in pt.text
        assert not any(ord(c) < 32 and c not in "\n\t" for c in pt.text), pid
        assert "conference paper at ICLR" not in pt.text, pid
        assert pt.text.startswith("# "), pid
        assert "kept_from_abstract" in pt.cleaning_applied, pid


def test_most_corpus_texts_are_cut_at_references(markdown_papers: dict[str, PaperText]) -> None:
    uncut = sorted(pid for pid, pt in markdown_papers.items() if "cut_at_references" not in pt.cleaning_applied)
    print(f"not cut at references ({len(uncut)}): {uncut}")
    assert len(uncut) <= 3  # tDirSp3pczB: its parsed text has no reference list at all
    for pt in markdown_papers.values():
        if "cut_at_references" in pt.cleaning_applied:
            assert "\nREFERENCES\n" not in pt.text


def test_corpus_texts_are_idempotent(markdown_papers: dict[str, PaperText]) -> None:
    for pid, pt in markdown_papers.items():
        assert clean(pt.text) == pt.text, pid


def test_corpus_appendix_references_case(markdown_papers: dict[str, PaperText]) -> None:
    pt = markdown_papers["cU8rknuhxc"]
    assert "B COVERAGE METRICS" not in pt.text
    assert "Joshua Achiam" not in pt.text


# ---------------------------------------------------------------------------------------------
# The papers folder index


def _touch(p: Path, data: bytes = b"x") -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def test_directory_indexes_names_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _touch(tmp_path / "-29uFS4FiDZ.txt")
    _touch(tmp_path / "abc.md")
    _touch(tmp_path / "ABC.pdf")
    _touch(tmp_path / "abc.pdf")
    _touch(tmp_path / "e_print1.tar.gz")
    _touch(tmp_path / "e2.tgz")
    _touch(tmp_path / "e3.gz")
    _touch(tmp_path / "t1.tex")
    _touch(tmp_path / "folder_id" / "main.tex")
    _touch(tmp_path / "folder_id" / "sec" / "intro.tex")
    _touch(tmp_path / "iclr2022" / "nested_1.txt")
    _touch(tmp_path / "iclr2022" / "nested_dir" / "paper.tex")
    _touch(tmp_path / "iclr2022" / "deeper" / "too_deep.txt")
    _touch(tmp_path / ".hidden.txt")
    _touch(tmp_path / "notes.json")

    def no_reading(*_a: object, **_k: object) -> None:
        raise AssertionError("PapersDirectory read a file while indexing")

    with monkeypatch.context() as m:
        m.setattr(builtins, "open", no_reading)
        m.setattr(io, "open", no_reading)
        d = PapersDirectory(tmp_path)
    assert d.ids() == sorted(
        ["-29uFS4FiDZ", "abc", "ABC", "e_print1", "e2", "e3", "t1", "folder_id", "nested_1", "nested_dir"]
    )
    assert d.sources("abc") == (PaperFile("markdown", "abc.md"), PaperFile("pdf", "abc.pdf"))
    assert d.sources("ABC") == (PaperFile("pdf", "ABC.pdf"),)
    assert d.sources("folder_id") == (PaperFile("latex", "folder_id"),)
    assert d.sources("nested_1") == (PaperFile("text", "iclr2022/nested_1.txt"),)
    assert d.sources("nested_dir") == (PaperFile("latex", "iclr2022/nested_dir"),)
    assert d.sources("too_deep") == ()
    assert "-29uFS4FiDZ" in d and len(d) == 10


def test_read_prefers_and_returns_none(tmp_path: Path) -> None:
    _touch(tmp_path / "p1.md", b"# T\n\nABSTRACT\n\nfrom markdown\n")
    _touch(tmp_path / "p1.txt", b"T\n\nABSTRACT\n\nfrom text\n")
    d = PapersDirectory(tmp_path)
    pt = d.read("p1")
    assert pt is not None and pt.source == "markdown" and "from markdown" in pt.text
    pt = d.read("p1", prefer=("text", "markdown"))
    assert pt is not None and pt.source == "text" and pt.source_path == "p1.txt"
    assert d.read("p1", prefer=("pdf",)) is None
    assert d.read("missing") is None


def test_read_rejects_broken_text_with_reasons(tmp_path: Path) -> None:
    _touch(tmp_path / "latin.txt", "ABSTRACT\nna\u00efve caf\u00e9".encode("latin-1"))
    _touch(tmp_path / "blank.txt", b"\x00\x00\r\n  \n\x01")
    _touch(tmp_path / "bom.txt", "\ufeffABSTRACT\nok".encode())
    d = PapersDirectory(tmp_path)
    with pytest.raises(RecordError) as e:
        d.read("latin")
    assert e.value.reason == "text_not_utf8"
    with pytest.raises(RecordError) as e:
        d.read("blank")
    assert e.value.reason == "text_empty_after_cleaning"
    pt = d.read("bom")
    assert pt is not None and pt.text == "ABSTRACT\nok\n"


# ---------------------------------------------------------------------------------------------
# PDFs


@pytest.fixture(scope="module")
def corpus_pdfs() -> dict[str, tuple[PaperText, float]]:
    d = PapersDirectory(corpus_dir("papers", "pdf"))
    out = {}
    for pid in d.ids():
        t0 = time.perf_counter()
        pt = d.read(pid)
        out[pid] = (pt, time.perf_counter() - t0)
    return out  # type: ignore[return-value]


@pytest.mark.slow  # the corpus's real PDFs (the corpus_pdfs fixture), with the default (fast) extractor
def test_corpus_pdfs_extract_with_the_default_extractor(corpus_pdfs: dict[str, tuple[PaperText, float]]) -> None:
    assert sorted(corpus_pdfs) == sorted(PDF_IDS)
    for pid, (pt, seconds) in corpus_pdfs.items():
        print(f"{pid}: {seconds:.2f} s, {len(pt.text)} chars, {pt.cleaning_applied}")
        assert pt.source == "pdf:pymupdf-layout"  # issue 16: the fast path is the default
        assert pt.source_path == f"{pid}.pdf"
        assert len(pt.text) > 20000
        assert pt.text.startswith("# ")
        assert "ABSTRACT" in pt.text[:2000]
        assert "cut_at_references" in pt.cleaning_applied
        assert "conference paper at ICLR" not in pt.text
        assert "**017**" not in pt.text


def _tiny_pdf(path: Path, words: str = "Hello fallback world") -> None:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), words)
    doc.save(path)
    doc.close()


def test_garbage_pdf_is_unreadable_with_every_extractor_named(tmp_path: Path) -> None:
    p = tmp_path / "garbage.pdf"
    p.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
    with pytest.raises(RecordError) as e:
        extract_pdf_text(p)
    assert e.value.reason == "pdf_unreadable"
    for name in ("pdf:pymupdf-layout", "pdf:pymupdf", "pdf:pypdf"):
        assert name in e.value.detail
    with pytest.raises(RecordError) as e:
        extract_pdf_text(p, "pdf:pymupdf4llm")
    for name in ("pdf:pymupdf4llm", "pdf:pymupdf", "pdf:pypdf"):
        assert name in e.value.detail
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(RecordError) as e:
        PapersDirectory(tmp_path).read("empty")
    assert e.value.reason == "pdf_unreadable"


def test_truncated_real_pdf_is_a_reasoned_reject(tmp_path: Path) -> None:
    # Issue 11: a cut-off PDF used to give the text of its first pages as if it were the whole paper.
    data = (corpus_dir("papers", "pdf") / "6w9qffvXkq.pdf").read_bytes()
    (tmp_path / "half.pdf").write_bytes(data[: len(data) // 2])
    (tmp_path / "head.pdf").write_bytes(data[:2000])
    d = PapersDirectory(tmp_path)
    for pid in ("half", "head"):
        with pytest.raises(RecordError) as e:
            d.read(pid)
        assert e.value.reason in ("pdf_truncated", "pdf_unreadable")


def test_fallback_chain_when_extractors_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pymupdf
    import pymupdf4llm
    from pymupdf4llm.helpers import pymupdf_rag

    p = tmp_path / "tiny.pdf"
    _tiny_pdf(p)
    text, source = extract_pdf_text(p)
    assert source == "pdf:pymupdf-layout" and "Hello fallback world" in text
    text, source = extract_pdf_text(p, "pdf:pymupdf4llm")  # the full-fidelity path, by name
    assert source == "pdf:pymupdf4llm" and "Hello fallback world" in text

    def broken(*_a: object, **_k: object) -> str:
        raise RuntimeError("simulated pymupdf4llm failure")

    monkeypatch.setattr(pymupdf_rag, "to_markdown", broken)
    monkeypatch.setattr(pymupdf4llm, "to_markdown", broken)
    text, source = extract_pdf_text(p, "pdf:pymupdf4llm")
    assert source == "pdf:pymupdf" and "Hello fallback world" in text

    monkeypatch.setattr(pymupdf, "open", broken)
    text, source = extract_pdf_text(p, "pdf:pymupdf4llm")
    assert source == "pdf:pypdf" and "Hello fallback world" in text
    text, source = extract_pdf_text(p)  # the default's fallbacks are the same plain extractors
    assert source == "pdf:pypdf" and "Hello fallback world" in text

    import pypdf

    monkeypatch.setattr(pypdf, "PdfReader", broken)
    with pytest.raises(RecordError) as e:
        extract_pdf_text(p, "pdf:pymupdf4llm")
    assert e.value.reason == "pdf_unreadable"
    assert e.value.detail.count("simulated pymupdf4llm failure") == 3


def test_blank_pdf_pages_are_unreadable(tmp_path: Path) -> None:
    import pymupdf

    p = tmp_path / "blank.pdf"
    doc = pymupdf.open()
    doc.new_page()
    doc.save(p)
    doc.close()
    with pytest.raises(RecordError) as e:
        extract_pdf_text(p)
    assert e.value.reason == "pdf_unreadable"
    assert "empty text" in e.value.detail


def test_extractor_registry_order() -> None:
    # issue 16: the fast layout extractor first by default; pymupdf4llm's chain by name
    assert [name for name, _fn in text_mod.pdf_extractor_chain()] == ["pdf:pymupdf-layout", "pdf:pymupdf", "pdf:pypdf"]
    assert [name for name, _fn in text_mod.pdf_extractor_chain(text_mod.PDF_FULL)] == [
        "pdf:pymupdf4llm", "pdf:pymupdf", "pdf:pypdf"]
    with pytest.raises(ValueError, match="unknown PDF extractor"):
        text_mod.PapersDirectory(Path(__file__).parent, pdf_extractor="pdf:nope")
