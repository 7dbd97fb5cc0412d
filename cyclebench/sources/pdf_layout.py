"""Fast markdown from a PDF with PyMuPDF's own text dictionary: headings by font size, paragraphs by block.

pymupdf4llm's classic engine spends ~85% of its time in multi-column detection and table finding, which
reviewer prompts do not need (papers here are single-column LaTeX output, and tables come out as lines of
text either way). This reads every page once with ``page.get_text("dict")`` (the same text layer
``get_text()`` reads, in its content-stream order) and writes:

* a heading ``#``/``##``/``###`` for a short line whose first character is set larger than the body font
  (the most common size by character count): the title, ``1 I NTRODUCTION`` in small caps and the
  like; the larger the size, the fewer ``#``;
* a heading ``**...**`` for a short line set wholly in bold at body size (run-in subsection titles);
* every other block as one paragraph, its lines joined with a space (a line ending in ``-`` is joined
  without one), blocks and pages separated by a blank line;
* no review-copy line-number gutter: blocks made only of three-digit numbers are dropped when a document
  holds at least 20 such lines (the threshold ``clean_paper_text`` uses for the bold gutter of
  pymupdf4llm output), so a table cell "100" in an ordinary paper stays.

Figure and table captions stay where the text layer has them, each starting a paragraph of its own
("Figure 2: ..."; labels of the figure set in the same block stay apart from it), the reference
list follows its heading, so cleaning cuts it as it cuts pymupdf4llm output. ``benchmarks/bench_speed.py``
measures the time against ``get_text()`` and the headings, captions and references against pymupdf4llm.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

_CAPTION_RE = re.compile(r"^(?:Figure|Fig\.|Table)\s*\d+\s*[:.]")
_GUTTER_RE = re.compile(r"^\s*\d{3}(?:\s+\d{3})*\s*$")
_MIN_GUTTER_LINES = 20
_MAX_HEADING_CHARS = 120
_BOLD = 16  # PyMuPDF span flag
_SIZE_STEP = 0.9  # points above the body size that make a heading


def _line_text(line: dict[str, Any]) -> str:
    return "".join(span["text"] for span in line["spans"]).strip()


def _rows(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines of a block that sit on one row (``2`` and ``BACKGROUND`` of a heading, split at the gap
    between them) merged into one line, left to right."""
    rows: list[dict[str, Any]] = []
    for line in lines:
        if rows:
            last = rows[-1]
            (_, y0, _, y1), (_, b0, _, b1) = last["bbox"], line["bbox"]
            overlap = min(y1, b1) - max(y0, b0)
            if overlap > 0.5 * min(y1 - y0, b1 - b0) and line["bbox"][0] >= last["bbox"][2] - 1:
                gap = [{"text": " ", "size": 0.0, "flags": _BOLD}]
                last["spans"] = last["spans"] + gap + line["spans"]
                last["bbox"] = (last["bbox"][0], min(y0, b0), line["bbox"][2], max(y1, b1))
                continue
        rows.append({"spans": list(line["spans"]), "bbox": tuple(line["bbox"])})
    return rows


def _first_span(line: dict[str, Any]) -> dict[str, Any] | None:
    return next((s for s in line["spans"] if s["text"].strip()), None)


def _body_size(pages: list[list[dict[str, Any]]]) -> float:
    sizes: Counter[float] = Counter()
    for blocks in pages:
        for block in blocks:
            for line in block["lines"]:
                for span in line["spans"]:
                    sizes[round(span["size"], 1)] += len(span["text"].strip())
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _is_gutter(block: dict[str, Any]) -> bool:
    lines = [_line_text(line) for line in block["lines"]]
    return bool(lines) and all(_GUTTER_RE.match(t) for t in lines if t) and any(lines)


def _heading(line: dict[str, Any], text: str, body: float, levels: dict[float, int]) -> str | None:
    if len(text) > _MAX_HEADING_CHARS or text.endswith((".", ",", ";")) and not re.match(r"^\d+\.?$", text):
        return None
    first = _first_span(line)
    if first is None:
        return None
    size = round(first["size"], 1)
    if size >= body + _SIZE_STEP and any(c.isalpha() for c in text):
        return "#" * levels.get(size, 3) + " " + text
    spans = [s for s in line["spans"] if s["text"].strip()]
    if spans and all(s["flags"] & _BOLD for s in spans) and any(c.isalpha() for c in text) and not _GUTTER_RE.match(text):
        return f"**{text}**"
    return None


