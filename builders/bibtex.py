"""A paper's references: its BibTeX, the keys its LaTeX cites, and the abstracts of the cited works.

Research-14K gives the generator "a topic plus a BibTeX file whose entries carry abstracts" (REFERENCE 1.3).
This module builds that file for one paper, purely:

* ``parse_bibtex(texts)``: the ``.bib`` files of a source, parsed with bibtexparser v2 (the maintained
  parser; ``@string`` macros resolved, enclosing braces removed, values otherwise as written). Blocks
  that fail to parse and duplicate keys are kept as problems, not raised: one broken entry must not
  lose a paper's other 40.
* ``parse_bbl(text)``: arXiv e-prints often ship only the compiled ``.bbl``. Each ``\\bibitem`` becomes an
  ``@misc`` entry with the formatted reference in ``note`` and, for the usual natbib layout
  (authors ``\\newblock`` title ``\\newblock`` venue), the second block as ``title``.
* ``cited_keys(tex)``: the keys of every ``\\cite``-family command (``\\citep``, ``\\citet*``,
  ``\\parencite``, biblatex ``\\cites{a}{b}`` ...), in first-citation order; ``\\nocite{*}`` cites all.
* ``AbstractIndex``: abstracts of cited works from a metadata file; ``collect_references`` keeps the
  cited entries, attaches an ``abstract`` field where one is known and reports the rest.

Abstracts file (``--abstracts``), JSONL or CSV with a header; one row per cited work::

    {"arxiv": "1706.04599", "abstract": "..."}
    {"doi": "10.5555/3305381.3305518", "abstract": "..."}
    {"title": "On Calibration of Modern Neural Networks", "abstract": "..."}
    {"paperId": "-bxf89v3Nx", "key": "Guo2017", "abstract": "..."}   # a bib key of that paper only
    {"key": "Guo2017", "abstract": "..."}                          # a bib key in every paper

``abstract`` and at least one of ``key``/``arxiv``/``doi``/``title`` are required; rows without them are
counted as rejected (``AbstractIndex.rejected``), and a second row for the same identifier is counted as
a duplicate (the first wins). A paper's own metadata may carry ``cited_abstracts`` in the same row
shape (or a ``{key: abstract}`` mapping); those are matched before the file.

Lookup order for one cited entry (the first that answers wins, and is recorded as the abstract's
source): the entry's own ``abstract`` field (``bib``), the paper's ``key`` (``key``), a file row with
the key and no ``paperId`` (``key``), the arXiv id found in ``eprint``/``arxiv``/``journal``/``url``/
``volume``/``note`` (``arxiv``), the DOI (``doi``), the normalised title (``title``: lower case, accents
and LaTeX markup dropped, non-alphanumerics collapsed).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclebench.sources.latex import group_end

ABSTRACT_SOURCES = ("bib", "key", "arxiv", "doi", "title")
IDENTIFIERS = ("key", "arxiv", "doi", "title")

# ---------------------------------------------------------------------------------------------
# Entries


@dataclass(frozen=True, slots=True)
class BibEntry:
    """One BibTeX entry; ``fields`` in source order, values as written minus the enclosing braces."""

    key: str
    entry_type: str
    fields: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.fields if k.lower() == name), None)

    def with_field(self, name: str, value: str) -> BibEntry:
        kept = tuple((k, v) for k, v in self.fields if k.lower() != name.lower())
        return BibEntry(self.key, self.entry_type, kept + ((name, value),))


@dataclass(frozen=True, slots=True)
class BibParse:
    """The entries of one paper's bibliography files, by key (the first definition of a key wins)."""

    entries: dict[str, BibEntry]
    # "references.bib line 12: <why>" for every block bibtexparser could not read.
    failed_blocks: tuple[str, ...] = ()
    duplicate_keys: tuple[str, ...] = ()
    source: str = "bib"  # "bib" | "bbl" | "metadata" | "text-list"


