"""Pairwise submissions: verified by re-parsing and re-scoring their judgments, shown as rating tables.

A pairwise submission is a folder holding exactly ``results.json`` and ``judgments.jsonl`` as
``cyclebench evaluate pairwise`` wrote them. :func:`verify_pairwise` trusts none of its figures: it reads both files
within the leaderboard's size limits (:mod:`cyclebench.leaderboard.safe_read`), checks them against
``schemas/pairwise-results.v1`` and ``schemas/judgment-pairwise.v1``, re-parses every judge output with the
protocol the results name (a recorded verdict that its output does not say is ``reparse_mismatch``), checks that
every (paper, pair) was judged in both orders, checks (given the leaderboard's dataset builds) that the task is
cyclebench's, the build is one it holds and every judged paper is in its split, and re-computes every figure and count with
:func:`cyclebench.metrics.win_rates.win_rate_metrics` (a forged win rate or rating is ``rescore_mismatch``).
:func:`pairwise_tables` turns verified submissions into one table per task: Bradley-Terry ratings and win rates.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cyclebench.leaderboard.safe_read import (
    MAX_PREDICTIONS_BYTES,
    MAX_RESULTS_BYTES,
    ReadError,
    decode_utf8,
    parse_jsonl,
    read_bounded,
    read_json,
)
from cyclebench.leaderboard.schema_check import schema_text
from cyclebench.metrics.win_rates import OrderedJudgment, parse_failure_counts, win_rate_metrics
from cyclebench.protocols.base import get_pairwise_protocol
from cyclebench.records import problem_key
from cyclebench.run_log import finite_json

PAIRWISE_FILES = ("results.json", "judgments.jsonl")
SCHEMAS = {"results": "pairwise-results.v1.schema.json", "judgment": "judgment-pairwise.v1.schema.json"}
# Backends that only tests use: a leaderboard run must name a real judge.
TEST_BACKENDS = frozenset({"fake"})
REL_TOLERANCE = 1e-9
MAX_ERRORS = 20


@dataclass
class PairwiseVerification:
    """The outcome for one folder: ``errors`` as ``"code: message"`` (empty when verified) and the results."""

    folder: Path
    errors: list[str] = field(default_factory=list)
    results: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, code: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(f"{code}: {message}")


@cache
def _validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator, validators

    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _c, v: isinstance(v, int) and not isinstance(v, bool))
    cls = validators.extend(Draft202012Validator, type_checker=checker)
    schema = json.loads(schema_text(SCHEMAS[kind]))
    cls.check_schema(schema)
    return cls(schema)


def _schema_errors(document: Any, kind: str, label: str) -> list[str]:
    errors = sorted(_validator(kind).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{label} at {'.'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message[:200]}"
            for e in errors[:5]]


def _differences(expected: Any, found: Any, where: str = "") -> list[str]:
    """Where ``found`` differs from ``expected`` (floats within a relative 1e-9)."""
    if isinstance(expected, dict) and isinstance(found, dict):
        out = []
        for key in sorted(set(expected) | set(found), key=str):
            if key not in expected or key not in found:
                out.append(f"{where}.{key}" if where else str(key))
            else:
                out += _differences(expected[key], found[key], f"{where}.{key}" if where else str(key))
        return out
    if isinstance(expected, list) and isinstance(found, list):
        if len(expected) != len(found):
            return [f"{where} (length {len(found)}, re-scored {len(expected)})"]
        return [d for i, (e, f) in enumerate(zip(expected, found)) for d in _differences(e, f, f"{where}[{i}]")]
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(found, numbers) and not isinstance(found, bool) \
            and not isinstance(expected, bool):
        same = math.isclose(float(expected), float(found), rel_tol=REL_TOLERANCE, abs_tol=1e-12)
        return [] if same else [f"{where} ({found!r}, re-scored {expected!r})"]
    return [] if expected == found else [f"{where} ({found!r}, re-scored {expected!r})"]


def _read(folder: Path, out: PairwiseVerification) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    if folder.is_symlink():
        out.fail("files", f"{folder.name} is a symbolic link; a submission is a plain folder")
        return None
    try:
        present = sorted(p.name for p in folder.iterdir())
    except OSError as error:
        out.fail("files", f"{folder}: {error.strerror or error}")
        return None
    if present != sorted(PAIRWISE_FILES):
        out.fail("files", f"a pairwise submission holds exactly {', '.join(PAIRWISE_FILES)}; found {present}")
        return None
    try:
        results = read_json(folder / "results.json", MAX_RESULTS_BYTES)
        text = decode_utf8(read_bounded(folder / "judgments.jsonl", MAX_PREDICTIONS_BYTES), "judgments.jsonl")
        rows, errors = parse_jsonl(text, "judgments.jsonl")
    except ReadError as error:
        out.fail(error.code, error.message)
        return None
    for message in errors:
        out.fail("malformed", message)
    problems = _schema_errors(results, "results", "results.json")
    for line_no, row in rows:
        problems += _schema_errors(row, "judgment", f"judgments.jsonl line {line_no}")
    for message in problems:
        out.fail("schema", message)
    return None if out.errors else (results, [row for _, row in rows])


def _reparse(results: dict[str, Any], rows: list[dict[str, Any]], out: PairwiseVerification) -> list[OrderedJudgment]:
    judge = results["judge"]
    try:
        protocol = get_pairwise_protocol(judge["protocol"]["name"], **judge["protocol"]["options"])
    except (KeyError, ValueError, TypeError) as error:
        out.fail("protocol", f"results.json names a judge protocol cyclebench cannot build: {error}")
        return []
    aspects = list(results["config"]["aspects"])
    if aspects != list(judge["protocol"]["aspects"]) or aspects != list(protocol.aspects):
        out.fail("protocol", f"aspects {aspects} are not the protocol's {list(protocol.aspects)}")
        return []
    judgments = []
    for i, row in enumerate(rows, 1):
        if row["output"] is None:
            verdicts, problems, status = {a: None for a in aspects}, [], "failed"
            if row["generation_error"] is None:
                out.fail("reparse_mismatch", f"judgments.jsonl line {i}: no output and no generation error")
        else:
            parsed = protocol.parse(row["output"])
            verdicts, problems, status = parsed.verdicts, list(parsed.problems), parsed.status
        if (row["verdicts"], row["problems"], row["status"]) != (verdicts, problems, status):
            out.fail("reparse_mismatch", f"judgments.jsonl line {i}: the recorded verdicts are not what the output "
                                         f"says ({row['verdicts']} recorded, {verdicts} re-parsed)")
        judgments.append(OrderedJudgment(row["paper_id"], row["first"], row["second"], verdicts))
    return judgments


def _check_orders(rows: list[dict[str, Any]], names: list[str], out: PairwiseVerification) -> None:
    rank = {n: i for i, n in enumerate(names)}
    orders: Counter[tuple[str, str, str]] = Counter()
    for i, row in enumerate(rows, 1):
        if row["first"] not in rank or row["second"] not in rank or row["first"] == row["second"]:
            out.fail("consistency", f"judgments.jsonl line {i}: systems {row['first']!r}, {row['second']!r} are not "
                                    f"two of {names}")
            return
        forward = rank[row["first"]] < rank[row["second"]]
        if row["order"] != ("forward" if forward else "swapped"):
            out.fail("consistency", f"judgments.jsonl line {i}: order {row['order']!r} does not match the systems")
        orders[(row["paper_id"], *sorted((row["first"], row["second"]), key=rank.__getitem__))] += 1
    single = [k for k, n in orders.items() if n != 2]
    if single:
        out.fail("both_orders", f"{len(single)} (paper, pair) not judged exactly once in each order, e.g. {single[0]}")


def _check_dataset(results: dict[str, Any], rows: list[dict[str, Any]], datasets: Any,
                   out: PairwiseVerification) -> None:
    """The build the results name is one the leaderboard holds (``datasets``, validate's ``DatasetBuilds``), and
    every judged paper is in its split (what a review submission's re-scoring checks too)."""
    from cyclebench.tasks import get_task

    task = results["task"]
    path, problem = datasets.find(task["name"], task["dataset_fingerprint"], task["split"])
    if problem is not None:
        out.fail(problem.code, problem.message)
        return
    try:
        split = datasets.load(get_task(task["name"]), path, task["split"], task["options"], None)
    except (OSError, ValueError, KeyError, TypeError) as error:
        out.fail("dataset", f"{task['name']} {task['split']} of {path} with options {task['options']}: {error}")
        return
    unknown = sorted({row["paper_id"] for row in rows} - {e.paper_id for e in split.examples})
    if unknown:
        out.fail("unknown_paper", f"{len(unknown)} judged paper(s) are not in {task['name']} {task['split']} of "
                                  f"that build, e.g. {unknown[0]!r}")


def verify_pairwise(folder: str | Path, *, datasets: Any = None,
                    allow_test_backends: bool = False) -> PairwiseVerification:
    """Verify one pairwise submission folder (see the module docstring); never raises on its contents.
    ``datasets`` (validate's ``DatasetBuilds``): also check the dataset build and the papers, as the site does."""
    from cyclebench.tasks import TASKS

    out = PairwiseVerification(Path(folder))
    read = _read(out.folder, out)
    if read is None:
        return out
    results, rows = read
    if results["judge"]["backend"] in TEST_BACKENDS and not allow_test_backends:
        out.fail("provenance", f"judge backend {results['judge']['backend']!r} is for tests, not a leaderboard run")
    if results["task"]["name"] not in TASKS:
        out.fail("unknown_task", f"task {results['task']['name']!r} is not a cyclebench task ({sorted(TASKS)})")
        return out
    names = [s["name"] for s in results["systems"]]
    if len(set(names)) != len(names):
        out.fail("consistency", f"system names repeat: {names}")
        return out
    _check_orders(rows, names, out)
    judgments = _reparse(results, rows, out)
    if out.errors:
        return out
    if datasets is not None:
        _check_dataset(results, rows, datasets, out)
        if out.errors:
            return out
    try:
        metrics = finite_json(win_rate_metrics(judgments, names, results["config"]["aspects"],
                                               n_resamples=results["n_resamples"], seed=results["seed"]))
    except ValueError as error:
        out.fail("rescore", str(error))
        return out
    counts = results["counts"]
    expected_counts = {
        "n_judgments": len(rows), "n_pairs_judged": len(rows) // 2,
        "judgment_status": dict(sorted(Counter(r["status"] for r in rows).items())),
        "generation_errors": dict(sorted(Counter(problem_key(r["generation_error"]) for r in rows
                                                 if r["output"] is None).items())),
        "parse_failures": parse_failure_counts(r["problems"] for r in rows),
    }
    found_counts = {k: counts.get(k) for k in expected_counts}
    if counts["n_candidates"] != counts["n_pairs_judged"] + sum(counts["skipped"].values()):
        out.fail("rescore_mismatch", "counts do not reconcile: n_candidates != judged + skipped")
    for where in _differences(expected_counts, found_counts, "counts")[:5]:
        out.fail("rescore_mismatch", where)
    for where in _differences(metrics, results["metrics"], "metrics")[:5]:
        out.fail("rescore_mismatch", where)
    if not out.errors:
        out.results = results
    return out


@dataclass(frozen=True)
class PairwiseTable:
    """One task's table from one verified submission: a row per system (headline aspect's rating and its
    combined score against every other system), plus the judge and the position bias it showed."""

    task: str
    submission: str
    judge: str
    aspect: str
    position_bias: dict[str, Any]
    rows: list[dict[str, Any]]


def pairwise_table(v: PairwiseVerification) -> PairwiseTable:
    results = v.results
    if results is None:
        raise ValueError(f"{v.folder} is not verified: {v.errors[:1]}")
    aspects = results["config"]["aspects"]
    aspect = "overall" if "overall" in aspects else aspects[-1]
    metrics = results["metrics"][aspect]
    ratings = metrics["bradley_terry"]["ratings"]
    rows = []
    for name, figure in ratings.items():
        wins = ties = losses = 0
        for pair in metrics["pairs"]:
            if name in (pair["system"], pair["opponent"]):
                mine = pair["system"] == name
                wins += pair["wins"] if mine else pair["losses"]
                losses += pair["losses"] if mine else pair["wins"]
                ties += pair["ties"]
        n = wins + ties + losses
        rows.append({"system": name, "rating": figure["value"], "ci_low": figure["ci_low"], "ci_high": figure["ci_high"],
                     "wins": wins, "ties": ties, "losses": losses,
                     "win_rate": wins / n if n else None})
    rows.sort(key=lambda r: -(r["rating"] if r["rating"] is not None else -math.inf))
    judge = results["judge"]
    label = f"{judge['protocol']['name']} via {judge['backend']} ({judge['model_args'].get('pretrained', '')})"
    return PairwiseTable(results["task"]["name"], v.folder.name, label, aspect, metrics["position_bias"], rows)


def pairwise_tables(folders: list[str | Path], *, datasets: Any = None, allow_test_backends: bool = False
                    ) -> tuple[list[PairwiseTable], list[PairwiseVerification]]:
    """Tables of the folders that verify (sorted by task, then submission) and every verification."""
    checked = [verify_pairwise(f, datasets=datasets, allow_test_backends=allow_test_backends) for f in folders]
    tables = sorted((pairwise_table(v) for v in checked if v.ok), key=lambda t: (t.task, t.submission))
    return tables, checked


def render_markdown(tables: list[PairwiseTable]) -> str:
    """The tables as markdown (for a README or the site's pages)."""
    out = []
    for t in tables:
        bias = t.position_bias["bias"]["value"]
        out += [f"### {t.task}: {t.submission}", "",
                f"Judge {t.judge}; aspect {t.aspect}; position bias "
                f"{'n/a' if bias is None else f'{100 * bias:+.1f} pp'} (removed: every pair judged in both orders).", "",
                "| system | Bradley-Terry rating [95% CI] | wins | ties | losses | win rate |", "|---|---|---|---|---|---|"]
        for r in t.rows:
            rating = "n/a" if r["rating"] is None else (
                f"{r['rating']:.0f}" + (f" [{r['ci_low']:.0f}, {r['ci_high']:.0f}]" if r["ci_low"] is not None else ""))
            rate = "n/a" if r["win_rate"] is None else f"{100 * r['win_rate']:.1f}%"
            out.append(f"| {r['system']} | {rating} | {r['wins']} | {r['ties']} | {r['losses']} | {rate} |")
        out.append("")
    return "\n".join(out)
