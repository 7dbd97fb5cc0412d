"""Scoring recorded outputs: the AI Scientist reviewer's six recorded configurations on the corpus papers,
checked against an independent computation with pandas and scikit-learn written here."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score

from cyclebench.cli import main
from cyclebench.recorded import score_recorded_outputs


def _recorded(corpus):
    return sorted((corpus / "reviews" / "aiscientist_llm_reviews").glob("*.csv"))


def _independent(corpus, csv_path, threshold=6.0):
    """The AI Scientist table's figures from the raw files, with pandas and sklearn only."""
    ratings = pd.read_csv(corpus / "reviews" / "iclr2022_ratings.tsv", sep="\t")
    human = ratings[[str(i) for i in range(7)]].mean(axis=1, skipna=True)
    truth = ratings["decision"].str.startswith("Accept")
    frame = pd.DataFrame({"paper_id": ratings["paper_id"], "human": human, "accepted": truth})
    reviews = pd.read_csv(csv_path)[["paper_id", "Overall"]]
    merged = frame.merge(reviews, on="paper_id", how="left")
    overall = pd.to_numeric(merged["Overall"], errors="coerce")
    ok = overall.notna()
    pred_accept = overall[ok] >= threshold
    return {
        "decision_balanced_accuracy": balanced_accuracy_score(merged["accepted"][ok], pred_accept),
        "decision_accuracy": accuracy_score(merged["accepted"][ok], pred_accept),
        "decision_accept_f1": f1_score(merged["accepted"][ok], pred_accept),
        "roc_auc": roc_auc_score(merged["accepted"][ok], overall[ok]),
        "pearson": pearsonr(overall[ok], merged["human"][ok]).statistic,
        "spearman": spearmanr(overall[ok], merged["human"][ok]).statistic,
        "rating_mae": float(np.mean(np.abs(overall[ok] - merged["human"][ok]))),
    }


def test_six_recorded_configurations_match_an_independent_computation(corpus, aiscientist_build, tmp_path):
    files = _recorded(corpus)
    assert len(files) == 6
    for csv_path in files:
        results = score_recorded_outputs(task="aiscientist-iclr2022", data=str(aiscientist_build), protocol="aiscientist",
                                         predictions=csv_path, fmt="aiscientist-csv", output=tmp_path / csv_path.stem,
                                         n_resamples=200)
        assert results["provenance"]["imported"] is True
        assert results["provenance"]["source_file"] == csv_path.name
        assert results["counts"]["n_papers"] == results["counts"]["n_evaluated"] == 150
        assert results["protocol"]["options"]["decision_rule"] == "threshold"
        for name, want in _independent(corpus, csv_path).items():
            assert results["metrics"][name]["value"] == pytest.approx(want, abs=1e-9), (csv_path.name, name)


def test_best_configuration_is_close_to_the_papers_table(corpus, aiscientist_build, tmp_path):
    """GPT-4o 1-shot, reflection, ensemble, threshold 6: the paper reports 0.65 / 0.66 / 0.57 on 500 papers;
    on the corpus's 150 of them the same command gives figures within a few points."""
    best = next(p for p in _recorded(corpus) if p.name.startswith("gpt-4o-2024-05-13_temp_0_1_fewshot_1"))
    code = main(["evaluate", "predictions", "--task", "aiscientist-iclr2022", "--data", str(aiscientist_build),
                 "--protocol", "aiscientist", "--protocol-args", "decision_rule=threshold,threshold=6",
                 "--predictions", str(best), "--format", "aiscientist-csv", "--bootstrap", "200",
                 "--output", str(tmp_path / "best")])
    assert code == 0
    metrics = json.loads((tmp_path / "best" / "results.json").read_text())["metrics"]
    assert metrics["decision_balanced_accuracy"]["value"] == pytest.approx(0.65, abs=0.03)
    assert metrics["decision_accuracy"]["value"] == pytest.approx(0.66, abs=0.03)
    assert metrics["decision_accept_f1"]["value"] == pytest.approx(0.57, abs=0.03)


