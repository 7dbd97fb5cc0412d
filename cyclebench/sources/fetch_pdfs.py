"""Each submission's PDF through openreview-py's attachment API (``client.get_attachment(id=, field_name="pdf")``,
``GET {baseurl}/attachment?id=...&name=pdf`` in both API versions), saved as ``DIR/<note id>.pdf``.

openreview-py's own session already retries 429 (honouring ``Retry-After``) and 5xx; this module adds the
pacing between PDFs, a retry with backoff of a connection dropped mid-body (requests' errors are
``OSError``s), the ``%PDF`` check (an HTML error page or an empty answer is a failed item, never a .pdf)
and the resume rule of :mod:`cyclebench.sources.http_fetch`.
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
    ServerDown,
    Throttle,
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


def attachment_with_retries(get: Callable[[], bytes], policy: HttpPolicy, throttle: Throttle,
                            sleep: Callable[[float], None] = time.sleep) -> bytes:
    """``get()`` paced and retried on ``OSError``; openreview-py's refusals (404, 403) fail at once."""
    last, refused = "", 0
    for attempt in range(policy.retries + 1):
        throttle.wait()
        try:
            return get()
        except OSError as exc:  # requests' ConnectionError/ChunkedEncodingError/Timeout are OSErrors
            text = " ".join(str(exc).split())
            refused += "refused" in text.lower()
            last = f"{type(exc).__name__}: {text}"[:200]
        except Exception as exc:  # noqa: BLE001 - openreview.OpenReviewException: the server answered no
            text = " ".join(str(exc).split())[:200]
            reason = "not_found" if "404" in text or "not found" in text.lower() else "refused"
            raise FetchError(reason, text) from None
        if attempt < policy.retries:
            sleep(min(policy.backoff * 2 ** attempt, policy.backoff_max))
    if refused == policy.retries + 1:
        raise ServerDown(f"could not reach OpenReview: {last}")
    raise FetchError("gave_up", f"{last} (after {policy.retries + 1} tries)")


def fetch_submission_pdfs(notes: Iterable[Mapping[str, Any]], get_attachment: Callable[[str], bytes],
                          out_dir: Path, manifest_path: Path, *, policy: HttpPolicy = OPENREVIEW_PDF_POLICY,
                          progress: bool = True, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """One manifest item per note: ``fetched``, ``skipped`` (already there, same size and hash as the last
    manifest says) or ``failed`` (``no_pdf``, ``not_pdf``, ``not_found``, ``gave_up`` ...)."""
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
            data = attachment_with_retries(lambda: get_attachment(note_id), policy, throttle, sleep)
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
