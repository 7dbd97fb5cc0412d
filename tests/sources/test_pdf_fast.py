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


# Red-team round (issue 16): a scanned paper (page images, no text layer) is a counted reason, not a row of
# the few words a scanner or arXiv stamps on each page.


def _scan(path, pages, stamp=""):
    import pymupdf

    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 120, 160), 0)
    pix.clear_with(230)
    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page()
        page.insert_image(page.rect, pixmap=pix)
        if stamp:
            page.insert_text((20, 20), f"{stamp} {i + 1}")
    doc.save(path)
    doc.close()
    return path


@pytest.mark.parametrize("extractor", [PDF_DEFAULT, "pdf:pymupdf", "pdf:pypdf"])
def test_a_scanned_pdf_with_a_stamp_on_each_page_is_no_text_layer(tmp_path, extractor):
    from cyclebench.records import RecordError

    pdf = _scan(tmp_path / "scan.pdf", 8, "arXiv:2401.00001v1 [cs.CL] 1 Jan 2024")
    with pytest.raises(RecordError) as exc:
        extract_pdf_text(pdf, extractor)
    assert exc.value.reason == "pdf_no_text_layer"
    assert "8 of 8 pages" in exc.value.detail and "OCR" in exc.value.detail


def test_a_scanned_pdf_is_a_counted_reject_of_the_directory(tmp_path):
    from cyclebench.records import RecordError
    from cyclebench.sources.text import PapersDirectory

    _scan(tmp_path / "p1.pdf", 3, "page")
    with pytest.raises(RecordError) as exc:
        PapersDirectory(tmp_path).read("p1")
    assert exc.value.reason == "pdf_no_text_layer"


def test_short_text_pdfs_without_images_and_papers_with_a_few_figure_pages_still_read(tmp_path):
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Hello short world")  # tiny, but a text layer: kept
    doc.save(tmp_path / "tiny.pdf")
    doc.close()
    assert extract_pdf_text(tmp_path / "tiny.pdf")[0].strip() == "Hello short world"
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 50, 50), 0)
    doc = pymupdf.open()
    for i in range(4):  # 3 text pages, 1 full-page figure
        page = doc.new_page()
        if i == 3:
            page.insert_image(page.rect, pixmap=pix)
        else:
            page.insert_textbox(pymupdf.Rect(50, 50, 550, 800), "Body text of the paper. " * 60)
    doc.save(tmp_path / "paper.pdf")
    doc.close()
    assert "Body text" in extract_pdf_text(tmp_path / "paper.pdf")[0]