def parse_bibtex(texts: Mapping[str, str]) -> BibParse:
    """Parse every ``.bib`` text (path -> text, read in path order) into one ``BibParse``."""
    import bibtexparser

    entries: dict[str, BibEntry] = {}
    failed: list[str] = []
    duplicates: list[str] = []
    for path in sorted(texts):
        library = bibtexparser.parse_string(texts[path])
        for block in library.failed_blocks:
            kind = type(block).__name__
            if kind == "DuplicateBlockKeyBlock":
                duplicates.append(str(getattr(block, "key", "")))
                continue
            error = getattr(block, "error", None)
            why = (str(error) or type(error).__name__) if error is not None else ""
            first_line = (block.raw or "").strip().split("\n", 1)[0][:80]
            failed.append(f"{path} line {block.start_line + 1}: {kind}: {first_line}" + (f" ({why})" if why else ""))
        for entry in library.entries:
            if entry.key in entries:
                duplicates.append(entry.key)
                continue
            values = tuple((f.key, _as_text(f.value)) for f in entry.fields)
            entries[entry.key] = BibEntry(entry.key, entry.entry_type.lower(), values)
    return BibParse(entries, tuple(failed), tuple(duplicates), "bib")


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


_BIBITEM_RE = re.compile(r"\\bibitem\s*(?:\[(?P<label>(?:[^\[\]]|\[[^\]]*\])*)\])?\s*\{(?P<key>[^}]*)\}")


def parse_bbl(text: str) -> BibParse:
    """``@misc`` entries from a compiled ``.bbl`` (``\\bibitem[label]{key} ... \\newblock ...``)."""
    from cyclebench.sources.latex import latex_to_text

    items = list(_BIBITEM_RE.finditer(text))
    entries: dict[str, BibEntry] = {}
    duplicates: list[str] = []
    for i, m in enumerate(items):
        key = m.group("key").strip()
        end = items[i + 1].start() if i + 1 < len(items) else len(text)
        body = re.sub(r"\\end\s*\{thebibliography\}.*", "", text[m.end() : end], flags=re.DOTALL)
        blocks = [b.strip() for b in re.split(r"\\newblock(?![A-Za-z@])", body)]
        blocks = [_flat(latex_to_text(b)) for b in blocks if b]
        blocks = [b for b in blocks if b]
        if not key or not blocks:
            continue
        if key in entries:
            duplicates.append(key)
            continue
        fields: list[tuple[str, str]] = []
        if len(blocks) >= 3:
            fields.append(("title", blocks[1].rstrip(".")))
        fields.append(("note", " ".join(blocks)))
        entries[key] = BibEntry(key, "misc", tuple(fields))
    return BibParse(entries, (), tuple(duplicates), "bbl")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------------------------
# Citations in the LaTeX


_CITE_RE = re.compile(r"\\([A-Za-z]*[Cc]ite[A-Za-z]*)\*?")


def cited_keys(tex: str) -> tuple[str, ...]:
    """Keys cited in ``tex`` (comments already stripped), first-citation order, no repeats.

    ``("*",)`` is returned when ``\\nocite{*}`` asks for the whole bibliography (with the other keys).
    """
    out: dict[str, None] = {}
    for m in _CITE_RE.finditer(tex):
        i = m.end()
        groups = 0
        while True:
            j = i
            while j < len(tex) and tex[j] in " \t\n":
                j += 1
            if j < len(tex) and tex[j] == "[":
                end = group_end(tex, j, "[", "]")
                if end < 0:
                    break
                i = end
                continue
            if j < len(tex) and tex[j] == "{":
                end = group_end(tex, j)
                if end < 0:
                    break
                for key in tex[j + 1 : end - 1].split(","):
                    key = key.strip()
                    if key and not key.startswith("\\") and " " not in key:
                        out.setdefault(key, None)
                groups += 1
                i = end
                # biblatex \cites{a}{b}, \parencites[..]{a}[..]{b}: several key groups.
                if m.group(1).endswith("cites"):
                    continue
            break
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Identifiers


_NEW_ARXIV_RE = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_OLD_ARXIV_RE = re.compile(r"(?<![A-Za-z])([a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")
_ARXIV_FIELDS = ("eprint", "arxiv", "arxivid", "journal", "url", "volume", "note", "howpublished", "booktitle")


def normalize_arxiv(text: str | None) -> str | None:
    """``arXiv:1706.04599v2`` / ``https://arxiv.org/abs/1706.04599`` -> ``1706.04599``; None when absent."""
    if not text:
        return None
    m = _NEW_ARXIV_RE.search(text)
    if m:
        return m.group(1)
    m = _OLD_ARXIV_RE.search(text)
    return m.group(1).lower() if m else None


def normalize_doi(text: str | None) -> str | None:
    if not text:
        return None
    m = re.search(r"10\.\d{4,9}/\S+", text)
    return m.group(0).rstrip(".,;}").lower() if m else None


