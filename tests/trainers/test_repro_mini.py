"""benchmarks/repro_mini.py without a model: stages resume and record failures with their reason, the guard
agreement is counted from the scores a round wrote, and the "what this shows" lines are read off the numbers."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def repro():
    spec = importlib.util.spec_from_file_location("repro_mini", ROOT / "benchmarks" / "repro_mini.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["repro_mini"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("repro_mini", None)


def _ctx(repro, tmp_path):
    return repro.Context(work=tmp_path, datasets={}, sft_data=tmp_path, submissions=tmp_path / "subs",
                         budget=repro.BUDGETS["smoke"], budget_name="smoke")


def test_a_stage_runs_once_and_a_failure_keeps_its_reason(repro, tmp_path):
    ctx, calls = _ctx(repro, tmp_path), []

    def good(_):
        calls.append(1)
        return {"x": 1}

    def bad(_):
        raise repro.StageFailed("no rows: because")

    assert repro.run_stage(ctx, "sft", good, False)["status"] == "ok"
    assert repro.run_stage(ctx, "sft", good, False)["figures"] == {"x": 1} and len(calls) == 1  # resumed
    assert repro.run_stage(ctx, "sft", good, True) and len(calls) == 2  # --redo
    failed = repro.run_stage(ctx, "simpo", bad, False)
    assert failed["status"] == "failed" and failed["error"] == "no rows: because" and failed["traceback"] is None
    assert repro.read_stage(tmp_path, "simpo")["status"] == "failed"
    crashed = repro.run_stage(ctx, "zero-shot", lambda _: 1 / 0, False)
    assert crashed["error"].startswith("ZeroDivisionError") and "Traceback" in crashed["traceback"]


def test_sft_without_rows_fails_with_the_builds_skip_reasons(repro, tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"counts": {"splits": {"sft": {"train": 0}},
                                                                   "sft_rows_skipped": {"no_paper_text": 205}}}))
    record = repro.run_stage(_ctx(repro, tmp_path), "sft", repro.stage_sft, False)
    assert record["status"] == "failed" and "0 Review-5K `sft` train rows" in record["error"]
    assert "no_paper_text" in record["error"]


def test_guard_agreement_counts_concordant_sample_pairs(repro, tmp_path):
    folder = tmp_path / "round_1" / "eval"
    folder.mkdir(parents=True)
    rows = [(5, 3.0), (6, 4.0), (4, 5.0), (None, 1.0)]  # pairs: (0,1) same, (0,2) opposite, (1,2) opposite
    (folder / "scores.jsonl").write_text("".join(json.dumps(
        {"reward": {"score": r}, "guard": {"score": g}}) + "\n" for r, g in rows))
    out = repro.guard_agreement(tmp_path, 1)
    assert out == {"n_scored_by_both": 3, "n_pairs": 3, "agreement": pytest.approx(1 / 3)}
    assert repro.guard_agreement(tmp_path, 2)["n_pairs"] == 0


def test_what_it_shows_follows_the_numbers(repro):
    def review(ok, n=4):
        return {"n_papers": n, "parse_status": {"ok": ok, "no_rating": n - ok}, "truncation": {"n_truncated": n}}

    records = {
        "zero-shot": {"status": "ok", "figures": {"smollm2": {"review-5k": review(0)}}},
        "sft": {"status": "ok", "figures": {"losses": [2.0, 1.5]}},
        "sft-eval": {"status": "ok", "figures": {"review-5k": review(3)}},
        "simpo": {"status": "failed", "error": "boom"},
    }
    yes, no = repro.shows(records)
    assert any("rose after SFT: 0.00 -> 0.75" in s for s in yes)
    assert any("2.000 -> 1.500 (down)" in s for s in yes)
    assert any("`simpo` did not finish: boom" in s for s in no)
    assert any("no output followed the CycleReviewer format" in s for s in no)
    records["sft-eval"]["figures"]["review-5k"] = review(0)
    assert any("did not rise after SFT" in s for s in repro.shows(records)[0])
