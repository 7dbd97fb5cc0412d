"""Red-team cases for the fetch commands: hostile servers, hostile inputs and careless invocations.

Each case expects a clear one-line error or a counted, reasoned failure in the fetch manifest; never a
traceback, a hang (every server here is local and every policy tiny), a file written outside the target
folder, or an input overwritten.
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import threading
import time
import typing

import pytest

from cyclebench.cli import main
from cyclebench.sources.fetch_abstracts import (
    AbstractServices,
    CitedWork,
    fetch_abstracts,
)
from cyclebench.sources.fetch_arxiv import fetch_eprints, norm_title, parse_feed
from cyclebench.sources.http_fetch import (
    FetchError,
    HttpPolicy,
    Throttle,
    http_get,
    resume_hit,
    write_atomic,
)
from tests.fetch_servers import FetchServer, Reply

TINY = HttpPolicy(min_interval=0.0, timeout=2.0, retries=1, backoff=0.01, max_bytes=4096, deadline=1.0)
GZ = gzip.compress(b"\\documentclass{article}")


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Answers by path: ``/drip`` a byte every 50 ms forever (no Content-Length), ``/huge`` an endless body
    without a Content-Length, ``/claims-huge`` a Content-Length of 10 GB, ``/to-ftp``/``/to-file`` redirects
    to other schemes, ``/to-other-host`` a redirect to ``localhost`` (another host name) that echoes headers."""

    protocol_version = "HTTP/1.0"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        if self.path == "/drip" or self.path == "/huge":
            self.send_response(200)
            self.end_headers()
            block = b"x" if self.path == "/drip" else b"x" * 65536
            try:
                for _ in range(100_000):
                    self.wfile.write(block)
                    self.wfile.flush()
                    if self.path == "/drip":
                        time.sleep(0.05)
            except OSError:
                return
        elif self.path == "/claims-huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024**3))
            self.end_headers()
            self.wfile.write(b"x" * 100)
        elif self.path in ("/to-ftp", "/to-file"):
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/x" if self.path == "/to-ftp" else "file:///etc/passwd")
            self.end_headers()
        elif self.path == "/to-other-host":
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/echo")
            self.end_headers()
        elif self.path.startswith("/to-port/"):  # the same host name on another port (another service)
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.path.rsplit('/', 1)[1]}/echo")
            self.end_headers()
        elif self.path == "/echo":
            body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture()
def hostile():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _get(url: str, policy: HttpPolicy = TINY, headers: dict | None = None) -> bytes:
    return http_get(url, policy, Throttle(0.0), headers=headers, sleep=lambda s: None)


def test_endless_slow_drip_is_cut_off_by_the_deadline(hostile):
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        _get(f"{hostile}/drip")
    assert caught.value.reason == "gave_up" and "not complete" in caught.value.detail
    assert time.monotonic() - started < 4


def test_endless_body_without_length_is_refused_once_over_the_limit(hostile):
    with pytest.raises(FetchError) as caught:
        _get(f"{hostile}/huge")
    assert caught.value.reason == "too_large"


def test_declared_huge_body_is_refused_before_reading(hostile):
    with pytest.raises(FetchError) as caught:
        _get(f"{hostile}/claims-huge")
    assert caught.value.reason == "too_large" and "Content-Length" in caught.value.detail


@pytest.mark.parametrize("path", ["/to-ftp", "/to-file"])
def test_redirect_to_another_scheme_is_a_failure(hostile, path):
    with pytest.raises(FetchError) as caught:
        _get(f"{hostile}{path}")
    assert caught.value.reason == "http_302"


def test_redirect_to_another_host_does_not_carry_the_api_key(hostile):
    echoed = json.loads(_get(f"{hostile}/to-other-host", headers={"x-api-key": "SECRET"}))
    assert "x-api-key" not in echoed and echoed["user-agent"].startswith("cyclebench-fetch")


def test_redirect_to_the_same_host_on_another_port_does_not_carry_the_api_key(hostile):
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    other.daemon_threads = True
    threading.Thread(target=other.serve_forever, args=(0.02,), daemon=True).start()
    try:
        echoed = json.loads(_get(f"{hostile}/to-port/{other.server_address[1]}", headers={"x-api-key": "SECRET"}))
    finally:
        other.shutdown()
        other.server_close()
    assert "x-api-key" not in echoed


