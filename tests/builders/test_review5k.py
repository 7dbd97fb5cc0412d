"""The Review-5K builder: accounting, Hub layout, determinism, atomic writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cyclebench.builders import review5k
from cyclebench.builders.base import hash_split, stable_fraction
from cyclebench.builders.review5k import Review5KConfig


def _corpus_build(corpus: Path, out: Path, **config):
    cfg = Review5KConfig(require_text=False, **config)
    return review5k.build(corpus / "openreview" / "iclr2026_v2.jsonl", None, out, cfg, progress=False)


def test_corpus_build_accounts_for_every_paper(corpus, tmp_path):
    report = _corpus_build(corpus, tmp_path / "out")
    counts = report.manifest["counts"]
    assert counts["papers_in"] == 300
    assert counts["papers_kept"] + sum(counts["papers_rejected"].values()) == 300
    assert counts["papers_rejected"] == {"desk_rejected": 16, "withdrawn": 79}
    assert counts["papers_kept"] == 205  # 60 accepted + 145 rejected
    assert counts["reviews_in"] == 1171
    assert counts["reviews_kept"] + counts["reviews_dropped_with_paper"] + sum(counts["reviews_rejected"].values()) == 1171
    splits = counts["splits"]
    assert splits["default"]["train"] + splits["default"]["test"] == 205
    assert splits["reviews"]["train"] + splits["reviews"]["test"] == counts["reviews_kept"]
    rejects = [json.loads(line) for line in (report.out / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 95 + 205  # 95 papers rejected, 205 sft rows without a text
    assert all(r["reason"] for r in rejects)


def test_keep_withdrawn_policy(corpus, tmp_path):
    report = _corpus_build(corpus, tmp_path / "out", withdrawn="keep", desk_rejected="keep", min_reviews=0)
    counts = report.manifest["counts"]
    assert counts["papers_kept"] == 300
    assert counts["reviews_kept"] == 1171


def test_load_dataset_offline(corpus, tmp_path):
    from datasets import load_dataset

    out = _corpus_build(corpus, tmp_path / "out").out
    papers = load_dataset(str(out))
    reviews = load_dataset(str(out), "reviews")
    manifest = json.loads((out / "manifest.json").read_text())
    assert papers["train"].num_rows == manifest["counts"]["splits"]["default"]["train"]
    assert reviews["test"].num_rows == manifest["counts"]["splits"]["reviews"]["test"]
    row = papers["train"][0]
    assert row["decision"] in ("Accept", "Reject")  # hub.columns.DECISIONS (builder 1.4.0)
    first = row["reviews"][0]
    assert isinstance(first["rating"], int) and first["rating_scale"] == "0/2/4/6/8/10"
    assert first["rating_raw"] == str(first["rating"])
    assert row["num_reviews"] == len(row["reviews"]) >= 2
    assert abs(row["rating_mean"] - sum(r["rating"] for r in row["reviews"]) / len(row["reviews"])) < 1e-9


def test_rebuild_is_byte_identical(corpus, tmp_path):
    a = _corpus_build(corpus, tmp_path / "a", max_rows_per_shard=50).out
    b = _corpus_build(corpus, tmp_path / "b", max_rows_per_shard=50).out
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    assert len([f for f in files_a if f.parts[0] == "data"]) > 2  # several shards per split
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    manifest = json.loads((a / "manifest.json").read_text())
    for rel, info in manifest["shards"].items():
        assert pq.ParquetFile(a / rel).metadata.num_rows == info["rows"]
        assert rel.startswith(("data/", "reviews/", "sft/")) and "-of-" in rel


def test_interrupted_build_leaves_nothing(corpus, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = review5k.paper_rows

    def failing(submission, text, *args):
        calls["n"] += 1
        if calls["n"] == 100:
            raise KeyboardInterrupt
        return real(submission, text, *args)

    monkeypatch.setattr(review5k, "paper_rows", failing)
    with pytest.raises(KeyboardInterrupt):
        _corpus_build(corpus, tmp_path / "out")
    assert os.listdir(tmp_path) == []


def test_existing_output_needs_overwrite(corpus, tmp_path):
    out = tmp_path / "out"
    _corpus_build(corpus, out)
    with pytest.raises(FileExistsError):
        _corpus_build(corpus, out)
    report = review5k.build(corpus / "openreview" / "iclr2026_v2.jsonl", None, out,
                            Review5KConfig(require_text=False, test_fraction=0.5), overwrite=True, progress=False)
    assert report.manifest["config"]["test_fraction"] == 0.5
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_hash_split_is_stable_and_near_fraction():
    ids = [f"paper{i:05d}" for i in range(5000)]
    test = [i for i in ids if hash_split(i, 0.157, 0) == "test"]
    assert 0.14 < len(test) / len(ids) < 0.175
    assert stable_fraction("abc", 0) == stable_fraction("abc", 0) != stable_fraction("abc", 1)
    # Growing the input never moves a paper.
    assert [hash_split(i, 0.157, 0) for i in ids[:10]] == [hash_split(i, 0.157, 0) for i in ids[:10]]


def test_config_validation():
    with pytest.raises(ValueError):
        Review5KConfig(test_fraction=1.0)
    with pytest.raises(ValueError):
        Review5KConfig(withdrawn="maybe")  # type: ignore[arg-type]


def test_require_text_without_papers_is_a_clear_error(corpus, tmp_path):
    with pytest.raises(ValueError, match="papers"):
        review5k.build(corpus / "openreview" / "iclr2026_v2.jsonl", None, tmp_path / "o", Review5KConfig())
