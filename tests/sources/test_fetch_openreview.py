"""``fetch openreview`` with the REAL openreview-py client against a local server speaking its endpoints:
``GET /notes`` (invitation, sort=id, limit, with_count, then ``after=<last id>`` paging) and
``GET /attachment?id=&name=pdf``. No login: the client logs in only when given credentials."""

from __future__ import annotations

import json
import time

import pytest

from cyclebench.cli import main
from cyclebench.sources.openreview import iter_raw_notes, parse_submission
from tests.fetch_servers import FetchServer, Reply

pytest.importorskip("openreview")

VENUE = "ICLR.cc/2023/Conference"
PDF = b"%PDF-1.5\n" + b"x" * 2000 + b"\n%%EOF\n"


def _v1_note(i: int, invitation: str, pdf: bool = True) -> dict:
    content = {"title": f"Paper {i}", "abstract": "An abstract.", "authors": ["A B"], "keywords": []}
    if pdf:
        content["pdf"] = f"/pdf/{i:040d}.pdf"
    return {"id": f"note{i:03d}", "forum": f"note{i:03d}", "number": i, "invitation": invitation, "cdate": 1663000000000,
            "tcdate": 1663000000000, "tmdate": 1663000000000, "content": content, "readers": ["everyone"],
            "signatures": [f"{VENUE}/Paper{i}/Authors"], "writers": [VENUE],
            "details": {"directReplies": [{"id": f"rev{i}", "forum": f"note{i:03d}", "replyto": f"note{i:03d}",
                                           "invitation": f"{VENUE}/Paper{i}/-/Official_Review", "cdate": 1667000000000,
                                           "tcdate": 1667000000000, "tmdate": 1667000000000,
                                           "signatures": [f"{VENUE}/Paper{i}/Reviewer_x{i}"],
                                           "content": {"recommendation": "6: marginally above the acceptance threshold",
                                                       "confidence": "3: fairly confident", "summary_of_the_paper": "s"}}]}}


def openreview_server(notes_by_invitation: dict[str, list[dict]], pdfs: dict[str, bytes]) -> FetchServer:
    server = FetchServer()

    def notes(path, query):
        rows = sorted(notes_by_invitation.get(query.get("invitation", ""), []), key=lambda n: n["id"])
        if "after" in query:
            rows = [n for n in rows if n["id"] > query["after"]]
        offset = int(query.get("offset", 0))
        limit = int(query.get("limit", 1000))
        body = {"notes": rows[offset:offset + limit], "count": len(rows)}
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def attachment(path, query):
        data = pdfs.get(query.get("id", ""))
        if data is None:
            return Reply(404, b'{"name":"NotFoundError","message":"File not found"}', {"Content-Type": "application/json"})
        return Reply(200, data, {"Content-Type": "application/pdf"})

    server.route("/notes", notes)
    server.route("/attachment", attachment)
    return server


