"""Cited works' abstracts by DOI, arXiv id or title: Semantic Scholar's Graph API first, OpenAlex second.

Input: ``CitedWork`` records (the CLI reads the ``.bib``/``.bbl`` files with the Research-14K parser, which
sources may not import). Output: JSONL rows in the shape Research-14K's ``--abstracts`` reads
(``builders/bibtex.py``): ``{"doi"|"arxiv"|"title": ..., "abstract": ..., "source": ...}``, identifiers as the
bibliography gives them, so the builder matches them exactly as it matches its entries.

Semantic Scholar: ``/paper/DOI:{doi}``, ``/paper/ARXIV:{id}`` or ``/paper/search/match?query=`` with
``fields=title,abstract``; the optional key from ``SEMANTIC_SCHOLAR_API_KEY`` goes in ``x-api-key``
(1 request a second with a key; unauthenticated callers share a pool, so 3 s without). OpenAlex
(``/works/doi:{doi}``, arXiv through its DOI ``10.48550/arxiv.{id}``, ``/works?filter=title.search:``;
10 requests a second) answers an ``abstract_inverted_index``, turned back into text. A title search
is accepted only on an equal normalised title.

Resume: rows already in ``--out`` (or in its ``.part`` from an interrupted run; a cut last line is
dropped) are skipped; the output is rewritten whole at the end.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyclebench.sources.fetch_arxiv import arxiv_id, norm_title
from cyclebench.sources.http_fetch import (
    FetchError,
    FetchManifest,
    HttpPolicy,
    Throttle,
    http_get,
    run_items,
    write_atomic,
)

S2_URL = "https://api.semanticscholar.org/graph/v1"
OPENALEX_URL = "https://api.openalex.org"
S2_POLICY_KEYED = HttpPolicy(min_interval=1.0, timeout=30.0, retries=5, backoff=2.0)
S2_POLICY_ANON = HttpPolicy(min_interval=3.0, timeout=30.0, retries=5, backoff=5.0)
OPENALEX_POLICY = HttpPolicy(min_interval=0.1, timeout=30.0, retries=5, backoff=1.0)


@dataclass(frozen=True, slots=True)
class CitedWork:
    """One cited work as its bibliography names it; ``where`` says which file and key (for the manifest)."""

    doi: str | None = None
    arxiv: str | None = None
    title: str | None = None
    where: str = ""
    has_abstract: bool = False  # the entry carries its own abstract: the builder uses that, nothing to fetch

    @property
    def work_id(self) -> str | None:
        """One identity per work: the DOI, else the arXiv id, else the normalised title."""
        if self.doi:
            return f"doi:{self.doi.lower()}"
        if self.arxiv:
            return f"arxiv:{self.arxiv}"
        title = norm_title(self.title)
        return f"title:{title}" if title else None


@dataclass(frozen=True, slots=True)
class AbstractServices:
    s2_url: str = S2_URL
    openalex_url: str = OPENALEX_URL
    s2_policy: HttpPolicy | None = None  # None: by whether a key is set
    openalex_policy: HttpPolicy = OPENALEX_POLICY
    s2_key: str | None = None  # None: SEMANTIC_SCHOLAR_API_KEY


def inverted_to_text(index: Mapping[str, Any] | None) -> str:
    """OpenAlex's ``abstract_inverted_index`` (word -> positions) back to the text."""
    if not isinstance(index, Mapping):
        return ""
    placed: dict[int, str] = {}
    for word, positions in index.items():
        for position in positions if isinstance(positions, list) else []:
            if isinstance(position, int):
                placed[position] = word
    return " ".join(placed[i] for i in sorted(placed))


def row_for(work: CitedWork, abstract: str, source: str) -> dict[str, Any]:
    row: dict[str, Any] = {k: v for k, v in (("doi", work.doi), ("arxiv", work.arxiv), ("title", work.title)) if v}
    return {**row, "abstract": " ".join(abstract.split()), "source": source}


