"""AI Scientist ICLR 2022 review benchmark: the ratings table plus parsed paper texts as review examples.

The AI Scientist paper scored its reviewer on 500 ICLR 2022 submissions (``review_iclr_bench``): a TSV of
each paper's individual human ratings (3-7 reviewers, floats as text, empty cells for missing reviewers)
and the decision, and a folder of PDF-to-markdown texts named by paper id. This builder turns them into
``ReviewExample`` records (the shape every review task uses) and, if asked, a Hub-layout folder.

Splits: the benchmark is an evaluation set, so ``all`` is the default split for model evaluation. The CPU
baselines need training data from the same distribution: ``train`` / ``test`` halve the papers by a stable
hash of the id (``test_fraction``), and a baseline row is scored on ``test`` only, which its results say.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclebench.builders import citations
from cyclebench.builders.base import RejectLog, hash_split, input_fingerprint
from cyclebench.builders.cards import load_example
from cyclebench.builders.citations import citation_section
from cyclebench.builders.driver import Accounting, Balance, BuildRun, BuildSpec, Written

import cyclebench
from cyclebench.checks import between, fraction, validate_fields
from cyclebench.hub.card import CardMetadata
from cyclebench.hub.columns import AIScientistICLR2022
from cyclebench.hub.writer import card_front_matter
from cyclebench.records import RecordError, Reject, ReviewExample
from cyclebench.sources.openreview import accepted_from_text, decision_from_text
from cyclebench.sources.text import PapersDirectory

NAME = "aiscientist-iclr2022"
VERSION = "1.1.0"
CHANGELOG = """\
## 1.1.0
- One decision vocabulary across cyclebench's datasets: the boolean `accepted` column is replaced by
  `decision` (`Accept` / `Reject`, null when the table's cell is neither), `acceptance_type` (oral /
  spotlight / poster of an accepted paper) and `decision_raw` (the table's words, e.g. `Accept (Poster)`).
  The task reads the same ground truth from `decision`, so decision metrics are unchanged.
- The card carries the Hub metadata (`language`, `task_categories`, `task_ids`, `size_categories`,
  `license: other` with `license_name` / `license_link`) and cites the AI Scientist and its repository.

## 1.0.0
- Ratings table + texts to review examples; hash split for baselines.
"""
RATING_SCALE = "1/3/5/6/8/10"


@dataclass(frozen=True)
class AIScientistConfig:
    """The hash split of the benchmark for the CPU baselines (types and ranges checked on construction)."""

    test_fraction: float = field(default=0.5, metadata=fraction())
    seed: int = field(default=0, metadata=between(0, 2**32 - 1))

    def __post_init__(self) -> None:
        validate_fields(self)


_RATING_CELL = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,15})?")


def read_ratings_table(path: str | Path) -> Iterator[tuple[str, tuple[float, ...], str] | Reject]:
    """Rows of ``paper_id, 0..6, decision``: (id, ratings, decision) or a reasoned reject per bad row.

    A paper id seen on an earlier row is rejected (``duplicate_id``) and the first row kept, as the
    OpenReview builders keep the first copy of a paper: which row is right cannot be told, and the
    reject names the line of the row that was kept.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"ratings table {path} is a folder; expected the .tsv file")
    first_line: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if not header or header[0].strip() != "paper_id" or header[-1].strip() != "decision":
            raise RecordError("bad_ratings_header", f"{path}: {header!r}"[:200])
        for line_no, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            paper_id = row[0].strip()
            if len(row) != len(header) or not paper_id:
                yield Reject(paper_id or f"line {line_no}", "paper", "malformed_row", f"{len(row)} cells")
                continue
            if paper_id in first_line:
                yield Reject(paper_id, "paper", "duplicate_id", f"line {line_no}; kept line {first_line[paper_id]}")
                continue
            first_line[paper_id] = line_no
            yield _ratings_row(paper_id, row)


