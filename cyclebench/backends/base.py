"""One interface for every way of getting text out of a model.

A backend turns a batch of chat requests into one response per request, in the same order. Failures of
single requests (timeouts, HTTP errors, context overflow) come back as responses with ``error`` set, never
as exceptions, so a run can count them; only a backend that cannot work at all (missing dependency, bad
arguments) raises, and it does so when it is built.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class GenerationRequest:
    """One chat to complete. ``request_id`` names the paper (or sample) it belongs to."""

    request_id: str
    messages: tuple[dict[str, str], ...]
    # temperature, top_p, max_tokens, stop, seed ... (what the protocol asks for; a backend maps them).
    sampling: dict[str, Any] = field(default_factory=dict)

    def cache_key(self, backend_fingerprint: str) -> str:
        """Hash of everything that decides the answer: backend + model args, messages, sampling."""
        payload = json.dumps(
            {"backend": backend_fingerprint, "messages": list(self.messages), "sampling": self.sampling},
            sort_keys=True,
            ensure_ascii=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class GenerationResponse:
    request_id: str
    text: str | None
    error: str | None = None
    finish_reason: str | None = None  # "stop", "length", ...
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Backend(ABC):
    """A model behind ``generate``. Subclasses document which ``model_args`` they take."""

    name: str = "backend"
    # True for backends that learn from the task's training split in ``prepare`` (the CPU baselines);
    # a run then loads that split and scores the baseline on a split it did not train on.
    needs_training: bool = False

    def __init__(self, **model_args: Any):
        self.model_args = model_args

    @property
    def fingerprint(self) -> str:
        """Identifies the model and every argument that changes outputs (used in cache keys)."""
        return json.dumps({"backend": self.name, **self.model_args}, sort_keys=True, default=str)

    def prepare(self, train_examples: Sequence[Any] | None, protocol: Any) -> None:  # noqa: B027
        """Called once before ``generate`` with the task's training examples and the review protocol.

        Model backends ignore it; the CPU baselines train on the examples here and write their
        predictions in the protocol's output format.
        """

    @abstractmethod
    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        """One response per request, same order; per-request failures as ``error`` responses."""

    def close(self) -> None:  # noqa: B027
        """Release models / connections."""


# name -> "module:Class", imported only when that backend is asked for.
BACKENDS: dict[str, str] = {
    "hf": "cyclebench.backends.hf:HFBackend",
    "vllm": "cyclebench.backends.vllm:VLLMBackend",
    "openai": "cyclebench.backends.openai:OpenAIBackend",
    "baseline-constant": "cyclebench.backends.baselines:ConstantMeanBaseline",
    "baseline-tfidf": "cyclebench.backends.baselines:TfidfRidgeBaseline",
    "baseline-minilm": "cyclebench.backends.baselines:MiniLMRidgeBaseline",
    "fake": "cyclebench.backends.fake:FakeBackend",
}


def parse_model_args(text: str | None) -> dict[str, Any]:
    """lm-eval style ``k=v,k2=v2``: ints, floats, true/false/none converted; values may not hold commas."""
    if not text:
        return {}
    args: dict[str, Any] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"bad --model-args item {item!r}: expected key=value")
        if key.strip() in args:
            raise ValueError(f"{key.strip()!r} is given twice in {text[:200]!r}; give each key once")
        args[key.strip()] = _coerce(value.strip())
    return args


def _coerce(value: str) -> Any:
    """true/false/none, an int, a finite float, else the text itself. ``nan``, ``inf`` and numbers too big
    for a float stay text, so that a backend's number check refuses them by name instead of sending them."""
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    if re.fullmatch(r"[+-]?[0-9]{1,4000}", value):  # Python refuses to convert longer digit strings
        return int(value)
    if "_" in value:  # float() would read "1_000"
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def build_backend(name: str, model_args: str | dict[str, Any] | None = None) -> Backend:
    """The backend registered as ``name``, built from ``model_args`` (a dict or a k=v,... string)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    args = parse_model_args(model_args) if isinstance(model_args, str) or model_args is None else dict(model_args)
    module_name, _, class_name = BACKENDS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**args)
