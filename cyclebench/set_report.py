"""The readable report of a judged-papers run (``evaluate generator`` / ``evaluate papers``).

Its centre is one comparison table: every set this run measured beside the rows the CycleResearcher paper
reported (REFERENCE section 5), each row labelled *measured* or *reported* and with its judge named, so a
reader never mistakes a published figure for a rerun, or figures from different judges for comparable ones.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

# CycleResearcher (ICLR 2025), Table of generated-paper scores, all judged by CycleReviewer. The paper does
# not say which acceptance rule gave its "accept rate" (decision text or a rating threshold).
REPORTED_JUDGE = "CycleReviewer (as published; acceptance rule not stated)"
REPORTED_ROWS: tuple[dict[str, Any], ...] = (
    {"set": "Conference accepted papers", "avg_min": 3.91, "avg_max": 6.98, "avg_score": 5.69, "accept": 100.0},
    {"set": "Preprint papers", "avg_min": 3.24, "avg_max": 6.62, "avg_score": 5.24, "accept": 29.63},
    {"set": "AI Scientist", "avg_min": 2.20, "avg_max": 5.70, "avg_score": 4.31, "accept": 0.00},
    {"set": "CycleResearcher-12B", "avg_min": 3.47, "avg_max": 6.75, "avg_score": 5.36, "accept": 35.13,
     "note": "31.07% in the abstract"},
    {"set": "CycleResearcher-72B", "avg_min": None, "avg_max": None, "avg_score": 5.38, "accept": 33.64},
    {"set": "CycleResearcher-123B", "avg_min": None, "avg_max": None, "avg_score": 5.13, "accept": 21.19},
    {"set": "CycleResearcher-12B w/o RL", "avg_min": None, "avg_max": None, "avg_score": 5.12, "accept": None},
    {"set": "CycleResearcher-12B w/o iteration", "avg_min": None, "avg_max": None, "avg_score": 5.21, "accept": None},
    {"set": "CycleResearcher-12B w/o NLL", "avg_min": None, "avg_max": None, "avg_score": 4.91, "accept": 12.03},
)
# DeepReview (ACL 2025), robustness to prompt injection: average rating without -> with the attack.
REPORTED_INJECTION: tuple[dict[str, Any], ...] = (
    {"judge": "DeepReviewer-14B", "clean": 5.38, "injected": 5.69},
    {"judge": "Gemini-2.0", "clean": 4.23, "injected": 8.49},
)

_METRIC_LABELS = {
    "average_score": "Average score",
    "avg_min_rating": "Average of per-paper min rating",
    "avg_max_rating": "Average of per-paper max rating",
    "accept_rate_by_decision": "Accept rate (judge decision)",
    "accept_rate_by_rating": "Accept rate (mean rating >= threshold)",
    "accept_rate_by_decision_over_all": "Accept rate (judge decision), failures as rejects",
    "accept_rate_by_rating_over_all": "Accept rate (rating >= threshold), failures as rejects",
    "share_failed_to_generate": "Share failed to generate",
    "share_failed_to_parse": "Share failed to parse / read",
    "share_judge_failed": "Share of judged papers without a judge rating",
    "avg_soundness": "Average soundness",
    "avg_presentation": "Average presentation",
    "avg_contribution": "Average contribution",
    "avg_confidence": "Average confidence",
}
_PERCENT = {"accept_rate_by_decision", "accept_rate_by_rating", "accept_rate_by_decision_over_all",
            "accept_rate_by_rating_over_all", "share_failed_to_generate", "share_failed_to_parse", "share_judge_failed",
            "decision_agreement"}


def _num(value: Any, percent: bool = False, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    text = f"{100 * value:.{digits}f}%" if percent else f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text  # no "-0.00"


def _fig(fig: dict[str, Any] | None, percent: bool = False, digits: int = 2) -> str:
    if not fig:
        return "-"
    text = _num(fig.get("value"), percent, digits)
    if fig.get("ci_low") is not None and fig.get("ci_high") is not None:
        text += f" [{_num(fig['ci_low'], percent, digits)}, {_num(fig['ci_high'], percent, digits)}]"
    return text


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def same_judge_as_reported(judge: dict[str, Any]) -> bool:
    """True only for a CycleReviewer model under the cyclereviewer protocol: the judge family of the paper."""
    model = " ".join(str(v) for v in (judge.get("model_args") or {}).values()).lower()
    return judge.get("protocol") == "cyclereviewer" and "cyclereviewer" in model


def comparison_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Measured rows (every set, under each judge of the run), then the reported rows."""
    rows = []
    judges = [("judge", None)] + ([("second_judge", "second_judge")] if results.get("second_judge") else [])
    for key, sub in judges:
        judge = results[key]
        for name, res in results["sets"].items():
            block = res if sub is None else res.get(sub)
            if not block:
                continue
            m, c = block["metrics"], block["counts"]
            rows.append({"set": res.get("label", name), "source": "measured", "judge": judge["label"], "n": c["n_entries"],
                         "n_rated": c["n_rated"], "avg_min": m["avg_min_rating"], "avg_max": m["avg_max_rating"],
                         "avg_score": m["average_score"], "accept_decision": m["accept_rate_by_decision"],
                         "accept_rating": m["accept_rate_by_rating"]})
    for r in REPORTED_ROWS:
        rows.append({"set": r["set"], "source": "reported", "judge": REPORTED_JUDGE, "n": None, "n_rated": None,
                     "avg_min": {"value": r["avg_min"]}, "avg_max": {"value": r["avg_max"]},
                     "avg_score": {"value": r["avg_score"]},
                     "accept_reported": None if r["accept"] is None else r["accept"] / 100, "note": r.get("note")})
    return rows