def test_same_host_redirect_keeps_headers(hostile):
    # the control: a redirect on the same host name keeps the key (127.0.0.1 -> 127.0.0.1)
    echoed = json.loads(_get(f"{hostile}/echo", headers={"x-api-key": "SECRET"}))
    assert echoed["x-api-key"] == "SECRET"


@pytest.mark.parametrize("value", ["-5", "1e12", "inf", "nan", "Wed, 21 Oct 1970 07:28:00 GMT", "soon"])
def test_retry_after_huge_negative_or_junk_is_bounded(value):
    waits: list[float] = []
    policy = HttpPolicy(min_interval=0.0, timeout=2.0, retries=1, backoff=0.01, retry_after_max=3.0)
    with FetchServer() as server:
        server.script("/x", [Reply(429, headers={"Retry-After": value})])
        server.route("/x", lambda p, q: Reply(200, b"ok"))
        assert http_get(f"{server.base_url}/x", policy, Throttle(0.0), sleep=waits.append) == b"ok"
    assert len(waits) == 1 and 0.0 <= waits[0] <= 3.0


def test_planted_symlink_at_part_path_is_not_written_through(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "abc.pdf.part").symlink_to(outside)
    write_atomic(folder / "abc.pdf", b"%PDF-1.4 new")
    assert outside.read_text() == "precious"
    assert (folder / "abc.pdf").read_bytes() == b"%PDF-1.4 new" and not (folder / "abc.pdf").is_symlink()


def test_symlink_at_target_is_never_a_resume_hit_and_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside.tar.gz"
    outside.write_bytes(GZ)
    folder = tmp_path / "latex"
    folder.mkdir()
    target = folder / "p1.tar.gz"
    target.symlink_to(outside)
    assert not resume_hit(target, None)
    write_atomic(target, b"\x1f\x8bnew")
    assert outside.read_bytes() == GZ and not target.is_symlink()


def test_hand_edited_manifest_claiming_done_does_not_skip_a_changed_file(tmp_path):
    out = tmp_path / "latex"
    out.mkdir()
    (out / "p1.tar.gz").write_bytes(b"\x1f\x8b truncated")
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"items": [{"id": "p1", "status": "fetched", "size": 14, "sha256": "0" * 64}]}))
    meta = tmp_path / "papers.jsonl"
    meta.write_text(json.dumps({"paperId": "p1", "arxiv": "2301.00001"}) + "\n")
    with FetchServer() as server:
        server.route("/e-print/2301.00001", lambda p, q: Reply(200, GZ))
        counts = fetch_eprints(meta, out, manifest, policy=TINY, api_url=f"{server.base_url}/api/query",
                               eprint_url=f"{server.base_url}/e-print", progress=False)
    assert counts["fetched"] == 1 and (out / "p1.tar.gz").read_bytes() == GZ


@pytest.mark.parametrize("body", [b"[1, 2]", b'{"items": {"p1": 1}}', b"\x00\xff", b'{"items": [1, "x", null]}'])
def test_garbage_manifest_is_ignored_not_a_crash(tmp_path, body):
    out = tmp_path / "latex"
    manifest = tmp_path / "m.json"
    manifest.write_bytes(body)
    meta = tmp_path / "papers.jsonl"
    meta.write_text(json.dumps({"paperId": "p1", "arxiv": "2301.00001"}) + "\n")
    with FetchServer() as server:
        server.route("/e-print/2301.00001", lambda p, q: Reply(200, GZ))
        counts = fetch_eprints(meta, out, manifest, policy=TINY, api_url=f"{server.base_url}/api/query",
                               eprint_url=f"{server.base_url}/e-print", progress=False)
    assert counts["fetched"] == 1


def test_ids_that_are_paths_are_failed_items_and_nothing_lands_outside(tmp_path):
    out = tmp_path / "deep" / "latex"
    meta = tmp_path / "papers.jsonl"
    ids = ["../escape", "a/b", "/abs", ".hidden", "", None, 7, "ok"]
    meta.write_text("".join(json.dumps({"paperId": i, "arxiv": "2301.00001"}) + "\n" for i in ids) + "not json\n")
    with FetchServer() as server:
        server.route("/e-print/2301.00001", lambda p, q: Reply(200, GZ))
        counts = fetch_eprints(meta, out, tmp_path / "m.json", policy=TINY, api_url=f"{server.base_url}/api/query",
                               eprint_url=f"{server.base_url}/e-print", progress=False)
    assert counts["inputs"] == len(ids) + 1 and counts["fetched"] == 1
    assert counts["failed_reasons"] == {"invalid_paper_id": len(ids) - 1, "invalid_row": 1}
    assert sorted(p.name for p in tmp_path.rglob("*.tar.gz")) == ["ok.tar.gz"]


