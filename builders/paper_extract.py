"""One paper's source (LaTeX, markdown/text, or PDF) to sections, captions and its bibliography.

The Research-14K builder needs more structure than a cleaned text: numbered sections to split the paper
into the generator's two parts, the captions (and table rows) of figures and tables for the experimental
results turn, and the bibliography for the references turn. Everything here is pure given the file
bytes, so the builder can run it on any number of processes. Files are read only through
``cyclebench.sources.confined`` (inside the caller's input folders, regular files, within ``SourceLimits``),
so a hostile or careless source is a reasoned reject of that paper, never a hang or a crash.

* LaTeX (folder, ``.tex``, arXiv ``.tar.gz``/``.gz``): ``cyclebench.sources.latex`` finds the main file,
  resolves includes, strips comments and acknowledgements and splits sections; ``check_latex_structure``
  then rejects sources that would not compile (no ``\\end{document}``, unbalanced braces, an environment
  closed by the wrong ``\\end``): without a TeX installation this is the structural part of "does it
  compile", and it catches truncated or hand-broken sources that the tolerant parser would read anyway.
  References: the ``.bib`` files (bibtexparser), else, when allowed, the ``.bbl`` or an inline
  ``thebibliography`` (``\\bibitem`` entries).
* Markdown/text and PDF (fallbacks when no LaTeX exists): the text is cleaned with ``clean_paper_text``
  (``clean-v1``) and split at its headings by ``split_text_sections``: markdown ``#`` headings and plain
  numbered headings (``3.1 SENSE EMBEDDING MODEL``) that continue the numbering of the previous heading
  (so table rows and sentences starting with a number are not taken for headings), and the usual
  unnumbered names (Abstract, Related Work, Conclusion, ...). References come from the reference list
  that cleaning cuts off (one ``@misc`` per reference). A PDF is read only when it is whole and within
  ``SourceLimits.max_pdf_pages`` (``cyclebench.sources.text.check_pdf``: ``pdf_truncated``,
  ``pdf_too_many_pages``).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cyclebench.builders.bibtex import (
    BibParse,
    cited_keys,
    parse_bbl,
    parse_bibtex,
    references_from_text,
)
from cyclebench.records import RecordError
from cyclebench.sources import confined
from cyclebench.sources.confined import DEFAULT_LIMITS, SourceLimits
from cyclebench.sources.latex import mask_verbatim

SourceKind = Literal["latex", "markdown", "text", "pdf"]
EXTRACTOR_VERSION = "extract-v1"


@dataclass(frozen=True, slots=True)
class PaperSection:
    heading: str
    level: int  # 1 section, 2 subsection, ...; 0 part/chapter
    number: str  # "3.1"; "" when unnumbered
    text: str
    appendix: bool = False


@dataclass(frozen=True, slots=True)
class PaperFigure:
    kind: Literal["figure", "table"]
    number: str
    label: str  # the LaTeX \label, "" when unknown
    caption: str
    content: str  # table rows as "| a | b |" lines; "" for figures and tables without rows
    section: int  # index into ExtractedPaper.sections, -1 when not located
    appendix: bool = False


@dataclass(frozen=True, slots=True)
class ExtractedPaper:
    """What a paper's source yields before any outline or formatting."""

    title: str
    abstract: str
    sections: tuple[PaperSection, ...]
    figures: tuple[PaperFigure, ...]
    bib: BibParse | None  # None: the source has no bibliography at all
    cited: tuple[str, ...]  # cited keys in first-citation order (text-list references: all of them)
    source_kind: str  # "latex", "markdown", "text", "pdf:pymupdf4llm", ...
    source_sha256: str
    # What extraction removed or noticed ("acknowledgements", "bibliography", "missing_include:fig.tex",
    # cleaning operations, "bib_failed_blocks:2") for the manifest.
    notes: tuple[str, ...] = ()
    pages: int | None = None  # PDFs only


# ---------------------------------------------------------------------------------------------
# Files


Roots = Sequence[str | os.PathLike[str]]


def _roots(path: Path, roots: Roots | None) -> Roots:
    """The input folders ``path`` must lie in; by default where it is (the caller vouches for it)."""
    if roots is not None:
        return roots
    real = os.path.realpath(path)
    return (real if os.path.isdir(real) else os.path.dirname(real),)


