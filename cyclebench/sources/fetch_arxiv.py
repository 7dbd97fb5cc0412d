"""Each paper's arXiv e-print, found by normalised title and first author, saved as ``<paperId>.tar.gz``.

A metadata row (Research-14K's ``--metadata`` JSONL: ``paperId``, ``title``, ``authors``, optional ``arxiv``)
with an arXiv id is downloaded as is; otherwise the arXiv API (``/api/query?search_query=ti:"..."``, an Atom
feed) is asked and a candidate is chosen only when its normalised title equals the paper's and, when the
row names authors, the first author's surname is among the candidate's. The query, the candidates, the
chosen id and why go into the manifest, so a wrong match can be audited. arXiv's terms ask for at most one
request every 3 seconds (``ARXIV_POLICY``); API queries and downloads share that pace. An e-print that is
a PDF (arXiv has no source for the paper) or not gzip/tar is a failed item, not a file.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyclebench.sources.http_fetch import (
    FetchError,
    FetchManifest,
    HttpPolicy,
    Throttle,
    http_get,
    previous_items,
    resume_hit,
    run_items,
    safe_name,
    write_atomic,
)

ARXIV_API_URL = "https://export.arxiv.org/api/query"
ARXIV_EPRINT_URL = "https://arxiv.org/e-print"
ARXIV_POLICY = HttpPolicy(min_interval=3.0, timeout=60.0, retries=4, backoff=5.0)
_ATOM = "{http://www.w3.org/2005/Atom}"
_ID_RE = re.compile(r"abs/([a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(v\d+)?$")
_NEW_ID = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?!\d)")
_OLD_ID = re.compile(r"(?<![A-Za-z])([a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})")


def norm_title(text: str | None) -> str:
    """Lower case, accents and punctuation dropped, whitespace collapsed: the form two titles are compared in."""
    if not isinstance(text, str):
        return ""  # a server's title that is a number, a list or null matches nothing
    t = unicodedata.normalize("NFKD", re.sub(r"[{}\\$]", "", text))
    t = "".join(c for c in t if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", t.lower()).strip()


def surname(author: str) -> str:
    """``"Guo, Chuan"`` or ``"Chuan Guo"`` -> ``"guo"``."""
    author = author.strip()
    name = author.split(",", 1)[0] if "," in author else (author.split() or [""])[-1]
    return norm_title(name)


def arxiv_id(text: str | None) -> str | None:
    """``arXiv:2301.00001v2``, an abs URL or a bare id -> the versionless id; None when there is none."""
    if not text:
        return None
    m = _NEW_ID.search(text) or _OLD_ID.search(text)
    return m.group(1) if m else None


@dataclass(frozen=True, slots=True)
class Candidate:
    arxiv_id: str  # versionless
    title: str
    authors: tuple[str, ...]


def parse_feed(data: bytes) -> list[Candidate]:
    """The entries of an arXiv API Atom feed; an API error entry is a ``FetchError``."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise FetchError("arxiv_bad_feed", str(exc)) from None
    out = []
    for entry in root.findall(f"{_ATOM}entry"):
        raw_id = (entry.findtext(f"{_ATOM}id") or "").strip()
        if "/api/errors" in raw_id:
            raise FetchError("arxiv_api_error", " ".join((entry.findtext(f"{_ATOM}summary") or "").split()))
        m = _ID_RE.search(raw_id)
        if not m:
            continue
        authors = tuple((a.findtext(f"{_ATOM}name") or "").strip() for a in entry.findall(f"{_ATOM}author"))
        title = " ".join((entry.findtext(f"{_ATOM}title") or "").split())
        out.append(Candidate(m.group(1), title, authors))
    return out


def choose(title: str, first_author: str | None, candidates: list[Candidate]) -> tuple[Candidate | None, str]:
    """The candidate whose normalised title equals ``title`` (and whose authors include the first author's
    surname when one is given), with why; None with why not."""
    want = norm_title(title)
    same = [c for c in candidates if norm_title(c.title) == want]
    if not same:
        return None, "no candidate has the same normalised title"
    if first_author:
        name = surname(first_author)
        authored = [c for c in same if name in {surname(a) for a in c.authors}]
        if not authored:
            return None, f"title matches but first author {name!r} is not among the candidates' authors"
        same = authored
    if len({c.arxiv_id for c in same}) > 1:
        return None, f"ambiguous: {len(same)} different ids share the title"
    why = "normalised title equal" + (" and first author's surname among its authors" if first_author else " (no authors given)")
    return same[0], why