def normalize_title(text: str | None) -> str | None:
    """Lower case, LaTeX commands and braces dropped, accents stripped, non-alphanumerics collapsed."""
    if not text:
        return None
    t = re.sub(r"\\[\"'^`~=.]\s*", "", text)  # accents: Sch{\"o}lkopf -> Scholkopf
    t = re.sub(r"\\[uvHcdbtkr](?![A-Za-z])\s*", "", t)  # letter accents: O{\u{g}}uz -> Oguz
    t = re.sub(r"\\[A-Za-z]+\s*", " ", t)
    t = re.sub(r"\\(.)", r"\1", t).replace("{", "").replace("}", "")
    t = unicodedata.normalize("NFKD", t)
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = re.sub(r"[^a-z0-9]+", " ", t.lower()).strip()
    return t or None


def entry_arxiv(entry: BibEntry) -> str | None:
    archive = (entry.get("archiveprefix") or entry.get("eprinttype") or "").lower()
    for name in _ARXIV_FIELDS:
        value = entry.get(name)
        if not value:
            continue
        if name == "eprint" and archive and archive != "arxiv":
            continue
        if name in ("eprint", "arxiv", "arxivid") or "arxiv" in value.lower():
            found = normalize_arxiv(value)
            if found:
                return found
    return None


def entry_doi(entry: BibEntry) -> str | None:
    return normalize_doi(entry.get("doi")) or normalize_doi(entry.get("url") if "doi.org" in (entry.get("url") or "") else None)


# ---------------------------------------------------------------------------------------------
# Abstracts of cited works


@dataclass(frozen=True, slots=True)
class AbstractIndex:
    """Abstracts by identifier kind and normalised value; immutable once built (safe to ship to workers)."""

    by_key: dict[str, str] = field(default_factory=dict)  # global bib keys
    by_paper_key: dict[tuple[str, str], str] = field(default_factory=dict)  # (paperId, key)
    by_arxiv: dict[str, str] = field(default_factory=dict)
    by_doi: dict[str, str] = field(default_factory=dict)
    by_title: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0

    @staticmethod
    def from_rows(rows: Iterable[Mapping[str, Any]]) -> AbstractIndex:
        maps: dict[str, dict[Any, str]] = {"key": {}, "paper_key": {}, "arxiv": {}, "doi": {}, "title": {}}
        rejected: Counter[str] = Counter()
        duplicates = 0
        n = 0
        for row in rows:
            n += 1
            problem = row_problem(row)
            if problem:
                rejected[problem] += 1
                continue
            abstract = _flat(str(row["abstract"]))
            ids = row_identifiers(row)
            for kind, value in ids:
                table = maps[kind]
                if value in table:
                    duplicates += 1
                    continue
                table[value] = abstract
        return AbstractIndex(
            by_key=maps["key"], by_paper_key=maps["paper_key"], by_arxiv=maps["arxiv"], by_doi=maps["doi"],
            by_title=maps["title"], rows=n, rejected=dict(sorted(rejected.items())), duplicates=duplicates,
        )

    def lookup(self, entry: BibEntry, paper_id: str) -> tuple[str, str] | None:
        """``(abstract, how it was matched)`` for a cited entry of ``paper_id``, or None."""
        hit = self.by_paper_key.get((paper_id, entry.key))
        if hit:
            return hit, "key"
        hit = self.by_key.get(entry.key)
        if hit:
            return hit, "key"
        arxiv = entry_arxiv(entry)
        if arxiv and arxiv in self.by_arxiv:
            return self.by_arxiv[arxiv], "arxiv"
        doi = entry_doi(entry)
        if doi and doi in self.by_doi:
            return self.by_doi[doi], "doi"
        title = normalize_title(entry.get("title"))
        if title and title in self.by_title:
            return self.by_title[title], "title"
        return None

    def __len__(self) -> int:
        return len(self.by_key) + len(self.by_paper_key) + len(self.by_arxiv) + len(self.by_doi) + len(self.by_title)


def row_problem(row: Mapping[str, Any]) -> str | None:
    if "_error" in row:
        return "invalid_row"
    abstract = row.get("abstract")
    if not isinstance(abstract, str) or not abstract.strip():
        return "no_abstract"
    if not any(isinstance(row.get(k), str) and row.get(k, "").strip() for k in IDENTIFIERS):
        return "no_identifier"
    return None