def check_not_empty(path: Path, roots: Roots | None = None, limits: SourceLimits = DEFAULT_LIMITS) -> None:
    """``source_empty`` for a 0-byte file or a folder whose entries are all empty files (or that has none).

    The path is first confined (``outside_input``, ``not_a_regular_file``, ``symlink_loop``, ...). In a
    folder any entry that is not an empty regular file counts as content: reading it later gives the
    precise reason (a FIFO ``main.tex`` is ``not_a_regular_file``, not ``source_empty``).
    """
    real = confined.resolve_inside(path, _roots(path, roots))
    if os.path.isdir(real):
        for _rel, full in confined.tree_files(real):
            try:
                st = os.lstat(full)
            except OSError:
                return  # vanished while listed: reading it gives the reason
            if not stat.S_ISREG(st.st_mode) or st.st_size > 0:
                return
        raise RecordError("source_empty", f"{path.name}/ holds no non-empty file")
    _real, size = confined.regular_file(path, _roots(path, roots), limits.max_file_bytes)
    if size == 0:
        raise RecordError("source_empty", f"{path.name} is 0 bytes")


# ---------------------------------------------------------------------------------------------
# Does the LaTeX compile (structurally)?


_BEGIN_END_RE = re.compile(r"\\(begin|end)\s*\{([^{}]*)\}")


def check_latex_structure(tex: str, name: str = "") -> None:
    """Raise ``RecordError`` when the resolved, comment-free source could not compile.

    ``latex_missing_end_document``: ``\\begin{document}`` without ``\\end{document}`` after it (a
    truncated file). ``latex_unbalanced_braces``: a ``}`` with nothing open, or a ``{`` never closed
    (escaped ``\\{``/``\\}``, ``\\verb`` and verbatim environments do not count).
    ``latex_unbalanced_environment``: in the document body, an ``\\end{x}`` that closes a different
    ``\\begin{y}``, or one never closed. Structural checks only (no TeX run): an undefined macro passes.
    """
    where = f"{name}: " if name else ""
    tex = mask_verbatim(tex)
    begin = re.search(r"\\begin\s*\{document\}", tex)
    if begin is None:
        raise RecordError("latex_no_document", f"{where}no \\begin{{document}}")
    end = re.search(r"\\end\s*\{document\}", tex[begin.end() :])
    if end is None:
        raise RecordError("latex_missing_end_document", f"{where}\\begin{{document}} is never closed (truncated source?)")
    body_start, body_end = begin.end(), begin.end() + end.start()
    stack: list[tuple[str, int]] = []
    opened: list[int] = []  # line of every open brace
    i, n, line = 0, len(tex), 1
    while i < n:
        c = tex[i]
        if c == "\n":
            line += 1
        elif c == "\\":
            m = _BEGIN_END_RE.match(tex, i)
            if m is None:
                i += 2
                continue
            env = m.group(2).strip()
            if body_start <= i < body_end and env != "document":
                if m.group(1) == "begin":
                    stack.append((env, line))
                elif not stack:
                    raise RecordError("latex_unbalanced_environment", f"{where}line {line}: \\end{{{env}}} with no open environment")
                else:
                    open_env, open_line = stack.pop()
                    if open_env != env:
                        raise RecordError("latex_unbalanced_environment",
                                          f"{where}line {line}: \\end{{{env}}} closes \\begin{{{open_env}}} of line {open_line}")
            line += tex.count("\n", i, m.end())
            i = m.end()
            continue
        elif c == "{":
            opened.append(line)
        elif c == "}":
            if not opened:
                raise RecordError("latex_unbalanced_braces", f"{where}line {line}: '}}' with no open '{{'")
            opened.pop()
        i += 1
    if opened:
        raise RecordError("latex_unbalanced_braces", f"{where}{len(opened)} '{{' never closed (the first at line {opened[0]})")
    if stack:
        env, open_line = stack[-1]
        raise RecordError("latex_unbalanced_environment", f"{where}\\begin{{{env}}} of line {open_line} is never closed")


# ---------------------------------------------------------------------------------------------
# LaTeX


