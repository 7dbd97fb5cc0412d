"""Every ICLR year shape (REFERENCE section 3) the corpus lacks, against hand-derived expectations.

``tests/fixtures/openreview/expected.json`` was written from the rules, not by running this reader.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cyclebench.sources.openreview import iter_raw_notes, parse_submission

from tests.conftest import FIXTURES

FOLDER = FIXTURES / "openreview"
EXPECTED = json.loads((FOLDER / "expected.json").read_text())
FILES = sorted(name for name in EXPECTED if not name.startswith("_"))


def _cases():
    for name in FILES:
        for paper_id in EXPECTED[name]["papers"]:
            yield pytest.param(name, paper_id, id=f"{name}:{paper_id}")


@pytest.fixture(scope="module")
def parsed():
    return {name: {raw.record_id: parse_submission(raw.note) for raw in iter_raw_notes(FOLDER / name)} for name in FILES}


@pytest.mark.parametrize(("name", "paper_id"), list(_cases()))
def test_year_shape(parsed, name, paper_id):
    want = EXPECTED[name]["papers"][paper_id]
    outcome = parsed[name][paper_id]
    sub = outcome.submission
    assert sub.year == EXPECTED[name]["year"]
    assert sub.api_version == (1 if EXPECTED[name]["api"] == "v1" else 2)
    assert sub.decision.label == want["decision"]
    assert sub.decision.presentation == want["presentation"]
    assert sub.decision.source == want["decision_source"]
    assert (sub.decision.raw or None) == want["decision_raw"]
    assert len(sub.reviews) == want["n_reviews"]
    assert sorted(r.rating.value for r in sub.reviews) == want["ratings"]
    assert dict(Counter(r.reason for r in outcome.review_rejects)) == want["rejected_reviews"]
    assert outcome.superseded_review_versions == want["dropped_versions"]
    assert (sub.meta_review is not None) == want["has_meta_review"]
    assert sum(c.by_authors for c in sub.comments) == want["n_author_comments"]
    scale = EXPECTED[name]["rating_scale"]
    assert all(r.rating.value in scale for r in sub.reviews)
    if "edited_review" in want:
        edited = next(r for r in sub.reviews if r.note_id == want["edited_review"]["id"])
        assert edited.rating.value == want["edited_review"]["kept_rating"]


def test_every_fixture_paper_is_expected():
    for name in FILES:
        ids = {raw.record_id for raw in iter_raw_notes(FOLDER / name)}
        assert ids == set(EXPECTED[name]["papers"]), name
