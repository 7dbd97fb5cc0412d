"""What `cyclebench detect` reads: JSONL of texts, papers folders, a dataset's reviews; hostile files counted."""

from __future__ import annotations

import json
import os

import pytest

from cyclebench.detection.inputs import read_dataset_reviews, read_jsonl, read_papers, review_items, review_text


def test_jsonl_counts_every_bad_line(tmp_path):
    path = tmp_path / "texts.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "A human wrote this."}).encode(),
        b"",  # blank: not a record
        b"{not json",
        b"\xff\xfe\x00garbage",  # not UTF-8
        json.dumps([1, 2]).encode(),
        json.dumps({"text": "no id"}).encode(),
        json.dumps({"id": "b", "text": 7}).encode(),
        json.dumps({"id": "a", "text": "again"}).encode(),
        json.dumps({"id": 3, "text": ""}).encode(),  # an int id is read as text; empty text is read (then skipped)
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    texts = read_jsonl(path)
    assert [i.id for i in texts.items] == ["a", "3"]
    reasons = [u.reason for u in texts.unread]
    assert reasons == ["not_json", "not_utf8", "not_an_object", "no_id", "no_text", "duplicate_id"]
    assert texts.n_found == 8


def test_jsonl_lone_surrogates_are_counted_not_fatal(tmp_path):
    """JSON may escape a lone surrogate (``"\\ud800"``): Python reads it, no tokenizer can encode it."""
    path = tmp_path / "texts.jsonl"
    path.write_text('{"id": "s", "text": "abc \\ud800 def"}\n{"id": "\\udfff", "text": "fine"}\n'
                    '{"id": "ok", "text": "fine"}\n')
    texts = read_jsonl(path)
    assert [i.id for i in texts.items] == ["ok"]
    assert [(u.id, u.reason) for u in texts.unread] == [("s", "not_utf8"), ("line 2", "not_utf8")]


def test_jsonl_binary_garbage_and_missing_file(tmp_path):
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(os.urandom(4096).replace(b"\n", b"\x00"))
    texts = read_jsonl(path)
    assert texts.items == [] and len(texts.unread) == 1
    with pytest.raises(FileNotFoundError):
        read_jsonl(tmp_path / "absent.jsonl")
    with pytest.raises(FileNotFoundError):
        read_jsonl(tmp_path)  # a folder is not a texts file


def test_papers_folder_reads_and_counts(tmp_path):
    (tmp_path / "p1.md").write_text("# Title\n\nSome paper text about attention.\n")
    (tmp_path / "p2.txt").write_text("Plain text of another paper.\n")
    (tmp_path / "p3.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "outside.md").symlink_to("/etc/hostname")
    texts = read_papers(tmp_path)
    assert sorted(i.id for i in texts.items) == ["p1", "p2"]
    assert sorted(u.id for u in texts.unread) == ["outside", "p3"]
    assert texts.n_found == 4
    with pytest.raises(NotADirectoryError):
        read_papers(tmp_path / "p1.md")


def test_review_text_joins_the_prose():
    row = {"summary": "S.", "strengths": " ", "weaknesses": "W.", "questions": None,
           "other_texts": [{"name": "main_review", "text": "M."}, {"name": "x", "text": None}]}
    assert review_text(row) == "S.\n\nW.\n\nM."
    items, unread = review_items([{"note_id": "n1", **row}, {"note_id": "n1"}, {"paper_id": "p"}])
    assert [i.id for i in items] == ["n1"] and [u.reason for u in unread] == ["duplicate_id", "no_note_id"]


def test_dataset_reviews(review5k_sample_build):
    texts = read_dataset_reviews(str(review5k_sample_build), ["train", "test"])
    manifest = json.loads((review5k_sample_build / "manifest.json").read_text())
    assert len(texts.items) + len(texts.unread) == manifest["counts"]["reviews_kept"]
    assert all(i.text.strip() for i in texts.items)
