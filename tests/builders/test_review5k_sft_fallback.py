"""Review-5K ``sft_abstract_fallback``: sft rows from title + abstract for papers without a text, opt-in,
marked in the manifest and the card, and the prompt exactly the stand-in the evaluation shows."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cyclebench.builders import review5k
from cyclebench.builders.review5k import Review5KConfig


def _build(corpus: Path, out: Path, **config):
    cfg = Review5KConfig(require_text=False, **config)
    return review5k.build(corpus / "openreview" / "iclr2026_v2.jsonl", None, out, cfg, progress=False)


def _rows(out: Path, config: str, split: str) -> list[dict]:
    return [r for f in sorted((out / config).glob(f"{split}-*.parquet")) for r in pq.read_table(f).to_pylist()]


def test_default_build_is_unchanged_by_the_option_existing(corpus, tmp_path):
    """Off by default and then absent from the manifest's config and its hash, so a default build is the
    same bytes as before the option existed; set explicitly to false it is the default build."""
    plain = _build(corpus, tmp_path / "plain")
    off = _build(corpus, tmp_path / "off", sft_abstract_fallback=False)
    assert "sft_abstract_fallback" not in plain.manifest["config"]
    assert "sft_rows_abstract_only" not in plain.manifest["counts"]
    assert plain.manifest["counts"]["splits"]["sft"] == {"train": 0, "test": 0}
    assert plain.manifest["counts"]["sft_rows_skipped"] == {"no_paper_text": 205}
    for name in ("manifest.json", "README.md"):
        a = (plain.out / name).read_text().replace(str(plain.out), "")
        b = (off.out / name).read_text().replace(str(off.out), "")
        assert a == b, name
    assert "abstract-only" not in (plain.out / "README.md").read_text()


def test_fallback_writes_marked_abstract_only_sft_rows(corpus, tmp_path):
    from cyclebench.tasks import get_task

    plain = _build(corpus, tmp_path / "plain")
    report = _build(corpus, tmp_path / "fb", sft_abstract_fallback=True)
    m = report.manifest
    assert m["config"]["sft_abstract_fallback"] is True
    assert m["config_sha256"] != plain.manifest["config_sha256"]
    assert m["counts"]["sft_rows_abstract_only"] == 205
    assert m["counts"]["splits"]["sft"]["train"] + m["counts"]["splits"]["sft"]["test"] == 205
    assert m["counts"]["sft_rows_skipped"] == {}
    assert "sft_abstract_only" in m["definitions"]
    card = (report.out / "README.md").read_text()
    assert "**205 `sft` rows are abstract-only**" in card
    # default and reviews shards are the same rows: the evaluation's fingerprint of the test split is unchanged
    for cfg in ("default", "reviews"):
        for split in ("train", "test"):
            assert _rows(report.out, cfg, split) == _rows(plain.out, cfg, split)
    # the sft prompt is the evaluation's stand-in, as the cyclereviewer protocol builds it from that text
    shown = {e.paper_id: e for e in get_task("review-5k").load(str(report.out), "test", abstract_fallback=True).examples}
    from cyclebench.protocols.cyclereviewer import CycleReviewerProtocol

    sft = _rows(report.out, "sft", "test")
    assert len(sft) == len(shown) == m["counts"]["splits"]["sft"]["test"]
    for row in sft:
        ex = shown[row["id"]]
        assert row["messages"][:-1] == CycleReviewerProtocol().build_messages(ex.paper_text, title=ex.title)
        assert row["messages"][-1]["role"] == "assistant" and "## Paper Decision" in row["messages"][-1]["content"]


def test_a_paper_without_text_or_abstract_is_still_a_reasoned_skip(corpus, tmp_path):
    """No abstract either: no sft row, rejected as no_paper_text with the detail saying so; counts reconcile."""
    src = corpus / "openreview" / "iclr2026_v2.jsonl"
    lines = src.read_text(encoding="utf-8").splitlines()
    blanked = 0
    out_lines = []
    for line in lines:
        note = json.loads(line)
        content = note.get("content") or {}
        if blanked < 3 and "abstract" in content and "Withdrawn" not in json.dumps(content.get("venue", "")) \
                and "Desk" not in json.dumps(content.get("venue", "")):
            content["abstract"] = {"value": ""} if isinstance(content["abstract"], dict) else ""
            blanked += 1
        out_lines.append(json.dumps(note))
    hostile = tmp_path / "notes.jsonl"
    hostile.write_text("\n".join(out_lines) + "\n", encoding="utf-8")
    report = review5k.build(hostile, None, tmp_path / "out",
                            Review5KConfig(require_text=False, sft_abstract_fallback=True), progress=False)
    counts = report.manifest["counts"]
    kept = counts["papers_kept"]
    skipped = sum(counts["sft_rows_skipped"].values())
    assert counts["sft_rows_abstract_only"] + skipped == kept
    assert skipped >= 1, counts  # the blanked abstracts reached the sft stage
    sft_rows = counts["splits"]["sft"]["train"] + counts["splits"]["sft"].get("test", 0)
    assert sft_rows == counts["sft_rows_abstract_only"]
    rejects = [json.loads(x) for x in (report.out / "rejects.jsonl").read_text().splitlines()]
    sft_rejects = [r for r in rejects if r["stage"] == "sft"]
    assert len(sft_rejects) == skipped
    assert all(r["reason"] == "no_paper_text" and r["detail"] == "and no abstract" for r in sft_rejects)


def test_the_option_is_a_switch(corpus):
    with pytest.raises((TypeError, ValueError)):
        Review5KConfig(require_text=False, sft_abstract_fallback="yes")
