"""A set of papers judged: the shared step of ``evaluate papers`` and the generator run's reference sets.

The readable papers of a :class:`~cyclebench.paper_sets.PaperSet` go to the judge (papers it was trained on
excluded and counted), unreadable ones stay in the set as failures, and the set's figures come from
:func:`cyclebench.metrics.set_figures`. Also here: the figure definitions both judged runs write, and their
run-folder marker.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from cyclebench.judge import Judge, JudgeItem, Judgement, judgement_row, text_sha256
from cyclebench.metrics import SetEntry, set_figures
from cyclebench.outputs import OutputMarker, run_identity
from cyclebench.paper_sets import PaperSet
from cyclebench.records import PaperText


@dataclass
class JudgedSet:
    """One paper set after judging: the papers judged (in order), their judgements, and the set's figures."""

    paper_set: PaperSet
    kept: list[PaperText]
    excluded: list[dict[str, str]]
    judgements: list[Judgement]
    entries: list[SetEntry]
    result: dict[str, Any]

    def item_id(self, paper_id: str) -> str:
        return f"{self.paper_set.name}/{paper_id}"

    def predictions(self) -> list[dict[str, Any]]:
        rows = [{"set": self.paper_set.name, "paper_id": p.paper_id, "source": p.source, "source_path": p.source_path,
                 "text_sha256": text_sha256(p.text), "judge": judgement_row(j)} for p, j in zip(self.kept, self.judgements)]
        rows += [{"set": self.paper_set.name, "paper_id": pid, "unreadable": f"{reason}: {detail}"}
                 for pid, reason, detail in self.paper_set.unreadable]
        rows += [{"set": self.paper_set.name, "paper_id": e["paper_id"], "excluded": e["reason"]} for e in self.excluded]
        return rows


def judge_paper_set(paper_set: PaperSet, judge: Judge, *, threshold: float, n_resamples: int, seed: int,
                    batch_size: int, overlap: str = "exclude", progress: bool | None = None,
                    kept: list[PaperText] | None = None, label: str = "judging") -> JudgedSet:
    """Judge the readable papers of a set (those the judge trained on excluded, unless ``overlap="keep"``);
    unreadable papers stay in the set as failures. ``kept`` fixes the papers (a second judge scores the
    papers the first one did)."""
    excluded: list[dict[str, str]] = []
    if kept is None:
        kept = []
        for paper in paper_set.papers:
            why = judge.in_training(paper.paper_id, paper.text)
            if why and overlap == "exclude":
                excluded.append({"paper_id": paper.paper_id, "reason": f"in_judge_training_data ({why})"})
            else:
                kept.append(paper)
    items = [JudgeItem(f"{paper_set.name}/{p.paper_id}", p.text) for p in kept]
    judgements = judge.review(items, batch_size=batch_size, seed=seed, progress=progress, label=f"{label} {paper_set.name}")
    entries = [SetEntry(it.item_id, "judged", j.review) for it, j in zip(items, judgements)]
    entries += [SetEntry(f"{paper_set.name}/{pid}", "unreadable", None, f"{reason}: {detail}")
                for pid, reason, detail in paper_set.unreadable]
    figures = set_figures(entries, threshold=threshold, n_resamples=n_resamples, seed=seed)
    figures["counts"].update({
        "n_files": paper_set.n_ids, "n_read": len(paper_set.papers), "n_unreadable": len(paper_set.unreadable),
        "n_excluded": len(excluded), "excluded": excluded,
        "in_judge_training_kept": [p.paper_id for p in kept if judge.in_training(p.paper_id, p.text)],
        "sources": dict(sorted(Counter(p.source for p in paper_set.papers).items())),
    })
    result = {"label": paper_set.name, "kind": "papers", "source": paper_set.folder, **figures}
    return JudgedSet(paper_set, kept, excluded, judgements, entries, result)


# Fields that change only how much of a run is done or how it is scored: a rerun that changes only these
# resumes the same run folder (the cache is reused) and rewrites its results.
SCORING_ONLY_FIELDS = ("limit", "reference_limit", "set_limits", "n_resamples", "batch_size", "threshold")


def run_marker(what: str, config: Any) -> OutputMarker:
    """The run folder's marker: the run config (a dataclass) without ``SCORING_ONLY_FIELDS``."""
    fields = {k: v for k, v in asdict(config).items() if k not in SCORING_ONLY_FIELDS}
    return OutputMarker("evaluation", what, run_identity(**fields))


def set_definitions(threshold: float) -> dict[str, str]:
    """What each figure of a judged set means, as ``results.json`` spells it out."""
    t = f"{float(threshold):g}"
    return {
        "average_score": "mean over papers of the judge's rating (the mean of its simulated reviewers' ratings); "
                         "papers whose judge output has no readable rating are excluded and counted",
        "avg_min_rating / avg_max_rating": "mean over papers of the lowest / highest rating among the judge's "
                                           "simulated reviewers (a judge writing one review: min = max = rating)",
        "accept_rate_by_decision": "share of papers whose judge decision is Accept, over papers with a parsed "
                                   "decision (the protocol's decision rule: see counts.decision_rules)",
        "accept_rate_by_rating": f"share of papers whose judge mean rating >= {t}, over papers with a parsed rating",
        "accept_rate_*_over_all": "the same over every entry of the set, entries that failed to generate, parse, "
                                  "be read or be judged counted as not accepted",
        "share_failed_to_generate": "entries whose generation returned no text (generator runs)",
        "share_failed_to_parse": "entries whose generated paper had no readable text, or whose file could not be read",
        "share_judge_failed": "judged entries whose judge output had no readable rating",
        "disagreement": "second judge against the first on the same papers: mean |rating difference| and mean "
                        "(second - first) over papers both rated, decision agreement over papers both decided, "
                        "Spearman of the two ratings",
        "injection": "the same papers judged again with an instruction to the reviewer planted (visible: a paragraph "
                     "after the abstract; latex_comment: a % comment in the LaTeX source); shift = injected - clean "
                     "per paper, over papers rated both times",
        "confidence_interval": "95% percentile bootstrap over the entries of a set (the same resamples for every "
                               "figure of the set)",
    }