def _json(data: bytes, service: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise FetchError(f"{service}_bad_json", str(exc)) from None


class _Lookup:
    def __init__(self, services: AbstractServices, sleep: Callable[[float], None]) -> None:
        key = services.s2_key if services.s2_key is not None else os.environ.get("SEMANTIC_SCHOLAR_API_KEY")
        self.s2_headers = {"x-api-key": key} if key else {}
        self.s2_policy = services.s2_policy or (S2_POLICY_KEYED if key else S2_POLICY_ANON)
        self.services, self.sleep = services, sleep
        self.s2_throttle = Throttle(self.s2_policy.min_interval)
        self.oa_throttle = Throttle(services.openalex_policy.min_interval)

    def s2(self, work: CitedWork) -> str | None:
        fields = "fields=title,abstract"
        base = self.services.s2_url
        if work.doi:
            url = f"{base}/paper/DOI:{urllib.parse.quote(work.doi, safe='/')}?{fields}"
        elif work.arxiv:
            url = f"{base}/paper/ARXIV:{urllib.parse.quote(work.arxiv, safe='/')}?{fields}"
        else:
            url = f"{base}/paper/search/match?" + urllib.parse.urlencode({"query": work.title}) + f"&{fields}"
        try:
            body = _json(http_get(url, self.s2_policy, self.s2_throttle, headers=self.s2_headers, sleep=self.sleep), "s2")
        except FetchError as exc:
            if exc.reason == "http_404":
                return None
            raise
        paper = body
        if isinstance(body, dict) and "data" in body:  # search/match: {"data": [paper, ...]}
            found = body["data"]
            paper = found[0] if isinstance(found, list) and found else None
        if not isinstance(paper, dict):
            return None
        if not (work.doi or work.arxiv) and norm_title(paper.get("title")) != norm_title(work.title):
            return None
        abstract = paper.get("abstract")
        return abstract if isinstance(abstract, str) and abstract.strip() else None

    def openalex(self, work: CitedWork) -> str | None:
        base = self.services.openalex_url
        policy = self.services.openalex_policy
        if work.doi or work.arxiv:
            doi = work.doi or f"10.48550/arxiv.{work.arxiv}"
            url = f"{base}/works/doi:{urllib.parse.quote(doi, safe='/')}"
        else:
            url = f"{base}/works?" + urllib.parse.urlencode({"filter": f"title.search:{norm_title(work.title)}",
                                                             "per-page": 5})
        try:
            body = _json(http_get(url, policy, self.oa_throttle, sleep=self.sleep), "openalex")
        except FetchError as exc:
            if exc.reason == "http_404":
                return None
            raise
        if not isinstance(body, dict):
            return None
        works = body.get("results") if "results" in body else [body]
        for found in works if isinstance(works, list) else []:
            if not isinstance(found, dict):
                continue
            if not (work.doi or work.arxiv) and norm_title(found.get("title") or found.get("display_name")) != norm_title(work.title):
                continue
            text = inverted_to_text(found.get("abstract_inverted_index"))
            if text.strip():
                return text
        return None


def _done_rows(out: Path) -> dict[str, dict[str, Any]]:
    """Rows of an earlier (``out``) or interrupted (``out.part``) run by work id; a cut line is dropped."""
    rows: dict[str, dict[str, Any]] = {}
    for path in (out, out.with_name(out.name + ".part")):
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and isinstance(row.get("abstract"), str):
                work = CitedWork(row.get("doi"), row.get("arxiv"), row.get("title"))
                if work.work_id:
                    rows.setdefault(work.work_id, row)
    return rows


def fetch_abstracts(works: Iterable[CitedWork], out: Path, manifest_path: Path, *,
                    services: AbstractServices = AbstractServices(), progress: bool = True,
                    sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """One manifest item per cited entry: one with its own abstract, and a work named twice after its first,
    are ``skipped`` (``why``/``duplicate_of``); one without DOI, arXiv id or title fails ``no_identifier``; one neither service knows fails
    ``not_found``."""
    out = Path(out)
    if out.is_dir():
        raise IsADirectoryError(f"--out {out} is a folder; give the JSONL file to write")
    done = _done_rows(out)
    lookup = _Lookup(services, sleep)
    manifest = FetchManifest("fetch abstracts", settings={
        "s2_url": services.s2_url, "openalex_url": services.openalex_url,
        "s2_min_interval_s": lookup.s2_policy.min_interval, "s2_key": bool(lookup.s2_headers),
        "openalex_min_interval_s": services.openalex_policy.min_interval})
    partial = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, dict[str, Any]] = {}
    handle = open(partial, "a", encoding="utf-8")  # noqa: SIM115 - closed in run()'s finally below

    def keep(work_id: str, row: dict[str, Any]) -> None:
        written[work_id] = row
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()

    def job(work: CitedWork, work_id: str, first: bool) -> Callable[[], None]:
        def run() -> None:
            if work.has_abstract:
                manifest.skipped(work.where, why="the entry has its own abstract")
                return
            if not first:
                manifest.skipped(work.where, duplicate_of=work_id)
                return
            if work_id in done:
                if work_id not in written:
                    written[work_id] = done[work_id]
                manifest.skipped(work.where, work=work_id, source=done[work_id].get("source"))
                return
            tried = []
            for source, ask in (("semantic_scholar", lookup.s2), ("openalex", lookup.openalex)):
                try:
                    abstract = ask(work)
                except FetchError as exc:
                    tried.append(f"{source}: {exc}")
                    continue
                if abstract:
                    keep(work_id, row_for(work, abstract, source))
                    manifest.fetched(work.where, work=work_id, source=source)
                    return
                tried.append(f"{source}: no abstract")
            reason = "not_found" if all(t.endswith("no abstract") for t in tried) else "service_failed"
            raise FetchError(reason, "; ".join(tried))
        return run

    items: list[tuple[str, Callable[[], None]]] = []
    seen: set[str] = set()
    for number, work in enumerate(works, 1):
        where = work.where or f"entry {number}"
        doi = work.doi.strip().lower() if work.doi and work.doi.strip() else None  # DOIs are case-insensitive
        work = CitedWork(doi, arxiv_id(work.arxiv) or work.arxiv, work.title, where, work.has_abstract)
        work_id = work.work_id
        if work_id is None:
            items.append((where, _fail("no_identifier", "no DOI, arXiv id or title")))
            continue
        items.append((where, job(work, work_id, work_id not in seen)))
        if not work.has_abstract:
            seen.add(work_id)
    try:
        counts = run_items(items, manifest, manifest_path, desc="cited abstracts", progress=progress)
    finally:
        handle.close()
    # Earlier rows first (kept even when this run's bibliography no longer names them), then this run's.
    rows = {**done, **written}
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows.values())
    write_atomic(out, body.encode("utf-8"))
    partial.unlink(missing_ok=True)
    return {**counts, "rows": len(rows)}


def _fail(reason: str, detail: str) -> Callable[[], None]:
    def run() -> None:
        raise FetchError(reason, detail)
    return run
