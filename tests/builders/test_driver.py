"""The shared build driver (builders/driver.py) and the one review-field table (sources/openreview_fields.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyarrow as pa
import pytest
from cyclebench.builders.base import EmptyBuildError
from cyclebench.builders.driver import Accounting, Balance, BuildRun, BuildSpec

from cyclebench.records import Reject
from cyclebench.sources.openreview_fields import has_review_content, review_sections

SCHEMA = pa.schema([pa.field("id", pa.string())])


@dataclass(frozen=True)
class ToyConfig:
    seed: int = 0


def _spec(**kw) -> BuildSpec:
    return BuildSpec("toy", "0.1.0", ToyConfig(), {"default": SCHEMA}, {"default": ["train", "test"]}, **kw)


def _commit(run: BuildRun, accounting: Accounting):
    written = run.close_shards()
    return written, run.commit(written, accounting, inputs={}, card=lambda m: f"# {m['dataset']}\n")


def test_a_build_writes_rows_rejects_manifest_and_card(tmp_path):
    with BuildRun(_spec(), tmp_path / "out", inputs=[]) as run:
        run.writer.add("default", "train", {"id": "a"})
        run.log.reject(Reject("b", "paper", "no_paper_text"))
        written, (path, manifest) = _commit(run, Accounting({"papers_in": 2}, (Balance("papers", 2, 1 + 1),), 1, {}))
    assert written.split_rows == {"default": {"train": 1, "test": 0}}
    assert list(manifest)[:2] == ["dataset", "builder_version"] and list(manifest)[-3:] == ["inputs", "shards", "counts"]
    assert json.loads((path / "manifest.json").read_text()) == manifest
    assert (path / "README.md").read_text() == "# toy\n"
    assert json.loads((path / "rejects.jsonl").read_text())["reason"] == "no_paper_text"


def test_empty_splits_are_omitted_when_asked(tmp_path):
    with BuildRun(_spec(omit_empty_splits=True), tmp_path / "out", inputs=[]) as run:
        run.writer.add("default", "train", {"id": "a"})
        written, (_, manifest) = _commit(run, Accounting({}))
    assert written.omitted == ["test"] and written.split_rows == {"default": {"train": 1}}
    assert all(info["split"] == "train" for info in manifest["shards"].values())


@pytest.mark.parametrize("accounting, error", [
    (Accounting({}, (Balance("papers", 3, 2),)), AssertionError),
    (Accounting({}, (), kept=0, rejected={"undecided": 2}), EmptyBuildError),
])
def test_a_build_that_does_not_add_up_writes_nothing(tmp_path, accounting, error):
    with pytest.raises(error), BuildRun(_spec(), tmp_path / "out", inputs=[]) as run:
        _commit(run, accounting)
    assert not (tmp_path / "out").exists()


# The review forms of each year (field names as the fixtures hold them).
FORM_2021 = {"title": "A title", "review": "Good and bad.\n"}
FORM_2023 = {"summary_of_the_paper": "S", "strength_and_weaknesses": "SW", "summary_of_the_review": "R"}
FORM_2024 = {"summary": "S", "strengths": "+", "weaknesses": "-", "questions": "?"}


def test_a_combined_field_goes_where_the_caller_says():
    assert review_sections(FORM_2021, "weaknesses").weaknesses == "Good and bad."
    assert review_sections(FORM_2021, "weaknesses").strengths is None
    assert review_sections(FORM_2021, "strengths").strengths == "Good and bad."
    assert review_sections(FORM_2021, "strengths").weaknesses is None
    assert review_sections(FORM_2023, "strengths").summary == "S"
    for into in ("strengths", "weaknesses"):
        assert review_sections(FORM_2024, into) == review_sections(FORM_2024, "weaknesses")
        assert (review_sections(FORM_2024, into).strengths, review_sections(FORM_2024, into).weaknesses) == ("+", "-")


def test_a_title_alone_is_no_review_content():
    assert not has_review_content({"title": "Review of paper 12"})
    assert has_review_content(FORM_2021)
