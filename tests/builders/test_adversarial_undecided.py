"""Attacks on ``--undecided keep|drop``, the ``cdate``/``odate``/``pdate`` columns and
``build research-14k-metadata``: hostile dates, missing dates, unknown decision labels, venues without a year,
duplicate ids and malformed authors. Each is a counted, reasoned reject or a null date, never a crash or a
silent drop; every build's counts reconcile (papers in = kept + rejected by reason)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from cyclebench.builders import deepreview13k, review5k
from cyclebench.builders.research14k_metadata import MetadataCounts, metadata_rows

from cyclebench.hub.columns import Review5K
from cyclebench.hub.load import read_rows

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "openreview" / "iclr2025_v2.jsonl"


def _notes() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]


def _variant(note: dict, note_id: str, edit) -> dict:  # type: ignore[no-untyped-def]
    out = copy.deepcopy(note)
    out["id"] = note_id
    edit(out)
    return out


def _set(key, value):  # type: ignore[no-untyped-def]
    return lambda n: n.__setitem__(key, value)


def _content(key, value):  # type: ignore[no-untyped-def]
    return lambda n: n["content"].__setitem__(key, {"value": value})


def _in_review_with_decision(label: str):  # type: ignore[no-untyped-def]
    """Still in review by venueid/venue, but a Decision reply says ``label``."""
    def edit(n: dict) -> None:
        n["content"]["venueid"] = {"value": "ICLR.cc/2025/Conference/Submission"}
        n["content"]["venue"] = {"value": "Submitted to ICLR 2025"}
        n.pop("pdate", None)
        for reply in n["details"]["directReplies"]:
            if any(i.endswith("/-/Decision") for i in reply["invitations"]):
                reply["content"][Review5K.DECISION] = {"value": label}
    return edit


# (id suffix, edit, expected reject reason or None when the paper is kept)
HOSTILE = [
    ("cdate_string", _set("cdate", "2024-10-01"), "implausible_date"),
    ("cdate_negative", _set("cdate", -1), "implausible_date"),
    ("cdate_2_70", _set("cdate", 2**70), "implausible_date"),  # read from the file: beyond int64
    ("cdate_float", _set("cdate", 1.7e12), "implausible_date"),
    ("cdate_bool", _set("cdate", True), "implausible_date"),
    ("pdate_list", _set("pdate", [1727140800000]), "implausible_date"),
    ("odate_null", _set("odate", None), None),
    ("odate_missing", lambda n: n.pop("odate", None), None),
    ("authors_dict", _content("authors", {"first": "A. Author"}), "invalid_authors"),
    ("venue_int", _content("venue", 5), "invalid_venue"),
]


def _write(path: Path, notes: list[dict]) -> Path:
    path.write_text("".join(json.dumps(n) + "\n" for n in notes), encoding="utf-8")
    return path


def _hostile_snapshot(tmp_path: Path, *extra: dict) -> tuple[Path, dict[str, str | None]]:
    base = _notes()
    notes, expected = [], {}
    for name, edit, reason in HOSTILE:
        note = _variant(base[0], f"x_{name}", edit)  # an accepted paper: only the attack decides
        notes.append(note)
        expected[note["id"]] = reason
    return _write(tmp_path / "hostile.jsonl", notes + list(extra)), expected


def _default_rows(out: Path) -> dict[str, dict]:
    splits = [s for s in ("train", "test", "test_2025", "test_2026") if any(out.glob(f"**/{s}-*.parquet"))]
    return {r[Review5K.ID]: r for r in read_rows(str(out), "default", splits, None)}


def _reconciles(counts: dict) -> None:
    assert counts["papers_in"] == counts["papers_kept"] + sum(counts["papers_rejected"].values())


@pytest.mark.parametrize("policy", ["keep", "drop"])
def test_review5k_hostile_dates_are_rejected_with_a_reason_or_null(tmp_path, policy):
    snapshot, expected = _hostile_snapshot(tmp_path)
    config = review5k.Review5KConfig(undecided=policy, require_text=False, min_reviews=0)
    report = review5k.build(snapshot, None, tmp_path / "out", config, progress=False)
    counts = report.manifest["counts"]
    _reconciles(counts)
    rejects = [r for r in expected.values() if r]
    assert counts["papers_in"] == len(expected)
    for reason in set(rejects):
        assert counts["papers_rejected"].get(reason) == rejects.count(reason), counts["papers_rejected"]
    rows = _default_rows(tmp_path / "out")
    kept = {k for k, v in expected.items() if v is None}
    assert kept <= set(rows)
    assert rows["x_odate_null"][Review5K.ODATE] is None and rows["x_odate_missing"][Review5K.ODATE] is None
    assert isinstance(rows["x_odate_missing"][Review5K.CDATE], int) and rows["x_odate_missing"][Review5K.CDATE] > 0


def test_unknown_decision_label_under_keep_is_undecided_and_counted(tmp_path):
    base = _notes()
    pending = _variant(base[0], "x_pending", _in_review_with_decision("Deferred to a later cycle"))
    accepted = _variant(base[0], "x_accepted", lambda n: None)
    snapshot = _write(tmp_path / "s.jsonl", [pending, accepted])
    for policy in ("keep", "drop"):
        config = review5k.Review5KConfig(undecided=policy, require_text=False, min_reviews=0)
        report = review5k.build(snapshot, None, tmp_path / policy, config, progress=False)
        counts = report.manifest["counts"]
        _reconciles(counts)
        rows = _default_rows(tmp_path / policy)
        assert rows["x_accepted"][Review5K.DECISION] == Review5K.ACCEPT == "Accept"
        if policy == "keep":
            assert counts["papers_undecided_kept"] == 1 and rows["x_pending"][Review5K.DECISION] is None
        else:
            assert counts["papers_rejected"] == {"undecided": 1} and "x_pending" not in rows


def test_deepreview_keeps_dates_and_rejects_hostile_ones(tmp_path):
    base = _notes()
    pending = _variant(base[0], "x_pending", _in_review_with_decision("???"))
    snapshot, expected = _hostile_snapshot(tmp_path, pending)
    config = deepreview13k.DeepReview13KConfig(undecided="keep", require_text=False, modes=("fast",), min_reviews=1)
    report = deepreview13k.build(snapshot, None, tmp_path / "dr", config, workers=1, progress=False)
    counts = report.manifest["counts"]
    _reconciles(counts)
    assert counts["papers_in"] == len(expected) + 1
    assert counts["papers_undecided_kept"] == 1
    rejects = [r for r in expected.values() if r]
    for reason in set(rejects):
        assert counts["papers_rejected"].get(reason) == rejects.count(reason), counts["papers_rejected"]


def test_metadata_hostile_notes_each_counted_with_a_reason(tmp_path):
    base = _notes()
    no_year = _variant(base[0], "x_no_year", lambda n: (
        n["content"].__setitem__("venue", {"value": "ICLR Conference"}),
        n["content"].__setitem__("venueid", {"value": "ICLR.cc/Conference"}),
        n.__setitem__("invitations", ["ICLR.cc/Conference/-/Submission"]),
        n.__setitem__("domain", "ICLR.cc/Conference")))
    duplicate = copy.deepcopy(base[0])
    snapshot, expected = _hostile_snapshot(tmp_path, base[0], duplicate, no_year,
                                           _variant(base[1], "x_pending", _in_review_with_decision("Pending")))
    with open(snapshot, "a", encoding="utf-8") as f:
        f.write("{not json\n[1, 2]\n")
    counts = MetadataCounts()
    rows = list(metadata_rows([snapshot], decisions=("accept", "undecided"), counts=counts))
    as_dict = counts.as_dict()
    assert as_dict["notes_in"] == len(expected) + 4 + 2
    assert as_dict["notes_in"] == as_dict["rows"] + sum(as_dict["skipped"].values()) and len(rows) == as_dict["rows"]
    assert as_dict["skipped"]["duplicate_paper_id"] == 1
    ids = [r["paperId"] for r in rows]
    assert len(ids) == len(set(ids)) and "x_pending" in ids and "x_authors_dict" not in ids
    for reason in {r for r in expected.values() if r}:
        assert as_dict["skipped"].get(reason, 0) >= 1, as_dict["skipped"]
    assert all(isinstance(r["year"], int) for r in rows)
    assert as_dict["skipped"]["no_year"] == 1 and "x_no_year" not in ids
