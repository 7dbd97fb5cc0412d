"""Re-derive each generated sample's outcome from its turns: the submitted ``outcome`` is a claim.

Why: the generator figures read a sample's outcome (only ``judged`` samples are scored; a failed one only
counts in the failure shares), and a submitter writes that field. Turning a poorly judged sample into
``generation_failed`` would drop its rating from the average score. So every generated sample's outcome,
reason and turn plan are derived again from what the row itself recorded, the way
``cyclebench.generation.generate_samples`` decides them (through the same ``turn_failure``,
``results_turn_text``, ``sample_paper`` and ``unreadable_reason``):

- part 1 failed (an error, or no text): ``generation_failed``, reason ``part1: <error or 'empty output'>``;
- else the plan: ``one-pass`` when part 1 already holds the results heading, ``given-results`` when the run
  used the record's own results turn (from the dataset build, never from the row), else
  ``simulated-results`` with a ``results`` turn; a failed results or part-2 turn is the sample's reason;
- the paper is parsed again from the turns' outputs (``cyclebench.protocols.cycleresearcher``) with the
  same truncation notes: a paper that does not parse is ``parse_failed`` (``paper_unreadable: ...``),
  otherwise the sample is ``judged`` and its ``paper_text_sha256`` must be the hash of that paper's text.

A contradiction (outcome, reason, plan, the turns present, the paper hash, a judge block on a sample that
was not judged) is a rejection naming the sample. A sample whose part 1 honestly failed stays a failure:
the site shows how many samples were judged out of all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cyclebench.leaderboard.outcome import Problem

TURN_FIELDS = ("turn", "output", "error", "finish_reason")


@dataclass(frozen=True)
class Derived:
    """What the run must have written for one sample, given its turns."""

    outcome: str
    reason: str | None
    plan: str
    turns: tuple[str, ...]  # the turns the run asks for, in order
    paper_text_sha256: str | None = None


class TurnsUnreadable(ValueError):
    """A row whose turns cannot be read (missing, repeated or malformed)."""


def _turns(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    turns = row.get("turns")
    if not isinstance(turns, list) or not turns:
        raise TurnsUnreadable("has no turns")
    by_name: dict[str, dict[str, Any]] = {}
    for turn in turns:
        if not isinstance(turn, dict) or any(k not in turn for k in TURN_FIELDS):
            raise TurnsUnreadable(f"has a turn without {', '.join(TURN_FIELDS)}")
        name = turn["turn"]
        if name in by_name:
            raise TurnsUnreadable(f"repeats the turn {name!r}")
        if not all(isinstance(turn[k], (str, type(None))) for k in ("output", "error", "finish_reason")):
            raise TurnsUnreadable(f"turn {name!r} has an output, error or finish_reason that is not text")
        by_name[name] = turn
    return by_name


def _failed(turn: dict[str, Any]) -> str | None:
    """Why a turn gave no text (as the run words it), or None when it did."""
    from cyclebench.generation import turn_failure

    return turn_failure(turn["error"], turn["output"])


def _need(turns: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    if name not in turns:
        raise TurnsUnreadable(f"has no {name!r} turn, which its plan needs")
    return turns[name]


def derive(row: dict[str, Any], given_results: str | None, results_turn: str) -> Derived:
    """The outcome, reason, plan and turns ``cyclebench.generation`` gives a sample with these turns (raises
    :class:`TurnsUnreadable` when the turns cannot be read)."""
    from cyclebench.generation import results_turn_text, sample_paper, unreadable_reason
    from cyclebench.judge import text_sha256
    from cyclebench.protocols.cycleresearcher import split_at_results

    turns = _turns(row)
    part1 = _need(turns, "part1")
    why = _failed(part1)
    if why is not None:
        return Derived("generation_failed", f"part1: {why}", "part1-failed", ("part1",))
    text, reason, results_text, part2_text = part1["output"], None, None, None
    names = ["part1"]
    if split_at_results(text) is not None:
        plan = "one-pass"
    elif results_turn == "given":
        plan, results_text = "given-results", str(given_results)
    else:
        plan = "simulated-results"
        names.append("results")
        results = _need(turns, "results")
        why = _failed(results)
        if why is not None:
            reason = f"results: {why}"
        else:
            results_text = results_turn_text(results["output"])
    if results_text is not None:
        names.append("part2")
        part2 = _need(turns, "part2")
        why = _failed(part2)
        if why is not None:
            reason = f"part2: {why}"
        else:
            part2_text = part2["output"]
    paper = sample_paper(f"{row.get('paper_id')}#s{row.get('sample')}", text, results_text, part2_text, reason,
                         [name for name in turns if turns[name]["finish_reason"] == "length"])
    if paper.status == "failed":
        return Derived("parse_failed", unreadable_reason(paper), plan, tuple(names))
    return Derived("judged", reason, plan, tuple(names), text_sha256(paper.text()))


def _differences(row: dict[str, Any], derived: Derived) -> list[tuple[str, Any, Any]]:
    """``(field, submitted, derived)`` for every field the row states otherwise."""
    out = [(name, row.get(name), getattr(derived, name)) for name in ("outcome", "reason", "plan")
           if row.get(name) != getattr(derived, name)]
    present = tuple(t.get("turn") for t in row["turns"])
    if present != derived.turns:
        out.append(("turns", list(present), list(derived.turns)))
    if derived.outcome == "judged" and row.get("paper_text_sha256") != derived.paper_text_sha256:
        out.append(("paper_text_sha256", row.get("paper_text_sha256"), derived.paper_text_sha256))
    if derived.outcome != "judged" and row.get("judge") is not None:
        out.append(("judge", "a judge block", "none (only a judged sample is sent to the judge)"))
    return out


def _label(key: tuple[str, int]) -> str:
    return f"paper {key[0]!r} sample {key[1]}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:150] + "...'"


def outcome_problems(samples: Sequence[tuple[tuple[str, int], dict[str, Any]]], given: dict[str, str | None],
                     results_turn: str) -> list[Problem]:
    """One problem per contradicted field (count and the first sample) and one for unreadable turns.
    ``samples``: ((paper id, sample index), row) of every generated sample; ``given``: each prompt's own
    results turn from the dataset build."""
    unreadable: list[tuple[tuple[str, int], str]] = []
    differ: dict[str, list[tuple[tuple[str, int], Any, Any]]] = {}
    for key, row in samples:
        try:
            derived = derive(row, given.get(key[0]), results_turn)
        except TurnsUnreadable as error:
            unreadable.append((key, str(error)))
            continue
        for name, mine, theirs in _differences(row, derived):
            differ.setdefault(name, []).append((key, mine, theirs))
    problems = []
    if unreadable:
        key, why = unreadable[0]
        more = f"; {len(unreadable) - 1} more sample(s) so" if len(unreadable) > 1 else ""
        problems.append(Problem("outcome_mismatch", f"{_label(key)} {why}; a sample's outcome is derived again "
                                                    f"from its turns{more}"))
    for name, items in differ.items():
        key, mine, theirs = items[0]
        more = f"; {len(items) - 1} more sample(s) differ in this field" if len(items) > 1 else ""
        problems.append(Problem("outcome_mismatch", f"{_label(key)}: {name} is {_short(mine)} but its turns give "
                                                    f"{_short(theirs)} (as cyclebench.generation decides it){more}"))
    return problems