_FLOAT_LINE_RE = re.compile(r"^(Figure|Table) (\d+)[:.]", re.MULTILINE)


def extract_latex(path: Path, *, bbl_fallback: bool = True, roots: Roots | None = None,
                  limits: SourceLimits = DEFAULT_LIMITS) -> ExtractedPaper:
    """A LaTeX source inside ``roots`` to an ``ExtractedPaper``; every failure is a ``RecordError``
    with a stable reason (the ``confined`` and ``latex`` bounds included)."""
    from cyclebench.sources import latex

    roots = _roots(path, roots)
    check_not_empty(path, roots, limits)
    digest = confined.sha256_source(path, roots, limits)
    source = latex.load_latex_source(path, limits, roots)
    check_latex_structure(source.text, source.main_file)
    try:
        doc = latex.parse_latex(source)
    except RecordError:
        raise
    except Exception as exc:  # a parser bug on odd input is a reject, not a crash
        raise RecordError("latex_unreadable", f"{type(exc).__name__}: {exc}") from exc
    notes = [*doc.removed, *(f"missing_include:{m}" for m in source.missing_includes)]
    bibs = {k: v for k, v in source.bib_texts.items() if k.lower().endswith(".bib")}
    bbls = {k: v for k, v in source.bib_texts.items() if k.lower().endswith(".bbl")}
    bib: BibParse | None = None
    if bibs:
        bib = parse_bibtex(bibs)
        if bib.failed_blocks:
            notes.append(f"bib_failed_blocks:{len(bib.failed_blocks)}")
        if not bib.entries and bbls and bbl_fallback:
            bib = parse_bbl("\n".join(bbls[k] for k in sorted(bbls)))
    elif bbls and bbl_fallback:
        bib = parse_bbl("\n".join(bbls[k] for k in sorted(bbls)))
    elif bbl_fallback and re.search(r"\\begin\s*\{thebibliography\}", source.text):
        # single-file e-prints often carry the bibliography inline
        bib = parse_bbl(source.text)
        bib = BibParse(bib.entries, bib.failed_blocks, bib.duplicate_keys, "thebibliography")
    sections = tuple(
        PaperSection(s.heading, s.level, s.number, s.text, s.appendix) for s in doc.sections
    )
    located = _locate_floats(sections)
    figures = []
    for cap in doc.captions:
        index, content = located.get((cap.kind, cap.number), (-1, ""))
        figures.append(PaperFigure(cap.kind, cap.number, cap.label or "", cap.text, content, index, cap.appendix))
    return ExtractedPaper(
        title=doc.title,
        abstract=doc.abstract,
        sections=sections,
        figures=tuple(figures),
        bib=bib,
        cited=cited_keys(mask_verbatim(source.text)),  # a \cite shown in verbatim cites nothing
        source_kind="latex",
        source_sha256=digest,
        notes=tuple(notes),
    )


def _locate_floats(sections: tuple[PaperSection, ...]) -> dict[tuple[str, str], tuple[int, str]]:
    """(kind, number) -> (section index, table rows) for the float paragraphs parse_latex left in the text."""
    out: dict[tuple[str, str], tuple[int, str]] = {}
    for index, section in enumerate(sections):
        lines = section.text.split("\n")
        for j, line in enumerate(lines):
            m = _FLOAT_LINE_RE.match(line)
            if not m:
                continue
            key = (m.group(1).lower(), m.group(2))
            if key in out:
                continue
            rows = []
            for nxt in lines[j + 1 :]:
                if nxt.startswith("| "):
                    rows.append(nxt)
                elif _FLOAT_LINE_RE.match(nxt):
                    continue  # side-by-side floats: several captions, then all the rows
                else:
                    break
            out[key] = (index, "\n".join(rows))
    return out


# ---------------------------------------------------------------------------------------------
# Markdown / text / PDF


