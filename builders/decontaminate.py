"""Cross-dataset decontamination: find test papers that also sit in a training split, report, remove.

Review-5K, Research-14K and DeepReview-13K were published without a check that the test papers of one are
absent from the training data of another (DeepReview's 2024 test papers may be in Review-5K train). This
module compares every test split given with every train split given, by four methods:

* ``id``: equal paper ids (OpenReview ids: ``id`` / ``forum`` / ``openreview_id``; Research-14K ``paperId``);
* ``arxiv``: equal arXiv ids, version and ``arXiv:`` / URL prefix removed (``2301.01234v2`` = ``2301.01234``);
* ``title``: equal normalised titles (unicode NFKC, lower case, every run of punctuation and whitespace
  collapsed to one space);
* ``abstract``: near-duplicate abstracts. Abstracts are normalised like titles and cut into word
  ``shingle_words``-grams (3); MinHash (datasketch, ``num_perm`` 128) with an LSH index at ``lsh_threshold``
  (0.5, below the decision line so that few true pairs are missed) proposes candidates, and a pair counts
  when the exact Jaccard similarity of the two shingle sets is at least ``jaccard_threshold`` (0.7).
  Why 0.7: on the 300 real ICLR 2026 abstracts of the dev corpus (57-250 words), the most similar pair of
  distinct papers has a 3-gram Jaccard of 0.078, while changing 3 words of an abstract leaves at least
  0.81 and changing 5 words leaves 0.85 on average (0.71 at worst); a threshold of 0.8 would miss a
  quarter of the 5-word edits. Abstracts shorter than ``min_abstract_words`` (20) words are not compared
  (counted). Where a row has no abstract column (the original DeepReview CSVs) it is read from the paper
  in ``inputs``: the text after an "Abstract" heading, up to the next heading.

A test paper that matches by any method is contaminated; its removal reason is the first method that
matched, in the order above (``overlap:id``, ``overlap:arxiv``, ``overlap:title``, ``overlap:abstract``).

With a training-data cutoff date, each test paper's public date is compared with it: the earliest of the
OpenReview ``odate`` / ``cdate`` / ``pdate`` columns when the row has them, else the first day of the
month of its arXiv id (``2301.x`` = 2023-01-01), else 1 January of the year before its venue ``year``
(ICLR 2026 papers were public on OpenReview from September 2025, and preprints often precede the venue).
The report names which field gave each date; every rule takes the earliest plausible date, so it errs
toward reporting a paper as possibly seen.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclebench.fileio import atomic_write_text
from cyclebench.hub.columns import AIScientistICLR2022, DeepReview13K, Research14K, Review5K
from cyclebench.hub.load import CardConfig, card_configs, config_files, dataset_files, iter_table, read_card
from cyclebench.hub.writer import front_matter_text
from cyclebench.outputs import (
    FolderTransaction,
    OutputMarker,
    check_file_target,
    check_replaceable,
    is_json_report,
)
from cyclebench.sources.westlake import paper_text_from_messages

METHODS = ("id", "arxiv", "title", "abstract")
# The row key of each dataset (Review-5K and DeepReview-13K ``id``, Research-14K ``paperId``, AI Scientist
# ``paper_id``), then further id columns other tables may carry.
KEY_COLUMNS = (Review5K.ID, Research14K.PAPER_ID, AIScientistICLR2022.PAPER_ID)
ID_COLUMNS = (*KEY_COLUMNS, Review5K.FORUM, "openreview_id")
ARXIV_COLUMNS = (Research14K.ARXIV, "arxiv_id", "arXiv")
DATE_COLUMNS = DeepReview13K.DATES
# Named alike in every dataset.
TITLE, ABSTRACT, YEAR = Review5K.TITLE, Review5K.ABSTRACT, Review5K.YEAR
# The top-level keys every report has: a file with them is a report this command may replace.
REPORT_KEYS = ("definitions", "tests", "trains", "pairs", "contaminated")


MAX_NUM_PERM = 4096
MAX_SHINGLE_WORDS = 1000


@dataclass(frozen=True)
class OverlapConfig:
    """How papers are compared; written into every report."""

    shingle_words: int = 3
    num_perm: int = 128
    jaccard_threshold: float = 0.7
    lsh_threshold: float = 0.5
    min_abstract_words: int = 20
    minhash_seed: int = 1
    methods: tuple[str, ...] = METHODS

    def __post_init__(self) -> None:
        if self.shingle_words < 1 or self.num_perm < 16 or self.min_abstract_words < self.shingle_words:
            raise ValueError("need shingle_words >= 1, num_perm >= 16, min_abstract_words >= shingle_words")
        # Bounds that keep one check affordable: MinHash costs num_perm hashes per shingle (datasketch's own
        # examples stop at a few hundred), and no abstract has a thousand-word shingle.
        if self.num_perm > MAX_NUM_PERM or self.shingle_words > MAX_SHINGLE_WORDS:
            raise ValueError(f"need num_perm <= {MAX_NUM_PERM} and shingle_words <= {MAX_SHINGLE_WORDS}, got "
                             f"{self.num_perm} and {self.shingle_words}")
        if not 0.0 < self.lsh_threshold <= self.jaccard_threshold <= 1.0:
            raise ValueError("need 0 < lsh_threshold <= jaccard_threshold <= 1")
        unknown = set(self.methods) - set(METHODS)
        if unknown or not self.methods:
            raise ValueError(f"methods must be among {METHODS}, got {self.methods}")


# ---------------------------------------------------------------------------------------------
# Normalisation (pure)

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"\b([a-z][a-z.\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?\b")


def normalise_text(text: str | None) -> str:
    """NFKC, lower case, every run of punctuation / symbols / whitespace -> one space, stripped."""
    if not text:
        return ""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def normalise_arxiv(value: Any) -> str | None:
    """``"arXiv:2301.01234v2"``, ``"https://arxiv.org/abs/2301.01234"``, ``"hep-th/9901001"`` -> the bare id."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    match = _ARXIV_NEW.search(text) or _ARXIV_OLD.search(text)
    return match.group(1) if match else None


