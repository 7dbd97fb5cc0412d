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

import bisect
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


# Cleaning runs on the whole text, not on a list of lines: splitting a paper into its ~1,700 lines and asking
# each a regex cost 20-40x reading the file. One table look-up per code point (``_scan``) gives a byte per
# character, ASCII letters lower-cased and all other whitespace but "\n" a space; ``bytes.find`` on those
# bytes without their spaces (C speed) finds the few lines a step may touch, a proven superset of them, and
# each is then checked with the same per-line test as before. Lines are cut out only where one is looked at,
# so they are handled by offsets. The output is byte-identical to the per-line code (kept in
# tests/sources/cleaning_oracle.py and compared with it there).

_SPACE_CODES = tuple(c for c in range(0x3001) if chr(c).isspace())  # str.isspace: the same set as re's \s
# The only code points other than ASCII letters that re.IGNORECASE lets match one ("i", "i", "s", "k").
_IGNORECASE_LOOKALIKES = ("\u0130", "\u0131", "\u017f", "\u212a")
_CLASS_TABLE = None  # built on first use by _class_table()


def _class_table():
    """uint8 per BMP code point: 1 if ``_CONTROL_RE`` matches it (2 for "\\r"), 3 if ``_PRIVATE_RE`` does, 4
    for U+2028 and U+2029, "\\n" itself, a space for other whitespace, printable ASCII as itself with letters
    lower-cased, 0x81 for the ``_IGNORECASE_LOOKALIKES``, else 0x80."""
    global _CLASS_TABLE
    if _CLASS_TABLE is None:
        import numpy as np

        table = np.full(0x10000, 0x80, dtype=np.uint8)
        table[0x20:0x7F] = np.frombuffer(bytes(range(0x20, 0x7F)).lower(), dtype=np.uint8)
        for c in _SPACE_CODES:
            table[c] = 0x20
        table[0x0A] = 0x0A
        for lo, hi in ((0x00, 0x08), (0x0B, 0x1F), (0x7F, 0x9F), (0xFEFF, 0xFEFF), (0xD800, 0xDFFF)):
            table[lo : hi + 1] = 1
        table[0x0D] = 2
        table[0xE000 : 0xF8FF + 1] = 3
        table[0x2028:0x202A] = 4
        for c in _IGNORECASE_LOOKALIKES:
            table[ord(c)] = 0x81
        _CLASS_TABLE = table
    return _CLASS_TABLE


