"""Red-team cases for Best mode's literature turn: hostile abstracts files, tampered index folders, a
Semantic Scholar server that hangs or answers too much, an option naming another credential, and
degenerate ``\\boxed_questions`` blocks."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import pytest

from cyclebench.literature import attach_literature
from cyclebench.protocols.deepreviewer import (
    DeepReviewerProtocol,
    extract_search_questions,
)
from cyclebench.retrieval import semantic_scholar
from cyclebench.retrieval.abstracts import read_abstracts
from cyclebench.retrieval.base import MAX_PASSAGE_CHARS, RetrievalError
from cyclebench.retrieval.bm25 import (
    DOCUMENTS_FILE,
    INDEX_FILE,
    BM25Retriever,
    build_bm25_index,
)
from cyclebench.retrieval.semantic_scholar import SemanticScholarRetriever
from cyclebench.sources.http_fetch import HttpPolicy
from tests.fetch_servers import FetchServer, Reply

ROWS = [{"id": "sam", "title": "Sharpness-Aware Minimization", "abstract": "Flat minima by minimizing sharpness."},
        {"id": "adam", "title": "Adam", "abstract": "Stochastic optimization with adaptive moments."}]


def _index(tmp_path: Path) -> Path:
    source = tmp_path / "a.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    build_bm25_index(source, tmp_path / "idx")
    return tmp_path / "idx"


def test_a_deeply_nested_line_is_a_counted_bad_row_not_a_crash(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n" + '{"id": "x", "abstract": "y", "t": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    read = read_abstracts(path)
    assert [d.doc_id for d in read.documents] == ["sam"]
    assert read.counts() == {"n_lines": 2, "n_documents": 1, "skipped": {"bad_json": 1}}


def test_a_folder_given_as_the_abstracts_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="is a folder"):
        read_abstracts(tmp_path)


def test_documents_changed_after_the_build_are_refused(tmp_path):
    # same number of rows, other texts: the manifest's content hash (the retriever's fingerprint, which keys
    # the search memo) would no longer describe what is searched
    folder = _index(tmp_path)
    rows = [{"id": r["id"], "title": "x", "abstract": "CHANGED"} for r in ROWS]
    (folder / DOCUMENTS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ValueError, match="changed since the index was built"):
        BM25Retriever(folder)


@pytest.mark.parametrize("damage", ["garbage_documents", "no_documents", "no_bm25", "manifest_without_hash",
                                    "documents_wrong_shape"])
def test_a_damaged_index_folder_is_one_clear_error(tmp_path, damage):
    folder = _index(tmp_path)
    if damage == "garbage_documents":
        (folder / DOCUMENTS_FILE).write_text("garbage\n")
    elif damage == "no_documents":
        (folder / DOCUMENTS_FILE).unlink()
    elif damage == "no_bm25":
        shutil.rmtree(folder / "bm25")
    elif damage == "documents_wrong_shape":
        (folder / DOCUMENTS_FILE).write_text('[1]\n{"id": 5}\n')
    else:
        manifest = json.loads((folder / INDEX_FILE).read_text())
        del manifest["content_sha256"]
        (folder / INDEX_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=f"{folder}.*(damaged|changed since the index was built)"):
        BM25Retriever(folder)


FAST = HttpPolicy(min_interval=0.0, timeout=0.3, retries=1, backoff=0.01, backoff_max=0.02, retry_after_max=0.05)


def test_a_hanging_server_is_given_up_once_then_answered_at_once():
    # accepts connections (the kernel's backlog) and never answers: every try waits out its timeout, so a
    # run of many questions would wait minutes per question without this
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        retriever = SemanticScholarRetriever(f"http://127.0.0.1:{port}/graph/v1", policy=FAST, sleep=lambda s: None)
        with pytest.raises(RetrievalError) as info:
            retriever.search("flat minima", 3)
        assert info.value.reason == "gave_up"
        started = time.monotonic()
        with pytest.raises(RetrievalError) as again:
            retriever.search("another question", 3)
        assert again.value.reason == "server_down" and time.monotonic() - started < 0.2


def test_a_huge_answer_is_refused_not_read_into_memory():
    with FetchServer() as server:
        body = b'{"data": [' + b" " * (semantic_scholar.MAX_BODY_BYTES + 10) + b"]}"
        server.route("/graph/v1/paper/search", lambda path, query: Reply(200, body))
        retriever = SemanticScholarRetriever(server.base_url + "/graph/v1", policy=FAST, sleep=lambda s: None)
        with pytest.raises(RetrievalError) as info:
            retriever.search("q", 3)
    assert info.value.reason == "too_large"
    assert semantic_scholar.MAX_BODY_BYTES <= 64 * 1024 * 1024


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "HF_TOKEN", "AWS_SECRET_ACCESS_KEY", "HOME"])
def test_the_key_variable_must_be_a_semantic_scholar_one(monkeypatch, name):
    # a shared recipe's protocol args (s2_url=http://elsewhere,s2_key_env=OPENAI_API_KEY) must not send
    # another service's credential to a server of its choosing
    monkeypatch.setenv(name, "secret")
    with pytest.raises(ValueError, match="Semantic Scholar"):
        SemanticScholarRetriever("http://127.0.0.1:9/graph/v1", key_env=name)
    protocol = DeepReviewerProtocol(mode="best", retriever="s2", s2_url="http://127.0.0.1:9", s2_key_env=name)
    with pytest.raises(ValueError, match="Semantic Scholar"):  # when a run opens the search, before any request
        attach_literature(protocol, None)
    ok = DeepReviewerProtocol(mode="best", retriever="s2", s2_url="http://127.0.0.1:9", s2_key_env="MY_S2_KEY")
    assert attach_literature(ok, None).retriever.key_env == "MY_S2_KEY"


def test_items_numbered_past_99_are_questions_of_their_own():
    body = "\n".join(f"{i}. What is question {i}?" for i in range(1, 151))
    found = extract_search_questions(f"\\boxed_questions{{\n{body}\n}}", max_questions=5)
    assert found.questions[:2] == ("What is question 1?", "What is question 2?")
    assert found.problems == ("questions_capped: 150 questions, the first 5 kept",)


def test_a_runaway_question_is_cut_and_said():
    # a repetition loop of a small model: the question would go to every search and back into the prompt
    found = extract_search_questions("\\boxed_questions{\n1. What about " + "very " * 50_000 + "long?\n2. Short?\n}")
    assert len(found.questions) == 2 and len(found.questions[0]) <= 1000 and found.questions[1] == "Short?"
    assert any(p.startswith("question_long") for p in found.problems)


def test_a_huge_abstract_is_cut_where_the_prompt_shows_it(tmp_path):
    # a careless JSONL with full paper texts in "abstract": k passages x questions of them would overflow
    # the model's context in the answers turn, and every paper would fall back
    source = tmp_path / "full.jsonl"
    source.write_text(json.dumps({"id": "p", "title": "Flat minima", "abstract": "sharpness " * 200_000}) + "\n")
    build_bm25_index(source, tmp_path / "idx")
    (hit,) = BM25Retriever(tmp_path / "idx").search("sharpness", 3)
    shown = hit.as_text()
    assert len(shown) <= len("Flat minima\n") + MAX_PASSAGE_CHARS + 20 and shown.endswith("[cut]")
    assert len(hit.text) == len(("sharpness " * 200_000).strip())  # the passage itself is whole


def test_tampered_bm25_arrays_are_refused_at_load(tmp_path):
    # arrays pointing past the documents made every search an IndexError that ended the whole run
    import numpy as np

    folder = _index(tmp_path)
    arrays = folder / "bm25" / "indices.csc.index.npy"
    values = np.load(arrays)
    values[:] = 10**6
    np.save(arrays, values)
    with pytest.raises(ValueError, match="changed since the index was built"):
        BM25Retriever(folder)


@pytest.mark.parametrize("url", ["https://user:token@proxy.example/graph/v1", "https://proxy.example/graph/v1?key=abc"])
def test_a_credential_in_the_service_url_is_refused(url):
    # s2_url is recorded in results.json and the retriever's fingerprint: it must hold no secret
    with pytest.raises(ValueError, match="SEMANTIC_SCHOLAR_API_KEY"):
        SemanticScholarRetriever(url)


def test_an_answer_nested_past_the_parser_limit_is_bad_json():
    with FetchServer() as server:
        server.route("/graph/v1/paper/search", lambda path, query: Reply(200, b"[" * 200_000 + b"]" * 200_000))
        retriever = SemanticScholarRetriever(server.base_url + "/graph/v1", policy=FAST, sleep=lambda s: None)
        with pytest.raises(RetrievalError) as info:
            retriever.search("q", 3)
    assert info.value.reason == "s2_bad_json"


def test_a_damaged_search_memo_line_is_searched_again(tmp_path):
    from cyclebench.literature import MEMO_FILE, LiteratureSearch

    folder = _index(tmp_path)
    retriever = BM25Retriever(folder)
    search = LiteratureSearch(retriever, 2, memo_dir=tmp_path / "memo")
    (first,) = search(["Which work finds flat minima?"])
    memo = tmp_path / "memo" / MEMO_FILE
    row = json.loads(memo.read_text())
    bad_types = {**row, "passages": [{**row["passages"][0], "title": 5, "text": None}]}
    memo.write_text(json.dumps(bad_types) + "\n" + "[" * 100_000 + "\n")
    again = LiteratureSearch(retriever, 2, memo_dir=tmp_path / "memo")
    (second,) = again(["Which work finds flat minima?"])
    assert second == first and again.counts == {"memo_lines_unreadable": 2, "searches": 1}


def test_bad_utf8_is_a_counted_skip_and_a_bom_is_read(tmp_path):
    path = tmp_path / "enc.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(ROWS[0]).encode() + b"\n"
                     + b'{"id": "latin1", "abstract": "caf\xe9 au lait"}\n' + json.dumps(ROWS[1]).encode() + b"\n")
    read = read_abstracts(path)
    assert [d.doc_id for d in read.documents] == ["sam", "adam"]
    assert read.counts() == {"n_lines": 3, "n_documents": 2, "skipped": {"bad_utf8": 1}}