def shingles(text: str | None, size: int) -> frozenset[str]:
    words = normalise_text(text).split()
    if len(words) < size:
        return frozenset()
    return frozenset(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


_ABSTRACT_HEAD = re.compile(
    r"^[ \t]{0,3}(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*abstract[ \t]*(?:\*\*|__)?[ \t]*[:.\-\u2014]?[ \t]*", re.IGNORECASE | re.MULTILINE
)
_NEXT_SECTION = re.compile(r"^[ \t]{0,3}(?:#{1,6}[ \t]|(?:\d+\.?|I\.?)[ \t]+introduction\b|introduction[ \t]*$|keywords?\b)",
                           re.IGNORECASE | re.MULTILINE)


def abstract_from_text(text: str | None, limit: int = 4000) -> str | None:
    """The abstract of a paper text: what follows an "Abstract" heading (in the first 20,000 characters)
    up to the next heading, an "Introduction" line or a "Keywords" line; None when there is no such heading."""
    if not text:
        return None
    head = text[:20000]
    match = _ABSTRACT_HEAD.search(head)
    if match is None:
        return None
    tail = head[match.end() :]
    stop = _NEXT_SECTION.search(tail, 1)
    body = tail[: stop.start()] if stop else tail
    body = body.strip()[:limit]
    return body or None


def parse_cutoff(date: str) -> int:
    """``YYYY-MM-DD`` -> ms since epoch at 00:00 UTC."""
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise ValueError(f"cutoff date must be YYYY-MM-DD, got {date!r}") from exc
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp() * 1000)


