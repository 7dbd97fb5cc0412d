"""Re-derive every parsed review of a submission from its raw outputs: the submitted ``parsed`` is a claim.

Why: the metrics read a prediction's rating, decision and aspects, and a submitter writes those fields;
setting them to the human values (raw output untouched, or null) would otherwise score as a perfect
reviewer. So each row's raw ``output`` is parsed again with the protocol and arguments results.json names
(recorded outputs: with the importer's reader and its decision rule, a CSV row from its JSON record; a
generator: the judge's output with the judge protocol), the re-parse is what gets scored, and a submitted
field that disagrees is a rejection naming the paper and the field (``status`` and ``decision`` exactly,
scores within ``cyclebench.leaderboard.rescore``'s tolerance).

Failures: a row whose ``generation_error`` (a judge: ``error``) is set has no output: the run got none, and
it re-parses to the failed review the run wrote for it (``generation_error: ...``;
``judge_generation_error: ...``; an imported row's own reason). Such a row has no rating, decision or
aspect; it is excluded from the score metrics and counted in ``n_failed`` (the site shows "evaluated / in
the split" beside every row). A row that carries both an error and an output is rejected naming the paper:
the output would be what gets parsed and scored, and calling a readable review "failed" would hide it from
the metrics (a reviewer could drop its worst papers that way). A row with neither output nor error is
rejected too: there is nothing to re-parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cyclebench.records import ParsedReview
from cyclebench.leaderboard.outcome import Problem
from cyclebench.leaderboard.rescore import agrees

SCORE_FIELDS = ("rating", "soundness", "presentation", "contribution", "confidence")
EXACT_FIELDS = ("status", "decision")
# Protocol arguments that only shape the prompt and name files on the submitter's machine.
PROMPT_ONLY_ARGUMENTS = ("few_shot", "num_fs")
IMPORTED_FORMATS = ("jsonl", "text", "aiscientist-csv")


@dataclass(frozen=True)
class Reader:
    """How one submission's raw outputs are read back."""

    protocol: Any
    failure_prefix: str  # the failed review's problem is prefix + error ("" for imported rows)
    record_form: bool = False  # aiscientist-csv: the output is the row's JSON record, for parse_record
    label: str = ""  # "the cyclereviewer protocol (reviewers=4)", for messages

    def read(self, output: Any, error: Any) -> ParsedReview | None:
        """The review the run would have scored for this output; None when there is nothing to read (no
        output and no error, or both: the caller reports which)."""
        if error is not None:
            return ParsedReview(status="failed", problems=(f"{self.failure_prefix}{error}",)) if output is None else None
        if not isinstance(output, str):
            return None
        if self.record_form:
            from cyclebench.recorded import record_from_text

            return self.protocol.parse_record(record_from_text(output))
        return self.protocol.parse(output)


@dataclass
class Reparsed:
    """The re-parse of a submission: reviews by key (paper id, or (paper id, sample) for a generator) and
    the problems found (missing outputs, submitted fields that disagree)."""

    reviews: dict[Any, ParsedReview] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def build_protocol(name: Any, arguments: Any, claimed_options: Any = None) -> tuple[Any, str]:
    """The protocol a run named, built from its arguments (prompt-only file arguments dropped); raises
    ValueError when it cannot be built or its options differ from the ones the run claims."""
    from cyclebench.protocols import get_protocol

    args = {k: v for k, v in (arguments or {}).items() if k not in PROMPT_ONLY_ARGUMENTS}
    try:
        protocol = get_protocol(name, **args)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        why = error.args[0] if error.args else type(error).__name__
        raise ValueError(f"cannot re-parse the outputs: protocol {name!r} with arguments {args!r}: {why}") from None
    built = {k: v for k, v in protocol.options().items() if k not in PROMPT_ONLY_ARGUMENTS}
    if isinstance(claimed_options, dict):
        claimed = {k: v for k, v in claimed_options.items() if k not in PROMPT_ONLY_ARGUMENTS}
        if claimed != built:
            raise ValueError(f"the protocol options results.json states ({claimed!r}) are not what its arguments "
                             f"{args!r} give ({built!r})")
    shown = ",".join(f"{k}={v}" for k, v in sorted(built.items()))
    return protocol, f"the {protocol.name} protocol ({shown})"


def reader_for(results: dict[str, Any]) -> Reader:
    """The reader of a submission's outputs (raises ValueError with the reason)."""
    if results.get("kind") == "generator":
        judge = results["judge"]
        options = (judge.get("protocol_description") or {}).get("options")
        protocol, label = build_protocol(judge["protocol"], judge.get("protocol_arguments"), options)
        return Reader(protocol, "judge_generation_error: ", label=f"the judge's {label.removeprefix('the ')}")
    spec = results["protocol"]
    protocol, label = build_protocol(spec["name"], spec["arguments"], spec.get("options"))
    provenance = results.get("provenance") or {}
    if not provenance.get("imported"):
        return Reader(protocol, "generation_error: ", label=label)
    fmt = provenance.get("format")
    if fmt not in IMPORTED_FORMATS:
        raise ValueError(f"imported outputs name format {fmt!r}; the leaderboard re-parses {', '.join(IMPORTED_FORMATS)}")
    if fmt == "aiscientist-csv" and not hasattr(protocol, "parse_record"):
        raise ValueError(f"aiscientist-csv records are read by the aiscientist protocol, not {spec['name']!r}")
    return Reader(protocol, "", record_form=fmt == "aiscientist-csv", label=label)