def test_hostile_feed_id_cannot_steer_the_download_path():
    feed = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry>'
            b"<id>http://arxiv.org/abs/../1234567</id><title>T</title></entry></feed>")
    assert parse_feed(feed) == []


def test_feed_with_entity_expansion_is_a_bad_feed_fast():
    lol = "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY l0 "lol">{lol}]>'
            f'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&l9;</title></entry></feed>').encode()
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        parse_feed(bomb)
    assert caught.value.reason == "arxiv_bad_feed" and time.monotonic() - started < 2


@pytest.mark.parametrize("title", [5, ["a", "b"], None, {"t": 1}])
def test_norm_title_of_a_non_string_is_empty(title):
    assert norm_title(title) == ""


@pytest.mark.parametrize("s2_body", [
    {"data": {"title": "Deep Nets", "abstract": "x"}},  # a dict where a list belongs
    {"data": 5}, {"data": "Deep Nets"}, {"data": [None]},
    {"data": [{"title": ["Deep", "Nets"], "abstract": "x"}]},  # a title that is a list
    [1, 2], "just a string",
])
def test_semantic_scholar_odd_shapes_fall_back_to_openalex(tmp_path, s2_body):
    with FetchServer() as server:
        server.route("/graph/v1/paper/search/match", lambda p, q: Reply(200, json.dumps(s2_body).encode()))
        server.route("/works", lambda p, q: Reply(200, json.dumps({"results": [
            {"title": 7}, {"display_name": "Deep Nets", "abstract_inverted_index": {"Deep": [0], "text": [1]}}]}).encode()))
        services = AbstractServices(s2_url=f"{server.base_url}/graph/v1", openalex_url=server.base_url,
                                    s2_policy=TINY, openalex_policy=TINY, s2_key="")
        counts = fetch_abstracts([CitedWork(title="Deep Nets", where="a.bib#k")], tmp_path / "cited.jsonl",
                                 tmp_path / "m.json", services=services, progress=False, sleep=lambda s: None)
    assert counts["fetched"] == 1
    row = json.loads((tmp_path / "cited.jsonl").read_text())
    assert row == {"title": "Deep Nets", "abstract": "Deep text", "source": "openalex"}


def test_html_where_json_belongs_is_a_counted_service_failure(tmp_path):
    with FetchServer() as server:
        server.route("/graph/v1/paper/DOI:10.1/x", lambda p, q: Reply(200, b"<html>busy</html>"))
        server.route("/works/doi:10.1/x", lambda p, q: Reply(200, b"<html>busy</html>",
                                                             {"Content-Type": "text/html"}))
        services = AbstractServices(s2_url=f"{server.base_url}/graph/v1", openalex_url=server.base_url,
                                    s2_policy=TINY, openalex_policy=TINY, s2_key="")
        counts = fetch_abstracts([CitedWork(doi="10.1/x", where="a.bib#k")], tmp_path / "cited.jsonl",
                                 tmp_path / "m.json", services=services, progress=False, sleep=lambda s: None)
    assert counts["failed_reasons"] == {"service_failed": 1}


def test_output_folder_that_is_a_file_or_target_that_is_a_folder(tmp_path):
    meta = tmp_path / "papers.jsonl"
    meta.write_text(json.dumps({"paperId": "p1", "arxiv": "2301.00001"}) + "\n")
    with pytest.raises(IsADirectoryError):
        (tmp_path / "x").mkdir()
        write_atomic(tmp_path / "x", b"data")
    assert main(["fetch", "arxiv", "--metadata", str(meta), "--out", str(meta), "--no-progress"]) != 0
    assert json.loads(meta.read_text()) == {"paperId": "p1", "arxiv": "2301.00001"}