def _ms(year: int, month: int = 1) -> int:
    return int(dt.datetime(year, month, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)


# OpenReview dates outside these years are not dates (a corrupt -2**62 cdate), the same range as venue years.
_PLAUSIBLE_MS = (_ms(1900), _ms(2200))


def _plain_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plausible_ms(value: Any) -> bool:
    return _plain_int(value) and _PLAUSIBLE_MS[0] <= value < _PLAUSIBLE_MS[1]


def public_date(row: dict[str, Any], arxiv: str | None) -> tuple[int | None, str | None]:
    """(ms, field): the earliest plausible OpenReview date the row has, else its arXiv id's month, else
    1 January of the year before its venue year."""
    dated = [(row[c], c) for c in DATE_COLUMNS if _plausible_ms(row.get(c))]
    if dated:
        return min(dated)
    if arxiv and _ARXIV_NEW.fullmatch(arxiv):
        yy, mm = int(arxiv[:2]), int(arxiv[2:4])
        if 1 <= mm <= 12:
            return _ms(2000 + yy, mm), "arxiv_id"
    year = row.get(YEAR)
    try:
        year = int(year) if year not in (None, "") else None
    except (TypeError, ValueError):
        year = None
    if year is not None and 1900 <= year <= 2200:
        return _ms(year - 1), "year"
    return None, None


def undated_reason(row: dict[str, Any]) -> str:
    """Why a row has no public date, for the report: a date column out of the years 1900-2200 (a corrupt
    timestamp is not a date), or no usable date at all."""
    if any(_plain_int(row.get(c)) and not _plausible_ms(row.get(c)) for c in DATE_COLUMNS):
        return "date_out_of_range"
    return "no_date"


# ---------------------------------------------------------------------------------------------
# Reading dataset splits


@dataclass(frozen=True)
class SplitRef:
    """One split of one dataset folder: ``DIR`` + split name."""

    path: Path
    split: str
    shown: str | None = field(default=None, compare=False)  # the folder's name in reports, when not ``path``

    @property
    def label(self) -> str:
        return f"{self.shown or self.path}:{self.split}"


@dataclass(frozen=True)
class PaperKeys:
    """What a paper is compared by."""

    key: str  # the row's id as the dataset names it (used to remove its rows)
    ids: frozenset[str]
    arxiv: str | None
    title: str
    title_norm: str
    shingles: frozenset[str]
    abstract_source: str | None  # "column", "inputs", "paper_text" or None
    public_ms: int | None
    date_field: str | None
    undated_reason: str | None = None  # "no_date" or "date_out_of_range" when public_ms is None


@dataclass
class SplitPapers:
    ref: SplitRef
    kind: str
    papers: list[PaperKeys]
    rows: int
    skipped: dict[str, int] = field(default_factory=dict)
    repeated_rows: int = 0  # further rows of a paper already read (DeepReview's one row per mode)


def parse_split_arg(text: str, default_prefix: str) -> list[SplitRef]:
    """``DIR`` (every split whose name starts with ``default_prefix``) or ``DIR:SPLIT``."""
    path, split = Path(text), None
    if not path.exists() and ":" in text:
        head, _, tail = text.rpartition(":")
        if tail and "/" not in tail and Path(head).exists():
            path, split = Path(head), tail
    splits = dataset_files(path)
    if split is not None:
        if split not in splits:
            raise ValueError(f"{path}: no split {split!r}; splits: {sorted(splits)}")
        return [SplitRef(path, split)]
    chosen = [s for s in splits if s.startswith(default_prefix)]
    if not chosen:
        raise ValueError(f"{path}: no split starting with {default_prefix!r}; splits: {sorted(splits)}; name one as DIR:SPLIT")
    return [SplitRef(path, s) for s in chosen]


def _iter_rows(files: Sequence[Path], wanted: Sequence[str]) -> Iterator[dict[str, Any] | None]:
    """The wanted columns of every row; None for a row that is not an object (a JSON line ``5``), which
    the caller counts. A file that cannot be read is one ``ValueError`` naming it."""
    for path in files:
        for row in iter_table(path, wanted):
            yield {k: row[k] for k in wanted if k in row} if isinstance(row, dict) else None


def detect_kind(columns: Iterable[str]) -> str:
    cols = set(columns)
    if {DeepReview13K.INPUTS, DeepReview13K.OUTPUTS} <= cols:
        return "deepreview-13k"
    if Research14K.PAPER_ID in cols and Research14K.MESSAGES in cols:
        return "research-14k"
    if {Review5K.ID, Review5K.ABSTRACT} <= cols and (Review5K.REVIEWS in cols or Review5K.NUM_REVIEWS in cols):
        return "review-5k"
    return "table"


def _columns(files: Sequence[Path]) -> list[str]:
    """The columns of the first file: its parquet schema, else the keys of its first row that is an object."""
    if not files:
        return []
    path = files[0]
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{path}: not a readable parquet file: {' '.join(str(exc).split())[:160]}") from None
    first = next((row for row in iter_table(path) if isinstance(row, dict)), None)
    return [str(k) for k in first] if first else []


def read_split(ref: SplitRef, config: OverlapConfig) -> SplitPapers:
    """The papers of one split, one per key (DeepReview repeats each paper once per mode: kept once)."""
    files = dataset_files(ref.path)[ref.split]
    columns = _columns(files)
    kind = detect_kind(columns)
    key_column = next((c for c in KEY_COLUMNS if c in columns), None)
    names = ", ".join(str(f) for f in files[:3]) or "no files"
    if not columns:
        raise ValueError(f"{ref.label}: {names} has no row with columns (empty, or no row is a JSON object)")
    if key_column is None:
        raise ValueError(f"{ref.label}: no id column (one of {KEY_COLUMNS}) in {names}; columns: {columns[:20]}")
    wanted = [*ID_COLUMNS, *ARXIV_COLUMNS, TITLE, ABSTRACT, YEAR, *DATE_COLUMNS]
    if ABSTRACT not in columns:
        wanted += [DeepReview13K.INPUTS, Review5K.PAPER_TEXT]
    papers: list[PaperKeys] = []
    skipped: dict[str, int] = {}
    seen: set[str] = set()
    rows = repeated = 0
    for row in _iter_rows(files, wanted):
        rows += 1
        if row is None:
            skipped["row_not_an_object"] = skipped.get("row_not_an_object", 0) + 1
            continue
        key = row.get(key_column)
        if key is None or not str(key).strip():
            skipped["no_id"] = skipped.get("no_id", 0) + 1
            continue
        key = str(key)
        if key in seen:
            repeated += 1
            continue
        seen.add(key)
        papers.append(paper_keys(key, row, config, skipped))
    return SplitPapers(ref, kind, papers, rows, dict(sorted(skipped.items())), repeated)


def paper_keys(key: str, row: dict[str, Any], config: OverlapConfig, skipped: dict[str, int]) -> PaperKeys:
    ids = frozenset(str(row[c]).strip() for c in ID_COLUMNS if row.get(c) not in (None, "") and str(row[c]).strip())
    arxiv = next((a for c in ARXIV_COLUMNS if (a := normalise_arxiv(row.get(c)))), None)
    abstract, source = row.get(ABSTRACT), "column"
    if not (isinstance(abstract, str) and abstract.strip()):
        abstract, source = None, None
        if row.get(DeepReview13K.INPUTS) is not None:
            abstract, source = abstract_from_text(paper_text_from_messages(row[DeepReview13K.INPUTS])), "inputs"
        elif isinstance(row.get(Review5K.PAPER_TEXT), str):
            abstract, source = abstract_from_text(row[Review5K.PAPER_TEXT]), "paper_text"
        if abstract is None:
            source = None
            skipped["no_abstract"] = skipped.get("no_abstract", 0) + 1
    grams: frozenset[str] = frozenset()
    if abstract is not None:
        if len(normalise_text(abstract).split()) < config.min_abstract_words:
            skipped["abstract_too_short"] = skipped.get("abstract_too_short", 0) + 1
        else:
            grams = shingles(abstract, config.shingle_words)
    title = str(row.get(TITLE) or "")
    ms, date_field = public_date(row, arxiv)
    why = undated_reason(row) if ms is None else None
    return PaperKeys(key, ids, arxiv, title, normalise_text(title), grams, source, ms, date_field, why)


# ---------------------------------------------------------------------------------------------
# Finding overlaps


@dataclass(frozen=True)
class Match:
    test_key: str
    train_key: str
    methods: tuple[str, ...]
    jaccard: float | None


class TrainIndex:
    """Every train paper of one train split, indexed by id, arXiv id, normalised title and MinHash LSH."""

    def __init__(self, split: SplitPapers, config: OverlapConfig):
        self.split = split
        self.config = config
        self.by_id: dict[str, list[int]] = {}
        self.by_arxiv: dict[str, list[int]] = {}
        self.by_title: dict[str, list[int]] = {}
        self.lsh = None
        if "abstract" in config.methods:
            try:
                from datasketch import MinHash, MinHashLSH
            except ImportError as exc:  # a dependency of the package; this names it when an install lacks it
                raise RuntimeError("the abstract method needs datasketch (pip install datasketch), "
                                   "or leave it out: --methods id arxiv title") from exc
            self.lsh = MinHashLSH(threshold=config.lsh_threshold, num_perm=config.num_perm)
            self._minhash = MinHash
        for i, paper in enumerate(split.papers):
            for value in paper.ids:
                self.by_id.setdefault(value, []).append(i)
            if paper.arxiv:
                self.by_arxiv.setdefault(paper.arxiv, []).append(i)
            if paper.title_norm:
                self.by_title.setdefault(paper.title_norm, []).append(i)
            if paper.shingles and self.lsh is not None:
                self.lsh.insert(str(i), self.minhash(paper.shingles))

    def minhash(self, grams: frozenset[str]) -> Any:
        m = self._minhash(num_perm=self.config.num_perm, seed=self.config.minhash_seed)
        m.update_batch([g.encode("utf-8") for g in sorted(grams)])
        return m

    def matches(self, paper: PaperKeys, minhash: Any | None) -> list[Match]:
        found: dict[int, dict[str, Any]] = {}
        methods = self.config.methods

        def hit(index: int, method: str, score: float | None = None) -> None:
            entry = found.setdefault(index, {"methods": set(), "jaccard": None})
            entry["methods"].add(method)
            if score is not None:
                entry["jaccard"] = score

        if "id" in methods:
            for value in paper.ids:
                for i in self.by_id.get(value, ()):
                    hit(i, "id")
        if "arxiv" in methods and paper.arxiv:
            for i in self.by_arxiv.get(paper.arxiv, ()):
                hit(i, "arxiv")
        if "title" in methods and paper.title_norm:
            for i in self.by_title.get(paper.title_norm, ()):
                hit(i, "title")
        if self.lsh is not None and minhash is not None:
            for candidate in self.lsh.query(minhash):
                i = int(candidate)
                score = jaccard(paper.shingles, self.split.papers[i].shingles)
                if score >= self.config.jaccard_threshold:
                    hit(i, "abstract", round(score, 4))
        return [
            Match(paper.key, self.split.papers[i].key, tuple(m for m in METHODS if m in entry["methods"]), entry["jaccard"])
            for i, entry in sorted(found.items())
        ]


def reason_for(methods: Iterable[str]) -> str:
    """The removal reason: the first matching method in the order id, arxiv, title, abstract."""
    got = set(methods)
    return "overlap:" + next(m for m in METHODS if m in got)


def check_overlap(tests: Sequence[SplitRef], trains: Sequence[SplitRef], config: OverlapConfig | None = None,
                  cutoff_date: str | None = None) -> dict[str, Any]:
    """Compare every test split with every train split; the report as a JSON-ready dict.

    ``contaminated[test label][paper key] = {"reason": ..., "matches": [...]}`` is what a removal uses.
    """
    config = config or OverlapConfig()
    cutoff_ms = parse_cutoff(cutoff_date) if cutoff_date else None
    test_splits = [read_split(ref, config) for ref in tests]
    train_splits = [read_split(ref, config) for ref in trains]
    indexes = [TrainIndex(split, config) for split in train_splits]
    pairs = []
    contaminated: dict[str, dict[str, Any]] = {}
    possibly_seen: dict[str, Any] = {}
    for test in test_splits:
        label = test.ref.label
        per_paper: dict[str, dict[str, Any]] = {}
        hashing = indexes[0] if indexes and indexes[0].lsh is not None else None
        minhashes = {p.key: hashing.minhash(p.shingles) if hashing and p.shingles else None for p in test.papers}
        for index in indexes:
            if _same_split(index.split.ref, test.ref):
                continue  # a split is not compared with itself
            counts = {m: 0 for m in config.methods}
            matches = []
            for paper in test.papers:
                for match in index.matches(paper, minhashes[paper.key]):
                    matches.append(match)
                    for method in match.methods:
                        counts[method] += 1
                    entry = per_paper.setdefault(paper.key, {"methods": set(), "matches": []})
                    entry["methods"].update(match.methods)
                    entry["matches"].append({"train": index.split.ref.label, "train_key": match.train_key,
                                             "methods": list(match.methods), "jaccard": match.jaccard})
            pairs.append({
                "test": label,
                "train": index.split.ref.label,
                "pairs_by_method": counts,
                "test_papers_matched": len({m.test_key for m in matches}),
                "matches": [dataclasses.asdict(m) | {"methods": list(m.methods)} for m in matches],
            })
        reasons: dict[str, int] = {}
        papers = {}
        for key in sorted(per_paper):
            reason = reason_for(per_paper[key]["methods"])
            reasons[reason] = reasons.get(reason, 0) + 1
            papers[key] = {"reason": reason, "matches": per_paper[key]["matches"]}
        contaminated[label] = {"papers": len(papers), "by_reason": dict(sorted(reasons.items())), "items": papers}
        if cutoff_ms is not None:
            seen = [p for p in test.papers if p.public_ms is not None and p.public_ms < cutoff_ms]
            by_field: dict[str, int] = {}
            for p in seen:
                by_field[p.date_field or ""] = by_field.get(p.date_field or "", 0) + 1
            undated: dict[str, int] = {}
            dated_by: dict[str, int] = {}
            for p in test.papers:
                if p.public_ms is None:
                    undated[p.undated_reason or "no_date"] = undated.get(p.undated_reason or "no_date", 0) + 1
                else:
                    dated_by[p.date_field or ""] = dated_by.get(p.date_field or "", 0) + 1
            possibly_seen[label] = {
                "papers": len(seen),
                "of": len(test.papers),
                "by_date_field": dict(sorted(by_field.items())),
                # Every test paper by the field its date came from (odate/cdate/pdate, arxiv_id, or the year
                # fallback): a split dated mostly by "year" is compared with the cutoff only roughly.
                "all_by_date_field": dict(sorted(dated_by.items())),
                "undated": sum(undated.values()),
                "undated_by_reason": dict(sorted(undated.items())),
                "items": {p.key: {"public_date": _iso(p.public_ms), "field": p.date_field} for p in seen},
            }
    report: dict[str, Any] = {
        "definitions": {
            "methods": list(config.methods),
            "config": dataclasses.asdict(config),
            "id": "equal values of " + ", ".join(ID_COLUMNS),
            "arxiv": "equal arXiv ids without version or prefix",
            "title": "equal titles after NFKC, lower case, punctuation and whitespace runs -> one space",
            "abstract": (f"word {config.shingle_words}-gram shingles; MinHash LSH ({config.num_perm} permutations, "
                         f"LSH threshold {config.lsh_threshold}) proposes, exact Jaccard >= "
                         f"{config.jaccard_threshold} decides; abstracts under {config.min_abstract_words} words skipped"),
            "reason": "first matching method in the order id, arxiv, title, abstract",
            "public_date": ("earliest of odate/cdate/pdate within the years 1900-2200, else the arXiv id's month, "
                            "else 1 January of year - 1; a paper with none is undated (no_date, date_out_of_range)"),
        },
        "tests": [_split_summary(s) for s in test_splits],
        "trains": [_split_summary(s) for s in train_splits],
        "pairs": pairs,
        "contaminated": contaminated,
    }
    if cutoff_ms is not None:
        report["cutoff"] = {"date": cutoff_date, "possibly_seen": possibly_seen}
    return report


def _same_split(a: SplitRef, b: SplitRef) -> bool:
    return a.split == b.split and a.path.resolve() == b.path.resolve()


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).date().isoformat()


