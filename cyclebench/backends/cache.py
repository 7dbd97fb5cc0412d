"""A response cache in front of any backend, so re-runs and resumed runs only generate what is missing.

Layout: ``<cache_dir>/<sha256(fingerprint)[:16]>/responses.jsonl`` (append-only, one
``{"key": ..., "response": {...}}`` per line) and ``fingerprint.json`` beside it (the backend's fingerprint, for
people; the OpenAI backend's fingerprint never holds its API key). The key is
``request.cache_key(backend.fingerprint)``: backend + model args, messages and sampling, not the request id, so
requests with identical messages and sampling share one entry (give repeated samples different seeds).

Every fresh response first goes through ``base.usable``: an empty completion becomes the error
``empty_response`` and text that is not valid Unicode (a lone surrogate from a server's JSON) the error
``bad_response``, for that request only; the rest of the batch is kept and cached. Only successful responses
are stored; errors are tried again next run. Each batch's lines are flushed and fsynced as soon as that batch
returns, so a killed run keeps its finished work; pass ``chunk_size`` to send the misses in chunks of that many
requests (more frequent saves, smaller batches).

Reading is as strict as writing: a torn last line left by a kill is cut off when the file is opened, and a line
that does not decode or whose fields have the wrong types (hand-edited: a dict as ``finish_reason``, "abc" as
``prompt_tokens``, empty text) is treated as absent, so that request is generated again. Both are counted in
``torn_lines`` and logged once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from cyclebench.backends.base import (
    Backend,
    GenerationRequest,
    GenerationResponse,
    usable,
)

log = logging.getLogger(__name__)

_FIELDS = ("text", "error", "finish_reason", "prompt_tokens", "completion_tokens")


class CachedBackend(Backend):
    def __init__(self, backend: Backend, cache_dir: str | os.PathLike[str], *, chunk_size: int | None = None):
        # model_args mirror the wrapped backend's: the wrapper changes no output.
        self.model_args = backend.model_args
        self.backend = backend
        self.name = backend.name
        if chunk_size is not None and int(chunk_size) < 1:
            raise ValueError("chunk_size must be >= 1")
        self.chunk_size = int(chunk_size) if chunk_size is not None else None
        fingerprint = backend.fingerprint
        self.dir = Path(cache_dir) / hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "responses.jsonl"
        meta = self.dir / "fingerprint.json"
        if not meta.exists():
            meta.write_text(json.dumps({"fingerprint": fingerprint}, indent=1) + "\n", encoding="utf-8")
        self.hits = 0
        self.misses = 0
        self.torn_lines = 0
        self.index: dict[str, dict[str, Any]] = {}
        self._load()

    @property
    def fingerprint(self) -> str:
        return self.backend.fingerprint

    def __len__(self) -> int:
        return len(self.index)

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            # A kill in the middle of a write: drop the partial line so the next append starts clean.
            keep = data.rfind(b"\n") + 1
            with self.path.open("r+b") as fh:
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
            data = data[:keep]
            self.torn_lines += 1
        for line in data.splitlines():
            if not line.strip():
                continue
            stored = _stored_response(line)
            if stored is None:
                self.torn_lines += 1
                continue
            key, fields = stored
            self.index[key] = fields
        if self.torn_lines:
            log.warning("cache %s: %d line(s) torn or invalid; their requests are generated again",
                        self.path, self.torn_lines)

    def _append(self, rows: list[tuple[str, GenerationResponse]]) -> None:
        if not rows:
            return
        lines = []
        for key, resp in rows:
            stored = {f: getattr(resp, f) for f in _FIELDS}
            lines.append(json.dumps({"key": key, "response": stored}, ensure_ascii=False) + "\n")
            self.index[key] = stored
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write("".join(lines))
            fh.flush()
            os.fsync(fh.fileno())

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        fingerprint = self.backend.fingerprint
        keys = [r.cache_key(fingerprint) for r in requests]
        results: list[GenerationResponse | None] = [None] * len(requests)
        todo: list[int] = []
        for i, (req, key) in enumerate(zip(requests, keys)):
            stored = self.index.get(key)
            if stored is not None:
                results[i] = GenerationResponse(request_id=req.request_id, cached=True, **stored)
                self.hits += 1
            else:
                todo.append(i)
        self.misses += len(todo)
        step = self.chunk_size or max(len(todo), 1)
        for start in range(0, len(todo), step):
            part = todo[start : start + step]
            answers = self.backend.generate([requests[i] for i in part])
            if len(answers) != len(part):
                raise RuntimeError(
                    f"backend {self.backend.name!r} returned {len(answers)} responses for {len(part)} requests"
                )
            fresh = []
            for i, resp in zip(part, answers):
                resp = usable(replace(resp, request_id=requests[i].request_id, cached=False))
                results[i] = resp
                if resp.error is None and isinstance(resp.text, str):
                    fresh.append((keys[i], resp))
            self._append(fresh)
        return [r for r in results if r is not None]

    def prepare(self, train_examples: Sequence[Any] | None, protocol: Any) -> None:
        self.backend.prepare(train_examples, protocol)

    def close(self) -> None:
        self.backend.close()


def _stored_response(line: bytes) -> tuple[str, dict[str, Any]] | None:
    """``(key, fields)`` of one cache line, or None when it does not decode or a field has the wrong type."""
    try:
        row = json.loads(line)
        key, resp = row["key"], row["response"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(key, str) or not isinstance(resp, dict):
        return None
    fields = {f: resp.get(f) for f in _FIELDS}  # a hand-edited line may carry other keys
    checked = usable(GenerationResponse(request_id="", **fields))
    if checked.error is not None or checked != GenerationResponse(request_id="", **fields):
        return None  # an error, empty text, a lone surrogate, or a field usable() would have dropped
    return key, fields