@pytest.fixture(autouse=True)
def _anonymous(monkeypatch):
    monkeypatch.delenv("OPENREVIEW_USERNAME", raising=False)
    monkeypatch.delenv("OPENREVIEW_PASSWORD", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


def _fetch(server, tmp_path, *extra):
    return main(["fetch", "openreview", "--venue", VENUE, "--api", "1", "--out", str(tmp_path / "raw.jsonl"),
                 "--pdfs", str(tmp_path / "pdfs"), "--base-url", server.base_url, "--interval", "0", "--backoff", "0.01", "--no-progress", *extra])


def test_notes_pdfs_withdrawn_and_manifest_through_the_real_client(tmp_path, capsys):
    blind = [_v1_note(i, f"{VENUE}/-/Blind_Submission") for i in range(1, 5)] + [_v1_note(5, f"{VENUE}/-/Blind_Submission", pdf=False)]
    withdrawn = [_v1_note(6, f"{VENUE}/-/Withdrawn_Submission")]
    desk = [_v1_note(7, f"{VENUE}/-/Desk_Rejected_Submission")]
    pdfs = {f"note{i:03d}": PDF for i in (1, 2, 6, 7)}
    pdfs["note003"] = b"<html>Internal error page</html>"  # a "PDF" that is not one
    # note004 has a pdf field but the server has no file: 404
    with openreview_server({f"{VENUE}/-/Blind_Submission": blind, f"{VENUE}/-/Withdrawn_Submission": withdrawn,
                            f"{VENUE}/-/Desk_Rejected_Submission": desk}, pdfs) as server:
        assert _fetch(server, tmp_path, "--include-withdrawn") == 0
        invitations = {q["invitation"] for q in server.hits("/notes")}
    assert invitations == {f"{VENUE}/-/Blind_Submission", f"{VENUE}/-/Withdrawn_Submission",
                           f"{VENUE}/-/Desk_Rejected_Submission"}
    # The snapshot keeps what the server sent (v1's to_json() alone drops details: every review lost).
    written = [r.note for r in iter_raw_notes(tmp_path / "raw.jsonl")]
    assert [n["id"] for n in written] == [f"note{i:03d}" for i in range(1, 8)]
    sent = {n["id"]: n for n in blind + withdrawn + desk}
    for note in written:
        assert parse_submission(note).submission == parse_submission(sent[note["id"]]).submission
    assert len(parse_submission(written[0]).submission.reviews) == 1
    assert parse_submission(written[5]).submission.decision.label == "withdrawn"
    # PDFs: only real ones saved; every note accounted for.
    assert sorted(p.name for p in (tmp_path / "pdfs").iterdir()) == ["note001.pdf", "note002.pdf", "note006.pdf", "note007.pdf"]
    manifest = json.loads((tmp_path / "pdfs.fetch-manifest.json").read_text())
    assert manifest["counts"] == {"inputs": 7, "fetched": 4, "skipped": 0, "failed": 3,
                                  "failed_reasons": {"no_pdf": 1, "not_found": 1, "not_pdf": 1}}
    assert "7 in, 4 fetched, 0 skipped, 3 failed" in capsys.readouterr().out


def test_without_include_withdrawn_only_blind_submissions(tmp_path):
    blind = [_v1_note(1, f"{VENUE}/-/Blind_Submission")]
    with openreview_server({f"{VENUE}/-/Blind_Submission": blind,
                            f"{VENUE}/-/Withdrawn_Submission": [_v1_note(2, "x")]}, {"note001": PDF}) as server:
        assert _fetch(server, tmp_path) == 0
        assert {q["invitation"] for q in server.hits("/notes")} == {f"{VENUE}/-/Blind_Submission"}


def test_resume_429_and_a_dropped_download(tmp_path):
    blind = [_v1_note(i, f"{VENUE}/-/Blind_Submission") for i in range(1, 4)]
    with openreview_server({f"{VENUE}/-/Blind_Submission": blind}, {f"note{i:03d}": PDF for i in range(1, 4)}) as server:
        assert _fetch(server, tmp_path) == 0
        first = json.loads((tmp_path / "pdfs.fetch-manifest.json").read_text())["counts"]
        assert first["fetched"] == 3
        (tmp_path / "pdfs" / "note003.pdf").unlink()  # as if the run was killed before note003
        before = len(server.hits("/attachment"))
        # Rerun: the snapshot is reused, two PDFs skipped; note003 answers 429 (Retry-After 1) then a cut body.
        server.script("/attachment", [Reply(429, b"slow down", {"Retry-After": "1"}), Reply(200, PDF, cut=100)])
        start = time.monotonic()
        assert _fetch(server, tmp_path) == 0
        assert time.monotonic() - start >= 1.0  # Retry-After honoured
        assert len(server.hits("/attachment")) - before == 3  # 429, cut, then whole: only note003 asked
    counts = json.loads((tmp_path / "pdfs.fetch-manifest.json").read_text())["counts"]
    assert counts == {"inputs": 3, "fetched": 1, "skipped": 2, "failed": 0, "failed_reasons": {}}
    assert (tmp_path / "pdfs" / "note003.pdf").read_bytes() == PDF
    assert not list((tmp_path / "pdfs").glob("*.part"))


def test_dead_server_is_a_clear_error(tmp_path, capsys):
    with FetchServer() as server:
        url = server.base_url
    code = main(["fetch", "openreview", "--venue", VENUE, "--api", "1", "--out", str(tmp_path / "raw.jsonl"),
                 "--base-url", url, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "could not reach OpenReview" in err and "Traceback" not in err
    assert not (tmp_path / "raw.jsonl").exists()