_DECOR_RE = re.compile(r"^(?:[#>\s]|\*\*|__|\*|_|</?u>|</?b>)+|(?:\s|\*\*|__|\*|_|</?u>|</?b>)+$")
_NUMBERED_RE = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z][^\n]{0,118})$")
_NAMED_HEADINGS = {
    "abstract", "introduction", "relatedwork", "relatedworks", "background", "preliminaries", "method",
    "methods", "methodology", "experiments", "experiment", "results", "evaluation", "discussion",
    "conclusion", "conclusions", "conclusionandfuturework", "conclusionsandfuturework", "futurework",
    "limitations", "broaderimpact", "broaderimpacts", "ethicsstatement", "reproducibilitystatement",
    "acknowledgments", "acknowledgements", "acknowledgment", "acknowledgement", "references", "appendix",
}
_TITLE_CASE_NAMED = {
    "abstract", "references", "acknowledgments", "acknowledgements", "acknowledgment", "acknowledgement",
    "appendix", "relatedwork", "conclusion", "conclusions", "broaderimpact", "ethicsstatement",
    "reproducibilitystatement", "introduction",
}
_ACK_WORDS = {"acknowledgments", "acknowledgements", "acknowledgment", "acknowledgement"}
_REFERENCE_WORDS = {"references", "reference", "bibliography", "literaturecited"}
_MAX_HEADING_WORDS = 14


def _letters(line: str) -> str:
    return re.sub(r"[^a-z]", "", line.lower())


def _successor(prev: tuple[int, ...], num: tuple[int, ...]) -> bool:
    """Whether ``num`` can follow ``prev`` (next sibling, first child, or next at a shallower level;
    one missed top-level heading is tolerated)."""
    if not prev:
        return num in ((1,), (2,))
    if num == prev + (1,):
        return True
    for k in range(len(prev)):
        if len(num) == k + 1 and num[:k] == prev[:k] and num[k] in (prev[k] + 1, prev[k] + 2 if k == 0 else -1):
            return True
    return False


@dataclass(frozen=True, slots=True)
class _Heading:
    line: int
    body_start: int  # first line of the section's text
    heading: str
    level: int
    number: str
    named: str  # the letters of a named heading ("abstract"), "" for numbered ones


_INLINE_MARKUP_RE = re.compile(r"</?[a-z]+>|\*\*|__")
_LONE_NUMBER_RE = re.compile(r"^\d{1,2}(?:\.\d{1,2}){0,3}\.?$")
_ROMAN_OR_NUMBER_RE = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}|[IVX]{1,4})\.?\s+")


def _heading_title_ok(title: str) -> bool:
    """Short, not ending like a sentence, and set like a heading: mostly capitals (ICLR), Title Case,
    or a short sentence-case phrase without digits or brackets ("Related work")."""
    if not title or not title[0].isupper() or re.search(r"[.,;:=|]$", title) or title.count(",") > 1:
        return False
    if re.match(r"^(?:Algorithm|Table|Figure|Fig\.)\s*\d", title):
        return False
    words = title.split()
    if len(words) > _MAX_HEADING_WORDS:
        return False
    letters = [c for c in title if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) >= 0.6 * len(letters):
        return True
    long_words = [w.strip("()[]:-\u2013") for w in words]
    long_words = [w for w in long_words if len(w) >= 4 and w.isalpha()]
    if long_words and all(w[0].isupper() for w in long_words):
        return True
    return len(words) <= 4 and len(words[0]) >= 3 and not re.search(r"[\d()\[\]]", title)


