"""The one polite HTTP download every fetch command shares, and the fetch manifest beside its output.

Standard library only (urllib). Every request has a timeout and waits for a ``Throttle`` (the service's
published minimum interval between requests). A 429 waits for its ``Retry-After`` (seconds or an HTTP
date, capped), a 5xx, a timeout or a connection dropped mid-body is retried with exponential backoff; any
other status is a failure with its reason at once. A refused connection on every try is ``ServerDown``,
which stops the run instead of waiting out every remaining item against a dead server.

Files appear whole or not at all: bytes go to ``NAME.part`` and are renamed into place only after they
were read completely and passed the caller's check, so a file present under its final name is complete
and a rerun can skip it (``resume_hit``).
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

USER_AGENT = "cyclebench-fetch/0.1 (rebuilds benchmark datasets; https://pypi.org/project/cyclebench/)"


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """How one service is asked: pacing, timeout and retries. Tests pass tiny intervals and backoffs."""

    min_interval: float = 1.0  # seconds between the starts of two requests
    timeout: float = 60.0
    retries: int = 5  # tries after the first
    backoff: float = 2.0  # first retry's wait; doubled each time
    backoff_max: float = 120.0
    retry_after_max: float = 600.0
    max_bytes: int = 512 * 1024 * 1024  # a body larger than this is refused (``too_large``), not read into memory
    deadline: float = 900.0  # seconds for one whole response: a server dripping bytes forever is cut off


class FetchError(Exception):
    """One item could not be fetched; ``reason`` is a short code for the manifest (``http_404``, ``not_pdf``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ServerDown(ConnectionError):
    """Every try was refused: the server is not there (wrong base URL, no network); the run stops."""


class Throttle:
    """At most one request every ``min_interval`` seconds (monotonic clock), shared by a run's requests."""

    def __init__(self, min_interval: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_interval = max(0.0, float(min_interval))
        self._clock, self._sleep = clock, sleep
        self._last: float | None = None

    def wait(self) -> None:
        if self._last is not None:
            left = self._last + self.min_interval - self._clock()
            if left > 0:
                self._sleep(left)
        self._last = self._clock()


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _refused(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, ConnectionRefusedError) or isinstance(exc, ConnectionRefusedError)


def _origin(url: urllib.parse.SplitResult) -> tuple[str, str | None, int | None]:
    """Scheme, host and port (the default port made explicit): what must stay the same for a key to follow."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.hostname, port


class _SameHostHeaders(urllib.request.HTTPRedirectHandler):
    """Redirects only to http(s) (urllib also follows ``ftp://``), and a redirect to another origin (host,
    port or scheme: https -> http would send the key in clear) carries no header but the User-Agent: an API
    key (``x-api-key``) is never sent where it was not meant to go."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        target = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl))
        if target.scheme not in ("http", "https"):
            raise urllib.error.HTTPError(req.full_url, code, f"redirect to a {target.scheme or 'relative'}: URL "
                                         "refused", headers, fp)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(target) != _origin(urllib.parse.urlsplit(req.full_url)):
            new.headers = {k: v for k, v in new.headers.items() if k.lower() == "user-agent"}
            new.unredirected_hdrs = {}
        return new


def _read_body(response: Any, policy: HttpPolicy, url: str) -> bytes:
    """The body in blocks, refused once over ``policy.max_bytes`` and cut off after ``policy.deadline``
    seconds (each socket read has ``policy.timeout``, but a server sending a byte a second never trips it);
    a body shorter than its Content-Length is an ``IncompleteRead`` (retried)."""
    declared = response.headers.get("Content-Length")
    expected = int(declared) if declared and declared.strip().isdigit() else None
    if expected is not None and expected > policy.max_bytes:
        raise FetchError("too_large", f"{url}: Content-Length {expected} over the {policy.max_bytes}-byte limit")
    started, blocks, size = time.monotonic(), [], 0
    while True:
        block = response.read1(1 << 16)  # what has arrived (read() would wait for a whole block)
        if not block:
            break
        size += len(block)
        if size > policy.max_bytes:
            raise FetchError("too_large", f"{url}: body over the {policy.max_bytes}-byte limit")
        if time.monotonic() - started > policy.deadline:
            raise TimeoutError(f"body not complete after {policy.deadline:g} s ({size} bytes so far)")
        blocks.append(block)
    data = b"".join(blocks)
    if expected is not None and len(data) < expected:
        raise http.client.IncompleteRead(data, expected - len(data))
    return data


def http_get(url: str, policy: HttpPolicy, throttle: Throttle, *, headers: Mapping[str, str] | None = None,
             sleep: Callable[[float], None] = time.sleep) -> bytes:
    """The whole body of ``url``; retries as the module says, else ``FetchError``/``ServerDown``."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    opener = urllib.request.build_opener(_SameHostHeaders)
    last = ""
    refused = 0
    for attempt in range(policy.retries + 1):
        wait = min(policy.backoff * (2 ** attempt), policy.backoff_max)
        throttle.wait()
        try:
            with opener.open(request, timeout=policy.timeout) as response:
                return _read_body(response, policy, url)
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code} {exc.reason}"
            if exc.code == 429:
                hinted = retry_after_seconds(exc.headers.get("Retry-After"))
                if hinted is not None:
                    wait = min(hinted, policy.retry_after_max)
            elif exc.code < 500:
                raise FetchError(f"http_{exc.code}", f"{url}: {exc.reason}") from None
        except (TimeoutError, urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            refused += _refused(exc)
            last = " ".join(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}".split())[:200]
        if attempt < policy.retries:
            sleep(wait)
    if refused == policy.retries + 1:
        raise ServerDown(f"could not reach {url}: connection refused {refused} times")
    raise FetchError("gave_up", f"{url}: {last} (after {policy.retries + 1} tries)")


def write_atomic(target: Path, data: bytes) -> None:
    """``data`` under ``target`` whole or not at all (``target.part`` then a rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        raise IsADirectoryError(f"{target} is a folder; cannot write a file there")
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)  # a left-over (or planted) link there is removed, never written through
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(partial, target)  # replaces a symlink at ``target`` itself, never the file it points to
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return path.stat().st_size, digest.hexdigest()


def resume_hit(target: Path, previous: Mapping[str, Any] | None) -> bool:
    """Whether ``target`` can be skipped: a regular file, non-empty and, when an earlier manifest recorded it,
    of that size and SHA-256 (a file replaced or damaged since is fetched again)."""
    if target.is_symlink() or not target.is_file() or target.stat().st_size == 0:
        return False  # a link is never taken as done: it may point anywhere (it is replaced, not followed)
    if previous and previous.get("sha256"):
        size, sha = file_digest(target)
        return size == previous.get("size") and sha == previous["sha256"]
    return True


@dataclass
class FetchManifest:
    """What one fetch run did with each input: fetched, skipped (already present) or failed with a reason.

    ``inputs`` is set before the run; ``write`` refuses a manifest whose counts do not reconcile.
    """

    command: str
    inputs: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def fetched(self, item_id: str, path: Path | None = None, **extra: Any) -> None:
        self._add(item_id, "fetched", path, extra)

    def skipped(self, item_id: str, path: Path | None = None, **extra: Any) -> None:
        self._add(item_id, "skipped", path, extra)

    def failed(self, item_id: str, reason: str, detail: str = "", **extra: Any) -> None:
        self.items.append({"id": item_id, "status": "failed", "reason": reason, "detail": detail[:300], **extra})

    def _add(self, item_id: str, status: str, path: Path | None, extra: dict[str, Any]) -> None:
        row: dict[str, Any] = {"id": item_id, "status": status}
        if path is not None:
            size, sha = file_digest(path)
            row.update(file=path.name, size=size, sha256=sha)
        self.items.append({**row, **extra})

    def counts(self) -> dict[str, Any]:
        status = Counter(item["status"] for item in self.items)
        reasons = Counter(item["reason"] for item in self.items if item["status"] == "failed")
        return {"inputs": self.inputs, "fetched": status["fetched"], "skipped": status["skipped"],
                "failed": status["failed"], "failed_reasons": dict(sorted(reasons.items()))}

    def write(self, path: Path) -> dict[str, Any]:
        counts = self.counts()
        if counts["fetched"] + counts["skipped"] + counts["failed"] != self.inputs:
            raise AssertionError(f"fetch manifest does not reconcile: {counts}")
        body = {"command": self.command, "counts": counts, "settings": self.settings, "items": self.items}
        write_atomic(Path(path), (json.dumps(body, indent=1, ensure_ascii=True) + "\n").encode())
        return counts


def previous_items(path: Path) -> dict[str, dict[str, Any]]:
    """The fetched/skipped items of an earlier manifest at ``path`` by id (empty when none or unreadable)."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
        return {str(i["id"]): i for i in body.get("items", []) if i.get("status") in ("fetched", "skipped")}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return {}


def progress_bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="item", disable=not enabled)


_SAFE_NAME = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,127}")


def safe_name(item_id: Any) -> bool:
    """Whether an id can name a file in the output folder (no path separators, no leading dot)."""
    return isinstance(item_id, str) and _SAFE_NAME.fullmatch(item_id) is not None


def manifest_path_for(out: Path) -> Path:
    """The manifest beside an output file or folder: ``raw.jsonl`` -> ``raw.jsonl.fetch-manifest.json``."""
    out = Path(out)
    return out.with_name(out.name.rstrip("/") + ".fetch-manifest.json")


def run_items(items: list[tuple[str, Callable[[], None]]], manifest: FetchManifest, manifest_path: Path, *,
              desc: str, progress: bool) -> dict[str, Any]:
    """Run one job per input, each recording exactly one manifest item; a ``FetchError`` is that item's
    failure. On ``ServerDown`` or an interrupt the rest are failed ``not_attempted`` and the manifest is
    still written (counts reconcile) before the error goes up."""
    manifest.inputs = len(items)
    bar = progress_bar(len(items), desc, progress)
    done = 0
    try:
        for item_id, job in items:
            before = len(manifest.items)
            try:
                job()
            except FetchError as exc:
                manifest.failed(item_id, exc.reason, exc.detail)
            except ServerDown as exc:
                manifest.failed(item_id, "server_down", str(exc))
                done += 1
                raise
            if len(manifest.items) != before + 1:
                raise RuntimeError(f"fetch job for {item_id} recorded {len(manifest.items) - before} items")
            done += 1
            bar.update(1)
    except BaseException as exc:
        for item_id, _ in items[done:]:
            manifest.failed(item_id, "not_attempted", f"run stopped: {type(exc).__name__}: {exc}"[:300])
        manifest.write(manifest_path)
        raise
    finally:
        bar.close()
    return manifest.write(manifest_path)
