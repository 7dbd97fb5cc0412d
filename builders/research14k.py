"""Research-14K: accepted papers as CycleResearcher training records (references in, paper out).

The published Research-14K (12,696 train / 802 test, temporal split; ICLR, NeurIPS, ICML, ACL, EMNLP,
CVPR, ICCV 2022-2024 papers with arXiv LaTeX) came without the code that built it. This builder rebuilds
it from two inputs:

* ``--papers DIR [DIR ...]``: each paper's source, named by its id (``PapersDirectory`` rules: an arXiv
  e-print ``<id>.tar.gz``/``<id>.gz``, ``<id>.tex``, a folder ``<id>/`` with ``.tex`` files, and as
  fallbacks ``<id>.md``/``<id>.txt`` and ``<id>.pdf``), or the path a metadata row names in ``source``;
* ``--metadata META.jsonl``: one JSON object per paper (below), and optionally ``--abstracts FILE`` with
  the abstracts of cited works (format in ``builders/bibtex.py``).

Metadata row (unknown keys are ignored)::

    {"paperId": "-bxf89v3Nx",            # required; names the source file/folder ("id" also accepted)
     "venue": "ICLR", "year": 2021,      # required
     "title": "...", "abstract": "...",  # optional: else read from the source
     "arxiv": "2010.10994",              # optional
     "topic": "...", "keywords": [...],  # optional: the generator's topic (else the default topic)
     "source": "latex/calib.tar.gz",     # optional: path of the source (below), absolute or relative
     "bibtex": "@article{...}",          # optional: references for a markdown/PDF paper (no .bib there)
     "cited_abstracts": [{"key": "Guo2017", "abstract": "..."}]}   # optional, or {"Guo2017": "..."}

A ``source`` is looked up under each ``--papers`` folder, then beside the metadata file; it is read only
when its real path (links and ``..`` resolved) lies inside one of those folders, absolute paths included:
``../../x`` or ``/usr`` is rejected as ``outside_input``, never followed. Every source file is read through
``cyclebench.sources.confined`` within the config's source bounds (``Research14KConfig.source_limits``).

Per paper, one pure stage (``PaperToRow``, run through ``cyclebench.builders.executor`` on any number of processes
or datatrove tasks, outputs in input order): extract (``cyclebench.builders.paper_extract``: main file, includes,
comments and acknowledgements stripped, structural compile check, sections, captions, ``.bib``), collect
the cited entries with their abstracts (``cyclebench.builders.bibtex``), split the sections into the generator's
two parts (``cyclebench.builders.outline.split_parts``), make the outline (``OutlineFromSections`` offline, or
``OutlineByModel`` in the driver, batched through a backend), and write the row with ``messages`` in the
5-turn CycleResearcher format of ``cyclebench.protocols.cycleresearcher`` (REFERENCE 1.3). Every paper
leaves as a row or as a counted reject with its reason (``rejects.jsonl``, ``manifest.json``).

Split: temporal. Papers of ``test_years`` (by default the latest year in the metadata) are ``test``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cyclebench.builders import citations
from cyclebench.builders.base import (
    input_fingerprint,
)
from cyclebench.builders.bibtex import (
    AbstractIndex,
    CitedReferences,
    bibtex_from_string,
    collect_references,
    normalize_arxiv,
    paper_abstract_rows,
    read_abstract_rows,
)
from cyclebench.builders.citations import citation_section
from cyclebench.builders.driver import Accounting, Balance, BuildRun, BuildSpec
from cyclebench.builders.executor import DatatroveOptions, Engine, run_stage
from cyclebench.builders.outline import (
    OutlineByModel,
    OutlineFromSections,
    PaperParts,
    ResearchOutline,
    split_parts,
)
from cyclebench.builders.paper_extract import (
    EXTRACTOR_VERSION,
    ExtractedPaper,
    PaperSection,
    extract_paper,
)

from cyclebench.hub.card import CardMetadata
from cyclebench.hub.columns import Research14K
from cyclebench.hub.writer import card_front_matter
from cyclebench.outputs import check_outside
from cyclebench.records import GeneratedPaper, RecordError, Reject, problem_key
from cyclebench.sources import confined
from cyclebench.sources.confined import DEFAULT_LIMITS, SourceLimits
from cyclebench.sources.openreview import MAX_ID_LENGTH, is_valid_id

NAME = "research-14k"
VERSION = "1.3.0"
CHANGELOG = """\
## 1.3.0
- The card carries the Hub metadata (`language`, `task_categories`, `size_categories`, `source_datasets`;
  `license: other` with `license_name` / `license_link`: each arXiv paper's own license) and cites
  CycleResearcher and arXiv. Rows are unchanged.

## 1.2.0
- One source is one paper: a source that is, lies inside or holds a source an earlier metadata row took
  (the same project under another paperId or year, `..` and links resolved) is `duplicate_source`, naming
  that paperId; a `source` that is (or holds) a `--papers` folder or the metadata file's folder is
  `source_is_input_root`. A paperId must be 1-128 printable ASCII characters without `/`, `\\` or
  whitespace (`metadata_invalid`).
- A PDF is read only when it is whole (`pdf_truncated`: no `%%EOF` at its end, or a cross-reference table
  the reader had to rebuild) and has at most `max_pdf_pages` pages (`pdf_too_many_pages`, checked before
  extraction; a new config field, 300 by default).

## 1.1.0
- Sources are read only inside the input folders and only as regular files (`outside_input`,
  `not_a_regular_file`, `symlink_loop`, `unreadable`); a metadata `source` must resolve inside a `--papers`
  folder or the metadata file's folder. Archives and LaTeX expansion are bounded by config fields
  (`max_file_bytes`, `max_member_bytes`, `max_total_bytes`, `max_members`, `max_expanded_bytes`,
  `max_includes`, `max_include_depth`); each breach, an unsafe archive member and a corrupt archive
  (`corrupt_archive`) reject the paper. A metadata line that is not UTF-8 is `metadata_invalid`.

## 1.0.0
- First rebuild: LaTeX sources (arXiv e-print, gzip'd file, folder) with markdown/text and PDF fallbacks;
  sections, captions, cited BibTeX entries with abstracts from metadata; outline from the paper's own
  sections (`from-sections-v1`) or from a model; 5-turn CycleResearcher `messages`; temporal split.
"""

SPLITS = ("train", "test")
OutlineKind = Literal["from-sections", "model"]


@dataclass(frozen=True)
class Research14KConfig:
    """Everything that decides the content of a build; its hash goes into the manifest.

    Workers and engine are not here: they never change the output.
    """

    # Years whose papers form the test split; empty = the latest year present in the metadata.
    test_years: tuple[int, ...] = ()
    # Keep only these venues / years (empty keeps all); others are rejected with a reason.
    venues: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    # Which source to read when a paper has several (LaTeX first; the rest are fallbacks).
    text_prefer: tuple[str, ...] = ("latex", "markdown", "text", "pdf")
    # A record's user turn is the cited works; without them the record cannot train the generator.
    require_references: bool = True
    # arXiv sources often ship only the compiled .bbl: read its \bibitem entries when there is no .bib.
    bbl_fallback: bool = True
    # Papers with fewer headed body sections are rejected ("too_few_sections").
    min_sections: int = 2
    outline: OutlineKind = "from-sections"
    # from-sections: a fixed (interestingness, feasibility, novelty) prior to write; empty = omit them.
    outline_scores: tuple[int, ...] = ()
    # model: a backend name and its k=v arguments (cyclebench.backends), e.g. "openai" and
    # "base_url=http://127.0.0.1:8000/v1,model=Mistral-Large-Instruct-2407".
    outline_backend: str = ""
    outline_model_args: str = ""
    outline_batch_size: int = 16
    outline_max_paper_chars: int = 60_000
    # The generator's topic when the metadata gives neither topic nor keywords.
    default_topic: str = "machine learning"
    max_rows_per_shard: int = 500
    # Paper texts are their authors' work under each arXiv license; the rebuild is for research use.
    license: str = "other"
    # Bounds on one paper's source (cyclebench.sources.confined.SourceLimits, which documents each and
    # its reject reason): a stored file, an archive member and the whole archive uncompressed, the
    # archive's members, the LaTeX with includes pasted in, the include count and nesting, a PDF's pages.
    max_file_bytes: int = DEFAULT_LIMITS.max_file_bytes
    max_member_bytes: int = DEFAULT_LIMITS.max_member_bytes
    max_total_bytes: int = DEFAULT_LIMITS.max_total_bytes
    max_members: int = DEFAULT_LIMITS.max_members
    max_expanded_bytes: int = DEFAULT_LIMITS.max_expanded_bytes
    max_includes: int = DEFAULT_LIMITS.max_includes
    max_include_depth: int = DEFAULT_LIMITS.max_include_depth
    max_pdf_pages: int = DEFAULT_LIMITS.max_pdf_pages

    def __post_init__(self) -> None:
        if self.outline not in ("from-sections", "model"):
            raise ValueError("outline must be 'from-sections' or 'model'")
        if self.outline_scores and (len(self.outline_scores) != 3 or not all(1 <= int(x) <= 10 for x in self.outline_scores)):
            raise ValueError("outline_scores must be three integers in 1..10 (interestingness feasibility novelty)")
        if self.outline == "model" and not self.outline_backend:
            raise ValueError("outline=model needs outline_backend (and outline_model_args)")
        unknown = set(self.text_prefer) - {"latex", "markdown", "text", "pdf"}
        if unknown:
            raise ValueError(f"text_prefer: unknown kinds {sorted(unknown)}")
        if self.min_sections < 0 or self.max_rows_per_shard < 1 or self.outline_batch_size < 1:
            raise ValueError("min_sections >= 0, max_rows_per_shard >= 1, outline_batch_size >= 1")
        self.source_limits()  # a bound that is not a positive integer is a ValueError here, not mid-build

    def source_limits(self) -> SourceLimits:
        """The source bounds of this config as the readers take them."""
        return SourceLimits(**{f.name: getattr(self, f.name) for f in dataclasses.fields(SourceLimits)})


# ---------------------------------------------------------------------------------------------
# Schema

SCHEMAS = Research14K.SCHEMAS
SCHEMA = SCHEMAS["default"]

# ---------------------------------------------------------------------------------------------
# Metadata


@dataclass(frozen=True, slots=True)
class PaperMeta:
    paper_id: str
    venue: str
    year: int
    title: str = ""
    abstract: str = ""
    arxiv: str = ""
    topic: str = ""
    topic_source: str = "default"  # "metadata:topic" | "metadata:keywords" | "default"
    source: str = ""
    bibtex: str = ""
    cited_abstracts: tuple[dict[str, Any], ...] = ()


def _text_field(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError("metadata_invalid", f"{key} must be a string, not {type(value).__name__}")
    return value.strip()


def parse_metadata_row(row: Any) -> PaperMeta:
    """One metadata object to a ``PaperMeta``; ``RecordError("metadata_invalid", why)`` otherwise."""
    if not isinstance(row, dict):
        raise RecordError("metadata_invalid", f"not a JSON object ({type(row).__name__})")
    paper_id = row.get("paperId", row.get("id"))
    paper_id = paper_id.strip() if isinstance(paper_id, str) else paper_id
    if not is_valid_id(paper_id):
        shown = ascii(paper_id[:40]) + ("..." if len(paper_id) > 40 else "") if isinstance(paper_id, str) else type(paper_id).__name__
        raise RecordError("metadata_invalid", f"paperId must be a file-name-safe id (1-{MAX_ID_LENGTH} printable ASCII "
                                              f"characters, no '/', '\\' or whitespace), got {shown}")
    venue = _text_field(row, "venue")
    if not venue:
        raise RecordError("metadata_invalid", "venue is missing")
    year = row.get("year")
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year.strip())
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2100:
        raise RecordError("metadata_invalid", f"year must be an integer year, got {year!r}")
    topic, topic_source = _text_field(row, "topic"), "metadata:topic"
    if not topic:
        keywords = row.get("keywords")
        if isinstance(keywords, str):
            keywords = [k for k in re.split(r"[,;]", keywords)]
        if isinstance(keywords, list) and any(isinstance(k, str) and k.strip() for k in keywords):
            topic = ", ".join(k.strip() for k in keywords if isinstance(k, str) and k.strip())
            topic_source = "metadata:keywords"
        else:
            topic_source = "default"
    cited = row.get("cited_abstracts") or []
    if not isinstance(cited, (list, dict)):
        raise RecordError("metadata_invalid", "cited_abstracts must be a list of rows or a {key: abstract} mapping")
    arxiv_raw = _text_field(row, "arxiv")
    return PaperMeta(
        paper_id=paper_id, venue=venue, year=year, title=re.sub(r"\s+", " ", _text_field(row, "title")),
        abstract=_text_field(row, "abstract"), arxiv=normalize_arxiv(arxiv_raw) or arxiv_raw, topic=topic,
        topic_source=topic_source, source=_text_field(row, "source"), bibtex=_text_field(row, "bibtex"),
        cited_abstracts=tuple(paper_abstract_rows(paper_id, cited)),
    )


def read_metadata(path: str | Path) -> Iterator[tuple[str, PaperMeta | RecordError]]:
    """``(record id, meta or error)`` per non-blank line; the id is the paperId when readable.

    Bytes that are not UTF-8 are kept as surrogates by the decoder and make that one row
    ``metadata_invalid``, rather than an exception that ends the build; a BOM is dropped.
    """
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as fh:
        for line_no, line in enumerate(fh, 1):
            try:
                line.encode("utf-8")
            except UnicodeEncodeError as exc:
                yield f"line {line_no}", RecordError("metadata_invalid", f"not UTF-8 at character {exc.start}")
                continue
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {line_no}", RecordError("metadata_invalid", f"invalid JSON: {exc}")
                continue
            rid = row.get("paperId", row.get("id")) if isinstance(row, dict) else None
            rid = rid.strip() if isinstance(rid, str) and is_valid_id(rid.strip()) else f"line {line_no}"
            try:
                yield rid, parse_metadata_row(row)
            except RecordError as exc:
                yield rid, exc


# ---------------------------------------------------------------------------------------------
# Sources


@dataclass(frozen=True, slots=True)
class PaperJob:
    """One paper's work order: its metadata and the source file chosen for it."""

    meta: PaperMeta
    kind: str  # latex | markdown | text | pdf
    path: str  # absolute
    rel_path: str  # as recorded in the row
    root: str = ""  # the input folder ``path`` lies in; extraction reads nothing outside it ("": path's own)


def _kind_of(path: Path) -> str | None:
    name = path.name.lower()
    if path.is_dir() or name.endswith((".tar.gz", ".tgz", ".gz", ".tar", ".tex")):
        return "latex"
    if name.endswith(".md"):
        return "markdown"
    if name.endswith(".txt"):
        return "text"
    if name.endswith(".pdf"):
        return "pdf"
    return None


def _folders_between(root: str, real: str) -> list[str]:
    """The folders strictly inside ``root`` that hold ``real``, innermost first (all real paths)."""
    folders = []
    inside = root.rstrip(os.sep) + os.sep
    parent = os.path.dirname(real)
    while parent.startswith(inside) and parent != os.path.dirname(parent):
        folders.append(parent)
        parent = os.path.dirname(parent)
    return folders


class SourceFinder:
    """Finds each paper's source under one or more ``--papers`` folders (or a metadata ``source``),
    never outside them and the metadata file's folder (``outside_input``), and never one an earlier paper
    already took (``duplicate_source``): ``find`` is called once per paper, in metadata order."""

    def __init__(self, roots: Sequence[str | Path], metadata_dir: str | Path | None = None,
                 limits: SourceLimits = DEFAULT_LIMITS):
        from cyclebench.sources.text import PapersDirectory

        self.roots = [Path(r) for r in roots]
        self.directories = [PapersDirectory(r, limits) for r in self.roots]
        self.bases = self.roots + ([Path(metadata_dir)] if metadata_dir is not None else [])
        self.real_bases = confined.real_roots(self.bases)
        self._taken: dict[str, str] = {}  # real path of a used source -> the paperId that took it
        self._holding: dict[str, str] = {}  # real folder that holds a used source -> that paperId

    def find(self, meta: PaperMeta, prefer: Sequence[str]) -> PaperJob:
        """The source of ``meta``'s paper, claimed for it; a ``RecordError`` names why there is none."""
        return self._claim(self._locate(meta, prefer))

    def _claim(self, job: PaperJob) -> PaperJob:
        """Take ``job``'s source for its paper. The same file or folder under a second paperId (or a second
        year) would put one paper in train and test at once: a source equal to, inside or holding one
        already taken is ``duplicate_source``, naming the paper that took it first."""
        parents = _folders_between(job.root, job.path) if job.root else []
        clash = self._clash(job.path, parents)
        if clash is not None:
            how, first = clash
            raise RecordError("duplicate_source", f"{job.rel_path} {how} the source of paperId {first!r}, "
                                                  "taken by an earlier metadata row")
        self._taken[job.path] = job.meta.paper_id
        for folder in parents:
            self._holding.setdefault(folder, job.meta.paper_id)
        return job

    def _clash(self, real: str, parents: Sequence[str]) -> tuple[str, str] | None:
        """How ``real`` overlaps a source already taken ("is", "holds", "lies inside") and which paperId took it."""
        if real in self._taken:
            return "is", self._taken[real]
        if real in self._holding:
            return "holds", self._holding[real]
        first = next((self._taken[p] for p in parents if p in self._taken), None)
        return None if first is None else ("lies inside", first)

    def _locate(self, meta: PaperMeta, prefer: Sequence[str]) -> PaperJob:
        if meta.source:
            return self._from_metadata(meta)
        found = [(d, f) for d in self.directories for f in d.sources(meta.paper_id)]
        for kind in prefer:
            for directory, f in found:
                if f.kind == kind:
                    root = os.path.realpath(directory.root)
                    real = confined.resolve_inside(directory.root / f.path, (root,))
                    return PaperJob(meta, kind, real, f.path, root)
        if found:
            kinds = sorted({f.kind for _d, f in found})
            raise RecordError("source_kind_not_preferred", f"only {kinds} found; text_prefer={list(prefer)}")
        raise RecordError("source_not_found", f"no source named {meta.paper_id!r} in the --papers folders")

    def _from_metadata(self, meta: PaperMeta) -> PaperJob:
        """The metadata ``source``: the first candidate that exists, if it resolves inside an input folder."""
        given = Path(meta.source)
        candidates = [given] if given.is_absolute() else [base / given for base in self.bases]
        for path in candidates:
            if not os.path.lexists(path):
                continue
            real = confined.resolve_inside(path, self.real_bases)
            self._refuse_input_root(meta, real)
            kind = _kind_of(path)
            if kind is None:
                raise RecordError("source_unsupported", f"{meta.source}: not a LaTeX, markdown, text or PDF source")
            return PaperJob(meta, kind, real, meta.source, confined.containing_root(real, self.real_bases) or "")
        raise RecordError("source_not_found", f"metadata source {meta.source!r} is in no --papers folder "
                                              "nor beside the metadata file")

    def _refuse_input_root(self, meta: PaperMeta, real: str) -> None:
        """A ``source`` that is (or holds) a ``--papers`` folder or the metadata file's folder would read every
        paper in it as one LaTeX project: ``source_is_input_root``."""
        for given, base in zip(self.bases, self.real_bases):
            if real == base or base.startswith(real.rstrip(os.sep) + os.sep):
                what = "the metadata file's folder" if given not in self.roots else "a --papers folder"
                verb = "is" if real == base else "holds"
                raise RecordError("source_is_input_root", f"{meta.source!r} {verb} {what}; name the paper's own "
                                                          "file or folder")


# ---------------------------------------------------------------------------------------------
# The per-paper stage


@dataclass(frozen=True, slots=True)
class Extracted:
    """A paper ready for its outline: the extraction, the chosen title/abstract, parts and references."""

    job: PaperJob
    paper: ExtractedPaper
    title: str
    abstract: str
    parts: PaperParts
    references: CitedReferences


@dataclass(frozen=True, slots=True)
class PaperOutcome:
    paper_id: str
    year: int
    row: dict[str, Any] | None = None
    reject: Reject | None = None


def _reject(job: PaperJob, reason: str, detail: str = "") -> Reject:
    return Reject(job.meta.paper_id, "paper", reason, detail)


@dataclass(frozen=True)
class ExtractStage:
    """Pure: a ``PaperJob`` to an ``Extracted`` paper, or a ``Reject`` with the reason."""

    config: Research14KConfig
    abstracts: AbstractIndex = field(default_factory=AbstractIndex)

    def __call__(self, job: PaperJob) -> Extracted | Reject:
        config = self.config
        meta = job.meta
        try:
            paper = extract_paper(Path(job.path), job.kind, bbl_fallback=config.bbl_fallback,  # type: ignore[arg-type]
                                  roots=(job.root,) if job.root else None, limits=config.source_limits())
        except RecordError as exc:
            return _reject(job, exc.reason, exc.detail)
        except Exception as exc:  # noqa: BLE001 - one odd file is a counted reject, never a crashed build
            return _reject(job, "extract_failed", f"{type(exc).__name__}: {exc}")
        title = meta.title or paper.title
        abstract = meta.abstract or paper.abstract
        if not title.strip():
            return _reject(job, "no_title", "neither the metadata nor the source gives a title")
        if not abstract.strip():
            return _reject(job, "no_abstract", "neither the metadata nor the source gives an abstract")
        headed = [s for s in paper.sections if s.heading and not s.appendix]
        if len(headed) < config.min_sections:
            return _reject(job, "too_few_sections", f"{len(headed)} headed body sections < {config.min_sections}")
        parts = split_parts(paper.sections)
        if parts is None:
            heads = ", ".join(s.heading for s in headed[:8])
            return _reject(job, "no_experiments_or_conclusion_section", f"headings: {heads}")
        bib, cited = paper.bib, paper.cited
        if meta.bibtex:
            bib = bibtex_from_string(meta.bibtex, "metadata")
            if job.kind != "latex":
                cited = tuple(bib.entries)
        if bib is None:
            if config.require_references:
                what = (f"the source cites {len(cited)} key(s) but has no .bib" + (" or .bbl" if config.bbl_fallback else "")
                        if job.kind == "latex" else "no reference list found in the text and no bibtex in the metadata")
                return _reject(job, "bib_missing", what)
            bib = bibtex_from_string("", "none")
        if not cited and config.require_references:
            return _reject(job, "no_citations", "the source cites nothing")
        own = AbstractIndex.from_rows(meta.cited_abstracts) if meta.cited_abstracts else AbstractIndex()
        references = collect_references(bib, cited, meta.paper_id, own, self.abstracts)
        if references.in_bib == 0 and config.require_references:
            return _reject(job, "cited_keys_not_in_bib",
                           f"{references.cited} cited keys, none in the bibliography (e.g. {', '.join(references.missing_from_bib[:5])})")
        return Extracted(job, paper, title, abstract, parts, references)


@dataclass(frozen=True)
class PaperToRow:
    """Pure, picklable: a ``PaperJob`` to its Research-14K row or a reject (offline outline)."""

    extract: ExtractStage
    outline: OutlineFromSections

    def __call__(self, job: PaperJob) -> PaperOutcome:
        extracted = self.extract(job)
        if isinstance(extracted, Reject):
            return PaperOutcome(job.meta.paper_id, job.meta.year, reject=extracted)
        return finish_row(extracted, self.outline.outline(extracted.paper, extracted.parts, extracted.abstract),
                          self.extract.config)


def finish_row(ex: Extracted, outline: ResearchOutline, config: Research14KConfig) -> PaperOutcome:
    meta = ex.job.meta
    try:
        row = research_row(ex, outline, config)
    except ValueError as exc:  # what the 5-turn format cannot hold unambiguously
        return PaperOutcome(meta.paper_id, meta.year, reject=_reject(ex.job, "format_invalid", str(exc)))
    return PaperOutcome(meta.paper_id, meta.year, row=row)


# ---------------------------------------------------------------------------------------------
# Rows and messages


_SECTION_COMMANDS = {0: "section", 1: "section", 2: "subsection", 3: "subsubsection", 4: "paragraph", 5: "subparagraph"}
_FENCE_BLOCK_RE = re.compile(r"```[A-Za-z0-9_+\-]*[^\n]*\n(.*?)```", re.DOTALL)
_MD_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*", re.MULTILINE)
_CLEARPAGE_RE = re.compile(r"\\(?:clearpage|newpage|cleardoublepage)\b")


def latex_safe(text: str) -> str:
    """Text made safe for a fenced LaTeX block: code fences become ``verbatim``, markdown heading marks
    are dropped (they would read as protocol headings), page breaks (where generation stops) removed."""
    text = _FENCE_BLOCK_RE.sub(lambda m: "\\begin{verbatim}\n" + m.group(1).rstrip("\n") + "\n\\end{verbatim}", text)
    text = text.replace("```", "")
    text = _MD_HEADING_RE.sub("", text)
    return _CLEARPAGE_RE.sub("", text).strip()


def _balanced(text: str) -> str:
    depth = 0
    for c in text:
        depth += 1 if c == "{" else -1 if c == "}" else 0
        if depth < 0:
            break
    return text if depth == 0 else text.replace("{", "(").replace("}", ")")


def render_sections(sections: Iterable[PaperSection]) -> str:
    """Sections as LaTeX: ``\\section{Heading}`` (by level) and the section's text."""
    out = []
    for s in sections:
        if s.heading:
            heading = _balanced(re.sub(r"\s+", " ", latex_safe(s.heading)))
            out.append(f"\\{_SECTION_COMMANDS.get(s.level, 'paragraph')}{{{heading}}}")
        text = latex_safe(s.text)
        if text:
            out.append(text)
    return "\n\n".join(out)


def plain_one_line(text: str) -> str:
    return re.sub(r"\s+", " ", latex_safe(text)).strip()


def research_messages(ex: Extracted, outline: ResearchOutline, topic: str) -> list[dict[str, str]]:
    """The 5-turn record through the protocol's own writer, so it parses back with ``parse_generation``."""
    from cyclebench.protocols.cycleresearcher import format_training_messages

    sections = ex.paper.sections
    o = outline.outline
    safe_outline = dataclasses.replace(o, motivation=plain_one_line(o.motivation), main_idea=plain_one_line(o.main_idea))
    paper = GeneratedPaper(
        paper_id=ex.job.meta.paper_id,
        status="ok",
        outline=safe_outline,
        title=_balanced(plain_one_line(ex.title)),
        abstract=re.sub(r"\\end\s*\{abstract\}", "", latex_safe(ex.abstract)),
        latex_body=render_sections(sections[i] for i in ex.parts.part1),
        experiments_latex=render_sections(sections[i] for i in ex.parts.part2),
        # JSON escapes everything but a ``` that would close the block around it.
        setup=tuple(dataclasses.replace(s, name=_unfenced(s.name), description=_unfenced(s.description)) for s in outline.setup),
        results=tuple(dataclasses.replace(r, name=_unfenced(r.name), content=_unfenced(r.content),
                                          description=_unfenced(r.description)) for r in outline.results),
    )
    return format_training_messages(topic, ex.references.bibtex, safe_outline, paper)


def _unfenced(text: str) -> str:
    return text.replace("```", "")


def research_row(ex: Extracted, outline: ResearchOutline, config: Research14KConfig) -> dict[str, Any]:
    meta = ex.job.meta
    topic = meta.topic or config.default_topic
    refs = ex.references
    paper = ex.paper
    return {
        "paperId": meta.paper_id,
        "title": ex.title,
        "abstract": ex.abstract,
        "venue": meta.venue,
        "year": meta.year,
        "references": refs.bibtex,
        "arxiv": meta.arxiv or None,
        "sections": [
            {"heading": s.heading, "level": s.level, "number": s.number, "text": s.text, "appendix": s.appendix}
            for s in paper.sections
        ],
        "figure": [
            {"kind": f.kind, "number": f.number, "label": f.label, "caption": f.caption, "content": f.content,
             "appendix": f.appendix}
            for f in paper.figures
        ],
        "messages": research_messages(ex, outline, topic),
        "topic": topic,
        "topic_source": meta.topic_source,
        "text_source": paper.source_kind,
        "source_path": ex.job.rel_path,
        "source_sha256": paper.source_sha256,
        "extractor": EXTRACTOR_VERSION,
        "references_source": refs.source,
        "references_cited": refs.cited,
        "references_in_bib": refs.in_bib,
        "references_missing_from_bib": list(refs.missing_from_bib),
        "references_abstract_sources": [{"source": k, "count": v} for k, v in refs.with_abstract.items()],
        "references_without_abstract": list(refs.without_abstract),
        "outline_method": outline.outline.method,
        "part_split": ex.parts.rule,
        "setup_count": len(outline.setup),
        "results_count": len(outline.results),
        "notes": list(paper.notes),
    }


# ---------------------------------------------------------------------------------------------
# The build


@dataclass
class BuildReport:
    out: Path
    manifest: dict[str, Any] = field(default_factory=dict)


def _outline_model(config: Research14KConfig, cache_dir: str | Path | None) -> OutlineByModel:
    from cyclebench.backends import open_backend

    opened = open_backend(config.outline_backend, config.outline_model_args, cache_dir)
    return OutlineByModel(opened.cached, max_paper_chars=config.outline_max_paper_chars)


def _with_model_outlines(extracted: Iterable[Extracted | Reject], model: OutlineByModel,
                         config: Research14KConfig) -> Iterator[PaperOutcome]:
    """Outlines in batches through the backend; outcomes still come out in input order."""
    pending: list[Extracted | Reject] = []

    def flush() -> Iterator[PaperOutcome]:
        ready = [x for x in pending if isinstance(x, Extracted)]
        parses = iter(model.outline_many([(x.job.meta.paper_id, x.paper, x.title, x.abstract) for x in ready]))
        for x in pending:
            if isinstance(x, Reject):
                yield PaperOutcome(x.record_id, -1, reject=x)
                continue
            parsed = next(parses)
            if parsed.outline is None:
                yield PaperOutcome(x.job.meta.paper_id, x.job.meta.year,
                                   reject=_reject(x.job, "outline_unparseable", "; ".join(parsed.problems)))
            else:
                yield finish_row(x, parsed.outline, config)
        pending.clear()

    for item in extracted:
        pending.append(item)
        if sum(isinstance(x, Extracted) for x in pending) >= config.outline_batch_size:
            yield from flush()
    yield from flush()


def build(
    metadata: str | Path,
    papers: str | Path | Sequence[str | Path],
    out: str | Path,
    config: Research14KConfig | None = None,
    *,
    abstracts: str | Path | None = None,
    overwrite: bool = False,
    workers: int | None = 1,
    engine: Engine = "local",
    datatrove: DatatroveOptions | None = None,
    outline_cache: str | Path | None = None,
    progress: bool | None = None,
) -> BuildReport:
    """Build Research-14K into ``out`` (Hub layout). ``workers``/``engine`` change speed, never bytes."""
    from tqdm.auto import tqdm

    config = config or Research14KConfig()
    metadata = Path(metadata)
    if not metadata.is_file():
        raise FileNotFoundError(f"metadata file not found: {metadata}")
    roots = [Path(papers)] if isinstance(papers, (str, Path)) else [Path(p) for p in papers]
    finder = SourceFinder(roots, metadata.parent, config.source_limits())
    index = AbstractIndex()
    if abstracts is not None:
        if not Path(abstracts).is_file():
            raise FileNotFoundError(f"abstracts file not found: {abstracts}")
        index = AbstractIndex.from_rows(read_abstract_rows(abstracts))
    work_dir = datatrove.work_dir if datatrove is not None else None
    # Folders this build writes must not lie inside ``out`` (the commit would sweep them away), checked
    # before the outline cache is made.
    check_outside(Path(out), [outline_cache], "the outline cache")
    check_outside(Path(out), [work_dir], "the datatrove work folder")
    model = _outline_model(config, outline_cache) if config.outline == "model" else None

    counts: dict[str, Any] = {"papers_in": 0, "papers_kept": 0}
    stats = _Stats()
    spec = BuildSpec(NAME, VERSION, config, SCHEMAS, {"default": list(SPLITS)}, config.max_rows_per_shard)
    inputs = [metadata, *roots, *([abstracts] if abstracts else []), *[p for p in (outline_cache, work_dir) if p is not None]]
    with BuildRun(spec, out, inputs=inputs, overwrite=overwrite) as run:
        writer, log = run.writer, run.log
        metas: list[PaperMeta] = []
        seen: set[str] = set()
        for rid, parsed in read_metadata(metadata):
            counts["papers_in"] += 1
            if isinstance(parsed, RecordError):
                log.reject(Reject(rid, "paper", parsed.reason, parsed.detail))
            elif parsed.paper_id in seen:
                log.reject(Reject(rid, "paper", "duplicate_paper_id", "an earlier metadata row has this paperId"))
            elif config.venues and parsed.venue not in config.venues:
                log.reject(Reject(rid, "paper", "venue_not_selected", parsed.venue))
            elif config.years and parsed.year not in config.years:
                log.reject(Reject(rid, "paper", "year_not_selected", str(parsed.year)))
            else:
                seen.add(parsed.paper_id)
                metas.append(parsed)
        test_years = tuple(sorted(config.test_years)) or ((max(m.year for m in metas),) if metas else ())
        jobs: list[PaperJob] = []
        order: list[PaperJob | Reject] = []
        for meta in metas:
            try:
                job = finder.find(meta, config.text_prefer)
            except RecordError as exc:
                order.append(Reject(meta.paper_id, "paper", exc.reason, exc.detail))
                continue
            jobs.append(job)
            order.append(job)

        extract = ExtractStage(config, index)
        if model is None:
            outcomes: Iterable[PaperOutcome] = run_stage(
                PaperToRow(extract, OutlineFromSections(tuple(config.outline_scores) or None)),  # type: ignore[arg-type]
                jobs, workers=workers, engine=engine, datatrove=datatrove)
        else:
            outcomes = _with_model_outlines(run_stage(extract, jobs, workers=workers, engine=engine, datatrove=datatrove),
                                            model, config)
        stream = _merge_in_order(order, outcomes)
        bar = tqdm(stream, total=len(order), desc=f"build {NAME}", unit=" papers",
                   disable=None if progress is None else not progress)
        for outcome in bar:
            if outcome.reject is not None:
                log.reject(outcome.reject)
                continue
            assert outcome.row is not None
            split = "test" if outcome.year in test_years else "train"
            writer.add("default", split, outcome.row)
            stats.add(outcome.row)
            counts["papers_kept"] += 1
        written = run.close_shards()
        counts["papers_rejected"] = log.by_reason("paper")
        counts["splits"] = written.split_rows["default"]
        counts.update(stats.summary())
        # No require_kept: Research-14K has never refused a build that kept no paper.
        accounting = Accounting(counts, (Balance("papers", counts["papers_in"], counts["papers_kept"] + log.total("paper")),))
        path, manifest = run.commit(
            written, accounting,
            inputs={
                "metadata": input_fingerprint(metadata),
                "abstracts": input_fingerprint(Path(abstracts)) if abstracts is not None else None,
                "abstracts_rows": {"rows": index.rows, "rejected": index.rejected, "duplicates": index.duplicates},
                "paper_sources": stats.sources,
            },
            definitions={
                "split": f"temporal: papers of years {list(test_years)} are test"
                         + ("" if config.test_years else " (the latest year in the metadata)"),
                "sections": "LaTeX: \\section..\\subparagraph of the main file with includes resolved, comments, "
                            "\\iffalse blocks and acknowledgements removed, appendix flagged; markdown/PDF: headings "
                            "of the cleaned text (clean-v1)",
                "references": "BibTeX entries of the keys the LaTeX cites (all entries of a text reference list), "
                              "abstract from the entry, then the paper's cited_abstracts, then --abstracts by key, "
                              "arXiv id, DOI, normalised title",
                "part_split": "part 1 = sections before the first top-level experiments section; part 2 = from it "
                              "to the end of the body (no appendix, no ethics/reproducibility statements); "
                              "'conclusion-only' when no experiments section exists",
                "outline": ("from-sections-v1: motivation, main idea, setup and results read off the paper's own "
                            "sections (builders/outline.py); scores "
                            + (f"fixed at {list(config.outline_scores)}" if config.outline_scores else "not written"))
                if config.outline == "from-sections" else f"model: {config.outline_backend} (prompt in builders/outline.py)",
                "messages": "5 turns by cyclebench.protocols.cycleresearcher.format_training_messages",
            },
            card=lambda manifest: dataset_card(manifest, config, written.split_rows, written.shards),
        )
    return BuildReport(path, manifest)


def _merge_in_order(order: Sequence[PaperJob | Reject], outcomes: Iterable[PaperOutcome]) -> Iterator[PaperOutcome]:
    """Source-lookup rejects (made in the driver) back in their metadata position among the outcomes."""
    it = iter(outcomes)
    for item in order:
        if isinstance(item, Reject):
            yield PaperOutcome(item.record_id, -1, reject=item)
        else:
            yield next(it)


class _Stats:
    """Counts over kept rows for the manifest and card."""

    def __init__(self) -> None:
        self.c: dict[str, Counter[str]] = {k: Counter() for k in
                                           ("text_sources", "references_sources", "part_split", "outline_methods",
                                            "topic_sources", "abstract_sources", "notes")}
        self.n: Counter[str] = Counter()
        self.sources: dict[str, dict[str, str]] = {}

    def add(self, row: dict[str, Any]) -> None:
        self.c["text_sources"][row["text_source"]] += 1
        self.c["references_sources"][row["references_source"]] += 1
        self.c["part_split"][row["part_split"]] += 1
        self.c["outline_methods"][row["outline_method"]] += 1
        self.c["topic_sources"][row["topic_source"]] += 1
        for note in row["notes"]:
            self.c["notes"][problem_key(note)] += 1
        for item in row["references_abstract_sources"]:
            self.c["abstract_sources"][item["source"]] += item["count"]
        with_abstract = sum(i["count"] for i in row["references_abstract_sources"])
        self.n["references_cited"] += row["references_cited"]
        self.n["references_in_bib"] += row["references_in_bib"]
        self.n["references_missing_from_bib"] += len(row["references_missing_from_bib"])
        self.n["references_with_abstract"] += with_abstract
        self.n["references_without_abstract"] += len(row["references_without_abstract"])
        self.n["papers_with_no_cited_abstract"] += with_abstract == 0
        self.n["papers_without_setup"] += row["setup_count"] == 0
        self.n["papers_without_results"] += row["results_count"] == 0
        self.sources[row["paperId"]] = {"kind": row["text_source"], "path": row["source_path"], "sha256": row["source_sha256"]}

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: dict(sorted(v.items())) for k, v in self.c.items()}
        out["references"] = {k: self.n[k] for k in ("references_cited", "references_in_bib", "references_missing_from_bib",
                                                     "references_with_abstract", "references_without_abstract",
                                                     "papers_with_no_cited_abstract")}
        out["papers_without_setup"] = self.n["papers_without_setup"]
        out["papers_without_results"] = self.n["papers_without_results"]
        return out


def dataset_card(manifest: dict[str, Any], config: Research14KConfig, split_rows: dict[str, dict[str, int]],
                 shards: dict[str, Any]) -> str:
    counts = manifest["counts"]
    license_fields: dict[str, Any] = {"license": config.license}
    if config.license == "other":  # each paper under the license its authors chose on arXiv
        license_fields.update(license_name="arxiv-per-paper-licenses",
                              license_link="https://info.arxiv.org/help/license/index.html")
    metadata = CardMetadata(pretty_name="Research-14K (cyclebench rebuild)", task_categories=("text-generation",),
                            task_ids=("language-modeling",),
                            tags=("paper-generation", "scientific-papers", "cycleresearcher", "cyclebench"),
                            **license_fields)
    front = card_front_matter(SCHEMAS, split_rows, shards, metadata)
    rejected = "\n".join(f"| {r} | {n} |" for r, n in counts["papers_rejected"].items()) or "| (none) | 0 |"
    refs = counts["references"]
    sources = ", ".join(f"{k} {v}" for k, v in counts["text_sources"].items()) or "none"
    abstract_sources = ", ".join(f"{k} {v}" for k, v in counts["abstract_sources"].items()) or "none"
    d = manifest["definitions"]
    return f"""{front}
# Research-14K (cyclebench rebuild, builder {VERSION})

Accepted papers as training records for a paper generator: the cited works (BibTeX with abstracts) in, the
paper out, in the 5-turn CycleResearcher format. Rebuilt by `cyclebench build research-14k` (cyclebench
{manifest['cyclebench_version']}).

```python
from datasets import load_dataset
ds = load_dataset("<this repo or folder>")   # train / test (temporal)
ds["train"][0]["messages"]                    # system, user (topic + references), assistant (part 1),
                                              # user (## Experimental_results), assistant (part 2)
```

## Rows

| split | papers |
|---|---|
| train | {split_rows['default'].get('train', 0)} |
| test | {split_rows['default'].get('test', 0)} |

Papers in: {counts['papers_in']}; kept: {counts['papers_kept']}. Sources of the kept papers: {sources}.

| paper rejected because | papers |
|---|---|
{rejected}

References: {refs['references_cited']} cited keys, {refs['references_in_bib']} found in the bibliography
({refs['references_missing_from_bib']} cited but missing from it); {refs['references_with_abstract']} written with an
abstract ({abstract_sources}), {refs['references_without_abstract']} without one; papers with no cited abstract at
all: {refs['papers_with_no_cited_abstract']}.

Every rejected paper is listed with its reason in `rejects.jsonl`; `manifest.json` holds the config, its hash,
the sha256 of every input and shard, and these counts.

## How it was built

- Split: {d['split']}.
- Sections: {d['sections']}.
- References: {d['references']}.
- Parts: {d['part_split']}.
- Outline: {d['outline']}.
- Messages: {d['messages']}. The experimental results in the records are the papers' own; a model trained on
  them and asked to write the results turn at generation time simulates results, it does not run anything.

## Changelog

{CHANGELOG}
## License

Paper texts and their LaTeX sources are the authors' work, under the license each arXiv submission carries;
the rebuild is for research on automated research. The original Research-14K terms forbid using models
trained on it to write papers submitted as human work; that request is repeated here.

{citation_section((citations.CYCLERESEARCHER,), (citations.ARXIV,))}"""


__all__ = [
    "CHANGELOG",
    "NAME",
    "SCHEMA",
    "VERSION",
    "BuildReport",
    "ExtractStage",
    "Extracted",
    "PaperJob",
    "PaperMeta",
    "PaperOutcome",
    "PaperToRow",
    "Research14KConfig",
    "SourceFinder",
    "build",
    "finish_row",
    "latex_safe",
    "parse_metadata_row",
    "read_metadata",
    "render_sections",
    "research_row",
]
