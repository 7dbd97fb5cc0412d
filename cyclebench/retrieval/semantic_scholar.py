"""Semantic Scholar Graph API paper search as a retriever: ``GET {base}/paper/search?query=&limit=&fields=``.

The API key is read from an environment variable (``SEMANTIC_SCHOLAR_API_KEY`` by default, the one
``cyclebench fetch abstracts`` reads) when the retriever is built, sent as ``x-api-key`` and never written
to a header, fingerprint or log. Requests go through :func:`cyclebench.sources.http_fetch.http_get`
(paced: 1 s with a key, 3 s without; 429 waits for ``Retry-After``; 5xx and timeouts retried). Every failure
is a :class:`RetrievalError` with a reason: ``http_<code>``, ``too_large``, ``gave_up``, ``server_down``
(after a refused connection or a search that gave up, the retriever answers every later search with
``server_down`` at once rather than waiting out its retries again; a rerun searches again, since failed
searches are not remembered), ``s2_bad_json``, ``s2_bad_shape``. Papers without an abstract are not passages (``skipped``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import urllib.parse
from collections import Counter
from collections.abc import Callable
from typing import Any

from cyclebench.retrieval.base import Passage, RetrievalError
from cyclebench.sources.fetch_abstracts import S2_POLICY_ANON, S2_POLICY_KEYED, S2_URL
from cyclebench.sources.http_fetch import FetchError, HttpPolicy, ServerDown, Throttle, http_get

KEY_ENV = "SEMANTIC_SCHOLAR_API_KEY"
FIELDS = "title,abstract,year"
MAX_LIMIT = 100  # the search endpoint's largest page
# A page of 100 papers with abstracts is well under 1 MB: a larger answer is refused (``too_large``) rather
# than read into memory, and one answer may take at most DEADLINE_S seconds (fetch's policies allow 512 MB
# and 15 minutes, for PDFs).
MAX_BODY_BYTES = 16 * 1024 * 1024
DEADLINE_S = 120.0
# The key variable must name a Semantic Scholar key: protocol args can come from a shared recipe, and
# ``s2_url=http://elsewhere,s2_key_env=OPENAI_API_KEY`` would send another service's credential away.
_KEY_ENV_NAME = re.compile(r"^[A-Z0-9_]*(?:S2|SEMANTIC_?SCHOLAR)[A-Z0-9_]*$")


def check_key_env(name: str) -> str:
    """``name`` when it names a Semantic Scholar key variable (``SEMANTIC_SCHOLAR_API_KEY``, ``MY_S2_KEY``)."""
    if not isinstance(name, str) or not _KEY_ENV_NAME.match(name):
        raise ValueError(f"s2_key_env={name!r}: the key variable must name a Semantic Scholar key (upper case, "
                         f"containing S2 or SEMANTIC_SCHOLAR, e.g. {KEY_ENV}); another service's credential is "
                         "never sent")
    return name


class SemanticScholarRetriever:
    name = "semantic_scholar"

    def __init__(self, base_url: str = S2_URL, *, key_env: str = KEY_ENV, policy: HttpPolicy | None = None,
                 sleep: Callable[[float], None] | None = None):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"Semantic Scholar base URL must be http(s)://host/..., not {base_url!r}")
        if parts.username or parts.password or parts.query or parts.fragment:  # recorded in results: no secret
            raise ValueError("s2_url must be a plain http(s)://host/path (it is recorded with the results); the key "
                             f"comes from an environment variable ({KEY_ENV})")
        self.base_url = base_url.rstrip("/")
        self.key_env = check_key_env(key_env)
        key = os.environ.get(key_env, "").strip()
        self._headers = {"x-api-key": key} if key else {}
        self.keyed = bool(key)
        policy = policy or (S2_POLICY_KEYED if key else S2_POLICY_ANON)
        self.policy = dataclasses.replace(policy, max_bytes=min(policy.max_bytes, MAX_BODY_BYTES),
                                          deadline=min(policy.deadline, DEADLINE_S))
        self.throttle = Throttle(self.policy.min_interval)
        self._sleep = sleep
        self.down: str | None = None
        self.skipped: Counter[str] = Counter()

    def __repr__(self) -> str:  # never shows the key
        return f"SemanticScholarRetriever({self.base_url!r}, keyed={self.keyed})"

    @property
    def fingerprint(self) -> str:
        return json.dumps({"retriever": self.name, "base_url": self.base_url, "fields": FIELDS}, sort_keys=True)

    def describe(self) -> dict[str, Any]:
        return {"retriever": self.name, "base_url": self.base_url, "fields": FIELDS, "key_env": self.key_env,
                "keyed": self.keyed, "skipped": dict(sorted(self.skipped.items()))}

    def search(self, query: str, k: int) -> list[Passage]:
        if not isinstance(query, str) or not query.strip():
            raise RetrievalError("empty_query")
        if self.down is not None:
            raise RetrievalError("server_down", self.down)
        params = urllib.parse.urlencode({"query": " ".join(query.split())[:500], "limit": max(1, min(int(k), MAX_LIMIT)),
                                         "fields": FIELDS})
        url = f"{self.base_url}/paper/search?{params}"
        kwargs = {"sleep": self._sleep} if self._sleep is not None else {}
        try:
            body = http_get(url, self.policy, self.throttle, headers=self._headers, **kwargs)
        except ServerDown as exc:
            self.down = str(exc)
            raise RetrievalError("server_down", str(exc)) from None
        except FetchError as exc:
            if exc.reason == "gave_up":  # every retry timed out, failed or was throttled: a server that hangs
                self.down = exc.detail   # would cost minutes per question; later searches answer at once
            raise RetrievalError(exc.reason, exc.detail) from None
        return self._passages(body, k)

    def _passages(self, body: bytes, k: int) -> list[Passage]:
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:  # nested past the limit too
            raise RetrievalError("s2_bad_json", str(exc)[:200]) from None
        papers = data.get("data", []) if isinstance(data, dict) else None
        if not isinstance(papers, list):
            raise RetrievalError("s2_bad_shape", f"expected {{'data': [...]}}, got {type(data).__name__}")
        out: list[Passage] = []
        for rank, paper in enumerate(papers):
            if not isinstance(paper, dict):
                self.skipped["not_an_object"] += 1
                continue
            abstract, title = paper.get("abstract"), paper.get("title")
            if not isinstance(abstract, str) or not abstract.strip():
                self.skipped["no_abstract"] += 1
                continue
            year = paper.get("year")
            year = year if isinstance(year, int) and not isinstance(year, bool) else None
            paper_id = paper.get("paperId")
            out.append(Passage(str(paper_id) if isinstance(paper_id, str) and paper_id else f"rank{rank}",
                               " ".join(title.split()) if isinstance(title, str) else "", " ".join(abstract.split()),
                               1.0 / (rank + 1), self.name, year))
            if len(out) >= k:
                break
        return out
