"""Is a run what it says it is: a run of a registered backend, or imported recorded outputs?

Why: ``provenance.imported``, the backend and the fingerprint are fields the submitter writes, and they
decide the label (imported rows are "not re-run"; a model row is "verified"). Relabelling recorded outputs
as a model run, or submitting the test-only ``fake`` backend's canned answers as a model, must not pass.

What is checked (without the model, which the validator never runs):

- the backend: a model run (reviewer, generator, judge) names one of cyclebench's registered backends
  (``cyclebench.backends.BACKENDS``) other than ``fake`` (canned answers for tests: no model at all); a run of
  imported outputs names the backend ``imported``;
- the fingerprint is the kind the backend writes: every registered backend's is a JSON object naming the
  backend itself; an imported run's is ``imported:<sha256 of the source file>``, the hash its provenance
  states;
- every prediction row's ``request_hash`` is the kind its run writes: imported outputs carry the sha256 of
  the recorded text (and no ``finish_reason``); a model run carries the cache key of the request the named
  protocol builds for that paper from the dataset build (messages, sampling, seed, model fingerprint:
  ``GenerationRequest.cache_key``). The request is rebuilt only when the prompt is the protocol's alone:
  not with few-shot examples (files on the submitter's machine) nor with reflection rounds (their requests
  hold the model's earlier answers, which a run does not keep). A run with ``max_paper_tokens`` showed some
  papers cut in the model's own tokenizer, which the validator does not hold: a row that says ``truncated``
  must not carry the whole paper's request (that row was not cut), every other row must; and the rows'
  flags must add up to ``counts.truncation`` (:func:`truncation_problems`).

What cannot be checked: that the named model wrote the outputs. Anyone can compute these hashes; they catch
a relabelled import or a hand-made run, not a determined forger. The "verified" label says the raw outputs
were parsed again and every figure recomputed from them against the build, not that the model was run here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from cyclebench.leaderboard.outcome import Problem

TEST_ONLY_BACKENDS = ("fake",)
IMPORTED_BACKEND = "imported"


def _registered() -> tuple[str, ...]:
    from cyclebench.backends import BACKENDS

    return tuple(sorted(name for name in BACKENDS if name not in TEST_ONLY_BACKENDS))


def _fingerprint_backend(fingerprint: Any) -> Any:
    try:
        value = json.loads(fingerprint)
    except (TypeError, ValueError):
        return None
    return value.get("backend") if isinstance(value, dict) else None


def backend_problem(block: dict[str, Any], where: str) -> str | None:
    """Why ``block`` (a model, generator or judge block with backend and fingerprint) is not a run of a
    registered backend, or None."""
    backend, fingerprint = block.get("backend"), block.get("fingerprint")
    if backend in TEST_ONLY_BACKENDS:
        return (f"{where}.backend is {backend!r}, the test-only backend of canned answers (no model); a leaderboard "
                f"run names one of {', '.join(_registered())}")
    if backend not in _registered():
        return f"{where}.backend {backend!r} is not one of cyclebench's backends ({', '.join(_registered())})"
    if fingerprint is not None and _fingerprint_backend(fingerprint) != backend:
        return (f"{where}.fingerprint {str(fingerprint)[:80]!r} is not what backend {backend!r} writes (a JSON "
                f"object naming the backend)")
    return None


def _imported_problem(results: dict[str, Any]) -> str | None:
    model, provenance = results["model"], results.get("provenance") or {}
    if model.get("backend") != IMPORTED_BACKEND:
        return f"imported outputs name model.backend {model.get('backend')!r}; an imported run's is {IMPORTED_BACKEND!r}"
    expected = f"imported:{provenance.get('source_sha256')}"
    if model.get("fingerprint") != expected:
        return (f"model.fingerprint {str(model.get('fingerprint'))[:80]!r} is not the source file's hash the "
                f"provenance states ({expected!r})")
    return None


def run_problems(results: dict[str, Any]) -> list[str]:
    """Why the run's backends and fingerprints contradict its kind (empty when they agree)."""
    if results.get("kind") == "generator":
        blocks = [(results.get("generator") or {}, "generator"), (results.get("judge") or {}, "judge")]
        if isinstance(results.get("second_judge"), dict):
            blocks.append((results["second_judge"], "second_judge"))
        return [why for block, where in blocks if (why := backend_problem(block, where))]
    if (results.get("provenance") or {}).get("imported"):
        why = _imported_problem(results)
    else:
        why = backend_problem(results["model"], "model")
    return [why] if why else []


def _protocol_rebuilds_prompts(results: dict[str, Any], protocol: Any) -> bool:
    arguments = results["protocol"].get("arguments") or {}
    return arguments.get("few_shot") in (None, "") and int(getattr(protocol, "reflections", 1) or 1) <= 1


