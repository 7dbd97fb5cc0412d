"""Paper texts: find them on disk, extract them from PDFs, and clean them the same way every time.

Cleaning (``clean_paper_text``, version ``CLEANING_VERSION``) turns any extracted paper text into the
Review-5K shape "title + abstract onwards, body up to the references". Its operations, in order:

1. ``newlines_normalized``: ``\\r\\n`` and ``\\r`` (and U+2028/U+2029) become ``\\n``.
2. ``control_chars_removed``: C0/C1 control characters (NUL, ``\\x0c``, DEL, ...) are dropped, except
   ``\\n`` and ``\\t``; so are stray surrogates and the BOM. PDF extractors emit them for glyphs they
   could not map (ICLR 2022 texts have them in ~40% of files).
3. ``private_use_removed``: Unicode private-use code points (font-specific symbol glyphs) are dropped.
4. ``header_stripped``: every line that is only a venue running header ("Under review as a conference
   paper at ICLR 2022", "Published as a conference paper at ICLR 2024", "Workshop track - ICLR 2018",
   also wrapped in ``<u>``/``**``/``_``/``#`` by markdown extractors) is removed, wherever it occurs:
   the header repeats on every page of a PDF.
5. ``line_numbers_removed``: review-copy line-number gutters (lines that are only bold three-digit
   numbers like ``**017**``, as pymupdf4llm renders ICLR 2025 submissions) are removed, but only when
   there are at least 20 such lines, so a lone bold table value survives.
6. ``kept_from_abstract`` / ``no_abstract_heading``: the text is kept from the first abstract heading
   (``ABSTRACT``, ``# Abstract``, ``**Abstract**``, letter-spaced ``A B S T R A C T``, or a paragraph
   starting ``Abstract.``/``Abstract:``/``Abstract—``). Before it, only the title is kept (Review-5K is
   title + abstract onwards, so author names and affiliations go): the title is the first markdown
   heading line before the abstract, or else the first non-empty line, extended by directly following
   heading lines (pymupdf4llm splits long titles over ``#``/``##`` lines) or, for an all-caps title,
   following all-caps lines, at most 4 lines. It is written as one ``# Title`` line (``title_kept``);
   in-word splits like ``DISTIL## LATION`` are joined. Without an abstract heading nothing is dropped.
7. ``cut_at_references`` / ``no_references_heading``: the text is cut before the first references
   heading (``References``, ``REFERENCES``, ``Bibliography``, ``R E F E R E N C E S``,
   ``## 7 References``, ``**References**``, ...) after the abstract that is followed by a reference
   list (or by nothing); a line that merely looks like a heading but is followed by prose does not
   cut the paper. Not simply the last such line: an appendix with its own short reference list would
   then keep the main references and the appendix. Everything after the cut (the reference list and
   any appendix) is dropped: Review-5K and the reviewer prompts use the main paper only.
8. ``blank_lines_collapsed``: runs of 3+ blank lines become 2 (markdown extractors separate blocks
   with 2); trailing whitespace is stripped from every line, and blank lines and ``-----`` page
   separators from the end of the text.

Cleaning is idempotent: cleaning a cleaned text returns it unchanged (only the reported operations can
differ, e.g. ``no_references_heading`` on the second pass).

Changing any of this changes dataset rows, so it must bump ``CLEANING_VERSION``; every ``PaperText``
records the version that produced it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cyclebench.records import PaperText, RecordError, TextSource
from cyclebench.sources import confined
from cyclebench.sources.confined import DEFAULT_LIMITS, SourceLimits

CLEANING_VERSION = "clean-v1"

# ---------------------------------------------------------------------------------------------
# Cleaning


_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\ud800-\udfff]")
_PRIVATE_RE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")

# Markdown/HTML decoration an extractor may wrap around a whole line.
_DECOR = r"(?:[#>*_\s]|</?u>|</?b>|</?i>)*"
_HEADER_RE = re.compile(
    r"^" + _DECOR + r"(?:"
    r"(?:under\s+review|published|accepted|appearing|to\s+appear)\s+(?:as\s+)?an?\s+"
    r"(?:conference|workshop|journal)?\s*(?:paper|submission|publication)\s+(?:at|in|to)\s+"
    r"(?:the\s+)?[A-Za-z][A-Za-z0-9 .&'\-]{0,80}?\s*(?:19|20)\d\d"
    r"|workshop\s+track\s*[-\u2013\u2014:]+\s*[A-Za-z][A-Za-z0-9 .&'\-]{0,40}?\s*(?:19|20)\d\d"
    r")" + _DECOR + r"$",
    re.IGNORECASE,
)
_LINE_NUMBER_RE = re.compile(r"^\s*(?:\*\*\d{3}(?:\s+\d{3})*\*\*\s*)+$")
_MIN_LINE_NUMBER_LINES = 20

_HEADING_DECOR_RE = re.compile(r"^(?:[#>\s]|\*\*|__|\*|_|</?u>|</?b>)+|(?:\s|\*\*|__|\*|_|</?u>|</?b>|[.:])+$")
_NUMBERING_RE = re.compile(r"^(?:\d{1,2}|[IVX]{1,5})(?:\.\d{1,2})*\.?\s+")
_ABSTRACT_PARAGRAPH_RE = re.compile(
    r"^(?:#+\s*)?(?:\*\*|__|\*|_)?\s*abstract\s*(?:\*\*|__|\*|_)?\s*(?:[.:\u2014\u2013]|-{1,2})\s*"
    r"(?:\*\*|__|\*|_)?\s*\S",
    re.IGNORECASE,
)
_REFERENCE_WORDS = {"references", "reference", "bibliography", "literaturecited", "referencesandnotes"}
_MAX_TITLE_LINES = 4
_RULE_RE = re.compile(r"^\s*-{3,}\s*$")


def _heading_word(line: str) -> str:
    """The line reduced to its letters, so '## 7 R E F E R E N C E S' compares as 'references'."""
    core = _HEADING_DECOR_RE.sub("", line.strip())
    core = _NUMBERING_RE.sub("", core)
    if len(core) > 40:
        return ""
    return re.sub(r"\s+", "", core).lower()


def _is_abstract_heading(line: str) -> bool:
    if _heading_word(line) == "abstract":
        return True
    return bool(_ABSTRACT_PARAGRAPH_RE.match(line.strip()))


_REFERENCE_HINT_RE = re.compile(r"r\s?e\s?f|b\s?i\s?b|l\s?i\s?t", re.IGNORECASE)


def _is_references_heading(line: str) -> bool:
    # Cheap test first: every line of a paper is asked, and almost none can be such a heading.
    if len(line) > 200:
        return False
    if not _REFERENCE_HINT_RE.search(line):
        return False
    return _heading_word(line) in _REFERENCE_WORDS


def _is_md_heading(line: str) -> bool:
    return line.lstrip().startswith("#")


def _is_all_caps(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return bool(letters) and all(not c.islower() for c in letters)


def _title_text(lines: Sequence[str]) -> str:
    parts = []
    for line in lines:
        s = line.strip().lstrip("#").strip()
        # "KNOWLEDGE DISTIL## LATION": a heading split inside a word when the title wrapped.
        s = re.sub(r"(\w)#{2,}\s+(\w)", r"\1\2", s)
        s = re.sub(r"\s#+\s", " ", s)
        if s:
            parts.append(s)
    return re.sub(r"\s+", " ", " ".join(parts)).strip()


def _title_lines(pre: Sequence[str]) -> list[str]:
    """The title at the top of the lines before the abstract (see the module docstring)."""
    idx = [i for i, line in enumerate(pre) if line.strip()]
    if not idx:
        return []
    headings = [i for i in idx if _is_md_heading(pre[i])]
    start = headings[0] if headings else idx[0]
    caps = _is_all_caps(pre[start])
    out = [pre[start]]
    i = start + 1
    while i < len(pre) and len(out) < _MAX_TITLE_LINES:
        line = pre[i]
        if not line.strip():
            # blank lines may separate heading pieces, never plain-text pieces
            if not _is_md_heading(pre[start]):
                break
            i += 1
            continue
        if _is_md_heading(line) or (caps and not _is_md_heading(pre[start]) and _is_all_caps(line)):
            out.append(line)
            i += 1
            continue
        break
    return out


_BIB_EVIDENCE_RE = re.compile(
    r"(?:19|20)\d\d|^\W*\[\d{1,3}\]|\bet al\b|arxiv|\bdoi\b|proceedings|journal|conference|"
    r"\bpp\.|\bvol\.|\bvolume\b|\beditors?\b|https?://|\burl\b|"
    # an author list: "Dario Amodei, Sundaram Ananthanarayanan, Rishita Anubhai, ..."
    r"^\W*(?:[A-Z][\w.'\-]*(?:\s+[A-Z][\w.'\-]*){0,3},\s+){3}",
    re.IGNORECASE,
)
_BIB_WINDOW = 8


def _references_cut(lines: Sequence[str], start: int) -> int | None:
    """Index of the references heading to cut at, or None.

    The first references heading after ``start`` that is followed by what looks like a reference list:
    a year, ``[n]``, "et al", "arXiv", "Proceedings", a URL, a list of names ... in one of the next 8
    content lines (blank lines and ``-----`` page separators do not count; references headings right
    after it are skipped, and the next one after some content ends the look-ahead), or by nothing at
    all. The first such heading, not the last: papers with an appendix that has its own "REFERENCES"
    (cU8rknuhxc in the ICLR 2022 corpus) would otherwise keep the main reference list and the
    appendix. A line that only looks like a heading ("References" in running prose, a figure label)
    is not followed by a list and does not cut the paper.

    The rule is idempotent: a heading that did not qualify saw content without evidence, all of it
    before the heading that was cut at, so it sees the same lines again on a second pass.
    """
    for i in range(start + 1, len(lines)):
        if not _is_references_heading(lines[i]):
            continue
        window: list[str] = []
        for line in lines[i + 1 :]:
            if not line.strip() or _RULE_RE.match(line):
                continue
            if _is_references_heading(line):
                if window:
                    break
                continue
            window.append(line)
            if len(window) == _BIB_WINDOW:
                break
        if not window or any(_BIB_EVIDENCE_RE.search(line) for line in window):
            return i
    return None


def clean_paper_text(text: str) -> tuple[str, tuple[str, ...]]:
    """Clean an extracted paper text; return it and the names of the operations that fired.

    Pure and idempotent; the steps and their names are listed in the module docstring.
    """
    ops: list[str] = []

    t = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    if t != text:
        ops.append("newlines_normalized")
    t2 = _CONTROL_RE.sub("", t)
    if t2 != t:
        ops.append("control_chars_removed")
    t3 = _PRIVATE_RE.sub("", t2)
    if t3 != t2:
        ops.append("private_use_removed")

    lines = [line.rstrip() for line in t3.split("\n")]

    kept = [line for line in lines if not _HEADER_RE.match(line)]
    if len(kept) != len(lines):
        ops.append("header_stripped")
    lines = kept

    numbered = sum(1 for line in lines if _LINE_NUMBER_RE.match(line))
    if numbered >= _MIN_LINE_NUMBER_LINES:
        lines = [line for line in lines if not _LINE_NUMBER_RE.match(line)]
        ops.append("line_numbers_removed")

    abstract_at = next((i for i, line in enumerate(lines) if _is_abstract_heading(line)), None)
    if abstract_at is None:
        ops.append("no_abstract_heading")
        start = 0
    else:
        start = abstract_at

    ref_at = _references_cut(lines, start)
    if ref_at is None:
        ops.append("no_references_heading")
        end = len(lines)
    else:
        ops.append("cut_at_references")
        end = ref_at

    body = lines[start:end]
    if abstract_at is not None:
        pre = lines[:abstract_at]
        title = _title_text(_title_lines(pre))
        if title:
            head = [f"# {title}", ""]
            ops.append("title_kept")
        else:
            head = []
        if head + body != lines[:end]:
            ops.append("kept_from_abstract")
        body = head + body

    out_lines: list[str] = []
    blanks = 0
    collapsed = False
    for line in body:
        if line.strip():
            blanks = 0
            out_lines.append(line)
        else:
            blanks += 1
            if blanks <= 2:
                out_lines.append("")
            else:
                collapsed = True
    if collapsed:
        ops.append("blank_lines_collapsed")
    # A page separator ("-----") left at the very end separates nothing.
    while out_lines and (not out_lines[-1].strip() or _RULE_RE.match(out_lines[-1])):
        out_lines.pop()
    out = "\n".join(out_lines).strip()
    return (out + "\n" if out else ""), tuple(ops)


# ---------------------------------------------------------------------------------------------
# PDF extraction

_PYMUPDF4LLM_OPTIONS = {
    "show_progress": False,
    "ignore_images": True,
    "ignore_graphics": True,
    "write_images": False,
    "embed_images": False,
}


def _pymupdf4llm_text(path: str) -> str:
    """pymupdf4llm markdown, from its classic (non-layout) engine.

    pymupdf4llm 2.x routes ``to_markdown`` through its layout model when ``pymupdf_layout`` is
    installed (as here). On the five corpus PDFs that path took ~30 s on 2 CPUs, against ~7 s for the
    classic engine, and it interleaves the line-number gutter of review copies into the sentences
    ("provide **016** significant"), which cannot be cleaned afterwards; the classic engine keeps the
    gutter on lines of its own. So the classic engine is called directly. Images and vector graphics
    are skipped: text only, 2-3x faster, and graphics-based table detection lost words of some tables
    on these PDFs. No progress output.
    """
    import inspect

    try:
        from pymupdf4llm.helpers.pymupdf_rag import to_markdown
    except ImportError:  # older releases: the module-level function is the classic engine
        from pymupdf4llm import to_markdown
    try:
        params = inspect.signature(to_markdown).parameters
        opts = {k: v for k, v in _PYMUPDF4LLM_OPTIONS.items() if k in params}
    except (TypeError, ValueError):
        opts = {"show_progress": False}
    return to_markdown(path, **opts)


def _pymupdf_text(path: str) -> str:
    import pymupdf

    with pymupdf.open(path) as doc:
        return "\n\n".join(page.get_text() for page in doc)


def _pypdf_text(path: str) -> str:
    import pypdf

    reader = pypdf.PdfReader(path)
    return "\n\n".join((page.extract_text() or "") for page in reader.pages)


_PDF_EXTRACTORS = (
    ("pdf:pymupdf4llm", _pymupdf4llm_text),
    ("pdf:pymupdf", _pymupdf_text),
    ("pdf:pypdf", _pypdf_text),
)


# A PDF ends with "%%EOF" (ISO 32000-1, 7.5.5); readers look for it in the last 1024 bytes.
_PDF_EOF = b"%%EOF"
_PDF_TAIL_BYTES = 1024


def _pdf_structure(path: str) -> tuple[int, bool] | None:
    """``(page count, cross-reference table rebuilt)`` as PyMuPDF, else pypdf, opens the file; None when
    neither can (then the extractors say why: ``pdf_unreadable``). Opening reads the page tree, not the
    pages, so it is cheap whatever the page count."""
    try:
        import pymupdf

        with pymupdf.open(path, filetype="pdf") as doc:
            return doc.page_count, bool(doc.is_repaired)
    except Exception:  # noqa: BLE001 - missing or refusing: try the next reader
        pass
    try:
        import pypdf

        return len(pypdf.PdfReader(path).pages), False
    except Exception:  # noqa: BLE001 - see the docstring
        return None


def check_pdf(path: str | os.PathLike[str], roots: Sequence[str | os.PathLike[str]],
              limits: SourceLimits = DEFAULT_LIMITS) -> int | None:
    """A confined PDF's page count once it is known to be whole and short enough to extract.

    Extractors read what they can of a damaged file, so a PDF cut off after a third would become a row
    holding a third of a paper: no ``%%EOF`` in its last 1024 bytes, or a cross-reference table the reader
    had to rebuild, is ``pdf_truncated``. More than ``limits.max_pdf_pages`` pages is ``pdf_too_many_pages``,
    before any text is extracted. A file no reader can open is left to the extractors (None).
    """
    tail = confined.read_tail(path, roots, limits.max_file_bytes, _PDF_TAIL_BYTES)
    structure = _pdf_structure(os.fspath(path))
    if structure is None:
        return None
    pages, repaired = structure
    if _PDF_EOF not in tail:
        raise RecordError("pdf_truncated", f"no %%EOF in the last {_PDF_TAIL_BYTES} bytes: the file ends early")
    if repaired:
        raise RecordError("pdf_truncated", "its cross-reference table is broken (the reader had to rebuild it): "
                                           "truncated or damaged")
    if pages > limits.max_pdf_pages:
        raise RecordError("pdf_too_many_pages", f"{pages} pages > {limits.max_pdf_pages} (max_pdf_pages)")
    return pages


def extract_pdf_text(path: str | os.PathLike[str]) -> tuple[str, TextSource]:
    """Text of a PDF from the first extractor that gives any, and which one it was.

    Tries pymupdf4llm (markdown), then PyMuPDF plain text, then pypdf; each is imported only when
    tried, so a missing package just moves on. Raises ``RecordError("pdf_unreadable", ...)`` naming
    what every extractor said when none gives non-blank text.
    """
    p = os.fspath(path)
    problems: list[str] = []
    for source, fn in _PDF_EXTRACTORS:
        try:
            text = fn(p)
        except Exception as exc:  # noqa: BLE001 - any extractor failure means "try the next one"
            problems.append(f"{source}: {type(exc).__name__}: {exc}".strip())
            continue
        if text and text.strip():
            return text, source  # type: ignore[return-value]
        problems.append(f"{source}: empty text")
    raise RecordError("pdf_unreadable", "; ".join(problems))


# ---------------------------------------------------------------------------------------------
# A folder of paper files

SourceKind = str  # "latex" | "markdown" | "text" | "pdf"

_SUFFIXES: tuple[tuple[str, SourceKind], ...] = (
    (".tar.gz", "latex"),
    (".tgz", "latex"),
    (".gz", "latex"),
    (".tex", "latex"),
    (".md", "markdown"),
    (".txt", "text"),
    (".pdf", "pdf"),
)
KINDS: tuple[SourceKind, ...] = ("latex", "markdown", "text", "pdf")


@dataclass(frozen=True, slots=True)
class PaperFile:
    """One file (or LaTeX folder) that holds a paper; ``path`` is relative to the directory root."""

    kind: SourceKind
    path: str


def _split_name(name: str) -> tuple[str, SourceKind] | None:
    for suffix, kind in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], kind
    return None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A folder or a link to one; a link cycle (which ``is_dir`` raises on) is not, and is indexed by
    name so that reading it is a ``symlink_loop`` reject."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _has_tex(folder: Path) -> bool:
    """Whether ``folder`` directly holds ``.tex`` entries (by name: a FIFO ``main.tex`` still makes it
    a LaTeX folder, so reading it is a reasoned reject rather than a paper silently not found)."""
    try:
        with os.scandir(folder) as it:
            return any(e.name.endswith(".tex") and not _is_dir(e) for e in it)
    except OSError:
        return False


class PapersDirectory:
    """Paper files in a folder, keyed by OpenReview id, found from names alone.

    Accepted, at the root or inside a grouping folder one level down (``root/iclr2022/<id>.txt``):
    ``<id>.md`` (markdown), ``<id>.txt`` (text), ``<id>.pdf``, ``<id>.tex``, the arXiv e-print shapes
    ``<id>.tar.gz``/``<id>.tgz``/``<id>.gz`` (latex), and a folder ``<id>/`` holding ``.tex`` files
    directly (latex). A folder without ``.tex`` files directly inside is a grouping folder; deeper
    nesting is not scanned. Names starting with ``.`` are ignored; ids are kept exactly as written
    (case-sensitive, may start with ``-`` or contain ``_``). When the same id and kind occur more than
    once, the first path in sorted order wins for ``read``.

    Files are found by name whatever they are (a FIFO, a link), and read only through
    ``cyclebench.sources.confined``: a link out of the folder, a FIFO, a link cycle, an unreadable or
    oversized file is a ``RecordError`` for that paper. ``limits`` bound each paper's source.
    """

    def __init__(self, root: str | os.PathLike[str], limits: SourceLimits = DEFAULT_LIMITS):
        self.root = Path(root)
        if not self.root.is_dir():
            raise NotADirectoryError(f"not a folder: {self.root}")
        self.limits = limits
        self._index: dict[str, list[PaperFile]] = {}
        self._scan()

    def _add(self, paper_id: str, kind: SourceKind, rel: str) -> None:
        self._index.setdefault(paper_id, []).append(PaperFile(kind, rel))

    def _scan_level(self, folder: Path, prefix: str, descend: bool) -> None:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            if e.name.startswith("."):
                continue
            rel = f"{prefix}{e.name}"
            if _is_dir(e):
                if _has_tex(Path(e.path)):
                    self._add(e.name, "latex", rel)
                elif descend:
                    self._scan_level(Path(e.path), rel + "/", descend=False)
            else:
                split = _split_name(e.name)
                if split is not None:
                    self._add(split[0], split[1], rel)

    def _scan(self) -> None:
        self._scan_level(self.root, "", descend=True)
        for files in self._index.values():
            files.sort(key=lambda f: (KINDS.index(f.kind), f.path))

    def ids(self) -> list[str]:
        """All paper ids, sorted (Python str order, as the corpus files are)."""
        return sorted(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self._index

    def sources(self, paper_id: str) -> tuple[PaperFile, ...]:
        """What exists for this paper, in kind order latex, markdown, text, pdf."""
        return tuple(self._index.get(paper_id, ()))

    def read(self, paper_id: str, prefer: Iterable[SourceKind] = ("latex", "markdown", "text", "pdf")) -> PaperText | None:
        """The cleaned text of the first kind in ``prefer`` that exists, or None when none does.

        No silent fallback: when the preferred file is broken this raises ``RecordError``
        (``pdf_unreadable``, ``latex_unreadable``/``latex_no_main_file``/..., ``text_not_utf8``,
        ``text_empty_after_cleaning``, ``pdf_truncated``, ``pdf_too_many_pages``, and the ``confined``
        reasons ``outside_input``, ``not_a_regular_file``, ``symlink_loop``, ``unreadable``,
        ``file_too_large``) so the caller counts it; pass another ``prefer`` to retry.
        Kinds not named in ``prefer`` are never read.
        """
        files = self._index.get(paper_id, [])
        for kind in prefer:
            chosen = next((f for f in files if f.kind == kind), None)
            if chosen is not None:
                return self._read_file(paper_id, chosen)
        return None

    def _read_file(self, paper_id: str, f: PaperFile) -> PaperText:
        path = self.root / f.path
        roots = (self.root,)
        limits = self.limits
        source: TextSource
        if f.kind == "pdf":
            real, _size = confined.regular_file(path, roots, limits.max_file_bytes)
            digest = confined.sha256_file(real, roots, limits.max_file_bytes)
            check_pdf(real, roots, limits)
            raw, source = extract_pdf_text(real)
        elif f.kind == "latex":
            from cyclebench.sources import latex

            digest = confined.sha256_source(path, roots, limits)
            try:
                raw = latex.latex_to_markdown(latex.parse_latex(latex.load_latex_source(path, limits, roots)))
            except (RecordError, ImportError):
                raise  # a missing pylatexenc is a broken install, not a broken paper
            except Exception as exc:  # a parser bug on odd input is a reject, not a crash
                raise RecordError("latex_unreadable", f"{type(exc).__name__}: {exc}") from exc
            source = "latex"
        else:
            data = confined.read_file(path, roots, limits.max_file_bytes)
            digest = hashlib.sha256(data).hexdigest()
            raw = decode_text_file(data)
            source = "markdown" if f.kind == "markdown" else "text"
        text, ops = clean_paper_text(raw)
        if not text.strip():
            raise RecordError("text_empty_after_cleaning", f"{f.path} ({len(raw)} characters before cleaning)")
        return PaperText(
            paper_id=paper_id,
            text=text,
            source=source,
            source_path=f.path,
            source_sha256=digest,
            cleaning=CLEANING_VERSION,
            cleaning_applied=ops,
        )


_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def decode_text_file(data: bytes) -> str:
    """UTF-8 (its BOM stripped), or UTF-16/32 when a BOM says so; nothing else.

    Paper texts here are extractor output, which is UTF-8; a file that is not is far more likely
    binary or truncated than Latin-1, and decoding it as Latin-1 would always "work" and put mojibake
    into a dataset row. So no Latin-1 fallback and no replacement characters: invalid UTF-8 is
    ``RecordError("text_not_utf8")``, counted like any reject. A UTF-16/32 BOM (a file saved by a
    Windows editor) names its encoding unambiguously, so such a file is decoded by it, the BOM
    dropped; when it does not decode, ``text_not_utf8`` too. (LaTeX sources do fall back to Latin-1,
    because old ``inputenc`` sources really are Latin-1; see ``latex``.)
    """
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise RecordError("text_not_utf8", f"{codec} by its BOM, but invalid at byte {exc.start + len(bom)}: "
                                                   f"{exc.reason}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError("text_not_utf8", f"invalid UTF-8 at byte {exc.start}: {exc.reason}") from exc


__all__ = [
    "CLEANING_VERSION",
    "KINDS",
    "PaperFile",
    "PapersDirectory",
    "check_pdf",
    "clean_paper_text",
    "decode_text_file",
    "extract_pdf_text",
]
