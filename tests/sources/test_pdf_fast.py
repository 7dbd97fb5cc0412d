"""The fast PDF extractor (cyclebench.sources.pdf_layout), the default since issue 16: headings by font size,
gutters dropped, paragraphs joined; on the corpus PDFs it keeps the headings, captions and references cut of
pymupdf4llm's markdown (the benchmark measures that against pymupdf4llm; here its shape is checked)."""

from __future__ import annotations

import pytest

from cyclebench.sources.pdf_layout import pages_to_markdown, pdf_layout_markdown
from cyclebench.sources.text import PDF_DEFAULT, PDF_FULL, clean_paper_text, extract_pdf_text

from .test_text import PDF_IDS, corpus_dir


def span(text, size=10.0, bold=False):
    return {"text": text, "size": size, "flags": 16 if bold else 4}


def line(*spans, y=0.0, x=(0.0, 100.0)):
    return {"spans": list(spans), "bbox": (x[0], y, x[1], y + 10)}


def block(*lines):
    return {"lines": list(lines)}


def test_headings_by_size_and_bold_paragraphs_joined():
    body = "word " * 40
    pages = [[
        block(line(span("A Title Set Large", 17.0))),
        block(line(span("1", 12.0), y=50, x=(0, 10)), line(span("INTRODUCTION", 12.0), y=50, x=(20, 100))),
        block(line(span(body.strip()), y=70), line(span("continued and hyph-"), y=80), line(span("enated."), y=90)),
        block(line(span("Run-in Title", bold=True), y=100)),
        block(line(span("Figure 1: A caption."), y=120)),
        block(line(span("axis label"), y=130), line(span("Table 2: Results."), y=140)),
    ]]
    md = pages_to_markdown(pages)
    assert md.splitlines()[0] == "# A Title Set Large"
    assert "## 1 INTRODUCTION" in md  # the number and the title on one row are one heading
    assert "axis label\n\nTable 2: Results." in md  # a caption starts its own paragraph
    assert "continued and hyph-enated." in md and "**Run-in Title**" in md and "Figure 1: A caption." in md


def test_line_number_gutter_dropped_only_when_it_is_a_gutter():
    text = [block(line(span("Some text of the paper body that is long enough to be the body font.")))]
    few = [block(line(span("100")), line(span("200")))]
    assert "100" in pages_to_markdown([text + few])  # a table cell survives
    gutter = [block(*[line(span(f"{n:03d}", 8.0, bold=True), y=n) for n in range(25)])]
    md = pages_to_markdown([text + gutter])
    assert "024" not in md and "Some text" in md


def test_empty_and_odd_blocks():
    assert pages_to_markdown([]) == ""
    assert pages_to_markdown([[block(line(span("   ")))]]) == ""
    md = pages_to_markdown([[block(line(span("x" * 300, 20.0)))]])  # too long for a heading: a paragraph
    assert md.strip() == "x" * 300


def test_unknown_extractor_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown PDF extractor 'pdf:fast'"):
        extract_pdf_text(tmp_path / "x.pdf", "pdf:fast")


def test_corpus_pdfs_keep_headings_captions_and_the_references_cut():
    from cyclebench.builders.paper_extract import split_text_sections, text_figures

    folder = corpus_dir("papers", "pdf")
    for pid in PDF_IDS:
        raw, source = extract_pdf_text(folder / f"{pid}.pdf")
        assert source == PDF_DEFAULT == "pdf:pymupdf-layout" and raw == pdf_layout_markdown(str(folder / f"{pid}.pdf"))
        text, ops = clean_paper_text(raw)
        assert "cut_at_references" in ops and "title_kept" in ops, (pid, ops)
        title, abstract, sections, _notes = split_text_sections(text)
        headings = [s.heading.lower() for s in sections]
        assert title and len(abstract) > 300 and "introduction" in headings[0] and len(headings) >= 8, (pid, headings)
        assert len(text_figures(sections)) >= 3, pid
        assert "conference paper at ICLR" not in text and "\n017\n" not in text


@pytest.mark.slow  # pymupdf4llm on one corpus PDF (~3 s)
def test_full_fidelity_path_by_name():
    raw, source = extract_pdf_text(corpus_dir("papers", "pdf") / "6w9qffvXkq.pdf", PDF_FULL)
    assert source == "pdf:pymupdf4llm" and "cut_at_references" in clean_paper_text(raw)[1]