def _named_heading_ok(core: str, raw: str) -> bool:
    """Unnumbered named headings: in capitals, or in Title Case for the names that do not also occur
    as table cells ("Method", "Results" do)."""
    letters = [c for c in core if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return True
    return _letters(core) in _TITLE_CASE_NAMED


def find_headings(lines: list[str]) -> list[_Heading]:
    """Headings of a cleaned markdown/text paper (see the module docstring for the rules).

    PDF extractors sometimes put the number on a line of its own (``1`` then ``INTRODUCTION``); the two
    lines are read as one heading.
    """
    out: list[_Heading] = []
    prev: tuple[int, ...] = ()
    skip_until = -1
    # Texts whose paragraphs are separated by blank lines set headings apart too; there a line with
    # text right before and after it (a table row "7 WRN ...") is not a heading.
    spaced = sum(1 for line in lines if not line.strip()) > 0.08 * max(1, len(lines))
    for i, raw in enumerate(lines):
        if i <= skip_until or len(raw) > 160 or not raw.strip():
            continue
        if spaced and 0 < i < len(lines) - 1 and lines[i - 1].strip() and lines[i + 1].strip():
            continue
        core = _INLINE_MARKUP_RE.sub("", _DECOR_RE.sub("", raw)).strip()
        if not core:
            continue
        number = title = None
        body_start = i + 1
        m = _NUMBERED_RE.match(core)
        if m:
            number, title = m.group("num"), m.group("title").strip()
        elif _LONE_NUMBER_RE.match(core):
            j = i + 1
            if j < len(lines):
                nxt = _DECOR_RE.sub("", lines[j]).strip()
                if nxt and len(nxt) < 120:
                    number, title, body_start = core.rstrip("."), nxt, j + 1
        if number is not None and title is not None and _heading_title_ok(title):
            num = tuple(int(x) for x in number.split("."))
            if _successor(prev, num):
                prev = num
                out.append(_Heading(i, body_start, title, len(num), number, ""))
                skip_until = body_start - 1
                continue
        if number is None:
            letters = _letters(_ROMAN_OR_NUMBER_RE.sub("", core))
            if letters in _NAMED_HEADINGS and len(core) < 60 and _named_heading_ok(core, raw):
                out.append(_Heading(i, i + 1, core, 1, "", letters))
    return out


def split_text_sections(text: str) -> tuple[str, str, tuple[PaperSection, ...], tuple[str, ...]]:
    """``(title, abstract, sections, notes)`` of a cleaned markdown/text paper.

    The title is the ``# Title`` line cleaning wrote; the abstract is the text under the Abstract
    heading (or, without one, before the first heading); acknowledgement sections are dropped and
    noted; text before the abstract is not a section.
    """
    lines = text.split("\n")
    title = ""
    for line in lines[:5]:
        if line.startswith("# "):
            title = re.sub(r"\s+", " ", line[2:]).strip()
            break
    heads = find_headings(lines)
    notes: list[str] = []
    abstract = ""
    sections: list[PaperSection] = []
    if heads and heads[0].named != "abstract":
        start = 1 if title and lines and lines[0].startswith("# ") else 0
        pre = "\n".join(lines[start : heads[0].line]).strip()
        abstract = pre
    for k, h in enumerate(heads):
        end = heads[k + 1].line if k + 1 < len(heads) else len(lines)
        body = "\n".join(lines[h.body_start : end]).strip()
        body = re.sub(r"\n{3,}", "\n\n", body)
        if h.named == "abstract":
            abstract = body
            continue
        if h.named in _ACK_WORDS:
            notes.append("acknowledgements")
            continue
        if h.named in _REFERENCE_WORDS:
            continue
        sections.append(PaperSection(h.heading, h.level, h.number, body))
    if not heads:
        abstract = ""
    return title, _paragraphs(abstract), tuple(sections), tuple(notes)


def _paragraphs(text: str) -> str:
    """Reflow hard-wrapped lines into paragraphs (PDF extractors wrap at the column width)."""
    paras = [re.sub(r"\s*\n\s*", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paras if p)


_CAPTION_RE = re.compile(r"^\W{0,6}(Figure|Fig\.|Table)\s*(\d{1,3})\s*[:.|]\**\s*(?P<rest>\S.*)$")


def text_figures(sections: tuple[PaperSection, ...]) -> tuple[PaperFigure, ...]:
    """Captions written as ``Table 2: ...``/``**Figure 3.** ...`` lines, with adjacent ``|`` table rows."""
    seen: set[tuple[str, str]] = set()
    out: list[PaperFigure] = []
    for index, section in enumerate(sections):
        lines = section.text.split("\n")
        for j, line in enumerate(lines):
            m = _CAPTION_RE.match(line.strip())
            if not m:
                continue
            kind = "table" if m.group(1) == "Table" else "figure"
            key = (kind, m.group(2))
            if key in seen:
                continue
            seen.add(key)
            caption = [m.group("rest").strip("* ")]
            k = j + 1
            while k < len(lines) and lines[k].strip() and not lines[k].lstrip().startswith("|"):
                caption.append(lines[k].strip())
                k += 1
            content = ""
            if kind == "table":
                after = _table_block(lines, k)
                content = after or _table_block_before(lines, j)
            out.append(PaperFigure(kind, m.group(2), "", re.sub(r"\s+", " ", " ".join(caption)).strip(), content, index))
    return tuple(out)


def _table_block(lines: list[str], start: int) -> str:
    k = start
    while k < len(lines) and not lines[k].strip() and k - start < 2:
        k += 1
    rows = []
    while k < len(lines) and lines[k].lstrip().startswith("|"):
        rows.append(lines[k].strip())
        k += 1
    return "\n".join(rows)


def _table_block_before(lines: list[str], end: int) -> str:
    k = end - 1
    while k >= 0 and not lines[k].strip() and end - k < 3:
        k -= 1
    rows = []
    while k >= 0 and lines[k].lstrip().startswith("|"):
        rows.append(lines[k].strip())
        k -= 1
    return "\n".join(reversed(rows))


def reference_lines(raw: str) -> list[str] | None:
    """The lines of the reference list of an extracted text (after its last-before-appendix
    references heading), or None when there is no such heading."""
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = None
    for i, line in enumerate(lines):
        core = _DECOR_RE.sub("", line).strip()
        if len(core) < 40 and re.sub(r"^\d+\s*", "", _letters(core)) in _REFERENCE_WORDS:
            start = i
            break
    if start is None:
        return None
    out = []
    for line in lines[start + 1 : start + 2000]:
        core = _DECOR_RE.sub("", line).strip()
        if re.match(r"^(?:[A-H](?:\.\d+)?\s+[A-Z][A-Z ]{3,}|APPENDIX\b|Appendix\s*$)", core):
            break
        out.append(line)
    return out


def extract_text_paper(path: Path, kind: SourceKind, *, roots: Roots | None = None,
                       limits: SourceLimits = DEFAULT_LIMITS) -> ExtractedPaper:
    """A markdown/text file or a PDF inside ``roots`` to an ``ExtractedPaper`` (sections from its headings)."""
    from cyclebench.sources.text import (
        check_pdf,
        clean_paper_text,
        decode_text_file,
        extract_pdf_text,
    )

    roots = _roots(path, roots)
    real, size = confined.regular_file(path, roots, limits.max_file_bytes)  # a folder here is not a paper file
    if size == 0:
        raise RecordError("source_empty", f"{path.name} is 0 bytes")
    pages = None
    if kind == "pdf":
        digest = confined.sha256_file(real, roots, limits.max_file_bytes)
        pages = check_pdf(real, roots, limits)  # pdf_truncated / pdf_too_many_pages before extracting
        raw, source_kind = extract_pdf_text(real)
    else:
        data = confined.read_file(path, roots, limits.max_file_bytes)
        digest = hashlib.sha256(data).hexdigest()
        raw = decode_text_file(data)
        source_kind = kind
    cleaned, ops = clean_paper_text(raw)
    if not cleaned.strip():
        raise RecordError("text_empty_after_cleaning", f"{path.name} ({len(raw)} characters before cleaning)")
    title, abstract, sections, notes = split_text_sections(cleaned)
    ref_lines = reference_lines(raw)
    bib = references_from_text(ref_lines) if ref_lines else None
    return ExtractedPaper(
        title=title,
        abstract=abstract,
        sections=sections,
        figures=text_figures(sections),
        bib=bib,
        cited=tuple(bib.entries) if bib else (),
        source_kind=source_kind,
        source_sha256=digest,
        notes=tuple(notes) + tuple(ops),
        pages=pages,
    )


def extract_paper(path: Path, kind: SourceKind, *, bbl_fallback: bool = True, roots: Roots | None = None,
                  limits: SourceLimits = DEFAULT_LIMITS) -> ExtractedPaper:
    """One paper's source inside ``roots`` (default: where it is) to an ``ExtractedPaper``."""
    if kind == "latex":
        return extract_latex(path, bbl_fallback=bbl_fallback, roots=roots, limits=limits)
    return extract_text_paper(path, kind, roots=roots, limits=limits)


__all__ = [
    "EXTRACTOR_VERSION",
    "ExtractedPaper",
    "PaperFigure",
    "PaperSection",
    "check_latex_structure",
    "extract_latex",
    "extract_paper",
    "extract_text_paper",
    "find_headings",
    "split_text_sections",
    "text_figures",
]
