"""``fetch arxiv`` against a local server speaking the arXiv API (Atom feed) and ``/e-print/<id>``."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from cyclebench.cli import main
from cyclebench.sources.fetch_arxiv import (
    ARXIV_POLICY,
    choose,
    fetch_eprints,
    parse_feed,
)
from cyclebench.sources.http_fetch import HttpPolicy, Throttle
from tests.fetch_servers import FetchServer, Reply

FAST = HttpPolicy(min_interval=0.0, timeout=5.0, retries=3, backoff=0.01)


def feed(entries: list[tuple[str, str, list[str]]]) -> bytes:
    body = "".join(
        f"<entry><id>http://arxiv.org/abs/{i}</id><title>{escape(t)}</title>"
        + "".join(f"<author><name>{escape(a)}</name></author>" for a in authors) + "</entry>"
        for i, t, authors in entries)
    return f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">{body}</feed>'.encode()


def eprint(text: str) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tf:
        data = text.encode()
        info = tarfile.TarInfo("main.tex")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return raw.getvalue()


PAPERS = [
    {"paperId": "p1", "title": "On Calibration of Modern Neural Networks", "authors": ["Chuan Guo", "Geoff Pleiss"]},
    {"paperId": "p2", "title": "Dense Passage Retrieval for Open-Domain QA", "authors": ["Vladimir Karpukhin"]},
    {"paperId": "p3", "title": "A Paper arXiv Does Not Have", "authors": ["Nobody"]},
    {"paperId": "p4", "arxiv": "arXiv:2002.05709v3"},
    {"paperId": "p5", "title": "Only A PDF", "authors": ["Jane Roe"]},
]
FEEDS = {
    "on calibration of modern neural networks": [("1706.04599v2", "On Calibration of Modern\n  Neural Networks", ["Chuan Guo", "Geoff Pleiss"]),
                                                 ("1999.00001v1", "On Calibration of Modern Neural Networks: a reply", ["X Y"])],
    "dense passage retrieval for open domain qa": [("2004.04906v3", "Dense Passage Retrieval for Open-Domain QA", ["Someone Else"])],
    "only a pdf": [("2101.00005v1", "Only a PDF", ["Jane Roe"])],
}
EPRINTS = {"1706.04599": eprint("calibration"), "2002.05709": eprint("simclr"), "2101.00005": b"%PDF-1.4 no source"}


def arxiv_server() -> FetchServer:
    server = FetchServer()

    def query(path, q):
        words = q["search_query"].removeprefix('ti:"').removesuffix('"')
        return Reply(200, feed(FEEDS.get(words, [])), {"Content-Type": "application/atom+xml"})

    def eprint_route(path, q):
        data = EPRINTS.get(path.rsplit("/", 1)[1])
        return Reply(200, data) if data is not None else Reply(404, b"not found")

    server.route("/api/query", query)
    server.route("/e-print/", eprint_route, prefix=True)
    return server


def write_meta(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n")
    return path


def _run(server, meta, out, *extra) -> int:
    return main(["fetch", "arxiv", "--metadata", str(meta), "--out", str(out), "--base-url", f"{server.base_url}/api/query",
                 "--eprint-url", f"{server.base_url}/e-print", "--interval", "0", "--backoff", "0.01", "--no-progress", *extra])


def test_match_download_evidence_and_resume(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    out = tmp_path / "latex"
    with arxiv_server() as server:
        # A partial run (as if killed after two papers), then the whole list: those two are skipped.
        assert _run(server, write_meta(tmp_path / "part.jsonl", PAPERS[:2]), out) == 0
        # The rerun meets a 503, a 429 with Retry-After and a dropped connection, and still completes.
        server.script("/api/query", [Reply(503, b"busy"), Reply(429, b"slow", {"Retry-After": "0.2"})])
        server.script("/e-print/2002.05709", [Reply(200, EPRINTS["2002.05709"], cut=50)])
        asked_before = len(server.log)
        assert _run(server, write_meta(tmp_path / "all.jsonl", PAPERS), out) == 0
        rerun = [p for _, p, _ in server.log[asked_before:]]
    assert "/e-print/1706.04599" not in rerun  # skipped, not fetched again
    manifest = json.loads((tmp_path / "latex.fetch-manifest.json").read_text())
    assert manifest["counts"] == {"inputs": 6, "fetched": 1, "skipped": 1, "failed": 4,
                                  "failed_reasons": {"invalid_row": 1, "no_match": 2, "no_source": 1}}
    items = {i["id"]: i for i in manifest["items"]}
    assert items["p1"]["status"] == "skipped" and items["p1"]["evidence"]["chosen"] == "1706.04599"
    assert len(items["p1"]["evidence"]["candidates"]) == 2  # the near-miss title was seen and not chosen
    assert "first author" in items["p2"]["detail"]  # title matches, author does not
    assert items["p4"]["status"] == "fetched" and items["p4"]["evidence"]["why"] == "arXiv id given in the metadata"
    assert sorted(p.name for p in out.iterdir()) == ["p1.tar.gz", "p4.tar.gz"]
    with tarfile.open(out / "p4.tar.gz") as tf:
        assert tf.extractfile("main.tex").read() == b"simclr"


def test_interrupted_run_reconciles_and_leaves_no_partial_file(tmp_path):
    meta = write_meta(tmp_path / "m.jsonl", [PAPERS[3], {"paperId": "p6", "arxiv": "1706.04599"}])
    with arxiv_server() as server:
        server.script("/e-print/1706.04599", [Reply(500, b"oops")])

        def killed(seconds):  # the retry wait after the 500 is where the user pressed Ctrl-C
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            fetch_eprints(meta, tmp_path / "out", tmp_path / "m.json", policy=FAST, api_url=server.base_url + "/api/query",
                          eprint_url=server.base_url + "/e-print", progress=False, sleep=killed)
        counts = json.loads((tmp_path / "m.json").read_text())["counts"]
        assert counts == {"inputs": 3, "fetched": 1, "skipped": 0, "failed": 2,
                          "failed_reasons": {"not_attempted": 2}}  # p6 and the line after it
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p4.tar.gz"]
        counts = fetch_eprints(meta, tmp_path / "out", tmp_path / "m.json", policy=FAST, progress=False,
                               api_url=server.base_url + "/api/query", eprint_url=server.base_url + "/e-print")
    assert (counts["fetched"], counts["skipped"]) == (1, 1)


def test_a_changed_file_is_fetched_again(tmp_path):
    meta = write_meta(tmp_path / "m.jsonl", [PAPERS[3]])
    with arxiv_server() as server:
        kw = {"policy": FAST, "api_url": server.base_url + "/api/query", "eprint_url": server.base_url + "/e-print", "progress": False}
        fetch_eprints(meta, tmp_path / "out", tmp_path / "m.json", **kw)
        (tmp_path / "out" / "p4.tar.gz").write_bytes(gzip.compress(b"damaged"))
        assert fetch_eprints(meta, tmp_path / "out", tmp_path / "m.json", **kw)["fetched"] == 1
    assert (tmp_path / "out" / "p4.tar.gz").read_bytes() == EPRINTS["2002.05709"]


def test_dead_server_stops_the_run_with_a_clear_error(tmp_path, capsys):
    with FetchServer() as server:
        url = server.base_url
    meta = write_meta(tmp_path / "m.jsonl", PAPERS[3:4] + [{"paperId": "q", "arxiv": "1706.04599"}])
    assert main(["fetch", "arxiv", "--metadata", str(meta), "--out", str(tmp_path / "o"), "--eprint-url", url,
                 "--interval", "0", "--backoff", "0", "--no-progress"]) == 2
    assert "connection refused" in capsys.readouterr().err
    counts = json.loads((tmp_path / "o.fetch-manifest.json").read_text())["counts"]
    assert counts["failed_reasons"] == {"not_attempted": 2, "server_down": 1}


def test_choose_needs_the_title_and_the_first_author():
    cands = parse_feed(feed([("2301.00001v1", "Deep {Nets}: A Study", ["Ana Müller"])]))
    assert choose("Deep Nets - a study", "Müller, Ana", cands)[0].arxiv_id == "2301.00001"
    assert choose("Deep Nets - a study", "Bob Smith", cands)[0] is None
    assert choose("Deep Nets", "Ana Müller", cands)[0] is None


def test_default_pace_is_arxivs_three_seconds():
    assert ARXIV_POLICY.min_interval == 3.0
    clock = iter([0.0, 1.0, 3.0]).__next__
    slept = []
    throttle = Throttle(3.0, clock=clock, sleep=slept.append)
    throttle.wait()
    throttle.wait()
    assert slept == [3.0 - 1.0]