def count_table_rows(path: str | Path) -> int:
    """Data rows of the ratings table, counted apart from the reader so the manifest's counts reconcile
    against the input rather than against themselves (blank lines are not rows)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader, None)
        return sum(1 for row in reader if row and any(cell.strip() for cell in row))


def _ratings_row(paper_id: str, row: list[str]) -> tuple[str, tuple[float, ...], str] | Reject:
    """One table row's ratings: plain decimals on the 1..10 scale (no ``1e1``, ``nan``, ``1_0``, ``-0``)."""
    ratings = []
    for cell in row[1:-1]:
        cell = cell.strip()
        if not cell:
            continue
        value = float(cell) if _RATING_CELL.fullmatch(cell) else math.nan
        if not 1 <= value <= 10:
            return Reject(paper_id, "paper", "bad_rating", cell[:40])
        ratings.append(value)
    if not ratings:
        return Reject(paper_id, "paper", "no_ratings")
    return paper_id, tuple(ratings), row[-1].strip()


def guess_title(text: str) -> str:
    """The title of a PDF-to-markdown paper: its first heading lines, rejoined where the extractor split it."""
    parts: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            if parts:
                break
            continue
        if stripped.startswith("#"):
            parts.append(stripped.lstrip("#").strip())
        elif parts:
            break
        if len(parts) >= 4:
            break
    title = " ".join(parts)
    return title.replace("## ", "").strip() or text.strip().splitlines()[0][:200] if text.strip() else ""


def iter_examples(
    ratings_path: str | Path, papers: str | Path, log: RejectLog | None = None, *, split: str = "all",
    config: AIScientistConfig | None = None,
) -> Iterator[ReviewExample]:
    """Review examples of the benchmark; every row that cannot become one is logged with a reason."""
    for example, _ in iter_papers(ratings_path, papers, log, split=split, config=config):
        yield example


def iter_papers(
    ratings_path: str | Path, papers: str | Path, log: RejectLog | None = None, *, split: str = "all",
    config: AIScientistConfig | None = None,
) -> Iterator[tuple[ReviewExample, str]]:
    """Each paper's review example with the table's decision cell as written (``Accept (Poster)``)."""
    config = config or AIScientistConfig()
    log = log or RejectLog()
    directory = PapersDirectory(papers)
    for item in read_ratings_table(ratings_path):
        if isinstance(item, Reject):
            log.reject(item)
            continue
        paper_id, ratings, decision = item
        if split != "all" and hash_split(paper_id, config.test_fraction, config.seed) != split:
            continue
        try:
            text = directory.read(paper_id, prefer=("markdown", "text", "latex", "pdf"))
        except RecordError as exc:
            log.reject(Reject(paper_id, "paper", exc.reason, exc.detail))
            continue
        if text is None:
            log.reject(Reject(paper_id, "paper", "no_paper_text"))
            continue
        accepted = accepted_from_text(decision)  # the words as Review-5K reads them ("Invite to Workshop Track")
        yield ReviewExample(
            paper_id=paper_id,
            title=guess_title(text.text),
            paper_text=text.text,
            ratings=ratings,
            accepted=accepted,
            year=2022,
            rating_scale=RATING_SCALE,
        ), decision


SCHEMA = AIScientistICLR2022.SCHEMAS["default"]
COLUMNS = AIScientistICLR2022


def paper_row(example: ReviewExample, decision_raw: str) -> dict[str, Any]:
    """One paper's row: the example's fields the schema has, the decision in the shared vocabulary."""
    accepted = example.accepted
    return {
        COLUMNS.PAPER_ID: example.paper_id,
        COLUMNS.TITLE: example.title,
        COLUMNS.PAPER_TEXT: example.paper_text,
        COLUMNS.RATINGS: list(example.ratings),
        "rating_mean": sum(example.ratings) / len(example.ratings),
        COLUMNS.DECISION: COLUMNS.ACCEPT if accepted else COLUMNS.REJECT if accepted is False else None,
        COLUMNS.ACCEPTANCE_TYPE: decision_from_text(decision_raw, "ratings_table").presentation if accepted else None,
        COLUMNS.DECISION_RAW: decision_raw,
        COLUMNS.YEAR: example.year,
        COLUMNS.RATING_SCALE: example.rating_scale,
    }


