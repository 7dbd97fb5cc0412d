"""The abstracts reader and the BM25 index: counted skips, build once, load, search, hostile files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cyclebench.retrieval.abstracts import read_abstracts
from cyclebench.retrieval.base import RetrievalError
from cyclebench.retrieval.bm25 import INDEX_FILE, BM25Retriever, build_bm25_index, open_bm25

ROWS = [
    {"id": "sam", "title": "Sharpness-Aware Minimization", "abstract": "We seek flat minima by minimizing loss sharpness.",
     "year": 2021},
    {"id": "adam", "title": "Adam optimizer", "abstract": "A method for stochastic optimization with adaptive moments."},
    # what `cyclebench fetch abstracts` writes: no id, a doi
    {"doi": "10.1/hessian", "abstract": "Hessian eigenvalues explain generalization of flat minima.", "source": "s2"},
    {"arxiv": "2101.00001", "title": "Graph networks", "abstract": "Message passing on graphs."},
]


def _write(path: Path, rows: list, extra_lines: tuple[str, ...] = ()) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "".join(line + "\n" for line in extra_lines))
    return path


def test_reader_counts_every_skipped_row(tmp_path):
    path = _write(tmp_path / "a.jsonl", ROWS + [{"id": "sam", "abstract": "dup"}, {"id": "x", "abstract": "  "}, [1, 2],
                                              {"title": "", "abstract": "no id"}],
                  extra_lines=('{"id": "cut", "abstr', ""))
    read = read_abstracts(path)
    counts = read.counts()
    assert [d.doc_id for d in read.documents] == ["sam", "adam", "doi:10.1/hessian", "arxiv:2101.00001"]
    assert counts["skipped"] == {"bad_json": 1, "duplicate_id": 1, "no_abstract": 1, "no_id": 1, "not_an_object": 1}
    assert counts["n_lines"] == counts["n_documents"] + sum(counts["skipped"].values())
    assert read.documents[0].year == 2021 and read.documents[1].year is None
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_abstracts(tmp_path / "missing.jsonl")


def test_build_load_search(tmp_path):
    source = _write(tmp_path / "a.jsonl", ROWS)
    manifest = build_bm25_index(source, tmp_path / "index")
    assert manifest["counts"]["n_documents"] == 4 and not (tmp_path / "index.part").exists()
    retriever = BM25Retriever(tmp_path / "index")
    hits = retriever.search("Which work studies flat minima and sharpness?", 2)
    assert [h.doc_id for h in hits] == ["sam", "doi:10.1/hessian"]
    assert hits[0].score > hits[1].score > 0 and hits[0].source == "bm25"
    assert hits[0].as_text().startswith("Sharpness-Aware Minimization (2021)\nWe seek flat minima")
    assert retriever.search("quantum chromodynamics", 3) == []  # no shared word: nothing, not noise
    assert retriever.search("the of and", 3) == []  # only stopwords
    assert len(retriever.search("optimization minima graphs adaptive", 50)) <= 4  # k above the corpus size
    with pytest.raises(RetrievalError, match="empty_query"):
        retriever.search("   ", 3)
    assert retriever.fingerprint == BM25Retriever(tmp_path / "index").fingerprint
    with pytest.raises(FileExistsError):
        build_bm25_index(source, tmp_path / "index")


def test_open_from_jsonl_builds_once_and_rebuilds_on_change(tmp_path):
    source = _write(tmp_path / "a.jsonl", ROWS)
    first = open_bm25(source, tmp_path / "builds")
    folder = first.folder
    stamp = (folder / INDEX_FILE).stat().st_mtime_ns
    again = open_bm25(source, tmp_path / "builds")
    assert again.folder == folder and (folder / INDEX_FILE).stat().st_mtime_ns == stamp  # built once
    _write(source, ROWS[:2])
    changed = open_bm25(source, tmp_path / "builds")
    assert changed.folder != folder and len(changed.documents) == 2
    assert changed.fingerprint != first.fingerprint
    with pytest.raises(ValueError, match="give a folder"):
        open_bm25(source, None)
    with pytest.raises(FileNotFoundError, match="neither"):
        open_bm25(tmp_path / "nope", tmp_path / "builds")


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # bm25s on an empty vocabulary
def test_hostile_inputs(tmp_path):
    with pytest.raises(ValueError, match="no row with an id and an abstract"):
        build_bm25_index(_write(tmp_path / "bad.jsonl", [{"id": 1}], ("not json",)), tmp_path / "i1")
    with pytest.raises(ValueError, match="nothing to index"):
        build_bm25_index(_write(tmp_path / "stop.jsonl", [{"id": "a", "abstract": "the of and"}]), tmp_path / "i2")
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / INDEX_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="not readable JSON"):
        BM25Retriever(tmp_path / "fake")
    (tmp_path / "fake" / INDEX_FILE).write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a cyclebench-bm25-v1 index"):
        BM25Retriever(tmp_path / "fake")
    with pytest.raises(FileNotFoundError, match="not a BM25 index"):
        BM25Retriever(tmp_path)
