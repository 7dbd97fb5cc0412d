"""Write a raw OpenReview snapshot with openreview-py (the one step that needs the network).

The snapshot is exactly what ``get_all_notes(invitation=..., details="directReplies")`` returns, one
note per line, so every later step can be rerun offline from the file and tested without a server.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

API_V1_URL = "https://api.openreview.net"
API_V2_URL = "https://api2.openreview.net"


def api_version_for(venue_id: str) -> int:
    """ICLR moved to API v2 in 2024; other venues: v2 unless told otherwise."""
    match = re.search(r"/(\d{4})/", venue_id + "/")
    if venue_id.startswith("ICLR.cc/") and match and int(match.group(1)) <= 2023:
        return 1
    return 2


def submission_invitation(venue_id: str, api_version: int) -> str:
    return f"{venue_id}/-/{'Blind_Submission' if api_version == 1 else 'Submission'}"


# Attributes openreview-py's ``Note`` keeps from the server but leaves out of ``to_json()`` (v1 drops
# ``details``, so a snapshot would lose every review; v2 also ``number``, ``tcdate``, ``tmdate`` ...).
_KEPT_ATTRIBUTES = ("details", "number", "cdate", "tcdate", "tmdate", "mdate", "odate", "pdate", "ddate", "domain",
                    "version", "invitation", "invitations")


def note_to_json(note: Any) -> dict[str, Any]:
    """A note as the server sent it: ``to_json()`` plus what that leaves out (``_KEPT_ATTRIBUTES``)."""
    if isinstance(note, dict):
        return note
    payload = dict(note.to_json())
    for name in _KEPT_ATTRIBUTES:
        value = getattr(note, name, None)
        if name not in payload and value is not None and not callable(value):
            payload[name] = value
    return payload


def check_snapshot_target(out: str | Path, *, overwrite: bool = False) -> None:
    """Refuse, before any network call, a target that is a folder, or a file there already (a snapshot the
    user has is never replaced unless asked, with ``overwrite``)."""
    out = Path(out)
    if out.is_dir():
        raise IsADirectoryError(f"--out {out} is a folder; give the snapshot file to write (e.g. raw.jsonl)")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    if out.parent.exists() and not out.parent.is_dir():
        raise NotADirectoryError(f"--out {out}: {out.parent} is not a folder")


def write_snapshot(notes: Iterable[Any], out: str | Path) -> int:
    """Write notes as JSONL (ASCII, one a line) to ``out`` atomically; returns the number written."""
    out = Path(out)
    if out.is_dir():
        raise IsADirectoryError(f"{out} is a folder; give the snapshot file to write (e.g. raw.jsonl)")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    count = 0
    try:
        with open(partial, "w", encoding="ascii") as handle:
            for note in notes:
                handle.write(json.dumps(note_to_json(note), ensure_ascii=True, separators=(",", ":")) + "\n")
                count += 1
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)  # no half snapshot beside the target
        raise
    return count


def invitations_for(venue_id: str, api_version: int, *, include_withdrawn: bool = False) -> list[str]:
    """The submission invitation, plus (API v1, ``include_withdrawn``) the withdrawn and desk-rejected ones,
    where v1 venues move such papers out of ``Blind_Submission``. In API v2 they stay in ``Submission``
    (their ``venueid`` says withdrawn), so there is nothing more to ask."""
    out = [submission_invitation(venue_id, api_version)]
    if include_withdrawn and api_version == 1:
        out += [f"{venue_id}/-/Withdrawn_Submission", f"{venue_id}/-/Desk_Rejected_Submission"]
    return out


def open_client(api_version: int, *, baseurl: str | None = None, username: str | None = None,
                password: str | None = None, timeout: float = 120.0) -> Any:
    """openreview-py's client for the API version (logged in when a username/password is given or set in
    ``OPENREVIEW_USERNAME``/``OPENREVIEW_PASSWORD``; anonymous otherwise, which public venues allow)."""
    try:
        import openreview
    except ImportError as exc:
        raise ImportError("fetching needs openreview-py: pip install openreview-py (or, in a cyclebench clone, pip install -e '.[fetch]')") from exc
    username = username or os.environ.get("OPENREVIEW_USERNAME")
    password = password or os.environ.get("OPENREVIEW_PASSWORD")
    url = baseurl or (API_V1_URL if api_version == 1 else API_V2_URL)
    try:
        if api_version == 1:
            client = openreview.Client(baseurl=url, username=username, password=password)
        else:
            client = openreview.api.OpenReviewClient(baseurl=url, username=username, password=password)
    except Exception as exc:
        raise _fetch_error(exc, url) from exc
    _default_timeout(client.session, timeout)
    return client


def attachment_request(client: Any, note_id: str, field_name: str = "pdf") -> tuple[str, dict[str, str]]:
    """The URL and headers ``client.get_attachment(id=note_id, field_name=...)`` would send (both API
    versions: ``GET {baseurl}/attachment?id=&name=``), so the body can be read with a size and time limit
    the client does not have. Only the ``Authorization`` header travels (when the client holds a token)."""
    url = f"{str(client.baseurl).rstrip('/')}/attachment?" + urllib.parse.urlencode({"id": note_id, "name": field_name})
    headers = getattr(client, "headers", None) or {}
    return url, {k: str(v) for k, v in headers.items() if str(k).lower() == "authorization"}


def _default_timeout(session: Any, seconds: float) -> None:
    """openreview-py sends its requests without a timeout (a server that accepts and never answers would
    hang the fetch); give every request of its session one unless the call sets its own."""
    original = session.request

    def request(method: str, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", seconds)
        return original(method, url, **kwargs)

    session.request = request


def fetch_notes(venue_id: str, api_version: int | None = None, *, username: str | None = None,
                password: str | None = None, invitation: str | None = None, baseurl: str | None = None,
                client: Any = None, include_withdrawn: bool = False) -> Iterable[Any]:
    """All submissions of a venue with their direct replies, from the live OpenReview API; with several
    invitations (``include_withdrawn``) a note listed under two is kept once."""
    version = api_version or api_version_for(venue_id)
    client = client or open_client(version, baseurl=baseurl, username=username, password=password)
    url = getattr(client, "baseurl", baseurl or "")
    invitations = [invitation] if invitation else invitations_for(venue_id, version, include_withdrawn=include_withdrawn)
    notes: list[Any] = []
    seen: set[str] = set()
    try:
        for name in invitations:
            for note in client.get_all_notes(invitation=name, details="directReplies"):
                note_id = getattr(note, "id", None) if not isinstance(note, dict) else note.get("id")
                if note_id in seen:
                    continue
                seen.add(note_id)
                notes.append(note)
    except Exception as exc:
        raise _fetch_error(exc, url) from exc
    return _guarded(notes, url)


def _guarded(notes: Iterable[Any], url: str) -> Iterator[Any]:
    """The notes, with a failure while paging through them (if the client pages lazily) made one line too."""
    try:
        yield from notes
    except Exception as exc:
        raise _fetch_error(exc, url) from exc


def _fetch_error(exc: Exception, url: str) -> Exception:
    """One line for what went wrong talking to OpenReview: unreachable (an ``OSError``, as requests' are), or
    refused (login, unknown invitation: openreview-py's own exception) as a ``ValueError``."""
    reason = " ".join(str(exc).split())[:300] or type(exc).__name__
    if isinstance(exc, OSError):
        return ConnectionError(f"could not reach OpenReview at {url}: {reason}")
    return ValueError(f"OpenReview at {url} refused the request: {reason}")
