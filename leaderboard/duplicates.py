"""Is a submission the same entry as an earlier one? By file, by declared identity, and by content.

Three rules, any one makes a duplicate of the earlier submission it names:

1. the same ``predictions.jsonl`` (sha256);
2. the same model fingerprint + task + split + dataset build + protocol (a generator: judge, samples per
   prompt, threshold);
3. the same content: on the same kind, task, split and dataset build, the re-parsed rating, decision and
   four aspects of every compared paper are the same (numbers within ``CONTENT_TOLERANCE``, 0.05 on the
   score scales; decisions equal) except on at most ``CONTENT_DIFFERENT`` (5%) of them, and never fewer
   than one paper: a one-paper tweak of a 6-paper split is still a copy. Compared papers are those BOTH
   submissions give a value for (any score or decision), and there must be at least
   ``CONTENT_MIN_OVERLAP`` (5) of them, or every paper either gives a value for when that is fewer. A
   paper only one of them gives a value for is not compared: declaring some papers of someone else's run
   failed (a generation error, an unreadable output) leaves the rest of the copy, which still collides; a
   copy that keeps fewer than 5 papers shows as such on the site ("4 / 150" evaluated). A generator's
   content is the judge's review of each sample.

Rule 3 is why changing one byte of the predictions and the model fingerprint does not make a new entry:
a copy with 1 paper in 20 changed, every score nudged by less than 0.05, or a third of its papers failed on
purpose, is still the copy. Two honest models almost never give the same six values on 95% of the papers
both read: among the seeded submissions the closest pairs agree on 20 of 73 papers (the constant and TF-IDF
baselines on aiscientist-iclr2022) and on 28 of 150 (two recorded GPT-4o configurations).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclebench.leaderboard.outcome import Verification
from cyclebench.leaderboard.reparse import SCORE_FIELDS, Reparsed, reparse_submission
from cyclebench.leaderboard.safe_read import FILE_LIMITS, ReadError, decode_utf8, loads_json, parse_jsonl, read_bounded

CONTENT_DIFFERENT = 0.05
CONTENT_TOLERANCE = 0.05
CONTENT_MIN_OVERLAP = 5

Values = tuple[Any, ...]  # decision, then the SCORE_FIELDS


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def model_block(results: dict[str, Any]) -> dict[str, Any]:
    """What was evaluated: the reviewer of a review run, the generator of a generator run."""
    return results["generator"] if results.get("kind") == "generator" else results["model"]


@dataclass(frozen=True)
class Identity:
    """What makes two submissions the same entry."""

    folder: str
    predictions_sha256: str | None
    key: str | None  # model fingerprint + task + split + dataset build + protocol (or judge)
    scope: str | None = None  # kind + task + split + dataset build: where contents are compared
    content: dict[str, Values] = field(default_factory=dict)  # per paper (or sample): the re-parsed values


def _declared_key(results: dict[str, Any]) -> str | None:
    try:
        task, model = results["task"], model_block(results)
        if results.get("kind") == "review":
            how = [results["protocol"]["name"], results["protocol"].get("options"), results["protocol"]["arguments"]]
        else:
            judge = results["judge"]
            how = [judge["protocol"], judge.get("protocol_arguments"), judge["backend"], judge["model_args"],
                   model.get("n"), results.get("threshold")]
        return canonical([results["kind"], model["fingerprint"], task["name"], task["split"],
                          task["dataset_fingerprint"], how])
    except (KeyError, TypeError, AttributeError):
        return None


def _scope(results: dict[str, Any]) -> str | None:
    try:
        task = results["task"]
        return canonical([results["kind"], task["name"], task["split"], task["dataset_fingerprint"]])
    except (KeyError, TypeError):
        return None


def content_of(reparsed: Reparsed | None) -> dict[str, Values]:
    """Per paper (a generator: per ``paper#sample``) the re-parsed decision and scores."""
    if reparsed is None:
        return {}
    return {(k if isinstance(k, str) else f"{k[0]}#s{k[1]}"): (r.decision, *(getattr(r, f) for f in SCORE_FIELDS))
            for k, r in reparsed.reviews.items()}


def identity_of(results: dict[str, Any] | None, predictions_sha256: str | None, folder: str,
                reparsed: Reparsed | None = None) -> Identity:
    if not isinstance(results, dict):
        return Identity(folder, predictions_sha256, None)
    return Identity(folder, predictions_sha256, _declared_key(results), _scope(results), content_of(reparsed))


def read_identity(folder: Path) -> Identity:
    """The identity of a submission already in the leaderboard (unreadable parts count as unknown)."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return Identity(folder.name, None, None)
    results = sha = reparsed = None
    try:
        results = loads_json(decode_utf8(read_bounded(folder / "results.json", FILE_LIMITS["results.json"]),
                                         "results.json"), "results.json")
    except (ReadError, OSError):
        pass
    try:
        raw = read_bounded(folder / "predictions.jsonl", FILE_LIMITS["predictions.jsonl"])
        sha = "sha256:" + hashlib.sha256(raw).hexdigest()
        if isinstance(results, dict):
            rows, _ = parse_jsonl(decode_utf8(raw, "predictions.jsonl"), "predictions.jsonl")
            reparsed = reparse_submission(results, rows)
    except Exception:  # noqa: BLE001 - an earlier submission this broken is compared by what could be read
        pass
    try:
        return identity_of(results, sha, folder.name, reparsed)
    except Exception:  # noqa: BLE001 - never let an earlier submission stop the validation of later ones
        return Identity(folder.name, sha, None)


def _same(a: Values, b: Values) -> bool:
    if a[0] != b[0]:
        return False
    for x, y in zip(a[1:], b[1:]):
        if (x is None) != (y is None) or (x is not None and abs(x - y) > CONTENT_TOLERANCE):
            return False
    return True


def _valued(content: dict[str, Values]) -> set[str]:
    return {k for k, values in content.items() if any(v is not None for v in values)}


def content_overlap(mine: dict[str, Values], other: dict[str, Values]) -> tuple[int, int, int]:
    """(papers with the same values, papers both give a value for, papers either gives a value for)."""
    a, b = _valued(mine), _valued(other)
    both = a & b
    return sum(1 for k in both if _same(mine[k], other[k])), len(both), len(a | b)


def same_content(same: int, compared: int, either: int) -> bool:
    """Rule 3: enough papers compared (``CONTENT_MIN_OVERLAP``, or all that either side has when fewer), at
    least one the same, and at most 5% of the compared (never fewer than one) different."""
    enough = compared >= min(CONTENT_MIN_OVERLAP, either)
    return enough and same >= 1 and compared - same <= max(1, int(CONTENT_DIFFERENT * compared))


def check_duplicates(mine: Identity, earlier: list[Identity], out: Verification) -> None:
    for other in earlier:
        if mine.predictions_sha256 and other.predictions_sha256 == mine.predictions_sha256:
            out.add("duplicate", f"duplicate of {other.folder}: the same predictions.jsonl ({mine.predictions_sha256})")
            continue
        if mine.key and other.key == mine.key:
            out.add("duplicate", f"duplicate of {other.folder}: the same model fingerprint, task, split, dataset "
                                 "build and protocol")
            continue
        if mine.scope and other.scope == mine.scope:
            same, compared, either = content_overlap(mine.content, other.content)
            if same_content(same, compared, either):
                out.add("duplicate", f"duplicate of {other.folder}: {same} of the {compared} papers both give a "
                                     f"value for have the same re-parsed rating, decision and aspects (within "
                                     f"{CONTENT_TOLERANCE:g}) on the same dataset build, task and split; a copy may "
                                     f"differ on at most {CONTENT_DIFFERENT:.0%} of them (at least one), and papers "
                                     "only one side gives a value for are not compared")
