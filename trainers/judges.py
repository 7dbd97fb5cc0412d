"""A judge: a review protocol plus a backend that scores generated papers (the reward, or the guard).

A judge reviews each paper with its protocol and reads the mean simulated rating as the score. An output it
cannot read, or a request that failed, gives no score and a reason (``judge_unparseable:<problem>``,
``judge_error:<error>``), never a 0. Responses go through the request-hash cache, so a resumed round
re-judges nothing it had judged. Baseline backends (``needs_training``) are first trained on the train split
of ``train_task`` / ``train_data``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class JudgeSpec:
    """How to build a judge; ``name`` is its role in the loop ("reward" or "guard")."""

    name: str
    protocol: str
    backend: str
    protocol_options: dict[str, Any] = field(default_factory=dict)
    model_args: dict[str, Any] = field(default_factory=dict)
    train_task: str | None = None
    train_data: str | None = None
    max_tokens: int | None = None

    def identity(self) -> dict[str, Any]:
        """What makes two judges the same judge (the role name aside)."""
        return {"protocol": self.protocol, "protocol_options": self.protocol_options, "backend": self.backend,
                "model_args": self.model_args, "train_task": self.train_task, "train_data": self.train_data}


@dataclass(frozen=True)
class Verdict:
    request_id: str
    score: float | None
    reason: str | None  # why there is no score
    decision: str | None = None
    status: str | None = None


def _key(problem: str) -> str:
    return problem.split(":", 1)[0].strip()


def verdict_from_response(request_id: str, text: str | None, error: str | None, protocol: Any) -> Verdict:
    """A score from one judge response, or the reason there is none (pure)."""
    if error is not None or text is None:
        return Verdict(request_id, None, f"judge_error:{_key(error or 'empty_response')}")
    parsed = protocol.parse(text)
    if parsed.rating is None:
        problems = [_key(p) for p in parsed.problems if "rating" in p] or [_key(p) for p in parsed.problems]
        return Verdict(request_id, None, f"judge_unparseable:{problems[0] if problems else 'no_rating'}",
                       parsed.decision, parsed.status)
    return Verdict(request_id, float(parsed.rating), None, parsed.decision, parsed.status)


class Judge:
    """Scores paper texts; build with a :class:`JudgeSpec` (or pass a ready backend), ``close`` when done."""

    def __init__(self, spec: JudgeSpec, *, cache_dir: str | Path, backend: Any = None, seed: int = 0):
        from cyclebench.backends import build_backend
        from cyclebench.backends.cache import CachedBackend
        from cyclebench.protocols import get_protocol

        self.spec = spec
        self.protocol = get_protocol(spec.protocol, **spec.protocol_options)
        self.sampling = {**self.protocol.sampling, "seed": seed}
        if spec.max_tokens is not None:
            self.sampling["max_tokens"] = int(spec.max_tokens)
        self._owned = backend is None
        model = backend if backend is not None else build_backend(spec.backend, dict(spec.model_args))
        if self._owned and getattr(model, "needs_training", False):
            if not (spec.train_task and spec.train_data):
                raise ValueError(f"{spec.name} judge: backend {spec.backend} learns from data; give "
                                 f"{spec.name}_train_task and {spec.name}_train_data")
            from cyclebench.tasks import get_task

            task = get_task(spec.train_task)
            model.prepare(task.load(spec.train_data, task.train_split).examples, self.protocol)
        self.backend = model
        self.cached = CachedBackend(model, Path(cache_dir))

    @property
    def fingerprint(self) -> str:
        return self.backend.fingerprint

    def score(self, papers: Sequence[tuple[str, str]], batch_size: int = 16) -> list[Verdict]:
        """``[(request_id, paper_text), ...]`` -> one verdict each, same order."""
        from cyclebench.backends import GenerationRequest

        requests = [GenerationRequest(rid, tuple(self.protocol.build_messages(text)), dict(self.sampling))
                    for rid, text in papers]
        out: list[Verdict] = []
        for start in range(0, len(requests), batch_size):
            batch = requests[start:start + batch_size]
            for request, response in zip(batch, self.cached.generate(batch)):
                out.append(verdict_from_response(request.request_id, response.text, response.error, self.protocol))
        return out

    def describe(self) -> dict[str, Any]:
        return {"role": self.spec.name, **self.spec.identity(), "sampling": self.sampling,
                "fingerprint": self.fingerprint}

    def close(self) -> None:
        if self._owned:
            self.backend.close()


def summarize(verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """Mean score over the scored papers, with the count of papers without a score by reason."""
    scores = [v.score for v in verdicts if v.score is not None]
    failures: dict[str, int] = {}
    for v in verdicts:
        if v.score is None:
            failures[v.reason or "unknown"] = failures.get(v.reason or "unknown", 0) + 1
    return {"n": len(verdicts), "n_scored": len(scores), "mean_score": sum(scores) / len(scores) if scores else None,
            "min_score": min(scores) if scores else None, "max_score": max(scores) if scores else None,
            "failures": dict(sorted(failures.items()))}


def spec_from_config(role: str, config: Any) -> JudgeSpec:
    """The reward or guard judge of an IterativeSimPOConfig (fields ``<role>_protocol``, ``<role>_backend`` ...)."""
    from cyclebench.backends import parse_model_args

    def get(name: str) -> Any:
        return getattr(config, f"{role}_{name}")

    return JudgeSpec(
        name=role, protocol=get("protocol"), backend=get("backend"),
        protocol_options=parse_model_args(get("protocol_args")), model_args=parse_model_args(get("model_args")),
        train_task=get("train_task"), train_data=get("train_data"), max_tokens=config.judge_max_tokens,
    )


def check_distinct(reward: JudgeSpec | Mapping[str, Any], guard: JudgeSpec | Mapping[str, Any]) -> None:
    """The guard is there to catch reward hacking: it must not be the reward judge itself."""
    a = reward.identity() if isinstance(reward, JudgeSpec) else dict(reward)
    b = guard.identity() if isinstance(guard, JudgeSpec) else dict(guard)
    if a == b:
        raise ValueError("the guard judge is the reward judge: give the guard another model (or protocol), "
                         "or the per-round check against reward hacking means nothing")