def row_identifiers(row: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(kind, normalised value) pairs of one abstracts row; a ``key`` with ``paperId`` is paper-scoped."""
    out: list[tuple[str, Any]] = []
    key = str(row.get("key") or "").strip()
    paper = str(row.get("paperId") or "").strip()
    if key:
        out.append(("paper_key", (paper, key)) if paper else ("key", key))
    arxiv = normalize_arxiv(str(row.get("arxiv") or ""))
    if arxiv:
        out.append(("arxiv", arxiv))
    doi = normalize_doi(str(row.get("doi") or ""))
    if doi:
        out.append(("doi", doi))
    title = normalize_title(str(row.get("title") or ""))
    if title:
        out.append(("title", title))
    return out


def _is_utf8(*cells: Any) -> bool:
    """Whether text decoded with ``surrogateescape`` held only UTF-8 (a cell may be None or a list
    in a ragged CSV row)."""
    for cell in cells:
        for text in cell if isinstance(cell, list) else [cell]:
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    return False
    return True


def read_abstract_rows(path: str | Path) -> Iterable[dict[str, Any]]:
    """Rows of an abstracts file: ``.csv`` (header row) or JSONL (anything else).

    A JSONL line that is not a JSON object, and a row (either format) with bytes that are not UTF-8,
    yields ``{"_error": ...}``, which ``AbstractIndex`` counts as rejected (``invalid_row``) rather than
    failing the build. A BOM is dropped.
    """
    p = Path(path)
    if p.suffix.lower() == ".csv":
        with p.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            for row in csv.DictReader(fh):
                yield row if _is_utf8(*row.keys(), *row.values()) else {"_error": "not UTF-8"}
        return
    with p.open(encoding="utf-8-sig", errors="surrogateescape") as fh:
        for line in fh:
            if not line.strip():
                continue
            if not _is_utf8(line):
                yield {"_error": "not UTF-8"}
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield {"_error": f"invalid JSON: {exc}"}
                continue
            yield row if isinstance(row, dict) else {"_error": "not an object"}


def paper_abstract_rows(paper_id: str, cited: Any) -> list[dict[str, Any]]:
    """A paper's own ``cited_abstracts`` (a list of rows, or ``{key: abstract}``) as paper-scoped rows."""
    if not cited:
        return []
    if isinstance(cited, Mapping):
        return [{"paperId": paper_id, "key": str(k), "abstract": v} for k, v in cited.items()]
    out = []
    for row in cited:
        if isinstance(row, Mapping):
            out.append({**row, "paperId": paper_id} if row.get("key") else dict(row))
    return out


# ---------------------------------------------------------------------------------------------
# One paper's references


@dataclass(frozen=True, slots=True)
class CitedReferences:
    """The cited entries of one paper as BibTeX, with what was and was not found."""

    bibtex: str
    cited: int  # distinct keys cited in the text
    in_bib: int  # of those, entries found in the bibliography
    missing_from_bib: tuple[str, ...]  # cited keys with no entry
    with_abstract: dict[str, int]  # by source (bib, key, arxiv, doi, title)
    without_abstract: tuple[str, ...]  # keys of entries written without an abstract
    source: str  # where the entries came from (bib, bbl, metadata, text-list)


def collect_references(
    bib: BibParse,
    keys: Iterable[str],
    paper_id: str,
    *indexes: AbstractIndex,
) -> CitedReferences:
    """Keep the cited entries (in citation order), attach abstracts from ``indexes`` in order."""
    keys = list(keys)
    if "*" in keys:
        keys = [k for k in keys if k != "*"] + [k for k in bib.entries if k not in keys]
    chosen: list[BibEntry] = []
    missing: list[str] = []
    with_abstract: Counter[str] = Counter()
    without: list[str] = []
    for key in keys:
        entry = bib.entries.get(key)
        if entry is None:
            missing.append(key)
            continue
        own = entry.get("abstract")
        if own and own.strip():
            with_abstract["bib"] += 1
            chosen.append(entry.with_field("abstract", bibtex_safe(own)))
            continue
        hit = next((h for index in indexes if (h := index.lookup(entry, paper_id)) is not None), None)
        if hit is None:
            without.append(key)
            chosen.append(entry)
        else:
            with_abstract[hit[1]] += 1
            chosen.append(entry.with_field("abstract", bibtex_safe(hit[0])))
    return CitedReferences(
        bibtex=write_bibtex(chosen),
        cited=len(keys),
        in_bib=len(chosen),
        missing_from_bib=tuple(missing),
        with_abstract={s: with_abstract[s] for s in ABSTRACT_SOURCES if with_abstract[s]},
        without_abstract=tuple(without),
        source=bib.source,
    )


def bibtex_safe(text: str) -> str:
    """One line; braces kept only when balanced (BibTeX counts them even after a backslash)."""
    flat = _flat(text)
    depth = 0
    for c in flat:
        depth += 1 if c == "{" else -1 if c == "}" else 0
        if depth < 0:
            break
    if depth != 0:
        flat = flat.replace("{", "(").replace("}", ")")
    return flat


def write_bibtex(entries: Iterable[BibEntry]) -> str:
    """BibTeX text of ``entries`` in the given order (bibtexparser's writer, two-space indent)."""
    import bibtexparser
    from bibtexparser.model import Entry, Field

    library = bibtexparser.Library()
    for e in entries:
        library.add(Entry(e.entry_type, e.key, [Field(k, bibtex_safe(v)) for k, v in e.fields]))
    fmt = bibtexparser.BibtexFormat()
    fmt.indent = "  "
    fmt.block_separator = "\n"
    out = bibtexparser.write_string(library, bibtex_format=fmt)
    return out.strip() + "\n" if out.strip() else ""


def bibtex_from_string(text: str, source: str) -> BibParse:
    """A BibTeX string given in metadata, parsed like a ``.bib`` file."""
    parsed = parse_bibtex({"metadata": text})
    return BibParse(parsed.entries, parsed.failed_blocks, parsed.duplicate_keys, source)


_AUTHOR_START_RE = re.compile(r"^(?:[A-Z][\w'\u2019\-]*\.?\s+){1,4}?[A-Z][\w'\u2019\-]*\.?(?:,|\s+and\s|\s*&)")
_MARKER_RE = re.compile(r"^(?:\[\d{1,3}\]|\d{1,3}\.\s|[-*]\s)")


def references_from_text(lines: list[str]) -> BibParse:
    """``@misc`` entries from a reference list in extracted text (markdown/PDF papers have no .bib).

    A new reference starts at a blank line, at a ``[n]``/``n.`` marker or ``-``/``*`` bullet, or, in
    author-year lists wrapped at the column width, at a line that starts like an author list
    ("Jeff Donahue and ...", "Bekker, J., ...") after a line ending with a full stop. The whole
    reference is kept in ``howpublished``; an arXiv id in it is copied to ``eprint`` so an abstract
    can still be matched by arXiv id. A heuristic: over- or under-splitting changes the number of
    ``@misc`` entries, never their text.
    """
    refs: list[str] = []
    current: list[str] = []
    for line in lines:
        s = line.strip()
        if not s:
            if current:
                refs.append(" ".join(current))
                current = []
            continue
        starts_new = bool(_MARKER_RE.match(s)) or (
            bool(current) and current[-1].endswith(".") and bool(_AUTHOR_START_RE.match(s))
        )
        if starts_new and current:
            refs.append(" ".join(current))
            current = []
        current.append(re.sub(r"^(?:[-*]\s+)", "", s))
    if current:
        refs.append(" ".join(current))
    entries: dict[str, BibEntry] = {}
    for i, ref in enumerate(r for r in refs if len(r) >= 20):
        key = f"ref{i + 1}"
        fields: list[tuple[str, str]] = [("howpublished", _flat(ref))]
        arxiv = normalize_arxiv(ref) if "arxiv" in ref.lower() else None
        if arxiv:
            fields.append(("eprint", arxiv))
            fields.append(("archiveprefix", "arXiv"))
        entries[key] = BibEntry(key, "misc", tuple(fields))
    return BibParse(entries, (), (), "text-list")


__all__ = [
    "AbstractIndex",
    "BibEntry",
    "BibParse",
    "CitedReferences",
    "bibtex_from_string",
    "cited_keys",
    "collect_references",
    "normalize_arxiv",
    "normalize_doi",
    "normalize_title",
    "paper_abstract_rows",
    "parse_bbl",
    "parse_bibtex",
    "read_abstract_rows",
    "references_from_text",
    "write_bibtex",
]