def _split_summary(split: SplitPapers) -> dict[str, Any]:
    sources: dict[str, int] = {}
    for p in split.papers:
        name = p.abstract_source or "none"
        sources[name] = sources.get(name, 0) + 1
    return {"split": split.ref.label, "kind": split.kind, "rows": split.rows, "papers": len(split.papers),
            "repeated_rows": split.repeated_rows, "abstract_sources": dict(sorted(sources.items())),
            "skipped": split.skipped}


def is_report(path: Path) -> bool:
    """Whether ``path`` holds a report of this command (a JSON object with every key of ``REPORT_KEYS``):
    the only existing file ``--report`` may replace, so a mistyped path never overwrites a manifest or a shard."""
    return is_json_report(path, REPORT_KEYS)


def check_report_target(path: Path, inputs: Iterable[Any]) -> None:
    """Refuse a report path that is or lies inside an input, or an existing file that is not a report."""
    check_file_target(Path(path), inputs, replaceable=is_report, what="--report", kind="a check-overlap report")


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write the report whole or not at all, with the umask's permissions (``atomic_write_text``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------
# Removing contaminated test items (a builder step)


def removals_by_folder(report: dict[str, Any], tests: Sequence[SplitRef]) -> dict[Path, dict[str, dict[str, dict[str, Any]]]]:
    """``{folder: {split: {paper key: {"reason", "matches"}}}}`` from a report."""
    out: dict[Path, dict[str, dict[str, dict[str, Any]]]] = {}
    for ref in tests:
        items = report["contaminated"].get(ref.label, {}).get("items", {})
        out.setdefault(ref.path.resolve(), {})[ref.split] = items
    return out


