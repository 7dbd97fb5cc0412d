"""The session's shared builds (tests/conftest.py) are the builds their callers used to make themselves."""

from __future__ import annotations

import json

import pytest

from cyclebench.leaderboard.seed import SEED_TASKS


def _counts(folder):
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["counts"]


def test_the_sample_build_is_the_embedded_sample(review5k_sample_build):
    counts = _counts(review5k_sample_build)
    assert counts["papers_in"] == 40 and counts["papers_kept"] + sum(counts["papers_rejected"].values()) == 40


def test_the_seed_builds_are_one_per_seeded_task(seed_builds, review5k_build, aiscientist_build):
    assert list(seed_builds) == [spec.task for spec in SEED_TASKS]
    assert seed_builds["review-5k"] == review5k_build and seed_builds["aiscientist-iclr2022"] == aiscientist_build
    for folder in seed_builds.values():
        assert folder.name in seed_builds and (folder / "manifest.json").is_file() and list((folder / "data").glob("*.parquet"))


def test_a_write_into_a_shared_build_is_reported(tmp_path):
    from tests.conftest import _read_only

    folder = tmp_path / "build"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "a.parquet").write_bytes(b"a")
    untouched = _read_only(folder)
    assert next(untouched) == folder
    assert next(untouched, None) is None  # nothing written: the check passes
    written = _read_only(folder)
    next(written)
    (folder / "data" / "b.parquet").write_bytes(b"b")
    with pytest.raises(AssertionError, match=r"wrote into the shared build .*data/b\.parquet"):
        next(written)