def expected_request_hashes(results: dict[str, Any], examples: Sequence[Any]) -> dict[str, str] | None:
    """Per paper the ``request_hash`` a model run of ``results`` writes for it; None when the prompt cannot
    be rebuilt from the protocol and the build alone."""
    from cyclebench.backends import GenerationRequest
    from cyclebench.leaderboard.reparse import build_protocol

    try:
        protocol, _ = build_protocol(results["protocol"]["name"], results["protocol"]["arguments"])
    except ValueError:
        return None  # reported by the re-parse
    if not _protocol_rebuilds_prompts(results, protocol):
        return None
    sampling = {**(results["protocol"].get("sampling") or protocol.sampling), "seed": results["seed"]}
    fingerprint = results["model"]["fingerprint"]
    return {e.paper_id: GenerationRequest(e.paper_id, tuple(protocol.build_messages(e.paper_text, title=e.title)),
                                          sampling).cache_key(fingerprint) for e in examples}


def _imported_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256((row.get("output") or "").encode("utf-8")).hexdigest()


def request_hash_problems(results: dict[str, Any], rows_by_id: dict[str, dict[str, Any]],
                          examples: Sequence[Any]) -> list[Problem]:
    """One problem when prediction rows do not carry the request hashes their kind of run writes."""
    imported = bool((results.get("provenance") or {}).get("imported"))
    if imported:
        expected = {pid: _imported_hash(row) for pid, row in rows_by_id.items()}
        what = "imported outputs carry the sha256 of the recorded text"
        wrong = [pid for pid, row in rows_by_id.items()
                 if row.get("request_hash") != expected[pid] or row.get("finish_reason") is not None]
    else:
        expected = expected_request_hashes(results, examples)
        if expected is None:
            return []
        what = ("a model run carries the cache key of the request the protocol builds for the paper from the "
                "dataset build (messages, sampling, seed and model fingerprint)")
        cut = cut_papers(results, rows_by_id)
        if cut:
            what += "; a row flagged truncated must not carry the whole paper's request"
        wrong = [pid for pid, row in rows_by_id.items() if (row.get("request_hash") == expected.get(pid)) == (pid in cut)]
    if not wrong:
        return []
    first = min(wrong)
    return [Problem("provenance", f"paper {first!r}: request_hash {str(rows_by_id[first].get('request_hash'))[:70]!r} "
                                  f"is not what this kind of run writes ({len(wrong)} of {len(rows_by_id)} "
                                  f"prediction(s) so): {what}; is the run {'a model run' if imported else 'imported'}?")]


def cut_papers(results: dict[str, Any], rows_by_id: dict[str, dict[str, Any]]) -> set[str]:
    """The papers a run with ``max_paper_tokens`` says it cut (none without the option)."""
    from cyclebench.truncation import MAX_PAPER_TOKENS

    if ((results.get("task") or {}).get("options") or {}).get(MAX_PAPER_TOKENS) is None:
        return set()
    return {pid for pid, row in rows_by_id.items() if row.get("truncated") is True}


def truncation_problems(results: dict[str, Any], rows_by_id: dict[str, dict[str, Any]]) -> list[Problem]:
    """Truncation records agree with the option: with ``max_paper_tokens`` every row says whether its paper was
    cut and ``counts.truncation`` counts those rows; without it neither exists."""
    from cyclebench.truncation import MAX_PAPER_TOKENS

    budget = ((results.get("task") or {}).get("options") or {}).get(MAX_PAPER_TOKENS)
    summary = (results.get("counts") or {}).get("truncation")
    flagged = [pid for pid, row in rows_by_id.items() if "truncated" in row]
    if budget is None:
        if summary is not None or flagged:
            return [Problem("truncation", f"task.options has no {MAX_PAPER_TOKENS}, yet the run records truncation "
                                          f"(counts.truncation: {summary is not None}, rows with 'truncated': "
                                          f"{len(flagged)})")]
        return []
    n = len(rows_by_id)
    n_cut = sum(row.get("truncated") is True for row in rows_by_id.values())
    if len(flagged) != n or not all(isinstance(row["truncated"], bool) for row in rows_by_id.values()):
        return [Problem("truncation", f"with {MAX_PAPER_TOKENS}={budget!r} every prediction row says whether its "
                                      f"paper was cut (true/false); {n - len(flagged)} of {n} rows do not")]
    expected = {MAX_PAPER_TOKENS: budget, "n_papers": n, "n_truncated": n_cut, "n_whole": n - n_cut}
    if not isinstance(summary, dict):
        return [Problem("truncation", f"with {MAX_PAPER_TOKENS}={budget!r}, results.json has no counts.truncation")]
    differ = {k: summary.get(k) for k, v in expected.items() if summary.get(k) != v}
    if differ:
        return [Problem("truncation", f"counts.truncation {differ} is not what the option and the rows give "
                                      f"({ {k: expected[k] for k in differ} })")]
    return []