@dataclass(frozen=True)
class RemovableBuild:
    """A cyclebench build checked for a rewrite: its manifest and its card's configs."""

    folder: Path
    manifest: dict[str, Any]
    configs: list[CardConfig]


def check_removable(folder: Path) -> RemovableBuild:
    """Refuse, before anything is written, a folder that removal cannot rewrite faithfully: not a build
    cyclebench wrote (marker, manifest.json, card with configs), a card path leading outside it, or anything
    but regular files and folders inside it (the copy would follow a link or choke on a FIFO)."""
    folder = Path(folder).resolve()
    manifest_path = folder / "manifest.json"
    configs = card_configs(folder)
    if not manifest_path.is_file() or not configs:
        raise ValueError(f"{folder}: removal needs a dataset folder built by cyclebench (manifest.json + card with configs)")
    manifest = _read_manifest(manifest_path)
    check_replaceable(folder, "dataset")
    for entry in configs:
        config_files(folder, entry)
    odd = _not_regular(folder)
    if odd:
        raise ValueError(f"{folder}: removal rewrites the folder from a copy, and {', '.join(odd)} is a link or not a "
                         "regular file or folder; move it away first")
    return RemovableBuild(folder, manifest, configs)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: not a JSON manifest: {' '.join(str(exc).split())[:120]}") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path}: the manifest must be a JSON object")
    for key, kind in (("shards", dict), ("decontamination", list)):
        if key in manifest and not isinstance(manifest[key], kind):
            raise ValueError(f"{path}: {key!r} must be a JSON {'object' if kind is dict else 'list'}")
    return manifest