def test_text_decision_rule_is_named_and_differs(corpus, aiscientist_build, tmp_path):
    sonnet = next(p for p in _recorded(corpus) if p.name.startswith("claude"))
    by_text = score_recorded_outputs(task="aiscientist-iclr2022", data=str(aiscientist_build), protocol="aiscientist",
                                     protocol_options={"decision_rule": "text"}, predictions=sonnet,
                                     fmt="aiscientist-csv", output=tmp_path / "text", n_resamples=100)
    by_8 = score_recorded_outputs(task="aiscientist-iclr2022", data=str(aiscientist_build), protocol="aiscientist",
                                  protocol_options={"threshold": 8}, predictions=sonnet, fmt="aiscientist-csv",
                                  output=tmp_path / "t8", n_resamples=100)
    assert by_text["protocol"]["options"]["decision_rule"] == "text"
    assert by_8["protocol"]["options"]["threshold"] == 8
    assert by_text["metrics"]["decision_accuracy"]["value"] != by_8["metrics"]["decision_accuracy"]["value"]


def test_malformed_rows_are_counted_failures(corpus, aiscientist_build, tmp_path):
    source = pd.read_csv(_recorded(corpus)[0], dtype=str, keep_default_na=False)
    bad = source.head(6).copy()
    bad.loc[0, "Overall"] = ""          # missing Overall
    bad.loc[1, "Overall"] = "abc"       # non-numeric
    bad.loc[2, "Soundness"] = "very"    # non-numeric aspect
    bad.loc[3, "Strengths"] = "['unterminated"  # truncated list
    bad.loc[4, "paper_id"] = "not-a-paper"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    results = score_recorded_outputs(task="aiscientist-iclr2022", data=str(aiscientist_build), protocol="aiscientist",
                                     predictions=path, fmt="aiscientist-csv", output=tmp_path / "run", n_resamples=100)
    counts = results["counts"]
    assert counts["n_papers"] == 150
    assert counts["n_evaluated"] == 3  # rows 2, 3, 5 keep a readable Overall
    assert counts["generation_errors"] == {"no_recorded_output": 145}
    assert results["provenance"]["import_problems"] == {"paper_not_in_split": 1}
    assert counts["parse_problems"]["rating_missing"] == 1 and counts["parse_problems"]["rating_unparseable"] == 1
    assert sum(counts["parse_status"].values()) == 150


def test_truncated_json_review_in_raw_text(aiscientist_build, tmp_path):
    from datasets import load_dataset

    ids = [r["paper_id"] for r in load_dataset(str(aiscientist_build), split="test").to_list()][:3]
    rows = [
        {"paper_id": ids[0], "output": 'THOUGHT: ok\nREVIEW JSON:\n```json\n{"Overall": 7, "Decision": "Accept", "Summ'},
        {"paper_id": ids[1], "output": 'REVIEW JSON:\n```json\n{"Overall": 4, "Decision": "Reject"}\n```'},
        {"paper_id": ids[2], "output": None},
    ]
    path = tmp_path / "raw.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n")
    results = score_recorded_outputs(task="aiscientist-iclr2022", data=str(aiscientist_build), protocol="aiscientist",
                                     predictions=path, fmt="jsonl", output=tmp_path / "run", n_resamples=100)
    assert results["counts"]["n_evaluated"] == 1
    assert results["provenance"]["import_problems"] == {"malformed_json": 1}
    assert results["counts"]["generation_errors"]["empty_recorded_output"] == 1


def test_a_token_budget_is_refused_for_recorded_outputs(aiscientist_build, tmp_path):
    """The system under test already read its papers: a budget would be recorded but never applied."""
    path = tmp_path / "raw.jsonl"
    path.write_text(json.dumps({"paper_id": "x", "output": "REVIEW JSON:\n{}"}) + "\n")
    with pytest.raises(ValueError, match="max_paper_tokens does not apply to recorded outputs"):
        score_recorded_outputs(task="aiscientist-iclr2022", data=str(aiscientist_build), protocol="aiscientist",
                               predictions=path, fmt="jsonl", output=tmp_path / "run", n_resamples=100,
                               task_options={"max_paper_tokens": 512})
    assert not (tmp_path / "run").exists()
