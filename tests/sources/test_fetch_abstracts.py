"""``fetch abstracts`` against local Semantic Scholar and OpenAlex servers; Research-14K built from its output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cyclebench.builders.research14k import Research14KConfig, build

from cyclebench.cli import main
from cyclebench.sources.fetch_abstracts import (
    CitedWork,
    fetch_abstracts,
    inverted_to_text,
)
from cyclebench.sources.http_fetch import HttpPolicy
from tests.fetch_servers import FetchServer, Reply

FX = Path(__file__).resolve().parents[1] / "fixtures" / "research14k"
GOOD = FX / "papers" / "r14-good"
JSON = {"Content-Type": "application/json"}

S2 = {  # path -> paper as the Graph API answers it
    "/graph/v1/paper/DOI:10.1162/tacl_a_00276": {"paperId": "a", "title": "Natural Questions", "abstract": "NQ is a QA corpus."},
    "/graph/v1/paper/ARXIV:2004.04906": {"paperId": "b", "title": "DPR", "abstract": "Dense retrieval beats BM25."},
}
S2_TITLES = {
    "On Calibration of Modern Neural Networks": {"paperId": "c", "title": "On calibration of modern neural networks",
                                                 "abstract": "Modern networks are poorly calibrated."},
    # S2 knows this one but has no abstract for it: OpenAlex answers.
    "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks": {
        "paperId": "d", "title": "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks", "abstract": None},
}
OPENALEX_TITLES = {
    "retrieval augmented generation for knowledge intensive nlp tasks": {
        "display_name": "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks",
        "abstract_inverted_index": {"RAG": [0], "combines": [1], "a": [2], "retriever": [3], "and": [4], "generator.": [6], "a ": []}},
}


def services_server() -> FetchServer:
    server = FetchServer()

    def s2_paper(path, q):
        paper = S2.get(path)
        if paper is None:
            return Reply(404, b'{"error":"Paper not found"}', JSON)
        return Reply(200, json.dumps(paper).encode(), JSON)

    def s2_match(path, q):
        paper = S2_TITLES.get(q["query"])
        if paper is None:
            return Reply(404, b'{"error":"Title match not found"}', JSON)
        return Reply(200, json.dumps({"data": [{**paper, "matchScore": 99.0}]}).encode(), JSON)

    def openalex(path, q):
        words = q["filter"].removeprefix("title.search:")
        found = OPENALEX_TITLES.get(words)
        return Reply(200, json.dumps({"meta": {"count": int(bool(found))}, "results": [found] if found else []}).encode(), JSON)

    server.route("/graph/v1/paper/search/match", s2_match)
    server.route("/graph/v1/paper/", s2_paper, prefix=True)
    server.route("/works", openalex)
    server.route("/works/", lambda p, q: Reply(404, b'{"error":"not found"}', JSON), prefix=True)
    return server


def _run(server, bib, out, *extra) -> int:
    return main(["fetch", "abstracts", "--bib", str(bib), "--out", str(out), "--base-url", f"{server.base_url}/graph/v1",
                 "--openalex-url", server.base_url, "--interval", "0", "--backoff", "0.01", "--no-progress", *extra])


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("SEMANTIC_SCHOLAR_API_KEY", "test-key")


def test_fetched_file_builds_research14k(tmp_path):
    out = tmp_path / "cited.jsonl"
    with services_server() as server:
        server.script("/graph/v1/paper/ARXIV:2004.04906", [Reply(429, b"", {"Retry-After": "0.1"}), Reply(502, b"")])
        server.script("/graph/v1/paper/DOI:10.1162/tacl_a_00276", [Reply(200, json.dumps(S2["/graph/v1/paper/DOI:10.1162/tacl_a_00276"]).encode(), JSON, cut=10)])
        assert _run(server, GOOD, out) == 0
        keys = {q.get("x-api-key") for q in server.hits("/graph/v1/paper/search/match")}
    manifest = json.loads((tmp_path / "cited.jsonl.fetch-manifest.json").read_text())
    # guo, platt (own abstract), karpukhin, kwiatkowski, lewis, neverCited; the broken entry does not parse
    assert manifest["counts"] == {"inputs": 6, "fetched": 4, "skipped": 1, "failed": 1, "failed_reasons": {"not_found": 1}}
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by_source = {r.get("doi") or r.get("arxiv") or r["title"]: r for r in rows}
    assert by_source["10.1162/tacl_a_00276"]["abstract"] == "NQ is a QA corpus."
    assert by_source["Retrieval-Augmented Generation for Knowledge-Intensive {NLP} Tasks"] == {
        "title": "Retrieval-Augmented Generation for Knowledge-Intensive {NLP} Tasks",
        "abstract": "RAG combines a retriever and generator.", "source": "openalex"}
    assert keys == {None}  # the key travels in a header, never in the URL

    # The builder reads the file as its --abstracts.
    papers = tmp_path / "papers"
    shutil.copytree(GOOD, papers / "r14-good")
    meta = tmp_path / "meta.jsonl"
    meta.write_text(json.dumps({"paperId": "r14-good", "venue": "NeurIPS", "year": 2023, "topic": "calibration"}) + "\n")
    report = build(meta, papers, tmp_path / "ds", Research14KConfig(outline_scores=(7, 6, 8)), abstracts=out,
                   workers=1, progress=False)
    [row] = [r for shard in sorted((report.out / "data").glob("*.parquet")) for r in pq.read_table(shard).to_pylist()]
    sources = {i["source"]: i["count"] for i in row["references_abstract_sources"]}
    assert sources == {"bib": 1, "arxiv": 1, "doi": 1, "title": 2}
    assert "Dense retrieval beats BM25." in row["references"] and "RAG combines a retriever" in row["references"]


def test_resume_after_a_kill_skips_what_was_written(tmp_path):
    works = [CitedWork(doi="10.1162/TACL_a_00276", where="a"), CitedWork(arxiv="2004.04906", where="b"),
             CitedWork(title="On Calibration of Modern Neural Networks", where="c"),
             CitedWork(doi="10.1162/tacl_a_00276", where="d"), CitedWork(where="e")]
    out = tmp_path / "cited.jsonl"
    fast = HttpPolicy(min_interval=0, timeout=5, retries=2, backoff=0.01)
    with services_server() as server:
        from cyclebench.sources.fetch_abstracts import AbstractServices

        services = AbstractServices(s2_url=f"{server.base_url}/graph/v1", openalex_url=server.base_url,
                                    s2_policy=fast, openalex_policy=fast)
        server.script("/graph/v1/paper/ARXIV:2004.04906", [Reply(503, b"")])

        def killed(seconds):
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            fetch_abstracts(works, out, tmp_path / "m.json", services=services, progress=False, sleep=killed)
        assert not out.exists()  # only the .part of the interrupted run
        assert json.loads((tmp_path / "m.json").read_text())["counts"]["failed_reasons"] == {"not_attempted": 4}
        before = len(server.log)
        counts = fetch_abstracts(works, out, tmp_path / "m.json", services=services, progress=False)
        assert "/graph/v1/paper/DOI:10.1162/tacl_a_00276" not in [p for _, p, _ in server.log[before:]]
    assert counts == {"inputs": 5, "fetched": 2, "skipped": 2, "failed": 1, "failed_reasons": {"no_identifier": 1}, "rows": 3}
    assert len(out.read_text().splitlines()) == 3
    assert not (tmp_path / "cited.jsonl.part").exists()


def test_inverted_index_to_text():
    assert inverted_to_text({"b": [1], "a": [0, 2]}) == "a b a"
    assert inverted_to_text(None) == ""
