"""Deterministic canned answers for tests: no model, no network.

model_args (``--model-args k=v,...``):

``responses``  path to a JSONL file of ``{"request_id": ..., "text": ...}`` (optionally ``finish_reason``).
``text``       the answer for every request without an entry in ``responses`` (default ``"fake output"``
               when ``responses`` is not given; with ``responses`` and no ``text``, an unknown id is an error).
``fail_ids``   ``;``-separated request ids answered with ``error="fake_failure"``.
``delay``      seconds to sleep per request (default 0; not part of the fingerprint, so not of cache keys).

``calls`` lists every request id the backend was asked for, in order, across calls; ``batches`` holds one list
per ``generate`` call. Tests use them to check caching and resume.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cyclebench.backends.base import (
    Backend,
    GenerationRequest,
    GenerationResponse,
    float_arg,
)


class FakeBackend(Backend):
    name = "fake"

    def __init__(
        self,
        responses: str | None = None,
        text: str | None = None,
        fail_ids: str | None = None,
        delay: float = 0.0,
        **extra: Any,
    ):
        if extra:
            raise ValueError(f"fake backend: unknown model_args {sorted(extra)}")
        args: dict[str, Any] = {}
        if responses is not None:
            args["responses"] = str(responses)
        if text is not None:
            args["text"] = str(text)
        if fail_ids is not None:
            args["fail_ids"] = str(fail_ids)
        delay = float_arg("fake backend", "delay", delay)
        if delay:
            args["delay"] = delay
        super().__init__(**args)
        self.canned: dict[str, dict[str, Any]] = {}
        if responses is not None:
            with Path(str(responses)).open(encoding="utf-8") as fh:
                for line_no, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    row = json.loads(line)
                    if "request_id" not in row or "text" not in row:
                        raise ValueError(f"{responses}:{line_no}: need request_id and text")
                    self.canned[str(row["request_id"])] = row
        self.text = str(text) if text is not None else (None if responses is not None else "fake output")
        self.fail_ids = {s.strip() for s in str(fail_ids).split(";") if s.strip()} if fail_ids is not None else set()
        self.delay = float(delay or 0.0)
        self.calls: list[str] = []
        self.batches: list[list[str]] = []

    @property
    def fingerprint(self) -> str:
        # delay changes timing, not answers
        args = {k: v for k, v in self.model_args.items() if k != "delay"}
        return json.dumps({"backend": self.name, **args}, sort_keys=True, default=str)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        self.batches.append([r.request_id for r in requests])
        out = []
        for req in requests:
            self.calls.append(req.request_id)
            if self.delay:
                time.sleep(self.delay)
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in req.messages)
            if req.request_id in self.fail_ids:
                out.append(GenerationResponse(req.request_id, None, error="fake_failure", prompt_tokens=prompt_tokens))
                continue
            row = self.canned.get(req.request_id)
            if row is not None:
                text, finish = str(row["text"]), row.get("finish_reason", "stop")
            elif self.text is not None:
                text, finish = self.text, "stop"
            else:
                error = f"fake: no canned response for {req.request_id!r}"
                out.append(GenerationResponse(req.request_id, None, error=error))
                continue
            out.append(
                GenerationResponse(
                    req.request_id,
                    text,
                    finish_reason=finish,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=len(text.split()),
                )
            )
        return out
