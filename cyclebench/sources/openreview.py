"""Raw OpenReview notes to typed ``Submission`` records.

Reads the shape ``openreview-py``'s ``client.get_all_notes(..., details="directReplies")`` returns, for
API v1 (ICLR <= 2023: one ``invitation`` string, plain content values) and API v2 (ICLR >= 2024:
``invitations`` lists, content wrapped in ``{"value": ...}``), and the crawler shape that nests replies
under ``notes``. Rules, all from what real snapshots contain:

* replies are classified by the exact suffix of an invitation (``/-/Official_Review``; a
  ``/-/Official_Review_Revision`` is not a review), never by list length or position;
* a reply that appears several times (edits) is kept once, its newest ``tmdate``; then one review per
  reviewer signature, the newest;
* the decision comes from a Decision note, else from ``venueid``, else from ``venue``; withdrawn and
  desk-rejected papers are marked whatever the other sources say;
* the meta review is its own note (v2) or lives inside the Decision note (ICLR 2020-2023);
* a review's rating history is the rating of its oldest version in the snapshot (``Review.initial_rating``);
  an author comment belongs to the thread of the review its ``replyto`` chain reaches (``thread_roots``).

Which form field holds what in which year is declared once, in :mod:`cyclebench.sources.openreview_fields`.

Reviews that cannot be read (no rating, a score off its scale) are rejected one by one with a reason;
the paper keeps its other reviews.

Values are taken only in the type the form gives them, never stringified: a title, abstract, venue,
meta review, decision or comment that is not a string, keywords that are not strings, an id that is not
a short printable ASCII name, or a date outside 1990-2100 makes the note a reasoned reject
(``invalid_title``, ``invalid_keywords``, ``invalid_id``, ``implausible_date`` ...), so a snapshot written
by a broken crawler cannot put ``"{'v': 1}"`` or ``"1e+40"`` into a dataset row.
"""

from __future__ import annotations

import dataclasses
import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from cyclebench.records import (
    Comment,
    Decision,
    MetaReview,
    RecordError,
    Reject,
    Review,
    Score,
    Submission,
)
from cyclebench.sources.openreview_fields import (
    META_BARE_FIELDS,
    META_TEXT_FIELDS,
    NOT_REVIEW_TEXT,
    RATING_FIELDS,
    review_form,
)
from cyclebench.sources.scores import (
    ASPECT_FIELDS,
    parse_optional_score,
    parse_score,
    scale_for,
)

# Scored fields other than the rating, and which scale each is on.
_SCORE_SCALE_FIELD = {"confidence": "confidence", **{name: "aspect" for name in ASPECT_FIELDS}}
_YEAR = re.compile(r"/((?:19|20)\d\d)(?:/|$)")


@dataclass(frozen=True, slots=True)
class RawNote:
    """One submission as read from a snapshot, before it becomes a record."""

    record_id: str
    note: dict[str, Any] | None
    error: RecordError | None = None


@dataclass(slots=True)
class ParseOutcome:
    """A submission record plus the reviews and reply versions that did not survive."""

    submission: Submission
    review_rejects: list[Reject] = field(default_factory=list)
    # Older versions of reviews dropped for a newer one (same note id, or same reviewer signature).
    superseded_review_versions: int = 0


# ---------------------------------------------------------------------------------------------
# Reading snapshot files


