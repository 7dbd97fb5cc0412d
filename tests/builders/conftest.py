"""Builds of the corpus shared by the builder tests, each made once per session (as ``tests/conftest.py`` does
for the seeded builds): the DeepReview-13K and Research-14K modules and the card test read the same folders.
Shared read-only: a test that writes into one copies it first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, _listing

# DeepReview-13K: the corpus's ICLR 2026 notes plus the 2024/2025 fixture years, titles and abstracts only.
DEEPREVIEW_FIXTURE_YEARS = [FIXTURES / "openreview" / "iclr2024_v2.jsonl", FIXTURES / "openreview" / "iclr2025_v2.jsonl"]
# Research-14K: the ICLR 2021 LaTeX paper, three markdown texts and the two quickest PDFs to extract.
RESEARCH14K_MARKDOWN = ("-29uFS4FiDZ", "2sDQwC_hmnM", "30SXt3-vvnM")
RESEARCH14K_PDFS = ("STpxO1Siaq", "n7RqgqbxP7")


def deepreview_inputs(corpus: Path) -> list[Path]:
    return [corpus / "openreview" / "iclr2026_v2.jsonl", *DEEPREVIEW_FIXTURE_YEARS]


def _unmodified(report: Any) -> Iterator[Any]:
    """Yield a shared build's report, then check that no test wrote into its folder."""
    before = _listing(report.out)
    yield report
    after = _listing(report.out)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"a test wrote into the shared build {report.out}: {changed[:10]}; copy it first"


@pytest.fixture(scope="session")
def deepreview13k_corpus_build(corpus, tmp_path_factory) -> Iterator[Any]:
    """``BuildReport`` of DeepReview-13K over the corpus + fixture years (no texts, one worker, 100-row shards)."""
    from cyclebench.builders import deepreview13k

    out = tmp_path_factory.mktemp("dr") / "out"
    report = deepreview13k.build(deepreview_inputs(corpus), None, out, deepreview13k.DeepReview13KConfig(
        require_text=False, max_rows_per_shard=100), workers=1, progress=False)
    yield from _unmodified(report)


@pytest.fixture(scope="session")
def research14k_corpus_build(corpus, tmp_path_factory) -> Iterator[Any]:
    """``BuildReport`` of Research-14K over the corpus's LaTeX, markdown and PDF papers (fixed outline scores)."""
    from cyclebench.builders.research14k import Research14KConfig, build

    tmp = tmp_path_factory.mktemp("r14-corpus")
    rows = [{"paperId": "iclr2021_calibration", "venue": "ICLR", "year": 2021, "arxiv": "2010.10994",
             "cited_abstracts": {"Guo2017": "Confidence calibration is important for classification models."}}]
    rows += [{"paperId": pid, "venue": "ICLR", "year": 2022} for pid in RESEARCH14K_MARKDOWN]
    rows += [{"paperId": pid, "venue": "ICLR", "year": 2025} for pid in RESEARCH14K_PDFS]
    meta = tmp / "meta.jsonl"
    meta.write_text("".join(json.dumps(r) + "\n" for r in rows))
    papers = corpus / "papers"
    report = build(meta, [papers / "latex", papers / "markdown", papers / "pdf"], tmp / "out",
                   Research14KConfig(outline_scores=(7, 7, 7)), workers=2, progress=False)
    yield from _unmodified(report)
