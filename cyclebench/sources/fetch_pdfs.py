"""Each submission's PDF from OpenReview's attachment endpoint (``GET {baseurl}/attachment?id=...&name=pdf``,
what openreview-py's ``client.get_attachment(id=, field_name="pdf")`` asks in both API versions), saved as
``DIR/<note id>.pdf``.

The body is read through :func:`cyclebench.sources.http_fetch.http_get`, not the client: the client reads a
whole body with no size or time limit, so a hostile or broken server could stream forever or send gigabytes.
``http_get`` brings the pacing, the retries (429 with ``Retry-After``, 5xx, a dropped body), ``max_bytes``
(``too_large``) and ``deadline``; this module adds the ``%PDF`` check (an HTML error page or an empty answer is
a failed item, never a .pdf) and the resume rule of :mod:`cyclebench.sources.http_fetch`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
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

# OpenReview publishes no request quota; one PDF a second keeps a full venue (~10k PDFs) under three hours.
OPENREVIEW_PDF_POLICY = HttpPolicy(min_interval=1.0, timeout=120.0, retries=4, backoff=2.0)


def note_pdf_field(note: Mapping[str, Any]) -> str | None:
    """The note's ``pdf`` content value (API v1: a string; v2: ``{"value": ...}``), or None."""
    content = note.get("content")
    value = content.get("pdf") if isinstance(content, Mapping) else None
    if isinstance(value, Mapping):
        value = value.get("value")
    return value if isinstance(value, str) and value.strip() else None


def check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF"):
        shown = data[:24].decode("ascii", "replace").replace("\n", " ")
        raise FetchError("not_pdf", f"{len(data)} bytes starting {shown!r}")


def attachment_bytes(url: str, headers: Mapping[str, str], policy: HttpPolicy, throttle: Throttle,
                     sleep: Callable[[float], None] = time.sleep) -> bytes:
    """The attachment's body, bounded by the policy; the server's refusals keep their old manifest reasons
    (404: ``not_found``, any other 4xx: ``refused``)."""
    try:
        return http_get(url, policy, throttle, headers=headers, sleep=sleep)
    except FetchError as exc:
        if exc.reason == "http_404":
            raise FetchError("not_found", exc.detail) from None
        if exc.reason.startswith("http_4"):
            raise FetchError("refused", f"{exc.reason[5:]} {exc.detail}") from None
        raise


def fetch_submission_pdfs(notes: Iterable[Mapping[str, Any]],
                          attachment_request: Callable[[str], tuple[str, Mapping[str, str]]],
                          out_dir: Path, manifest_path: Path, *, policy: HttpPolicy = OPENREVIEW_PDF_POLICY,
                          progress: bool = True, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """One manifest item per note: ``fetched``, ``skipped`` (already there, same size and hash as the last
    manifest says) or ``failed`` (``no_pdf``, ``not_pdf``, ``not_found``, ``too_large``, ``gave_up`` ...).
    ``attachment_request(note_id)`` gives the URL and headers to ask (see ``fetch.attachment_request``)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"--pdfs {out_dir} is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = previous_items(manifest_path)
    throttle = Throttle(policy.min_interval)
    manifest = FetchManifest("fetch openreview --pdfs", settings={"min_interval_s": policy.min_interval})

    def job(note: Mapping[str, Any]) -> Callable[[], None]:
        def run() -> None:
            note_id = str(note["id"])
            target = out_dir / f"{note_id}.pdf"
            if note_pdf_field(note) is None:
                raise FetchError("no_pdf", "the submission has no pdf field")
            if resume_hit(target, previous.get(note_id)):
                manifest.skipped(note_id, target)
                return
            url, headers = attachment_request(note_id)
            data = attachment_bytes(url, headers, policy, throttle, sleep)
            check_pdf(data)
            write_atomic(target, data)
            manifest.fetched(note_id, target)
        return run

    items: list[tuple[str, Callable[[], None]]] = []
    seen: set[str] = set()
    for index, note in enumerate(notes):
        note_id = note.get("id") if isinstance(note, Mapping) else None
        if not safe_name(note_id):
            items.append((f"#{index}", _fail("invalid_id", f"note {index} has no usable id: {note_id!r}"[:120])))
        elif note_id in seen:
            items.append((f"{note_id}#{index}", _fail("duplicate_note", note_id)))
        else:
            seen.add(note_id)
            items.append((note_id, job(note)))
    return run_items(items, manifest, manifest_path, desc="OpenReview PDFs", progress=progress)


def _fail(reason: str, detail: str) -> Callable[[], None]:
    def run() -> None:
        raise FetchError(reason, detail)
    return run