def iter_raw_notes(path: str | Path) -> Iterator[RawNote]:
    """Stream submissions from a ``.jsonl`` (one note a line, optionally gzip'd) or ``.json`` snapshot.

    JSONL is streamed line by line so memory stays flat; a ``.json`` file (a list of notes, or the
    crawler's ``[{venue, year, submissions: [...]}]``) is small by nature and read whole. A line that is
    not JSON becomes a ``RawNote`` with an error, never an exception. A file that cannot be a snapshot at
    all (a folder, a truncated or fake ``.gz``, UTF-16, JSONL named ``.json`` or a JSON document named
    ``.jsonl``) raises ``ValueError`` naming the file and the fix: counting it as one bad record would
    hide how many papers it held.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; an OpenReview snapshot is a file (.jsonl, .jsonl.gz or .json)")
    if not path.is_file():
        raise FileNotFoundError(f"OpenReview snapshot not found: {path}")
    name = path.name.lower()
    gzipped = name.endswith(".gz")
    _check_compression(path, gzipped)
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
        yield from _iter_jsonl(path, gzipped)
    else:
        yield from _iter_json_document(path, gzipped)


_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _check_compression(path: Path, gzipped: bool) -> None:
    """The name and the bytes must agree on gzip: a fake ``.gz`` or an unnamed one is refused up front."""
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if gzipped and magic != _GZIP_MAGIC:
        raise ValueError(f"{path} is named .gz but is not gzip-compressed; rename it (drop .gz) or fetch it again")
    if not gzipped and magic == _GZIP_MAGIC:
        raise ValueError(f"{path} is gzip-compressed; name it {path.name}.gz (e.g. raw.jsonl.gz)")


def _unreadable_gzip(path: Path, exc: BaseException) -> ValueError:
    return ValueError(f"{path}: the gzip stream is truncated or corrupt ({type(exc).__name__}: {exc}); "
                      "fetch the snapshot again")


def _iter_jsonl(path: Path, gzipped: bool) -> Iterator[RawNote]:
    opener = gzip.open if gzipped else open
    first = True
    try:
        with opener(path, "rb") as handle:
            for line_no, line in enumerate(handle, start=1):
                if first:
                    line = _strip_bom(line, path)
                if not line.strip():
                    continue
                if first:
                    _refuse_json_document(line, path, gzipped)
                    first = False
                yield _raw_from_bytes(line, f"{path.name}:{line_no}")
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _unreadable_gzip(path, exc) from None


def _strip_bom(data: bytes, path: Path) -> bytes:
    """Drop a UTF-8 byte-order mark (editors on Windows write one); refuse UTF-16, which JSON lines are not."""
    if data.startswith(_UTF8_BOM):
        return data[len(_UTF8_BOM):]
    if data.startswith(_UTF16_BOMS):
        raise ValueError(f"{path} is UTF-16 encoded; save it as UTF-8")
    return data


def _refuse_json_document(first_line: bytes, path: Path, gzipped: bool) -> None:
    """A JSONL snapshot's first line is one note; a file that is one JSON document of notes is refused.

    Only checked when the first line opens an array or is a lone brace, so a normal snapshot is never
    read twice; a document without any note-like object is left to the per-line accounting.
    """
    head = first_line.strip()
    if not (head.startswith(b"[") or head == b"{"):
        return
    try:
        document = orjson.loads(_strip_bom(_read_all(path, gzipped), path))
    except orjson.JSONDecodeError:
        return
    items = document if isinstance(document, list) else [document]
    if any(isinstance(item, dict) for item in items):
        raise ValueError(f"{path} holds one JSON document, not JSON Lines (one note a line); name it .json")


def _read_all(path: Path, gzipped: bool) -> bytes:
    try:
        return gzip.decompress(path.read_bytes()) if gzipped else path.read_bytes()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _unreadable_gzip(path, exc) from None


def _iter_json_document(path: Path, gzipped: bool) -> Iterator[RawNote]:
    data = _strip_bom(_read_all(path, gzipped), path)
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if _looks_like_jsonl(data):
            raise ValueError(f"{path} holds JSON Lines (one note a line), not one JSON document; "
                             "name it .jsonl") from None
        raise ValueError(f"{path} is not valid JSON ({exc}); is the file complete?") from None
    for index, note in enumerate(_flatten_json_snapshot(document)):
        yield _raw_from_obj(note, f"{path.name}:{index}")


def _looks_like_jsonl(data: bytes) -> bool:
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        return isinstance(orjson.loads(lines[0]), dict)
    except orjson.JSONDecodeError:
        return False


def _raw_from_bytes(line: bytes, where: str) -> RawNote:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return RawNote(where, None, _malformed(line, exc))
    return _raw_from_obj(obj, where)


def _malformed(line: bytes, exc: orjson.JSONDecodeError) -> RecordError:
    """A line that is not one JSON value. Two notes written on one line (a writer that lost a newline) are
    one record in and one reject out, and the detail says so: reading both would guess at what else broke."""
    if exc.msg.startswith("unexpected content after document"):
        rest = line[exc.pos:].lstrip()
        guess = ": two notes on one line?" if rest.startswith(b"{") else ""
        return RecordError("malformed_json", f"extra data after the first JSON value at column {exc.pos + 1}{guess}")
    return RecordError("malformed_json", str(exc))


def _raw_from_obj(obj: Any, where: str) -> RawNote:
    if not isinstance(obj, dict):
        return RawNote(where, None, RecordError("not_a_note", f"{type(obj).__name__} at {where}"))
    note_id = obj.get("id")
    return RawNote(note_id if is_valid_id(note_id) else where, obj)


def _flatten_json_snapshot(data: Any) -> Iterator[Any]:
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        yield data
        return
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("submissions"), list):
            yield from item["submissions"]  # crawler shape: one block per venue
        else:
            yield item


# ---------------------------------------------------------------------------------------------
# Note helpers that hide the v1 / v2 differences


def _value(content: dict[str, Any], key: str) -> Any:
    """A content field's value: v2 wraps it in {"value": ...}, v1 stores it plain."""
    raw = content.get(key)
    if isinstance(raw, dict) and "value" in raw:
        return raw["value"]
    return raw


