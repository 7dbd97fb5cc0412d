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
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from cyclebench.checks import parse_int


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


# Keys whose values are names, paths or secrets: kept as the exact text given (``model=007`` stays "007",
# ``model=true`` stays "true"), never read as numbers or booleans.
TEXT_ARGS = frozenset({
    "api_key", "base_url", "chat_template", "device", "dtype", "fail_ids", "gguf_file", "model", "pretrained",
    "quantization", "responses", "revision", "served_model_name", "text", "tokenizer",
})


# model_args that are credentials: never written to results, reports, markers or submissions.
SECRET_ARGS = frozenset({"api_key", "token", "hf_token", "password", "authorization", "secret"})
REDACTED = "<redacted>"


def recorded_model_args(model_args: dict[str, Any]) -> dict[str, Any]:
    """``model_args`` as a run records them: credentials replaced by a placeholder (a results.json travels to
    the leaderboard), everything else as given so the run can be repeated."""
    return {k: (REDACTED if k.lower() in SECRET_ARGS and v is not None else v) for k, v in model_args.items()}


def parse_model_args(text: str | None, *, text_keys: frozenset[str] = TEXT_ARGS) -> dict[str, Any]:
    """lm-eval style ``k=v,k2=v2``: ints, floats, true/false/none converted, except for ``text_keys`` (names,
    paths, keys), whose values stay the text given; values may not hold commas."""
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
        args[key.strip()] = value.strip() if key.strip() in text_keys else _coerce(value.strip())
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


# ---------------------------------------------------------------------------------------------
# model_args checks: every backend reads its arguments through these, so a bad value is one line naming it


_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


def bool_arg(backend: str, name: str, value: Any) -> bool:
    """true/false (also 1/0, yes/no, as text or value); anything else is refused. ``bool("no")`` is True,
    so a flag that turns on remote code must never be read with ``bool``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{backend}: {name} must be true or false, not {_shown(value)}")


def int_arg(backend: str, name: str, value: Any, *, low: int = 1) -> int:
    """A whole number >= ``low`` (``8``, ``8.0`` or the text ``"8"``); NaN, fractions, booleans are refused."""
    number: Any = value
    if isinstance(value, str):
        try:
            number = parse_int(value)  # the settings' integer rule: decimal digits, at most 18
        except ValueError:
            number = None
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or number < low:
        raise ValueError(f"{backend}: {name} must be a whole number >= {low}, not {_shown(value)}")
    return number


def float_arg(backend: str, name: str, value: Any, *, low: float = 0.0, high: float | None = None,
              low_open: bool = False) -> float:
    """A finite number in [low, high] (``(low, high]`` with ``low_open``); else one line naming it."""
    number: float | None = None
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            number = float(value)  # a huge int overflows, "abc" is no number: both refused below
        except (ValueError, OverflowError):
            number = None
    bad = (number is None or not math.isfinite(number) or number < low or (low_open and number == low)
           or (high is not None and number > high))
    if bad:
        span = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high is not None else "")
        raise ValueError(f"{backend}: {name} must be a finite number {span}, not {_shown(value)}")
    return float(number)  # type: ignore[arg-type]


def text_arg(backend: str, name: str, value: Any) -> str:
    """A name, path or key: text (or a path object) used exactly as given; a number or a boolean here means
    the value was read as something else, so it is refused instead of being turned into "True" or "7"."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{backend}: {name} must be non-empty text, not {_shown(value)}")
    return value


def check_device(backend: str, value: Any) -> str:
    """``cpu``; ``cuda`` / ``cuda:N`` only when torch sees that GPU; ``mps`` only when available. Checked
    before any model is loaded, so a typo or a CPU-only torch is one line, not a traceback from torch."""
    device = text_arg(backend, "device", value).strip()
    match = re.fullmatch(r"(cpu|cuda|mps)(?::([0-9]{1,4}))?", device)
    if match is None or (match.group(1) != "cuda" and match.group(2) is not None):
        raise ValueError(f"{backend}: device must be cpu, cuda, cuda:N or mps, not {_shown(value)}")
    kind = match.group(1)
    if kind == "cpu":
        return device
    import torch

    if kind == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"{backend}: device=mps but this torch has no MPS device; use device=cpu")
        return device
    if not torch.cuda.is_available():
        raise ValueError(f"{backend}: device={device} but torch sees no CUDA GPU (a CPU-only torch, or no "
                         "driver); use device=cpu")
    index = int(match.group(2) or 0)
    if index >= torch.cuda.device_count():
        raise ValueError(f"{backend}: device={device} but torch sees {torch.cuda.device_count()} CUDA GPU(s)")
    return device


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."


# ---------------------------------------------------------------------------------------------
# What a usable answer is


def usable(response: GenerationResponse) -> GenerationResponse:
    """The response as it may be kept: a successful one must hold non-empty text that is valid Unicode
    (a lone surrogate cannot be written as UTF-8), else it becomes a per-request error (``empty_response``,
    ``bad_response``); a finish reason that is not writable text and token counts that are not
    non-negative integers are dropped. Errors pass through unchanged."""
    if response.error is not None:
        return response
    text = response.text
    problem = None
    if not isinstance(text, str):
        problem = f"bad_response: the text is {type(text).__name__}, not a string"
    elif not text.strip():
        problem = "empty_response: the model returned no text"
    elif not encodable(text):
        problem = "bad_response: the text is not valid Unicode (it holds a lone surrogate)"
    if problem is not None:
        return replace(response, text=None, error=problem)
    finish = response.finish_reason
    return replace(
        response,
        finish_reason=finish if isinstance(finish, str) and encodable(finish) else None,
        prompt_tokens=token_count(response.prompt_tokens),
        completion_tokens=token_count(response.completion_tokens),
    )


def encodable(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def token_count(value: Any) -> int | None:
    """A token count, or None for anything that is not a non-negative integer."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def build_backend(name: str, model_args: str | dict[str, Any] | None = None) -> Backend:
    """The backend registered as ``name``, built from ``model_args`` (a dict or a k=v,... string)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    args = parse_model_args(model_args) if isinstance(model_args, str) or model_args is None else dict(model_args)
    module_name, _, class_name = BACKENDS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**args)
