"""The Semantic Scholar retriever against a local server: the key from the environment (sent, never shown),
pacing and retries through http_fetch, and every hostile answer a counted RetrievalError."""

from __future__ import annotations

import json
import socket

import pytest

import tests.fetch_servers as servers
from cyclebench.retrieval.base import RetrievalError
from cyclebench.retrieval.semantic_scholar import SemanticScholarRetriever
from cyclebench.sources.http_fetch import HttpPolicy
from tests.fetch_servers import FetchServer, Reply

FAST = HttpPolicy(min_interval=0.0, timeout=2.0, retries=2, backoff=0.01, backoff_max=0.02, retry_after_max=0.05)
PAPERS = {"total": 3, "data": [
    {"paperId": "p1", "title": "Sharpness-Aware  Minimization", "abstract": "Flat minima.", "year": 2021},
    {"paperId": "p2", "title": "No abstract here", "abstract": None},
    {"paperId": "p3", "title": "Hessian", "abstract": "Eigenvalues.", "year": "2020"},
]}


def _json(body: object, status: int = 200) -> Reply:
    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


@pytest.fixture
def server():
    with FetchServer() as s:
        s.route("/graph/v1/paper/search", lambda path, query: _json(PAPERS))
        yield s


def _retriever(server: FetchServer, **kw) -> SemanticScholarRetriever:
    return SemanticScholarRetriever(server.base_url + "/graph/v1", policy=FAST, sleep=lambda s: None, **kw)


def test_search_sends_key_from_env_and_reads_passages(server, monkeypatch):
    seen: list[str | None] = []
    original = servers._Handler.do_GET

    def spy(handler):  # record the header the server received
        seen.append(handler.headers.get("x-api-key"))
        original(handler)

    monkeypatch.setattr(servers._Handler, "do_GET", spy)
    monkeypatch.setenv("MY_S2_KEY", "sekret-123")
    retriever = _retriever(server, key_env="MY_S2_KEY")
    hits = retriever.search("flat  minima\nsharpness", 5)
    assert seen == ["sekret-123"]
    query = server.hits("/graph/v1/paper/search")[0]
    assert query == {"query": "flat minima sharpness", "limit": "5", "fields": "title,abstract,year"}
    assert [(h.doc_id, h.title, h.year) for h in hits] == [("p1", "Sharpness-Aware Minimization", 2021), ("p3", "Hessian", None)]
    assert retriever.describe()["skipped"] == {"no_abstract": 1}
    shown = repr(retriever) + retriever.fingerprint + json.dumps(retriever.describe())
    assert "sekret" not in shown and retriever.describe()["keyed"] is True


def test_no_key_sends_no_header(server, monkeypatch):
    monkeypatch.delenv("SEMANTIC_SCHOLAR_API_KEY", raising=False)
    retriever = _retriever(server)
    assert retriever.keyed is False and retriever._headers == {}
    assert len(retriever.search("q", 1)) == 1  # k caps the passages


def test_429_is_waited_out_then_answered(server):
    server.script("/graph/v1/paper/search", [Reply(429, headers={"Retry-After": "0"}), Reply(503)])
    assert [h.doc_id for h in _retriever(server).search("q", 3)] == ["p1", "p3"]
    assert len(server.hits("/graph/v1/paper/search")) == 3


@pytest.mark.parametrize("reply, reason", [
    (Reply(200, b"<html>rate limited</html>"), "s2_bad_json"),
    (Reply(200, b'{"data": {"not": "a list"}}'), "s2_bad_shape"),
    (Reply(200, b'["a", "list"]'), "s2_bad_shape"),
    (Reply(400, b'{"error": "bad query"}'), "http_400"),
    (Reply(403, b"forbidden"), "http_403"),
])
def test_hostile_answers_are_reasons(server, reply, reason):
    server.route("/graph/v1/paper/search", lambda path, query: reply)
    with pytest.raises(RetrievalError) as info:
        _retriever(server).search("q", 3)
    assert info.value.reason == reason


def test_always_429_gives_up(server):
    server.route("/graph/v1/paper/search", lambda path, query: Reply(429, headers={"Retry-After": "0"}))
    with pytest.raises(RetrievalError) as info:
        _retriever(server).search("q", 3)
    assert info.value.reason == "gave_up" and len(server.hits("/graph/v1/paper/search")) == FAST.retries + 1


def test_entries_of_the_wrong_type_are_skipped(server):
    server.route("/graph/v1/paper/search", lambda path, query: _json({"data": [
        "x", {"paperId": 5, "title": None, "abstract": "Body.", "year": True}]}))
    retriever = _retriever(server)
    hits = retriever.search("q", 3)
    assert [(h.doc_id, h.title, h.year) for h in hits] == [("rank1", "", None)]
    assert retriever.describe()["skipped"] == {"not_an_object": 1}


def test_dead_server_is_server_down_once(monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    retriever = SemanticScholarRetriever(f"http://127.0.0.1:{port}/graph/v1", policy=FAST, sleep=lambda s: None)
    with pytest.raises(RetrievalError) as info:
        retriever.search("q", 3)
    assert info.value.reason == "server_down"
    with pytest.raises(RetrievalError, match="server_down"):  # at once, no more retries against it
        retriever.search("another", 3)


def test_bad_base_url_and_empty_query(server):
    with pytest.raises(ValueError, match="http"):
        SemanticScholarRetriever("file:///etc/passwd")
    with pytest.raises(RetrievalError, match="empty_query"):
        _retriever(server).search(" ", 3)