def _join(lines: Iterable[str]) -> str:
    out = ""
    for text in lines:
        if not out:
            out = text
        elif out.endswith("-"):
            out += text
        else:
            out += " " + text
    return out


def pages_to_markdown(pages: list[list[dict[str, Any]]]) -> str:
    """Markdown of a document's text blocks (``page.get_text("dict")["blocks"]`` per page, text blocks only).

    Pure, so it is tested on hand-made blocks as well as on PDFs."""
    body = _body_size(pages)
    gutter = sum(len(b["lines"]) for blocks in pages for b in blocks if _is_gutter(b)) >= _MIN_GUTTER_LINES
    big = sorted({round(s["size"], 1) for blocks in pages for b in blocks for line in b["lines"]
                  for s in line["spans"][:1] if round(s["size"], 1) >= body + _SIZE_STEP}, reverse=True)
    levels = {size: min(i + 1, 3) for i, size in enumerate(big)}
    parts: list[str] = []
    for blocks in pages:
        for block in blocks:
            if gutter and _is_gutter(block):
                continue
            para: list[str] = []
            for line in _rows(block["lines"]):
                text = _line_text(line)
                if not text:
                    continue
                head = _heading(line, text, body, levels)
                if head is None:
                    if para and _CAPTION_RE.match(text):  # a caption set in the figure's block starts anew
                        parts.append(_join(para))
                        para = []
                    para.append(text)
                    continue
                if para:
                    parts.append(_join(para))
                    para = []
                parts.append(head)
            if para:
                parts.append(_join(para))
    return "\n\n".join(parts) + ("\n" if parts else "")


# A page with fewer non-space characters than this and an image on it is a page image without a text layer
# (a scan): a page of a paper holds thousands; a scanner's or arXiv's stamp a few dozen.
MIN_PAGE_CHARS = 200


def scanned_pages(path: str, text: str) -> tuple[int, int] | None:
    """``(pages that are images without a text layer, pages)`` of the PDF at ``path`` whose extracted text is
    ``text``; None when ``text`` is long enough for every page to hold a text layer (then no page is read
    again, so a paper costs one open) or PyMuPDF cannot read the file."""
    try:
        import pymupdf
    except ImportError:
        return None
    try:
        with pymupdf.open(path, filetype="pdf") as doc:
            pages = doc.page_count
            if not pages or len("".join(text.split())) >= MIN_PAGE_CHARS * pages:
                return None
            images = sum(1 for page in doc if page.get_images()
                         and len("".join(page.get_text().split())) < MIN_PAGE_CHARS)
            return images, pages
    except Exception:  # noqa: BLE001 - a file PyMuPDF refuses was read by another extractor; nothing to say
        return None


def no_text_layer(path: str, text: str) -> str | None:
    """Why the PDF at ``path`` is a scan whose ``text`` is only stamps and page numbers (more than half of
    its pages are images without a text layer), or None."""
    counted = scanned_pages(path, text)
    if counted is None or counted[0] * 2 <= counted[1]:
        return None
    return (f"{counted[0]} of {counted[1]} pages are images without a text layer (a scan; "
            f"{len(text.strip())} characters of text in all): OCR it first, e.g. ocrmypdf")


def pdf_layout_markdown(path: str) -> str:
    """Markdown of the PDF at ``path`` (see the module docstring); PyMuPDF is imported when called."""
    import pymupdf

    with pymupdf.open(path) as doc:
        pages = []
        for page in doc:
            blocks = page.get_text("dict", flags=pymupdf.TEXTFLAGS_TEXT)["blocks"]
            pages.append([b for b in blocks if b.get("type", 0) == 0 and b.get("lines")])
    return pages_to_markdown(pages)


__all__ = ["MIN_PAGE_CHARS", "no_text_layer", "pages_to_markdown", "pdf_layout_markdown", "scanned_pages"]
