"""Test-only oracle: ``clean_paper_text`` exactly as clean-v1 stood before the whole-text rewrite (issue 16,
item 5), copied verbatim from cyclebench/sources/text.py, so hypothesis can check the fast version against it
on any string. Do not edit: it is the reference the fast code must reproduce byte for byte."""
# ruff: noqa: PIE808

from __future__ import annotations

import re
from collections.abc import Sequence

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


# Every line that ``_is_references_heading`` accepts holds one of these words, its letters apart by whitespace
# at most (``_heading_word`` removes it, and anything a line may add is decoration or numbering). One scan of
# the joined text finds those lines, instead of asking every line of the paper (most of cleaning's time).
_SPACED = "[^\\S\\n]*"
# Matched on the lower-cased text (lower() keeps every "\n", so line numbers hold): case-insensitive
# matching is several times slower in ``re``.
_REFERENCE_CANDIDATE_RE = re.compile("|".join(_SPACED.join(word) for word in ("reference", "bibliography", "literaturecited")))


def _reference_candidates(lines: Sequence[str]) -> list[int]:
    """Indices of the lines that may be references headings (a superset; each is checked in full)."""
    text = "\n".join(lines).lower()
    out: list[int] = []
    line, pos = 0, 0
    for m in _REFERENCE_CANDIDATE_RE.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        if not out or out[-1] != line:
            out.append(line)
    return out


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
    for i in _reference_candidates(lines):
        if i <= start or not _is_references_heading(lines[i]):
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


_LINE_NUMBER_HINT_RE = re.compile(r"\*\*\d{3}")


def _drop_code_points(t: str) -> tuple[str, str]:
    """``(t without _CONTROL_RE's code points, and also without _PRIVATE_RE's)``, as the two ``sub`` calls
    give them, from one vectorised pass over the code points (a character-class ``sub`` scans ~25 MB/s)."""
    if t.isascii():  # private use is not ASCII; control characters are deleted byte-wise
        if not _ASCII_CONTROL_RE.search(t):
            return t, t
        t2 = t.encode("ascii").translate(None, _ASCII_CONTROL).decode("ascii")
        return t2, t2
    import numpy as np

    cp = np.frombuffer(t.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    control = ((cp <= 0x08) | ((cp >= 0x0B) & (cp <= 0x1F)) | ((cp >= 0x7F) & (cp <= 0x9F)) | (cp == 0xFEFF)
               | ((cp >= 0xD800) & (cp <= 0xDFFF)))
    private = ((cp >= 0xE000) & (cp <= 0xF8FF)) | (cp >= 0xF0000)
    has_control, has_private = bool(control.any()), bool(private.any())
    if not has_control and not has_private:
        return t, t
    t2 = cp[~control].tobytes().decode("utf-32-le", "surrogatepass") if has_control else t
    t3 = cp[~(control | private)].tobytes().decode("utf-32-le", "surrogatepass") if has_private else t2
    return t2, t3


_ASCII_CONTROL = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])
_ASCII_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def clean_paper_text(text: str) -> tuple[str, tuple[str, ...]]:
    """Clean an extracted paper text; return it and the names of the operations that fired.

    Pure and idempotent; the steps and their names are listed in the module docstring.
    """
    ops: list[str] = []

    t = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    if t != text:
        ops.append("newlines_normalized")
    t2, t3 = _drop_code_points(t)
    if t2 != t:
        ops.append("control_chars_removed")
    if t3 != t2:
        ops.append("private_use_removed")

    lines = [line.rstrip() for line in t3.split("\n")]

    kept = [line for line in lines if not _HEADER_RE.match(line)]
    if len(kept) != len(lines):
        ops.append("header_stripped")
    lines = kept

    # Every gutter line holds "**" and three digits: without one in the text there is nothing to count.
    numbered = sum(1 for line in lines if _LINE_NUMBER_RE.match(line)) if _LINE_NUMBER_HINT_RE.search(t3) else 0
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

