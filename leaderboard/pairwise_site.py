"""The site's pairwise block: one section per task with the Bradley-Terry ratings of verified pairwise submissions.

Pairwise submissions live beside the review submissions, in ``pairwise_submissions/`` next to the
``submissions/`` folder the site reads (a folder per submission: ``results.json`` + ``judgments.jsonl``), so
the review validator never mistakes one for a broken review submission. Each is verified by
:func:`cyclebench.leaderboard.pairwise.verify_pairwise` (re-parsed, re-scored) before it is shown; one that does
not verify is left out and named in the section's text.

:func:`pairwise_sections` is one of the site's ``SECTION_HOOKS`` (:mod:`cyclebench.leaderboard.site`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cyclebench.leaderboard.pairwise import PairwiseTable, pairwise_tables
from cyclebench.leaderboard.sections import Section, SiteContext

PAIRWISE_SUBMISSIONS = "pairwise_submissions"
HEADER = ["system", "Bradley-Terry rating", "95% CI", "wins", "ties", "losses", "win rate", "submission", "judge"]


def pairwise_folders(submissions: Path) -> list[Path]:
    """The pairwise submission folders beside ``submissions`` (none when that folder is absent)."""
    root = Path(submissions).parent / PAIRWISE_SUBMISSIONS
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p.is_dir() or p.is_symlink()) and not p.name.startswith("."))


def _row(table: PairwiseTable, row: dict) -> list[str]:
    rating = "–" if row["rating"] is None else f"{row['rating']:.0f}"
    ci = "–" if row["ci_low"] is None else f"{row['ci_low']:.0f} – {row['ci_high']:.0f}"
    rate = "–" if row["win_rate"] is None else f"{100 * row['win_rate']:.1f}%"
    return [row["system"], rating, ci, str(row["wins"]), str(row["ties"]), str(row["losses"]), rate,
            table.submission, table.judge]


def sections_from(folders: list[Path], datasets: Any = None) -> list[Section]:
    """One section per task over the given pairwise submission folders (checked against ``datasets``, the site's
    dataset builds, when given)."""
    tables, checked = pairwise_tables(folders, datasets=datasets)
    refused = [v for v in checked if not v.ok]
    out: dict[str, Section] = {}
    for table in tables:
        bias = table.position_bias["bias"]["value"]
        section = out.setdefault(table.task, Section(
            task=table.task, title="Pairwise review quality (judge win rates)",
            text="Every pair of systems judged on the same papers in both orders (position bias removed); ties count "
                 "half. Verified by re-parsing and re-scoring the judgments.", header=list(HEADER)))
        section.text += (f" {table.submission}: {table.aspect} aspect, judge position bias "
                         f"{'n/a' if bias is None else f'{100 * bias:+.1f} pp'}.")
        section.rows.extend(_row(table, row) for row in table.rows)
    if refused and out:
        first = next(iter(out.values()))
        first.text += " Not shown (did not verify): " + ", ".join(v.folder.name for v in refused) + "."
    return list(out.values())


def pairwise_sections(context: SiteContext) -> list[Section]:
    """The ``SectionHook``: sections for the pairwise submissions beside ``context.submissions``."""
    return sections_from(pairwise_folders(context.submissions), context.datasets)