def _kind(value: Any) -> str:
    """What a value is, for a reject's detail: never its ``str`` (a huge int cannot be printed, a dict
    would be echoed whole)."""
    if isinstance(value, str):
        return f"the string {ascii(value[:40])}" + (f"... ({len(value)} characters)" if len(value) > 40 else "")
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return f"a number ({type(value).__name__})"
    return f"a {'JSON object' if isinstance(value, dict) else 'list' if isinstance(value, list) else type(value).__name__}"


# The one-line summary's key as forms spelled it: v2 "TLDR", v1 "TL;DR", and lower-case copies.
_TLDR_KEYS = ("TLDR", "TL;DR", "tldr", "tl;dr")


def _text(content: dict[str, Any], key: str, what: str) -> str | None:
    """A text field: the string, or None when absent or null; anything else is ``invalid_<what>``."""
    value = _value(content, key)
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"invalid_{what}", f"{key} is {_kind(value)}, not text")


def _keywords(content: dict[str, Any]) -> tuple[str, ...]:
    """Keywords: a list of strings (v2, most v1 years) or one comma-separated string; else ``invalid_keywords``."""
    value = _value(content, "keywords")
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(k.strip() for k in value.split(",") if k.strip())
    if isinstance(value, list) and all(isinstance(k, str) for k in value):
        return tuple(value)
    bad = next((k for k in value if not isinstance(k, str)), value) if isinstance(value, list) else value
    raise RecordError("invalid_keywords", f"keywords hold {_kind(bad)}, not only strings")


# An id names a row, a reject and a paper file (<id>.md): OpenReview's are ~10 characters of [A-Za-z0-9_-].
MAX_ID_LENGTH = 128
_ID_RE = re.compile(r"[!-.0-\[\]-~]+")  # printable ASCII without "/", "\\" and whitespace


def is_valid_id(value: Any) -> bool:
    """Whether ``value`` can be an id: 1-128 printable ASCII characters, no "/", "\\", whitespace or NUL,
    not "." or ".."."""
    return (isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH and _ID_RE.fullmatch(value) is not None
            and value not in (".", ".."))


def check_id(value: Any, reason: str = "invalid_id", what: str = "id") -> str:
    """``value`` when it is a valid id (``is_valid_id``), else ``RecordError(reason)`` saying what it is."""
    if is_valid_id(value):
        return value
    raise RecordError(reason, f"{what} is {_kind(value)}: ids are 1-{MAX_ID_LENGTH} printable ASCII characters "
                              "without '/', '\\' or whitespace")


def _reply_id(note: dict[str, Any], key: str = "id") -> str:
    """A reply's id (or forum): "" when absent, as before; a present but malformed one is ``invalid_reply_id``."""
    value = note.get(key)
    if value is None or value == "":
        return ""
    return check_id(value, "invalid_reply_id", f"a reply's {key}")


def _shown_id(value: Any) -> str:
    """A reply id as a reject names it: the id when valid, never a 100k-character or NUL-laden string."""
    return value if is_valid_id(value) else "" if value is None else "(invalid id)"


def _invitations(note: dict[str, Any]) -> list[str]:
    invs = note.get("invitations")
    if isinstance(invs, list):
        return [i for i in invs if isinstance(i, str)]
    inv = note.get("invitation")
    return [inv] if isinstance(inv, str) else []