def disagreements(submitted: Any, reparsed: ParsedReview) -> list[tuple[str, Any, Any]]:
    """``(field, submitted, re-parsed)`` for every scored field the submission states otherwise."""
    submitted = submitted if isinstance(submitted, dict) else {}
    out = [(name, submitted.get(name), getattr(reparsed, name)) for name in EXACT_FIELDS
           if submitted.get(name) != getattr(reparsed, name)]
    out += [(name, submitted.get(name), getattr(reparsed, name)) for name in SCORE_FIELDS
            if not _same_number(submitted.get(name), getattr(reparsed, name))]
    reviewers = submitted.get("reviewers") or []
    if not isinstance(reviewers, list) or len(reviewers) != len(reparsed.reviewers):
        out.append(("reviewers", f"{len(reviewers) if isinstance(reviewers, list) else reviewers!r} simulated "
                                 "reviews", f"{len(reparsed.reviewers)}"))
        return out
    for i, (mine, theirs) in enumerate(zip(reviewers, reparsed.reviewers)):
        rating = mine.get("rating") if isinstance(mine, dict) else mine
        if not _same_number(rating, theirs.rating):
            out.append((f"reviewers[{i}].rating", rating, theirs.rating))
    return out


def _same_number(submitted: Any, reparsed: float | None) -> bool:
    if submitted is None or reparsed is None:
        return submitted is None and reparsed is None
    if isinstance(submitted, bool) or not isinstance(submitted, (int, float)):
        return False
    return agrees(submitted, reparsed)[0]


def _show(value: Any) -> str:
    return "null" if value is None else f"{value:g}" if isinstance(value, float) else repr(value)


def _item(key: Any) -> str:
    return f"paper {key!r}" if isinstance(key, str) else f"paper {key[0]!r} sample {key[1]}"


def _report(mismatches: dict[str, list[tuple[Any, Any, Any]]], missing: list[Any], both: list[Any], where: str,
            reader: Reader, out: list[Problem]) -> None:
    """One problem per disagreeing field (count and the first offender), one for missing outputs and one for
    outputs kept beside a generation error."""
    if missing:
        out.append(Problem("missing_output", f"{_item(missing[0])}: output is null and no generation error is "
                                             f"recorded ({len(missing)} prediction(s) so); every parsed review is "
                                             "re-derived from its raw output"))
    if both:
        error_field = "judge.error" if where.startswith("judge") else "generation_error"
        output_field = "judge.output" if where.startswith("judge") else "output"
        out.append(Problem("output_with_error", f"{_item(both[0])}: {error_field} is set but {output_field} is kept "
                                                f"({len(both)} prediction(s) so); a failed generation has no output, "
                                                "and an output that is there is parsed and scored, so a row may not "
                                                "declare a readable review failed"))
    for name, items in mismatches.items():
        key, mine, theirs = items[0]
        more = f"; {len(items) - 1} more prediction(s) differ in this field" if len(items) > 1 else ""
        out.append(Problem("parse_mismatch", f"{_item(key)}: {where}.{name} is {_show(mine)} but its raw output "
                                             f"re-parses to {_show(theirs)} with {reader.label}{more}"))


def _compare_all(entries: Sequence[tuple[Any, Any, Any, Any]], reader: Reader, where: str) -> Reparsed:
    """``entries``: (key, output, error, submitted parsed) per prediction, in file order."""
    result = Reparsed()
    mismatches: dict[str, list[tuple[Any, Any, Any]]] = {}
    missing, both = [], []
    for key, output, error, submitted in entries:
        review = reader.read(output, error)
        if review is None:
            (both if error is not None else missing).append(key)
            continue
        result.reviews[key] = review
        for name, mine, theirs in disagreements(submitted, review):
            mismatches.setdefault(name, []).append((key, mine, theirs))
    _report(mismatches, missing, both, where, reader, result.problems)
    return result


def _row_entries(rows: Sequence[tuple[int, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    return [(row.get("paper_id"), row.get("output"), row.get("generation_error"), row.get("parsed"))
            for _, row in rows if isinstance(row, dict)]


def _judge_entries(rows: Sequence[tuple[int, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    out = []
    for _, row in rows:
        if not isinstance(row, dict) or row.get("set") != "generated" or row.get("outcome") != "judged":
            continue
        judge = row.get("judge")
        if isinstance(judge, dict):
            out.append(((row.get("paper_id"), row.get("sample")), judge.get("output"), judge.get("error"),
                        judge.get("parsed")))
    return out


def reparse_submission(results: dict[str, Any], rows: Sequence[tuple[int, Any]]) -> Reparsed:
    """Re-parse every prediction (review run) or every judged sample (generator run) of a submission."""
    try:
        reader = reader_for(results)
    except ValueError as error:
        return Reparsed(problems=[Problem("protocol", str(error))])
    if results.get("kind") == "generator":
        return _compare_all(_judge_entries(rows), reader, "judge.parsed")
    return _compare_all(_row_entries(rows), reader, "parsed")


def replace_judge_reviews(rows: Sequence[dict[str, Any]], reparsed: Reparsed) -> list[dict[str, Any]]:
    """Generator rows with each judged sample's ``judge.parsed`` replaced by its re-parse (what gets scored)."""
    out = []
    for row in rows:
        review = reparsed.reviews.get((row["paper_id"], row.get("sample")))
        if review is not None and isinstance(row.get("judge"), dict):
            row = {**row, "judge": {**row["judge"], "parsed": asdict(review)}}
        out.append(row)
    return out