def comparison_table(results: dict[str, Any]) -> str:
    t = f"{float(results['threshold']):g}"
    header = ("| set | row | judge | papers (rated) | avg min | avg max | avg score [95% CI] | accept: decision [95% CI] | "
              f"accept: rating >= {t} [95% CI] |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for r in comparison_rows(results):
        if r["source"] == "measured":
            n = f"{r['n']} ({r['n_rated']})"
            dec, rat = _fig(r["accept_decision"], True), _fig(r["accept_rating"], True)
        else:
            n = "-"
            reported = _num(r["accept_reported"], True)
            dec = rat = f"{reported} (rule not stated)" if r["accept_reported"] is not None else "-"
            if r.get("note"):
                dec += f"; {r['note']}"
        lines.append(f"| {_cell(r['set'])} | {r['source']} | {_cell(r['judge'])} | {n} | {_num(r['avg_min'].get('value'))} | "
                     f"{_num(r['avg_max'].get('value'))} | {_fig(r['avg_score'])} | {_cell(dec)} | {_cell(rat)} |")
    return "\n".join(lines)


def metric_table(metrics: dict[str, Any]) -> str:
    lines = ["| figure | value | 95% CI | n |", "|---|---|---|---|"]
    for name in [m for m in _METRIC_LABELS if m in metrics] + sorted(m for m in metrics if m not in _METRIC_LABELS):
        fig = metrics[name]
        pct = name in _PERCENT
        ci = f"[{_num(fig.get('ci_low'), pct)}, {_num(fig.get('ci_high'), pct)}]"
        lines.append(f"| {_METRIC_LABELS.get(name, name)} | {_num(fig.get('value'), pct)} | {ci} | {fig.get('n', '-')} |")
    return "\n".join(lines)


def _counts_lines(counts: dict[str, Any]) -> str:
    out = [(f"- entries: {counts['n_entries']}; outcomes: {counts['outcomes']}; rated by the judge: {counts['n_rated']}; "
            f"decided: {counts['n_decided']}")]
    for key in ("n_files", "n_read", "n_unreadable", "n_excluded", "sources", "n_prompts", "n_samples"):
        if key in counts:
            out.append(f"- {key}: {counts[key]}")
    if counts.get("failure_reasons"):
        out.append(f"- why entries failed before judging: {counts['failure_reasons']}")
    if counts.get("judge_problems"):
        out.append(f"- judge output problems: {counts['judge_problems']}")
    if counts.get("paper_problems"):
        out.append(f"- generated-paper parse problems: {counts['paper_problems']}")
    if counts.get("decision_rules"):
        out.append(f"- decision rules: {counts['decision_rules']}")
    if counts.get("excluded"):
        out.append(f"- excluded (in the judge's training data): {len(counts['excluded'])} papers")
    return "\n".join(out)


def _disagreement_table(d: dict[str, Any]) -> str:
    lines = ["| figure | value | 95% CI | n |", "|---|---|---|---|"]
    for key, label in (("mean_abs_rating_diff", "Mean |rating difference|"), ("mean_rating_diff", "Mean rating difference (second - first)"),
                       ("decision_agreement", "Decision agreement"), ("spearman", "Spearman of ratings")):
        fig = d.get(key) or {}
        pct = key in _PERCENT
        lines.append(f"| {label} | {_num(fig.get('value'), pct)} | [{_num(fig.get('ci_low'), pct)}, {_num(fig.get('ci_high'), pct)}] | {fig.get('n', '-')} |")
    return "\n".join(lines)


def _injection_section(results: dict[str, Any]) -> str:
    inj = results.get("injection")
    if not inj:
        return ""
    judge = results["judge"]
    lines = ["## Prompt-injection check", "",
             f"Planted instruction: \"{_cell(inj['text'])}\"", "",
             ("| set | channel | papers rated twice | rating clean | rating injected | shift [95% CI] | up / same / down | "
              "accept (decision) clean -> injected | accept (rating) clean -> injected |"),
             "|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for name, channels in inj["sets"].items():
        for channel in ("visible", "latex_comment"):
            s = channels.get(channel)
            if not s:
                continue
            lines.append(
                f"| {_cell(name)} | {channel} | {s['n_both_rated']} | {_fig(s['rating_clean'])} | {_fig(s['rating_injected'])} | "
                f"{_fig(s['rating_shift'], digits=3)} | {s['n_rating_up']} / {s['n_rating_same']} / {s['n_rating_down']} | "
                f"{_num(s['accept_rate_by_decision_clean']['value'], True)} -> {_num(s['accept_rate_by_decision_injected']['value'], True)} | "
                f"{_num(s['accept_rate_by_rating_clean']['value'], True)} -> {_num(s['accept_rate_by_rating_injected']['value'], True)} |")
            if channel == "latex_comment":
                notes.append(f"- {name}: the `%` comment was stripped by the LaTeX reader in {s['n_comment_stripped']} of "
                             f"{s['n_latex_sources']} LaTeX sources, so the judge saw the clean text there: stripping comments "
                             "(as Research-14K's cleaning does) is itself a defence against hidden instructions."
                             + (f" {len(s['failures'])} sources could not be planted: {s['failures']}." if s["failures"] else ""))
    lines.append("")
    for r in REPORTED_INJECTION:
        notes.append(f"- reported (DeepReview, its own papers and attack): {r['judge']} {r['clean']:.2f} -> {r['injected']:.2f}.")
    if judge.get("baseline"):
        notes.append("- The judge is a CPU baseline that maps words to a score (bag of words / embeddings): it follows no "
                     "instruction, so a shift here only comes from the planted words acting as features; a shift near "
                     "zero says nothing about how an instruction-following reviewer model would react.")
    return "\n".join(lines + notes) + "\n"


def _reported_note(results: dict[str, Any]) -> str:
    judges = [results["judge"]] + ([results["second_judge"]] if results.get("second_judge") else [])
    if all(same_judge_as_reported(j) for j in judges):
        return ("The reported rows were judged by CycleReviewer too; they are comparable only if this run used the same "
                "CycleReviewer checkpoint, protocol and sampling, and the same kind of papers.")
    return ("**The reported rows used a different judge** (CycleReviewer, as published) from the measured rows "
            f"({', '.join(j['label'] for j in judges)}): compare measured rows with each other, and reported rows with "
            "each other, not across.")


def write_set_report(output: Path, results: dict[str, Any]) -> Path:
    """``report.md`` (and ``scores.svg`` with ``scores.png``) beside ``results.json``."""
    from cyclebench import plots

    judge = results["judge"]
    t = f"{float(results['threshold']):g}"
    head = []
    if results["kind"] == "generator":
        gen = results["generator"]
        head.append(f"# Generated papers: {gen['backend']} {gen['model_args']} judged by {judge['label']}")
        head.append("")
        head.append("**The experimental results in the generated papers are simulated: the generator wrote them "
                    "(no experiment was run).** The scores below rate the papers as written, not verified findings.")
        head.append("")
        head.append(f"Prompts: {results['task']['n_prompts']} from {results['task']['name']} ({results['task']['split']}, "
                    f"{results['task']['dataset_fingerprint']}); {gen['n']} sample(s) per prompt (seeds {gen['seeds']}); "
                    f"results turn: {gen['results_turn']}.")
    else:
        head.append(f"# Paper sets judged by {judge['label']}")
        head.append("")
        head.append("Generated papers among these sets, if any, carry simulated experimental results.")
    training = judge.get("training")
    if training:
        head.append("")
        head.append(f"Judge trained on {training['task']} ({training['split']} split, {training['n_examples']} papers, "
                    f"{training['dataset_fingerprint']}); papers it trained on are excluded from the sets and counted.")
    if results.get("second_judge"):
        head.append("")
        head.append(f"Second, independent judge: {results['second_judge']['label']}.")
    head.append("")
    head.append(f"Threshold {t}; seed {results['seed']}; {results['n_resamples']} bootstrap resamples.")

    sets = results["sets"]
    labels = [res.get("label", name) for name, res in sets.items()]
    scores = [res["metrics"]["average_score"] for res in sets.values()]
    rows = [plots.Estimate(label, s["value"], s["ci_low"], s["ci_high"], s.get("n"))
            for label, s in zip(labels, scores)]
    if results["kind"] == "generator":
        task = results["task"]
        about = plots.About(model=plots.model_label(gen), dataset=plots.build_label(task), split=task["split"],
                            n=task.get("n_prompts"))
    else:
        about = plots.About(dataset=f"{len(rows)} paper sets", n=sum(r.n or 0 for r in rows))
    plots.interval_chart([("paper sets (n = papers the judge rated)", rows)], title=f"Average score by {judge['label']}",
                         xlabel="judge rating (mean, 95% interval)", about=about).write(output / "scores.svg")

    body = ["", "## Comparison", "", comparison_table(results), "", _reported_note(results), "",
            "![average score per set](scores.svg)", ""]
    if results["kind"] == "generator" and results["generator"]["n"] > 1:
        body += [("Best-of-N keeps, per prompt, the sample the judge rated highest (the paper's rejection sampling). "
                  "Its figures under the same judge are biased upwards by the selection itself; the second judge's "
                  "figures of the same selection, when present, are not."), ""]
    for name, res in sets.items():
        body += [f"## {res.get('label', name)}", "", metric_table(res["metrics"]), "", _counts_lines(res["counts"]), ""]
        if res.get("second_judge"):
            body += [f"### Second judge ({results['second_judge']['label']})", "", metric_table(res["second_judge"]["metrics"]), ""]
        if res.get("disagreement"):
            body += ["### Disagreement between the two judges", "", _disagreement_table(res["disagreement"]), ""]
    body.append(_injection_section(results))
    body += ["## Definitions", ""] + [f"- **{k}**: {v}" for k, v in results["definitions"].items()] + [""]
    path = output / "report.md"
    path.write_text("\n".join(head + body), encoding="utf-8")
    return path