def search_query(title: str) -> str:
    words = norm_title(title)
    return f'ti:"{words}"'


def first_author(row: Mapping[str, Any]) -> str | None:
    authors = row.get("authors")
    if isinstance(authors, str):
        authors = [a for a in re.split(r"\s+and\s+|;", authors) if a.strip()]
    if isinstance(authors, list) and authors and isinstance(authors[0], str) and authors[0].strip():
        return authors[0]
    return None


def check_eprint(data: bytes) -> None:
    if data.startswith(b"\x1f\x8b") or data[257:262] == b"ustar":
        return
    if data.startswith(b"%PDF"):
        raise FetchError("no_source", "arXiv serves only a PDF for this paper")
    raise FetchError("not_eprint", f"{len(data)} bytes, neither gzip nor tar")


def fetch_eprints(metadata: Path, out_dir: Path, manifest_path: Path, *, policy: HttpPolicy = ARXIV_POLICY,
                  api_url: str = ARXIV_API_URL, eprint_url: str = ARXIV_EPRINT_URL, progress: bool = True,
                  sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """One manifest item per metadata line (unreadable lines and rows without a usable ``paperId`` are
    failed items too, so the counts reconcile with the file's lines)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"--out {out_dir} is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = previous_items(manifest_path)
    throttle = Throttle(policy.min_interval)
    manifest = FetchManifest("fetch arxiv", settings={"min_interval_s": policy.min_interval, "api_url": api_url})

    def get(url: str) -> bytes:
        return http_get(url, policy, throttle, sleep=sleep)

    def job(paper_id: str, row: Mapping[str, Any]) -> Callable[[], None]:
        def run() -> None:
            target = out_dir / f"{paper_id}.tar.gz"
            before = previous.get(paper_id)
            if resume_hit(target, before):
                manifest.skipped(paper_id, target, evidence=(before or {}).get("evidence"))
                return
            given = arxiv_id(str(row.get("arxiv") or ""))
            if given:
                evidence: dict[str, Any] = {"chosen": given, "why": "arXiv id given in the metadata"}
            else:
                title = row.get("title")
                if not isinstance(title, str) or not norm_title(title):
                    raise FetchError("no_title", "neither an arxiv id nor a title to search by")
                query = search_query(title)
                url = f"{api_url}?" + urllib.parse.urlencode({"search_query": query, "start": 0, "max_results": 10})
                candidates = parse_feed(get(url))
                author = first_author(row)
                chosen, why = choose(title, author, candidates)
                evidence = {"query": query, "first_author": author,
                            "candidates": [{"id": c.arxiv_id, "title": c.title, "authors": list(c.authors[:5])}
                                           for c in candidates],
                            "chosen": chosen.arxiv_id if chosen else None, "why": why}
                if chosen is None:
                    manifest.failed(paper_id, "no_match", why, evidence=evidence)
                    return
            data = get(f"{eprint_url}/{evidence['chosen']}")
            try:
                check_eprint(data)
            except FetchError as exc:
                manifest.failed(paper_id, exc.reason, exc.detail, evidence=evidence)
                return
            write_atomic(target, data)
            manifest.fetched(paper_id, target, evidence=evidence)
        return run

    items: list[tuple[str, Callable[[], None]]] = []
    seen: set[str] = set()
    with open(metadata, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                items.append((f"line {number}", _fail("invalid_row", f"not JSON: {exc}")))
                continue
            paper_id = row.get("paperId") if isinstance(row, dict) else None
            if not safe_name(paper_id):
                items.append((f"line {number}", _fail("invalid_paper_id", f"paperId {paper_id!r} is not a file name")))
            elif paper_id in seen:
                items.append((f"{paper_id} (line {number})", _fail("duplicate_paper_id", paper_id)))
            else:
                seen.add(paper_id)
                items.append((paper_id, job(paper_id, row)))
    return run_items(items, manifest, manifest_path, desc="arXiv e-prints", progress=progress)


def _fail(reason: str, detail: str) -> Callable[[], None]:
    def run() -> None:
        raise FetchError(reason, detail)
    return run