def _not_regular(folder: Path, limit: int = 5) -> list[str]:
    """Up to ``limit`` entries under ``folder`` (relative) that are links or neither files nor folders."""
    import stat

    odd: list[str] = []
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            path = Path(root) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                odd.append(path.relative_to(folder).as_posix())
        if len(odd) >= limit:
            break
    return odd[:limit]


def _copy_tree(source: Path, target: Path) -> None:
    """Copy the regular files and folders of ``source`` into the existing folder ``target``."""
    for root, dirs, files in os.walk(source):
        here = target / Path(root).relative_to(source)
        for name in sorted(dirs):
            (here / name).mkdir(exist_ok=True)
        for name in sorted(files):
            shutil.copy2(Path(root) / name, here / name)


def _filter_shard(shard: Path, drop_keys: set[str]) -> tuple[int, int]:
    """Rewrite one parquet shard without the rows whose key is in ``drop_keys``: (rows removed, rows left)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cyclebench.hub.writer import COMPRESSION, ROW_GROUP_SIZE

    try:
        table = pq.read_table(shard)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{shard}: not a readable parquet shard: {' '.join(str(exc).split())[:160]}") from None
    key_column = next((c for c in KEY_COLUMNS if c in table.column_names), None)
    if key_column is None:
        raise ValueError(f"{shard}: no key column among {KEY_COLUMNS}")
    keep = [str(k) not in drop_keys for k in table.column(key_column).to_pylist()]
    dropped = keep.count(False)
    if dropped:
        table = table.filter(pa.array(keep))
        pq.write_table(table, shard, compression=COMPRESSION, row_group_size=ROW_GROUP_SIZE, write_statistics=True)
    return dropped, table.num_rows


def remove_contaminated(folder: Path, removals: dict[str, dict[str, dict[str, Any]]], *, against: Sequence[str],
                        config: OverlapConfig, extra_files: dict[str, str] | None = None) -> dict[str, Any]:
    """Rewrite ``folder`` (a cyclebench Hub-layout build) without the contaminated test papers.

    Every config's rows of the named splits whose key (``id`` / ``paper_id`` / ``paperId``) is contaminated
    are dropped; each removed paper is appended to ``rejects.jsonl`` (stage ``decontamination``, reason
    ``overlap:<method>``); ``manifest.json`` gets a ``decontamination`` entry (what it was checked against,
    removed papers by reason, rows removed and left per config and split, new shard hashes) and the card
    its new split sizes and a note. Only the files the card names inside the folder are rewritten
    (``check_removable``). The new folder is assembled beside the old one and swapped in, so the dataset is
    whole before and after. Returns the manifest entry.
    """
    from cyclebench.fileio import sha256_file

    build = check_removable(folder)
    folder, manifest = build.folder, build.manifest
    # The folder replaces itself: only a folder cyclebench wrote (its marker) is rewritten, through the same
    # transaction every build uses (scratch beside it, umask modes, swap at the end, nothing half written).
    with FolderTransaction(folder, OutputMarker("dataset"), overwrite=True) as transaction:
        scratch = transaction.scratch
        _copy_tree(folder, scratch)
        rows_removed: dict[str, dict[str, int]] = {}
        rows_left: dict[str, dict[str, int]] = {}
        new_shards: dict[str, dict[str, Any]] = {}
        for entry in build.configs:
            for split, shards in config_files(scratch, entry).items():
                if split not in removals:
                    continue
                removed = left = 0
                for shard in shards:
                    dropped, kept = _filter_shard(shard, set(removals[split]))
                    removed, left = removed + dropped, left + kept
                    rel = shard.relative_to(scratch).as_posix()
                    new_shards[rel] = {"config": entry.name, "split": split, "rows": kept,
                                       "bytes": shard.stat().st_size, "sha256": sha256_file(shard)}
                rows_removed.setdefault(entry.name, {})[split] = removed
                rows_left.setdefault(entry.name, {})[split] = left
        by_reason = _append_rejects(scratch / "rejects.jsonl", removals)
        note = {
            "against": list(against),
            "config": dataclasses.asdict(config),
            "papers_removed": {s: dict(sorted(r.items())) for s, r in sorted(by_reason.items())},
            "rows_removed": rows_removed,
            "rows_left": rows_left,
        }
        if "shards" in manifest:
            manifest["shards"].update(new_shards)
            manifest["shards"] = dict(sorted(manifest["shards"].items()))
        manifest.setdefault("decontamination", []).append(note)
        (scratch / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
        _update_card(scratch / "README.md", new_shards, note)
        for name, text in (extra_files or {}).items():
            (scratch / name).write_text(text, encoding="utf-8")
        transaction.commit()
    return note


def _append_rejects(path: Path, removals: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, int]]:
    """One reject line per removed paper; returns the removed papers per split and reason."""
    by_reason: dict[str, dict[str, int]] = {}
    with open(path, "a", encoding="utf-8") as sink:
        for split in sorted(removals):
            for key in sorted(removals[split]):
                item = removals[split][key]
                by_reason.setdefault(split, {})
                by_reason[split][item["reason"]] = by_reason[split].get(item["reason"], 0) + 1
                trains = sorted({m["train"] for m in item["matches"]})
                sink.write(json.dumps({"detail": f"split {split}; in {', '.join(trains)}", "reason": item["reason"],
                                       "record_id": key, "stage": "decontamination"}, ensure_ascii=True) + "\n")
    return by_reason


def _update_card(card: Path, shards: dict[str, dict[str, Any]], note: dict[str, Any]) -> None:
    """New split sizes in ``dataset_info`` (entries of another shape are left as they are) and a section."""
    front, body = read_card(card.parent)
    infos = front.get("dataset_info")
    for info in infos if isinstance(infos, list) else []:
        splits = info.get("splits") if isinstance(info, dict) else None
        for split in splits if isinstance(splits, list) else []:
            if not isinstance(split, dict):
                continue
            files = [s for s in shards.values() if s["config"] == info.get("config_name") and s["split"] == split.get("name")]
            if files:
                split["num_examples"] = sum(s["rows"] for s in files)
                split["num_bytes"] = sum(s["bytes"] for s in files)
    lines = [f"- {split}: " + ", ".join(f"{n} {reason}" for reason, n in reasons.items())
             for split, reasons in note["papers_removed"].items()] or ["- nothing removed"]
    section = (
        "\n## Decontamination\n\n"
        "Test papers also found in a training split were removed (`cyclebench check-overlap --remove`), checked "
        f"against: {', '.join(note['against'])}. Papers removed per split and reason:\n\n" + "\n".join(lines) +
        "\n\nEach removed paper is in `rejects.jsonl` (stage `decontamination`); `manifest.json` holds the rows left.\n"
    )
    card.write_text(front_matter_text(front) + body.rstrip("\n") + "\n" + section, encoding="utf-8")