def _scan(t: str):
    """``(code points, classes)`` of ``t`` as numpy arrays, one entry per character (see ``_class_table``)."""
    import numpy as np

    b = t.encode("utf-16-le", "surrogatepass")
    if len(b) == 2 * len(t):  # no astral code point: the UTF-16 units are the code points
        units = np.frombuffer(b, dtype="<u2")
        return units, _class_table().take(units)
    units = np.frombuffer(t.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    classes = _class_table().take(np.minimum(units, 0xFFFF))  # U+FFFF: not ASCII, like the astral ones
    classes[units >= 0xF0000] = 3
    return units, classes


def _decode(units) -> str:
    return units.tobytes().decode("utf-16-le" if units.itemsize == 2 else "utf-32-le", "surrogatepass")


def _without_code_points(t: str, scanned):
    """``(control removed, private use removed, t without both, its classes)`` from ``scanned = _scan(t)``."""
    units, classes = scanned
    flat = classes.tobytes()
    has_control, has_private = b"\x01" in flat or b"\x02" in flat, b"\x03" in flat
    if not has_control and not has_private:
        return False, False, t, classes
    keep = classes > 3
    return has_control, has_private, _decode(units[keep]), classes[keep]


def _drop_code_points(t: str) -> tuple[str, str]:
    """``(t without _CONTROL_RE's code points, and also without _PRIVATE_RE's)``, as the two ``sub`` calls
    give them."""
    units, classes = scanned = _scan(t)
    has_control, has_private, t3, _classes = _without_code_points(t, scanned)
    if has_control and has_private:
        return _decode(units[classes > 2]), t3
    return (t3 if has_control else t), t3


class _Text:
    """A text whose lines are found from its class bytes (``_scan``): ``flat`` has one per character,
    ``squeezed`` the same without spaces (every "\\n" kept, so line numbers hold), ``nl`` the offsets of the
    text's "\\n"."""

    __slots__ = ("flat", "marks", "nl", "squeezed", "text")

    def __init__(self, text: str, classes=None):
        import numpy as np

        if classes is None:
            classes = _scan(text)[1]
        self.text = text
        self.flat = classes.tobytes()
        self.squeezed = self.flat.translate(None, b" ")
        self.nl: list[int] = np.flatnonzero(classes == 0x0A).tolist()
        self.marks: list[tuple[int, int]] = [(0, 0)]  # (squeezed offset, its line number), ascending

    def line_of(self, k: int) -> int:
        """Line number of squeezed offset ``k``, counted from the nearest offset already known."""
        marks = self.marks
        at = bisect.bisect_right(marks, (k, len(self.squeezed))) - 1  # the last mark at or before k: (0, 0) first
        base, line = marks[at]
        if base == k:
            return line
        line += self.squeezed.count(b"\n", base, k)
        marks.insert(at + 1, (k, line))
        return line

    def bounds(self, i: int) -> tuple[int, int]:
        """``(start, end)`` of line ``i`` (``end`` at its "\\n" or the text's end)."""
        nl = self.nl
        return (nl[i - 1] + 1 if i else 0), (nl[i] if i < len(nl) else len(self.text))

    def candidates(self, needles: Sequence[bytes], after: int = -1, accept=None, end_too: bytes | None = None):
        """``(line number, start, end, squeezed line)`` of each line that holds a needle in the squeezed bytes
        (or, with ``end_too``, is the last line and ends with it), in order, each once, lazily; only lines after
        line ``after`` and, with ``accept``, whose squeezed bytes it accepts."""
        sq, n = self.squeezed, len(self.squeezed)
        nxt = {needle: sq.find(needle) for needle in needles}
        done = -1  # squeezed offset of the end of the last line looked at
        while True:
            live = [p for p in nxt.values() if p >= 0]
            if live:
                k = min(live)
                for needle, p in nxt.items():
                    if p == k:
                        nxt[needle] = sq.find(needle, k + 1)
                if k <= done:
                    continue
            elif end_too is not None and done < n and sq.endswith(end_too):
                k = n - 1
            else:
                return
            k0 = sq.rfind(b"\n", 0, k) + 1
            k1 = sq.find(b"\n", k)
            done = n if k1 < 0 else k1
            seg = sq[k0:done]
            if accept is not None and not accept(seg):
                continue
            line = self.line_of(k0)
            if line > after:
                yield (line, *self.bounds(line), seg)

    def without(self, spans: Sequence[tuple[int, int]]) -> str:
        """The text without the lines ``spans`` (ascending ``(start, end)``, each with its "\\n")."""
        t, parts, pos = self.text, [], 0
        for start, end in spans:
            parts.append(t[pos:start])
            pos = end + 1
        parts.append(t[pos:])
        out = "".join(parts)
        # a dropped last line also drops the "\n" before it, as "\n".join over the kept lines does
        return out[:-1] if spans and spans[-1][1] >= len(t) and out.endswith("\n") else out


# Every running header holds "paper", "submission" or "publication" (first form) or "workshop" (second) in
# ASCII letters of any case, unless the text holds one of the only code points other than ASCII letters that
# re.IGNORECASE lets match one ("i": U+0130, U+0131; "s": U+017F; "k": U+212A); then the needles avoid
# those letters.
_HEADER_NEEDLES = (b"paper", b"submission", b"publication", b"workshop")
_HEADER_NEEDLES_LOOKALIKES = (b"paper", b"ubm", b"publ", b"hop")
# Every line ``_is_abstract_heading`` accepts holds "abstract" in ASCII letters of any case, apart by
# whitespace at most, or with U+017F for the "s" (re.IGNORECASE, class byte 0x81); str.lower() maps no other
# code point onto them (U+0130 lowers to two code points, U+212A to "k"). The same holds for
# ``_is_references_heading``.
_ABSTRACT_NEEDLES = (b"abstract",)
_ABSTRACT_NEEDLES_LOOKALIKES = (b"abstract", b"ab\x81tract")
_REFERENCE_NEEDLES = (b"reference", b"bibliography", b"literaturecited")
# Letters (case-folded) that neither heading decoration nor numbering can hold: every one on a line is part of
# the core ``_heading_word`` measures, so more than 40 of them make it "" without running its regexes (which
# take time in proportion to the line: a prose line mentioning "abstract" is long).
_PLAIN_LETTERS = b"acdefghjklmnopqrstwyz"


def _short_core(squeezed_line: bytes) -> bool:
    """False when ``_heading_word`` of the line is surely "" (see ``_PLAIN_LETTERS``)."""
    return len(squeezed_line) - len(squeezed_line.translate(None, _PLAIN_LETTERS)) <= 40


def _has_year_digits(squeezed_line: bytes) -> bool:
    """Every running header holds ``(?:19|20)\\d\\d``."""
    return b"19" in squeezed_line or b"20" in squeezed_line


def _gutter_like(squeezed_line: bytes) -> bool:
    """Every gutter line (``_LINE_NUMBER_RE``), its spaces gone, starts with "**" and a digit (ASCII, or
    another ``\\d``: class byte 0x80) and ends with "**"."""
    return squeezed_line[:2] == b"**" and squeezed_line[2:3] in _DIGIT_CLASSES and squeezed_line.endswith(b"**")


_DIGIT_CLASSES = tuple(bytes([c]) for c in b"0123456789\x80")


def _rstrip_lines(t: str, flat: bytes, start: int, end: int) -> str:
    """``t[start:end]`` with every line rstripped, from the spaces before each "\\n" in the class bytes."""
    parts, pos = [], start
    p = flat.find(b" \n", start, end)
    while p >= 0:
        parts.append(t[pos : pos + len(flat[pos : p + 1].rstrip(b" "))])
        pos = p + 1
        p = flat.find(b" \n", pos, end)
    parts.append(t[pos : pos + len(flat[pos:end].rstrip(b" "))])
    return "".join(parts)


def _references_cut(text: _Text, after: int) -> int | None:
    """Line number of the references heading to cut at, or None.

    The first references heading after line ``after`` that is followed by what looks like a reference list:
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
    t, count = text.text, len(text.nl) + 1
    for i, start, end, _seg in text.candidates(_REFERENCE_NEEDLES, after, accept=_short_core):
        if not _is_references_heading(t[start:end].rstrip()):
            continue
        window: list[str] = []
        for j in range(i + 1, count):
            a, b = text.bounds(j)
            line = t[a:b].rstrip()
            if not line or _RULE_RE.match(line):
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


_NEWLINES_RE = re.compile("\n+")


def _collapse_blank_runs(body: str) -> str:
    """Runs of 4+ "\\n" cut to 3 (3+ empty lines to 2), from ``str.find`` (a regex scan is ~20x slower)."""
    parts, pos = [], 0
    p = body.find("\n\n\n\n")
    while p >= 0:
        parts.append(body[pos:p])
        parts.append("\n\n\n")
        pos = _NEWLINES_RE.match(body, p).end()  # type: ignore[union-attr]
        p = body.find("\n\n\n\n", pos)
    parts.append(body[pos:])
    return "".join(parts)


def clean_paper_text(text: str) -> tuple[str, tuple[str, ...]]:
    """Clean an extracted paper text; return it and the names of the operations that fired.

    Pure and idempotent; the steps and their names are listed in the module docstring. Every step sees the
    lines rstripped, as the module docstring's last step leaves them.
    """
    ops: list[str] = []

    t = text
    scanned = _scan(t)
    flat = scanned[1].tobytes()
    if b"\x02" in flat or b"\x04" in flat:  # "\r", U+2028, U+2029
        t = t.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
        ops.append("newlines_normalized")
        scanned = _scan(t)
    has_control, has_private, t3, classes = _without_code_points(t, scanned)
    if has_control:
        ops.append("control_chars_removed")
    if has_private:
        ops.append("private_use_removed")
    doc = _Text(t3, classes)

    lookalikes = b"\x81" in doc.flat
    needles = _HEADER_NEEDLES_LOOKALIKES if lookalikes else _HEADER_NEEDLES
    headers = [(s, e) for _i, s, e, _seg in doc.candidates(needles, accept=_has_year_digits)
               if _HEADER_RE.match(t3[s:e].rstrip())]
    if headers:
        ops.append("header_stripped")
        doc = _Text(doc.without(headers))

    t = doc.text
    # A gutter line ends in "**": with fewer such lines than needed, there is nothing to count.
    numbered = [(s, e) for _i, s, e, _seg in doc.candidates((b"**\n",), accept=_gutter_like, end_too=b"**")
                if _LINE_NUMBER_RE.match(t[s:e].rstrip())] \
        if doc.squeezed.count(b"**\n") + doc.squeezed.endswith(b"**") >= _MIN_LINE_NUMBER_LINES else []
    if len(numbered) >= _MIN_LINE_NUMBER_LINES:
        doc = _Text(doc.without(numbered))
        t = doc.text
        ops.append("line_numbers_removed")

    # _is_abstract_heading, its cheap half first
    abstract = next(((i, s) for i, s, e, seg in doc.candidates(
        _ABSTRACT_NEEDLES_LOOKALIKES if lookalikes else _ABSTRACT_NEEDLES)
        if _ABSTRACT_PARAGRAPH_RE.match(t[s:e].strip()) or (_short_core(seg) and _heading_word(t[s:e]) == "abstract")),
        None)
    if abstract is None:
        ops.append("no_abstract_heading")
        start_line, start = 0, 0
    else:
        start_line, start = abstract

    cut = _references_cut(doc, start_line)
    if cut is None:
        ops.append("no_references_heading")
        end = len(t)
    else:
        ops.append("cut_at_references")
        end = doc.bounds(cut)[0] - 1  # the "\n" before the heading line: "\n".join(lines[start:cut])

    body = t[start:end] if end > start else ""
    if doc.flat.find(b" \n", start, end) >= 0 or doc.flat[end - 1 : end] == b" ":
        body = _rstrip_lines(t, doc.flat, start, end)
    if abstract is not None:
        pre = [line.rstrip() for line in t[: start - 1].split("\n")] if start else []
        title = _title_text(_title_lines(pre))
        head = [f"# {title}", ""] if title else []
        if title:
            ops.append("title_kept")
        if head != pre:  # head + body != lines[:end]
            ops.append("kept_from_abstract")
        body = "".join(line + "\n" for line in head) + body

    # Lines are rstripped, so blank lines are empty: 3+ in a row are 4+ "\n" in a row, counting the line
    # ends before and after the body. Runs at either end are dropped below anyway.
    if "\n\n\n\n" in body or body.startswith("\n\n\n") or body.endswith("\n\n\n") or body == "\n\n":
        ops.append("blank_lines_collapsed")
        body = _collapse_blank_runs(body)
    # A page separator ("-----") left at the very end separates nothing; neither does a blank line.
    stop = len(body)
    while stop > 0:
        cut_at = body.rfind("\n", 0, stop) + 1
        last = body[cut_at:stop]
        if last.strip() and not _RULE_RE.match(last):
            break
        stop = max(cut_at - 1, 0)
    out = body[:stop].strip()
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


def _pymupdf_layout_text(path: str) -> str:
    from cyclebench.sources.pdf_layout import pdf_layout_markdown

    return pdf_layout_markdown(path)


# name -> extractor. The default, ``pdf:pymupdf-layout`` (``sources/pdf_layout.py``), is ~2x PyMuPDF's plain
# ``get_text()`` and finds every heading, caption and references cut that ``pdf:pymupdf4llm`` (~30x) finds on
# the corpus PDFs (benchmarks/RESULTS_speed.md); pymupdf4llm stays available by name (``PDF_FULL``).
PDF_EXTRACTORS = {
    "pdf:pymupdf-layout": _pymupdf_layout_text,
    "pdf:pymupdf4llm": _pymupdf4llm_text,
    "pdf:pymupdf": _pymupdf_text,
    "pdf:pypdf": _pypdf_text,
}
PDF_DEFAULT = "pdf:pymupdf-layout"
PDF_FULL = "pdf:pymupdf4llm"
# Tried after the chosen extractor when it fails or gives blank text.
_PDF_FALLBACKS = ("pdf:pymupdf", "pdf:pypdf")


def pdf_extractor_chain(extractor: str = PDF_DEFAULT) -> tuple[tuple[str, object], ...]:
    """``(name, function)`` in the order ``extract_pdf_text`` tries them: ``extractor``, then the plain
    fallbacks. An unknown name is a ``ValueError`` naming the known ones."""
    if extractor not in PDF_EXTRACTORS:
        raise ValueError(f"unknown PDF extractor {extractor!r}; known: {', '.join(PDF_EXTRACTORS)}")
    names = (extractor,) + tuple(n for n in _PDF_FALLBACKS if n != extractor)
    return tuple((n, PDF_EXTRACTORS[n]) for n in names)


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


def extract_pdf_text(path: str | os.PathLike[str], extractor: str = PDF_DEFAULT) -> tuple[str, TextSource]:
    """Text of a PDF from the first extractor that gives any, and which one it was (recorded as the
    text's ``source``).

    Tries ``extractor`` (default ``pdf:pymupdf-layout``, markdown from PyMuPDF's text layer; ``PDF_FULL``
    = ``pdf:pymupdf4llm`` for pymupdf4llm's markdown), then PyMuPDF plain text, then pypdf; each is
    imported only when tried, so a missing package just moves on. Raises ``RecordError("pdf_unreadable",
    ...)`` naming what every extractor said when none gives non-blank text, and
    ``RecordError("pdf_no_text_layer", ...)`` for a scan whose text is only stamps (``pdf_layout.no_text_layer``).
    """
    p = os.fspath(path)
    problems: list[str] = []
    for source, fn in pdf_extractor_chain(extractor):
        try:
            text = fn(p)  # type: ignore[operator]
        except Exception as exc:  # noqa: BLE001 - any extractor failure means "try the next one"
            problems.append(f"{source}: {type(exc).__name__}: {exc}".strip())
            continue
        if text and text.strip():
            from cyclebench.sources.pdf_layout import no_text_layer

            scan = no_text_layer(p, text)  # a page-image scan is not read as its stamps (sources/pdf_layout.py)
            if scan:
                raise RecordError("pdf_no_text_layer", scan)
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
    oversized file is a ``RecordError`` for that paper. ``limits`` bound each paper's source;
    ``pdf_extractor`` names the PDF extractor tried first (``PDF_EXTRACTORS``; each text records the one
    that gave it as its ``source``).
    """

    def __init__(self, root: str | os.PathLike[str], limits: SourceLimits = DEFAULT_LIMITS,
                 pdf_extractor: str = PDF_DEFAULT):
        self.root = Path(root)
        if not self.root.is_dir():
            raise NotADirectoryError(f"not a folder: {self.root}")
        pdf_extractor_chain(pdf_extractor)  # an unknown name fails here, not at the first PDF
        self.limits = limits
        self.pdf_extractor = pdf_extractor
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
        ``text_empty_after_cleaning``, ``pdf_truncated``, ``pdf_too_many_pages``, ``pdf_no_text_layer``, and the ``confined``
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
            raw, source = extract_pdf_text(real, self.pdf_extractor)
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
    "PDF_DEFAULT",
    "PDF_EXTRACTORS",
    "PDF_FULL",
    "PaperFile",
    "PapersDirectory",
    "check_pdf",
    "clean_paper_text",
    "decode_text_file",
    "extract_pdf_text",
    "pdf_extractor_chain",
]
