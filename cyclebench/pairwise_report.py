"""``report.md`` of a pairwise run: ratings, win rates per pair, position bias, parse failures, skips."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pct(fig: dict[str, Any] | None) -> str:
    if not fig or fig.get("value") is None:
        return "n/a"
    if fig.get("ci_low") is None:
        return f"{100 * fig['value']:.1f}%"
    return f"{100 * fig['value']:.1f}% [{100 * fig['ci_low']:.1f}, {100 * fig['ci_high']:.1f}]"


def _rating(fig: dict[str, Any]) -> str:
    if fig.get("value") is None:
        return "n/a"
    if fig.get("ci_low") is None:
        return f"{fig['value']:.0f}"
    return f"{fig['value']:.0f} [{fig['ci_low']:.0f}, {fig['ci_high']:.0f}]"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def pairwise_report(results: dict[str, Any]) -> str:
    """The report's markdown (pure: the leaderboard can render a submission's with it too)."""
    metrics, counts = results["metrics"], results["counts"]
    aspects = results["config"]["aspects"]
    headline = "overall" if "overall" in aspects else aspects[-1]
    judge = results["judge"]
    lines = [
        f"# Pairwise review comparison: {results['task']['name']} ({results['task']['split']})", "",
        f"Judge: `{judge['protocol']['name']}` via `{judge['backend']}` ({judge['model_args']}); "
        f"seed {results['seed']}, {results['n_resamples']} bootstrap resamples.",
        f"Prompt credit: {judge['protocol'].get('credit', '')}.", "",
        f"Systems: {', '.join(s['name'] for s in results['systems'])}.",
        f"(paper, pair) candidates {counts['n_candidates']}: judged {counts['n_pairs_judged']} (each in both orders, "
        f"{counts['n_judgments']} judgments); skipped: {_counts(counts['skipped'])}.", "",
        f"## Bradley-Terry ratings ({headline})", "",
        "| system | rating [95% CI] |", "|---|---|",
    ]
    bt = metrics[headline]["bradley_terry"]
    order = sorted(bt["ratings"].items(), key=lambda kv: -(kv[1]["value"] or float("-inf")))
    lines += [f"| {name} | {_rating(fig)} |" for name, fig in order]
    if not bt["connected"]:
        lines.append("\nThe comparison graph is not connected: no common scale (judge more pairs).")
    lines += ["", "## Win rates per pair (first system's wins, both orders combined)", "",
              "| aspect | system | opponent | n | win | tie | loss | score | order agreement |",
              "|---|---|---|---|---|---|---|---|---|"]
    for aspect in aspects:
        for p in metrics[aspect]["pairs"]:
            lines.append(f"| {aspect} | {p['system']} | {p['opponent']} | {p['n']} | {_pct(p['win_rate'])} | "
                         f"{_pct(p['tie_rate'])} | {_pct(p['loss_rate'])} | {_pct(p['score'])} | "
                         f"{_pct(p['order_agreement'])} |")
    lines += ["", "## Position bias (single orders)", "",
              "| aspect | share for first shown [95% CI] | bias | first | second | tie | unreadable | excluded results |",
              "|---|---|---|---|---|---|---|---|"]
    for aspect in aspects:
        b = metrics[aspect]["position_bias"]
        bias = b["bias"]["value"]
        lines.append(f"| {aspect} | {_pct(b['first_share'])} | {'n/a' if bias is None else f'{100 * bias:+.1f} pp'} | "
                     f"{b['n_first']} | {b['n_second']} | {b['n_tie']} | {b['n_unreadable']} | "
                     f"{_counts(metrics[aspect]['excluded'])} |")
    failures = counts["parse_failures"]
    lines += ["", "## Judge answers", "",
              f"Status of the {counts['n_judgments']} judgments: {_counts(counts['judgment_status'])}; "
              f"generation errors: {_counts(counts['generation_errors'])}.",
              f"Parse failures (aspect verdicts) by reason: {_counts(failures['by_reason'])}; by aspect: "
              f"{_counts(failures['by_aspect'])}.", "", "## Definitions", ""]
    lines += [f"- **{k}**: {v}" for k, v in results["definitions"].items()]
    return "\n".join(lines) + "\n"


def write_pairwise_report(folder: Path, results: dict[str, Any]) -> None:
    (folder / "report.md").write_text(pairwise_report(results), encoding="utf-8")
