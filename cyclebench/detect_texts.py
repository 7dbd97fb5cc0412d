"""One ``cyclebench detect`` run: read texts, score them, write ``detections.jsonl``, ``results.json`` and
``report.md`` (with histograms) into an output folder assembled aside and renamed into place.

Counts reconcile: texts found = scored + skipped (by reason), where skipped holds what could not be read too;
``detections.jsonl`` has one row per text found, in input order.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclebench import __version__
from cyclebench.detection.inputs import (
    Texts,
    read_dataset_reviews,
    read_jsonl,
    read_papers,
)
from cyclebench.detection.items import Detection
from cyclebench.outputs import FolderTransaction, OutputMarker

INPUT_KINDS = ("papers", "jsonl", "reviews")
FLAG_THRESHOLD = 0.5


@dataclass(frozen=True)
class DetectConfig:
    kind: str  # papers | jsonl | reviews
    source: str
    model_args: dict[str, Any]
    reference_args: dict[str, Any] | None = None
    max_tokens: int = 512
    splits: tuple[str, ...] = ("train", "test")
    revision: str | None = None
    limit: int | None = None
    calibration_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def read_texts(config: DetectConfig) -> Texts:
    if config.kind == "papers":
        return read_papers(config.source, limit=config.limit)
    if config.kind == "jsonl":
        return read_jsonl(config.source, limit=config.limit)
    if config.kind == "reviews":
        return read_dataset_reviews(config.source, config.splits, revision=config.revision, limit=config.limit)
    raise ValueError(f"detect: input kind must be one of {INPUT_KINDS}, not {config.kind!r}")


def summarize(detections: Sequence[Detection]) -> dict[str, Any]:
    """Counts and the distribution of the criterion and probability over the scored texts."""
    scored = [d for d in detections if d.skipped is None]
    values = [d.criterion for d in scored if d.criterion is not None]
    probs = [d.probability for d in scored if d.probability is not None]
    out: dict[str, Any] = {
        "n_texts": len(detections),
        "n_scored": len(scored),
        "n_skipped": len(detections) - len(scored),
        "skipped": dict(sorted(Counter(d.skipped for d in detections if d.skipped).items())),
        "n_truncated": sum(d.truncated for d in scored),
        "n_with_probability": len(probs),
        "tokens_scored": sum(d.n_tokens for d in scored),
    }
    if values:
        out["criterion"] = {"mean": statistics.fmean(values), "median": statistics.median(values),
                            "min": min(values), "max": max(values)}
    if probs:
        out["probability"] = {"mean": statistics.fmean(probs), "median": statistics.median(probs),
                              f"n_over_{FLAG_THRESHOLD}": sum(p > FLAG_THRESHOLD for p in probs)}
    return out


def run_detection(config: DetectConfig, output: str | Path, *, overwrite: bool = False) -> dict[str, Any]:
    from cyclebench.detection.scorer import Detector

    started = time.time()
    texts = read_texts(config)
    detector = Detector(config.model_args, config.reference_args, max_tokens=config.max_tokens,
                        calibration_file=config.calibration_file)
    scored = {d.id: d for d in detector.score(texts.items)} if texts.items else {}
    detections = [scored[item.id] for item in texts.items]
    detections += [Detection(u.id, None, None, 0, 0, False, u.reason) for u in texts.unread]
    unread_detail = [{"id": u.id, "reason": u.reason, "detail": u.detail} for u in texts.unread]
    results = {
        "kind": "detect",
        "cyclebench_version": __version__,
        "input": {"kind": texts.kind, "source": texts.source, "limit": config.limit, "n_found": texts.n_found,
                  "n_read": len(texts.items), "unread": unread_detail},
        "detector": detector.describe(),
        "counts": summarize(detections),
        "probability_note": detector.no_calibration,
        "seconds": round(time.time() - started, 3),
    }
    marker = OutputMarker("evaluation", "detect")
    with FolderTransaction(output, marker, overwrite=overwrite, inputs=[config.source]) as tx:
        folder = tx.scratch
        with (folder / "detections.jsonl").open("w", encoding="utf-8") as handle:
            for d in detections:
                handle.write(json.dumps(d.to_json(), ensure_ascii=False, allow_nan=False) + "\n")
        from cyclebench import plots as charts

        model = config.model_args.get("gguf_file") or config.model_args.get("pretrained") or ""
        about = charts.About(model=str(model), dataset=f"{config.kind}: {Path(config.source).name}",
                             n=len(detections))
        written = []
        values = [d.criterion for d in detections if d.criterion is not None]
        if values:
            lo, hi = min(values), max(values)
            written += charts.histogram_chart({"criterion": values}, title="Fast-DetectGPT criterion",
                                              xlabel="sampling discrepancy (analytic)", ylabel="texts", about=about,
                                              lo=lo, hi=hi if hi > lo else lo + 1).write(folder / "criterion_histogram.svg")
        probs = [d.probability for d in detections if d.probability is not None]
        if probs:
            written += charts.histogram_chart({"P(machine)": probs}, title="P(machine | criterion)", xlabel="probability",
                                              ylabel="texts", about=about, lo=0.0, hi=1.0).write(
                folder / "probability_histogram.svg")
        plots = written
        results["plots"] = [p.name for p in plots]
        (folder / "results.json").write_text(json.dumps(results, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        (folder / "report.md").write_text(report_markdown(results), encoding="utf-8")
        tx.commit()
    return results


def report_markdown(results: dict[str, Any]) -> str:
    c, d, i = results["counts"], results["detector"], results["input"]
    cal = d["calibration"]
    lines = [
        "# AI-text detection (Fast-DetectGPT, analytic sampling discrepancy)", "",
        f"Input: {i['kind']} `{i['source']}`: {i['n_found']} texts found, {i['n_read']} read.",
        f"Scoring model: `{d['scoring_model']['identity']}`; reference model: `{d['reference_model']['identity']}`; "
        f"at most {d['max_tokens']} tokens per text (context {d['context']}).", "",
        "| count | value |", "|---|---|",
        *[f"| {k} | {c[k]} |" for k in ("n_texts", "n_scored", "n_skipped", "n_truncated", "n_with_probability",
                                        "tokens_scored")],
        *[f"| skipped: {reason} | {n} |" for reason, n in c["skipped"].items()], "",
    ]
    if "criterion" in c:
        lines += [f"Criterion over scored texts: mean {c['criterion']['mean']:.3f}, median "
                  f"{c['criterion']['median']:.3f}, range [{c['criterion']['min']:.3f}, {c['criterion']['max']:.3f}]."]
    if cal:
        p = c.get("probability", {})
        lines += [
            "", f"Probability P(machine | criterion): normal fits of our calibration texts (human mean "
                f"{cal['human']['mean']:.3f} sd {cal['human']['std']:.3f}, n={cal['human']['n']}; machine mean "
                f"{cal['machine']['mean']:.3f} sd {cal['machine']['std']:.3f}, n={cal['machine']['n']}), equal priors. "
                f"Calibration texts: {cal['provenance'].get('texts', '?')}.",
        ]
        if p:
            lines += [f"Mean probability {p['mean']:.3f}; texts over {FLAG_THRESHOLD}: "
                      f"{p[f'n_over_{FLAG_THRESHOLD}']} of {c['n_with_probability']}."]
    else:
        lines += ["", f"No probability: {results['probability_note']}"]
    lines += ["", *[f"![{name}]({name})" for name in results.get("plots", [])], ""]
    return "\n".join(lines)