def reply_kind(note: dict[str, Any]) -> str | None:
    """The reply type named by the exact suffix of one of its invitations, or None."""
    for inv in _invitations(note):
        # The last path segment, after a "/-/" somewhere before it: ICLR writes
        # ".../Submission12/-/Official_Review", older workshops ".../-/Paper36/Official_Review".
        suffix = inv.rsplit("/", 1)[-1]
        if suffix in _REPLY_KINDS and "/-/" in inv:
            return suffix
    return None


_REPLY_KINDS = {
    "Official_Review",
    "Meta_Review",
    "Decision",
    "Official_Comment",
    "Withdrawal",
    "Desk_Rejection",
    "Withdrawn_Submission",
}


_INT64 = range(-(2**63), 2**63)


def int64_or_none(value: Any) -> int | None:
    """An integer field (dates, numbers) or None when absent or not an integer.

    An integer outside int64 cannot be stored in a dataset column: the note is corrupt, and the record
    holding it is rejected (``number_out_of_range``) rather than crashing the writer.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if value not in _INT64:
        raise RecordError("number_out_of_range", f"an integer of {value.bit_length()} bits")
    return value


# OpenReview dates are ms since 1970; its oldest notes are from 2013. Outside these bounds a date is corrupt
# and would break every later use (datetime conversion, --cutoff-date comparisons).
DATE_MIN_MS = 631_152_000_000  # 1990-01-01T00:00:00Z
DATE_MAX_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z


def date_or_none(value: Any, field: str) -> int | None:
    """A date field (ms since the epoch), or None when absent or null.

    Anything else (a string, a float, a time before 1990 or after 2100) is ``implausible_date`` rather
    than a silent null or a value that breaks date handling later; beyond int64, ``number_out_of_range``.
    """
    if value is None:
        return None
    number = int64_or_none(value)
    if number is None or not DATE_MIN_MS <= number < DATE_MAX_MS:
        shown = _kind(value) if number is None else str(number)
        raise RecordError("implausible_date", f"{field} is {shown}, not a time in 1990-2100 (ms since 1970)")
    return number


def _signature(note: dict[str, Any]) -> str:
    sigs = note.get("signatures")
    if isinstance(sigs, list) and sigs and isinstance(sigs[0], str):
        return sigs[0]
    if isinstance(sigs, str):
        return sigs
    return ""


def _venue_id(note: dict[str, Any]) -> str:
    domain = note.get("domain")
    if isinstance(domain, str) and domain:
        return domain
    for inv in _invitations(note):
        prefix, sep, _ = inv.partition("/-/")
        if sep:
            return prefix
    return ""


def _replies(note: dict[str, Any]) -> list[dict[str, Any]]:
    details = note.get("details")
    replies = details.get("directReplies") if isinstance(details, dict) else None
    if replies is None:
        replies = note.get("notes")  # crawler shape
    if not isinstance(replies, list):
        return []
    return [r for r in replies if isinstance(r, dict)]


def _sort_stamp(note: dict[str, Any]) -> int:
    """tmdate, else mdate, else 0: only an order, so any integer will do (its range is checked on use)."""
    for key in ("tmdate", "mdate"):
        value = note.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value:
            return value
    return 0


def _newest_by(notes: list[dict[str, Any]], key: str) -> tuple[list[dict[str, Any]], int]:
    """Keep the newest note per ``key`` (by tmdate, later position wins a tie); count the dropped."""
    best: dict[str, tuple[int, int, dict[str, Any]]] = {}
    for position, note in enumerate(notes):
        k = note.get(key) if key != "signature" else _signature(note)
        k = k if isinstance(k, str) and k else f"#{position}"
        stamp = _sort_stamp(note)
        held = best.get(k)
        if held is None or (stamp, position) >= (held[0], held[1]):
            best[k] = (stamp, position, note)
    kept = sorted(best.values(), key=lambda t: t[1])
    return [t[2] for t in kept], len(notes) - len(kept)


# ---------------------------------------------------------------------------------------------
# Decisions


_PRESENTATION = re.compile(r"\b(oral|spotlight|poster|talk|notable-top-\d+%)", re.IGNORECASE)


def _presentation(word: str) -> str:
    """ICLR 2020 called orals "talks"; one name for one format across years."""
    word = word.lower()
    return "oral" if word == "talk" else word


_NOT_ACCEPTED = re.compile(r"\bnot\s+(?:be\s+)?accept", re.IGNORECASE)


def decision_from_text(raw: str, source: str) -> Decision:
    """A decision's words (any venue, year or case) to its label: withdrawn, desk_rejected, reject (also
    "Invite to Workshop Track" and "Not accepted"), accept (with oral / spotlight / poster ...), undecided."""
    text = raw.strip()
    lowered = text.lower()
    if "withdraw" in lowered:
        label = "withdrawn"
    elif "desk" in lowered and "reject" in lowered:
        label = "desk_rejected"
    elif "reject" in lowered or "workshop" in lowered or _NOT_ACCEPTED.search(text):
        label = "reject"
    elif "accept" in lowered:
        label = "accept"
    else:
        label = "undecided"
    presentation = None
    if label == "accept":
        match = _PRESENTATION.search(text)
        presentation = _presentation(match.group(1)) if match else None
    return Decision(label=label, raw=text, source=source, presentation=presentation)  # type: ignore[arg-type]


def accepted_from_text(raw: str) -> bool | None:
    """True / False for a paper the words accept / reject, None for any other outcome (withdrawn,
    desk-rejected, undecided): how every reader of a decision cell says accepted, so a cell means the same
    in every dataset (``hub.columns.DECISIONS``)."""
    return {"accept": True, "reject": False}.get(decision_from_text(raw, "text").label)


def decision_from_venueid(venueid: str, venue: str | None, venue_prefix: str) -> Decision | None:
    tail = venueid.rsplit("/", 1)[-1]
    presentation = None
    if tail == "Withdrawn_Submission":
        label = "withdrawn"
    elif tail == "Desk_Rejected_Submission":
        label = "desk_rejected"
    elif tail == "Rejected_Submission":
        label = "reject"
    elif tail in ("Submission", "Under_Review_Submission", "Blind_Submission"):
        label = "undecided"
    elif venueid == venue_prefix or (venue_prefix and venueid.startswith(venue_prefix) and tail != venueid):
        label = "accept"
        match = _PRESENTATION.search(venue or "")
        presentation = _presentation(match.group(1)) if match else None
    else:
        return None
    return Decision(label=label, raw=venueid, source="venueid", presentation=presentation)  # type: ignore[arg-type]


def decision_from_venue(venue: str) -> Decision:
    lowered = venue.lower()
    if "withdrawn" in lowered:
        return Decision("withdrawn", venue, "venue")
    if "desk rejected" in lowered or "desk_rejected" in lowered:
        return Decision("desk_rejected", venue, "venue")
    if lowered.startswith("submitted to") or "under review" in lowered:
        return Decision("undecided", venue, "venue")
    if "reject" in lowered:
        return Decision("reject", venue, "venue")
    match = _PRESENTATION.search(venue)
    if match:
        return Decision("accept", venue, "venue", _presentation(match.group(1)))
    return Decision("undecided", venue, "venue")


# ---------------------------------------------------------------------------------------------
# Replies to records


def parse_review(note: dict[str, Any], venue_id: str, year: int | None, versions_seen: int) -> Review:
    """One Official_Review note to a ``Review``; raises ``RecordError`` when it has no usable rating.

    One pass over the content: scores by field name, every other non-empty string is a text section
    (kept in the order the note lists them). Numbers, booleans and lists of strings outside the score
    fields are form answers that are not free text (checkboxes, multi-selects) and are not sections; a JSON
    object or a nested list in any field is a corrupt note (``invalid_review_field``), never a repr in a row.
    """
    content = note.get("content")
    if not isinstance(content, dict):
        raise RecordError("review_without_content")
    rating_raw: Any = None
    scores: dict[str, Score] = {}
    unread: list[tuple[str, str]] = []
    texts: dict[str, str] = {}
    for key, raw in content.items():
        value = raw["value"] if isinstance(raw, dict) and "value" in raw else raw
        _check_form_answer(key, value)
        if key in RATING_FIELDS:
            if rating_raw is None:
                rating_raw = value
        elif key in _SCORE_SCALE_FIELD:
            if value is None or (isinstance(value, str) and not value.strip()):
                unread.append((key, f"empty_{key}"))  # the question is on the form, left blank: no score
            else:
                # An optional question never costs the review: an unreadable answer is kept raw, counted.
                scores[key], why = parse_optional_score(value, scale_for(venue_id, year, _SCORE_SCALE_FIELD[key]), key)
                if why:
                    unread.append((key, why))
        elif key not in NOT_REVIEW_TEXT and isinstance(value, str) and value.strip():
            texts[key] = value
    if rating_raw is None:
        raise RecordError("missing_rating", "no rating or recommendation field")
    rating = parse_score(rating_raw, scale_for(venue_id, year, "rating"), "rating")
    unread.extend(_absent_questions(content, venue_id, year))
    return Review(
        note_id=_reply_id(note),
        forum=_reply_id(note, "forum"),
        signature=_signature(note),
        invitation=next((i for i in _invitations(note) if i.endswith("/Official_Review")), ""),
        cdate=date_or_none(note.get("cdate"), "cdate"),
        tmdate=date_or_none(note.get("tmdate"), "tmdate"),
        rating=rating,
        confidence=scores.pop("confidence", None),
        soundness=scores.pop("soundness", None),
        presentation=scores.pop("presentation", None),
        contribution=scores.pop("contribution", None),
        other_scores=scores,
        texts=texts,
        versions_seen=versions_seen,
        license=note.get("license") if isinstance(note.get("license"), str) else None,
        unread_scores=tuple(unread),
    )


def _absent_questions(content: dict[str, Any], venue_id: str, year: int | None) -> list[tuple[str, str]]:
    """Scored questions of the year's form that the note does not hold at all, as ``absent_<field>``: no
    score, the review kept (an empty answer is ``empty_<field>``, counted where it is read)."""
    form = review_form(venue_id, year)
    return [(key, f"absent_{key}") for key in form.scores if key not in content] if form else []


def _check_form_answer(key: str, value: Any) -> None:
    """A review field holds a string, a number, a boolean, null or a list of strings; an object or a nested
    list is no answer any OpenReview form gives (``invalid_review_field``)."""
    if isinstance(value, dict) or (isinstance(value, list) and not all(isinstance(v, str) for v in value)):
        raise RecordError("invalid_review_field", f"{key} is {_kind(value)}, not a form answer")


def _meta_review(note: dict[str, Any], source: str) -> MetaReview | None:
    content = note.get("content")
    if not isinstance(content, dict):
        return None
    parts = []
    for key in META_TEXT_FIELDS:
        text = _text(content, key, "meta_review")
        if text and text.strip():
            parts.append(text.strip() if key in META_BARE_FIELDS else f"{key}: {text.strip()}")
    if not parts:
        return None
    return MetaReview(
        note_id=_reply_id(note),
        signature=_signature(note),
        text="\n\n".join(parts),
        cdate=date_or_none(note.get("cdate"), "meta review cdate"),
        source=source,  # type: ignore[arg-type]
        recommendation=_text(content, "recommendation", "meta_review"),
    )


def _comment(note: dict[str, Any]) -> Comment:
    content = note.get("content") if isinstance(note.get("content"), dict) else {}
    signature = _signature(note)
    return Comment(
        note_id=_reply_id(note),
        signature=signature,
        replyto=note.get("replyto") if isinstance(note.get("replyto"), str) else None,
        title=_text(content, "title", "comment") or "",
        text=_text(content, "comment", "comment") or "",
        cdate=date_or_none(note.get("cdate"), "comment cdate"),
        by_authors=signature.endswith("/Authors"),
    )


def _authors(content: dict[str, Any]) -> tuple[str, ...]:
    """Authors: a list of strings (v1 plain, v2 under ``value``) or one comma-separated string; blank names are
    dropped; anything else is ``invalid_authors``."""
    value = _value(content, "authors")
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list) and all(isinstance(a, str) for a in value):
        return tuple(a.strip() for a in value if a.strip())
    bad = next((a for a in value if not isinstance(a, str)), value) if isinstance(value, list) else value
    raise RecordError("invalid_authors", f"authors hold {_kind(bad)}, not only strings")


# ---------------------------------------------------------------------------------------------
# Submission


def parse_submission(note: dict[str, Any]) -> ParseOutcome:
    """One raw submission note (with its direct replies) to a record.

    Raises ``RecordError`` when the note is not a submission at all (no id, no content, a reply) or holds
    a value of the wrong type or range (module docstring); problems with single reviews are returned as
    rejects instead.
    """
    note_id = note.get("id")
    if note_id is None or note_id == "":
        raise RecordError("missing_id")
    note_id = check_id(note_id)
    if note.get("replyto") not in (None, note_id):
        raise RecordError("not_a_submission", f"reply to {_kind(note.get('replyto'))}")
    content = note.get("content")
    if not isinstance(content, dict):
        raise RecordError("missing_content")
    title = _text(content, "title", "title")
    if not title or not title.strip():
        raise RecordError("missing_title")
    forum = note.get("forum")
    forum = note_id if forum is None or forum == "" else check_id(forum, "invalid_forum", "forum")
    abstract = _text(content, "abstract", "abstract") or ""
    keywords = _keywords(content)
    dates = {key: date_or_none(note.get(key), key) for key in ("cdate", "mdate", "tmdate", "pdate", "odate")}
    api_version = 2 if isinstance(note.get("invitations"), list) or note.get("version") == 2 else 1
    venue_id = _venue_id(note)
    year_match = _YEAR.search(venue_id + "/")
    year = int(year_match.group(1)) if year_match else None

    all_replies = _replies(note)
    kinds = {id(reply): reply_kind(reply) for reply in all_replies}
    review_versions: dict[str, int] = {}  # per reviewer signature, every entry in the snapshot
    for reply in all_replies:
        if kinds[id(reply)] == "Official_Review":
            sig = _signature(reply)
            review_versions[sig] = review_versions.get(sig, 0) + 1
    replies, _ = _newest_by(all_replies, "id")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for reply in replies:
        kind = kinds[id(reply)]
        if kind:
            by_kind.setdefault(kind, []).append(reply)
    review_notes, _ = _newest_by(by_kind.get("Official_Review", []), "signature")
    superseded = sum(review_versions.values()) - len(review_notes)
    reviews: list[Review] = []
    rejects: list[Reject] = []
    history = _review_history(all_replies, kinds)
    for reply in review_notes:
        try:
            review = parse_review(reply, venue_id, year, review_versions.get(_signature(reply), 1))
        except RecordError as exc:
            rejects.append(Reject(_shown_id(reply.get("id")), "review", exc.reason, exc.detail))
            continue
        initial = _initial_rating(history.get(review.note_id, []), review.rating.scale)
        reviews.append(review if initial is None else dataclasses.replace(review, initial_rating=initial))

    decision_notes = by_kind.get("Decision", [])
    meta_review = None
    for meta_note in by_kind.get("Meta_Review", []):
        meta_review = _meta_review(meta_note, "meta_review_note") or meta_review
    if meta_review is None and decision_notes:
        meta_review = _meta_review(decision_notes[-1], "decision_note")

    decision = _decide(note, api_version, content, venue_id, decision_notes, by_kind)
    withdrawn = decision.label == "withdrawn"
    desk_rejected = decision.label == "desk_rejected"

    submission = Submission(
        id=note_id,
        forum=forum,
        number=int64_or_none(note.get("number")),
        venue_id=venue_id,
        year=year,
        api_version=api_version,
        title=title.strip(),
        abstract=abstract.strip(),
        keywords=keywords,
        primary_area=_text(content, "primary_area", "primary_area"),
        tldr=next((t for key in _TLDR_KEYS if (t := _text(content, key, "tldr"))), None),
        pdf=_text(content, "pdf", "pdf"),
        cdate=dates["cdate"],
        mdate=dates["mdate"] or dates["tmdate"],
        pdate=dates["pdate"],
        license=note.get("license") if isinstance(note.get("license"), str) else None,
        decision=decision,
        reviews=tuple(reviews),
        meta_review=meta_review,
        comments=tuple(_comment(c) for c in by_kind.get("Official_Comment", [])),
        withdrawn=withdrawn,
        desk_rejected=desk_rejected,
        odate=dates["odate"],
        authors=_authors(content),
    )
    return ParseOutcome(submission, rejects, superseded)


def _history_stamp(note: dict[str, Any]) -> int:
    """tmdate, else mdate, else cdate, else 0: the order of a review's versions for its rating history (the
    newest-version rule, ``_sort_stamp``, has never looked at cdate; kept apart so no built row changes)."""
    for key in ("tmdate", "mdate", "cdate"):
        value = note.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 0


def _review_history(replies: list[dict[str, Any]], kinds: dict[int, str | None]) -> dict[str, list[tuple[int, int, dict[str, Any]]]]:
    """Every version of each Official_Review in the snapshot, by note id: (stamp, position, note)."""
    versions: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
    for position, reply in enumerate(replies):
        if kinds[id(reply)] == "Official_Review" and isinstance(reply.get("id"), str):
            versions.setdefault(reply["id"], []).append((_history_stamp(reply), position, reply))
    return versions


def _initial_rating(versions: list[tuple[int, int, dict[str, Any]]], scale: str) -> int | None:
    """Rating of the oldest of a review's versions, on the kept version's scale; None with one version, or
    when the old one does not read (an unknown history, not a change)."""
    if len(versions) < 2:
        return None
    oldest = min(versions, key=lambda e: (e[0], e[1]))[2]
    content = oldest.get("content") if isinstance(oldest.get("content"), dict) else {}
    raw = next((content[key] for key in RATING_FIELDS if key in content), None)
    raw = raw.get("value") if isinstance(raw, dict) else raw
    try:
        return parse_score(raw, scale, "rating").value
    except RecordError:
        return None


def thread_roots(submission: Submission) -> dict[str, str]:
    """For each comment id, the note its thread starts from: a review id, or the submission id.

    A comment is followed up its ``replyto`` chain through other comments; a chain that reaches neither a
    kept review nor a known comment (a reply to the paper, to a dropped note, or a loop) belongs to the paper.
    """
    parent = {c.note_id: c.replyto for c in submission.comments}
    review_ids = {r.note_id for r in submission.reviews}
    roots: dict[str, str] = {}
    for comment in submission.comments:
        seen: set[str] = set()
        node: str | None = comment.note_id
        root = submission.id
        while node is not None and node not in seen:
            seen.add(node)
            target = parent.get(node)
            if target in review_ids:
                root = target
                break
            node = target if target in parent else None
        roots[comment.note_id] = root
    return roots


def _decide(
    note: dict[str, Any],
    api_version: int,
    content: dict[str, Any],
    venue_id: str,
    decision_notes: list[dict[str, Any]],
    by_kind: dict[str, list[dict[str, Any]]],
) -> Decision:
    venueid = _text(content, "venueid", "venue") or ""
    venue = _text(content, "venue", "venue") or ""
    from_venueid = decision_from_venueid(venueid, venue, venue_id) if venueid else None
    from_venue = decision_from_venue(venue) if venue else None
    # Withdrawal and desk rejection override every other source: a rejected paper may be withdrawn later.
    # API v2's venueid is the final word (a v2 note can keep a stale Desk_Rejected_Submission invitation
    # after a reversal); API v1 moves such a paper to a Withdrawn_/Desk_Rejected_Submission invitation.
    if api_version == 2 and from_venueid and from_venueid.label in ("withdrawn", "desk_rejected"):
        return from_venueid
    if api_version == 1:
        for inv in _invitations(note):
            if inv.endswith("/-/Withdrawn_Submission"):
                return Decision("withdrawn", inv, "invitation")
            if inv.endswith("/-/Desk_Rejected_Submission"):
                return Decision("desk_rejected", inv, "invitation")
    for candidate in (from_venueid, from_venue):
        if candidate and candidate.label in ("withdrawn", "desk_rejected"):
            return candidate
    if by_kind.get("Withdrawal") or by_kind.get("Withdrawn_Submission"):
        return Decision("withdrawn", "Withdrawal note", "withdrawal_note")
    if by_kind.get("Desk_Rejection"):
        return Decision("desk_rejected", "Desk_Rejection note", "desk_rejection_note")
    for decision_note in reversed(decision_notes):
        dcontent = decision_note.get("content")
        raw = _text(dcontent, "decision", "decision") if isinstance(dcontent, dict) else None
        if raw and raw.strip():
            return decision_from_text(raw, "decision_note")
    for candidate in (from_venueid, from_venue):
        if candidate and candidate.label != "undecided":
            return candidate
    if from_venueid:
        return from_venueid
    if from_venue:
        return from_venue
    return Decision("undecided", "", "none")
