"""A readable report next to ``results.json``: a metric table with intervals and three plots (SVG, PNG beside)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cyclebench.records import ParsedReview, ReviewExample

_METRIC_LABELS = {
    "rating_mse": "Rating MSE (vs mean of n reviewers)",
    "rating_mae": "Rating MAE (vs mean of n reviewers)",
    "proxy_model_mse": "Proxy MSE, model (vs n-1 reviewers)",
    "proxy_model_mae": "Proxy MAE, model (vs n-1 reviewers)",
    "proxy_human_mse": "Proxy MSE, human individual (same papers)",
    "proxy_human_mae": "Proxy MAE, human individual (same papers)",
    "decision_accuracy": "Decision accuracy",
    "decision_macro_f1": "Decision macro-F1",
    "decision_balanced_accuracy": "Decision balanced accuracy",
    "roc_auc": "ROC AUC (from the continuous rating)",
    "spearman": "Spearman (rating vs human mean)",
    "pearson": "Pearson (rating vs human mean)",
    "pairwise_accuracy": "Pairwise ranking accuracy",
}


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def metric_table(metrics: dict[str, Any]) -> str:
    lines = ["| figure | value | 95% CI | n |", "|---|---|---|---|"]
    names = [m for m in _METRIC_LABELS if m in metrics] + sorted(m for m in metrics if m not in _METRIC_LABELS)
    for name in names:
        fig = metrics[name]
        ci = f"[{_fmt(fig.get('ci_low'))}, {_fmt(fig.get('ci_high'))}]"
        lines.append(f"| {_METRIC_LABELS.get(name, name)} | {_fmt(fig.get('value'))} | {ci} | {fig.get('n', '-')} |")
    return "\n".join(lines)


def _about(results: dict[str, Any], n: int) -> Any:
    """The chart titles' provenance line: model, dataset build, split, and ``n`` papers."""
    from cyclebench import plots

    task = results["task"]
    return plots.About(model=plots.model_label(results["model"]), dataset=plots.build_label(task),
                       split=str(task.get("split", "")), n=n)


def _plots(output: Path, results: dict[str, Any], examples: list[ReviewExample],
           parsed: list[ParsedReview]) -> list[str]:
    """Three charts as SVG (linked from the report) with a PNG of each beside it."""
    from cyclebench import plots

    human = [sum(e.ratings) / len(e.ratings) for e in examples]
    pairs = [(h, p.rating) for h, p in zip(human, parsed) if p.rating is not None]
    about = _about(results, len(examples))
    labels = ["accept", "reject", "unparsed"]
    counts = [[0, 0, 0], [0, 0, 0]]
    for example, review in zip(examples, parsed):
        if example.accepted is None:
            continue
        col = 2 if review.decision is None else (0 if review.decision == "accept" else 1)
        counts[0 if example.accepted else 1][col] += 1
    charts = {
        "pred_vs_human": plots.scatter_chart(
            [(h, p.rating) for h, p in zip(human, parsed)],
            title=f"Predicted vs human rating ({len(pairs)} of {len(examples)} papers rated)",
            xlabel="human mean rating", ylabel="predicted rating", about=about),
        "rating_hist": plots.histogram_chart(
            {"human mean": human, "predicted": [p for _, p in pairs]}, title="Rating histograms", xlabel="rating",
            about=about),
        "confusion": plots.matrix_chart(
            labels[:2], labels, counts, title="Decision confusion matrix", xlabel="predicted",
            ylabel="human decision", about=_about(results, sum(map(sum, counts)))),
    }
    for name, chart in charts.items():
        chart.write(output / f"{name}.svg")
    return [f"{name}.svg" for name in charts]


def write_review_report(output: Path, results: dict[str, Any], examples: list[ReviewExample],
                        parsed: list[ParsedReview]) -> Path:
    plots = _plots(output, results, examples, parsed)
    counts = results["counts"]
    task, model, protocol = results["task"], results["model"], results["protocol"]
    problems = "\n".join(f"| {k} | {v} |" for k, v in counts.get("parse_problems", {}).items()) or "| (none) | 0 |"
    definitions = "\n".join(f"- **{k}**: {v}" for k, v in results.get("definitions", {}).items())
    text = f"""# {task['name']} ({task['split']}) - {model['backend']} with the {protocol['name']} protocol

Model: `{model['backend']}` {model['model_args']}{' (CPU baseline trained on ' + str(model['training']['split']) + ')' if model.get('baseline') else ''}.
Dataset: {task['dataset_fingerprint']} ({task['n_examples']} papers). Seed {results['seed']},
{results['n_resamples']} bootstrap resamples.

Papers: {counts.get('n_papers')}; with a readable rating: {counts.get('n_evaluated')}; failed: {counts.get('n_failed')}
(parse status {counts.get('parse_status')}; generation errors {counts.get('generation_errors') or 'none'}).

{metric_table(results['metrics'])}

## Why outputs failed

| problem | papers |
|---|---|
{problems}

## Plots

""" + "\n".join(f"![{name}]({name})" for name in plots) + f"""

## Definitions

{definitions}
"""
    path = output / "report.md"
    path.write_text(text, encoding="utf-8")
    return path