def build(ratings_path: str | Path, papers: str | Path, out: str | Path, config: AIScientistConfig | None = None,
          *, overwrite: bool = False) -> dict[str, Any]:
    """Write the benchmark as a Hub-layout folder (``train``/``test`` by hash) with manifest and card."""
    config = config or AIScientistConfig()
    spec = BuildSpec(NAME, VERSION, config, {"default": SCHEMA}, {"default": ["train", "test"]})
    with BuildRun(spec, out, inputs=[ratings_path, papers], overwrite=overwrite) as run:
        n_kept = 0
        for example, decision_raw in iter_papers(ratings_path, papers, run.log, config=config):
            row = paper_row(example, decision_raw)
            run.writer.add("default", hash_split(example.paper_id, config.test_fraction, config.seed), row)
            n_kept += 1
        written = run.close_shards()
        rejected = run.log.by_reason("paper")
        # Rows are counted apart from the reader, so every table row must leave as a row or a reasoned reject.
        papers_in = count_table_rows(ratings_path)
        counts = {"papers_in": papers_in, "papers_kept": n_kept, "papers_rejected": rejected,
                  "splits": written.split_rows}
        accounting = Accounting(counts, (Balance("table rows", papers_in, n_kept + run.log.total("paper")),),
                                kept=n_kept, rejected=rejected)
        _, manifest = run.commit(written, accounting, inputs={"ratings": input_fingerprint(Path(ratings_path))},
                                 card=lambda _: dataset_card(written))
    return manifest


CARD_METADATA = CardMetadata(
    pretty_name="AI Scientist ICLR 2022 review benchmark",
    task_categories=("text-classification",), task_ids=("text-scoring",),
    tags=("peer-review", "iclr", "ai-scientist", "cyclebench"),
    # Mixed: the ratings table is Apache-2.0 (the repository), the paper texts are their authors' work.
    license="other", license_name="ai-scientist-apache-2.0-and-paper-texts",
    license_link="https://github.com/SakanaAI/AI-Scientist/blob/main/LICENSE",
)


def dataset_card(written: Written) -> str:
    front = card_front_matter({"default": SCHEMA}, written.split_rows, written.shards, CARD_METADATA)
    rows = written.split_rows["default"]
    return front + f"""
# AI Scientist ICLR 2022 review benchmark (cyclebench build, builder {VERSION})

The 500-paper ICLR 2022 reviewer benchmark of the AI Scientist (`review_iclr_bench`): each paper's human
ratings and decision with its PDF-to-markdown text, built by `cyclebench build aiscientist-iclr2022`
(cyclebench {cyclebench.__version__}). This build holds the papers of the given table that have a text.

{load_example(written.split_rows, {"default": "train / test: halves by a hash of the paper id"})}

| split | papers |
|---|---|
{chr(10).join(f"| {split} | {n} |" for split, n in rows.items())}

## Columns

`paper_id, title` (read from the text's first headings), `paper_text`, `ratings` (each reviewer's rating,
1-10), `rating_mean`, `decision` (`Accept` / `Reject`, the vocabulary of every cyclebench dataset; null when
the table's cell is neither), `acceptance_type` (oral / spotlight / poster of an accepted paper),
`decision_raw` (the table's cell, e.g. `Accept (Poster)`), `year`, `rating_scale`.

The benchmark is an evaluation set: evaluate on both splits together (task split `all`); `train` / `test`
exist so the CPU baselines can be trained and scored on disjoint papers.

## Changelog

{CHANGELOG}
## License

The ratings table comes from SakanaAI/AI-Scientist (Apache-2.0); the paper texts are their authors' work,
included for research on peer review.

{citation_section((citations.AI_SCIENTIST, citations.CYCLERESEARCHER), (citations.AI_SCIENTIST_REPO, citations.OPENREVIEW))}"""