@pytest.mark.parametrize("argv", [
    ["fetch", "abstracts", "--bib", "{bib}", "--out", "{bib}"],
    ["fetch", "abstracts", "--bib", "{bib}", "--out", "{tmp}/c.jsonl", "--manifest", "{bib}"],
    ["fetch", "abstracts", "--bib", "{bib}", "--out", "{tmp}/c.jsonl", "--manifest", "{tmp}/c.jsonl"],
    ["fetch", "arxiv", "--metadata", "{meta}", "--out", "{tmp}/latex", "--manifest", "{meta}"],
    ["fetch", "openreview", "--venue", "ICLR.cc/2024/Conference", "--out", "{meta}", "--pdfs", "{tmp}/p",
     "--manifest", "{meta}"],
])
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path, capsys, argv):
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{k, title={Deep Nets}, doi={10.1/x}}\n")
    meta = tmp_path / "papers.jsonl"
    meta.write_text(json.dumps({"paperId": "p1", "arxiv": "2301.00001"}) + "\n")
    before = {p: p.read_bytes() for p in (bib, meta)}
    args = [a.format(bib=bib, meta=meta, tmp=tmp_path) for a in argv]
    assert main(args + ["--base-url", "http://127.0.0.1:9", "--no-progress"]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("input" in err or "same path" in err)
    assert {p: p.read_bytes() for p in (bib, meta)} == before


def test_interrupt_mid_write_leaves_no_part_and_no_target(tmp_path, monkeypatch):
    target = tmp_path / "a.pdf"
    real = os.replace

    def interrupted(src, dst):  # Ctrl-C between the write and the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"%PDF-1.4")
    monkeypatch.setattr(os, "replace", real)
    assert sorted(tmp_path.iterdir()) == []


class _HostileAttachments(_Hostile):
    """``/attachment?id=drip`` drips forever, ``id=huge`` streams forever, ``id=ok*`` is a PDF that records the
    Authorization header it was asked with."""

    seen_auth: typing.ClassVar[list] = []

    def do_GET(self) -> None:
        import urllib.parse

        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        note = query.get("id", "")
        if note in ("drip", "huge"):
            self.path = f"/{note}"
            return super().do_GET()
        type(self).seen_auth.append(self.headers.get("Authorization"))
        body = b"%PDF-1.4 " + note.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_openreview_pdfs_endless_and_huge_bodies_fail_within_the_deadline(tmp_path):
    """``fetch openreview --pdfs`` no longer reads through openreview-py's unbounded ``get_attachment``."""
    from types import SimpleNamespace

    from cyclebench.sources.fetch import attachment_request
    from cyclebench.sources.fetch_pdfs import fetch_submission_pdfs

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HostileAttachments)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    _HostileAttachments.seen_auth = []
    client = SimpleNamespace(baseurl=f"http://127.0.0.1:{server.server_address[1]}",
                             headers={"User-Agent": "x", "Accept": "application/json", "Authorization": "Bearer t0k"})
    notes = [{"id": i, "content": {"pdf": f"/pdf/{i}.pdf"}} for i in ("ok1", "drip", "huge", "ok2")]
    policy = HttpPolicy(min_interval=0.0, timeout=2.0, retries=0, backoff=0.01, max_bytes=200_000, deadline=1.0)
    start = time.monotonic()
    try:
        counts = fetch_submission_pdfs(notes, lambda note_id: attachment_request(client, note_id), tmp_path / "pdfs",
                                       tmp_path / "m.json", policy=policy, progress=False, sleep=lambda s: None)
    finally:
        server.shutdown()
        server.server_close()
    assert time.monotonic() - start < 10
    assert counts["inputs"] == 4 and counts["fetched"] == 2 and counts["failed"] == 2
    assert counts["fetched"] + counts["skipped"] + counts["failed"] == counts["inputs"]
    assert counts["failed_reasons"] == {"gave_up": 1, "too_large": 1}
    items = {i["id"]: i for i in json.loads((tmp_path / "m.json").read_text())["items"]}
    assert items["drip"]["reason"] == "gave_up" and "not complete after 1 s" in items["drip"]["detail"]
    assert items["huge"]["reason"] == "too_large"
    assert sorted(p.name for p in (tmp_path / "pdfs").iterdir()) == ["ok1.pdf", "ok2.pdf"]
    assert (tmp_path / "pdfs" / "ok2.pdf").read_bytes() == b"%PDF-1.4 ok2"
    assert _HostileAttachments.seen_auth == ["Bearer t0k", "Bearer t0k"]  # the client's token, as it would send


def test_attachment_request_is_the_clients_url_without_its_other_headers():
    from types import SimpleNamespace

    from cyclebench.sources.fetch import attachment_request

    url, headers = attachment_request(SimpleNamespace(baseurl="https://api2.openreview.net/", headers={"Accept": "a"}),
                                      "a b&c")
    assert url == "https://api2.openreview.net/attachment?id=a+b%26c&name=pdf" and headers == {}
