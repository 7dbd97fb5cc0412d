"""The opt-in AI-text step of the Review-5K build and the task option that evaluates on human reviews only."""

from __future__ import annotations

import json

import pytest

from cyclebench.hub.columns import Review5K as R5K
from cyclebench.hub.load import read_rows

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def scored_build(tiny_llama, tmp_path_factory):
    """The embedded sample built with AI-text scores from a tiny random model and a calibration made for it."""
    from cyclebench.cli import main

    root = tmp_path_factory.mktemp("ai-text")
    cal = root / "cal.json"
    cal.write_text(json.dumps({"calibrations": [{
        "scoring": f"pretrained:{tiny_llama}", "reference": f"pretrained:{tiny_llama}",
        "human": {"mean": -0.5, "std": 0.5, "n": 10}, "machine": {"mean": 0.5, "std": 0.5, "n": 10},
        "provenance": {"texts": "test calibration"}}]}))
    out = root / "review5k"
    assert main(["build", "review-5k", "--sample", "--out", str(out), "--ai-text-scores",
                 f"pretrained={tiny_llama},max_tokens=48,batch_size=8,calibration={cal}"]) == 0
    return out


def test_reviews_get_scores_and_the_manifest_names_the_detector(scored_build, tiny_llama):
    rows = read_rows(str(scored_build), "reviews", ["train", "test"], None)
    assert rows and all(R5K.AI_TEXT_SCORE in r and R5K.AI_TEXT_CRITERION in r for r in rows)
    probs = [r[R5K.AI_TEXT_SCORE] for r in rows if r[R5K.AI_TEXT_SCORE] is not None]
    assert probs and all(0.0 <= p <= 1.0 for p in probs)
    manifest = json.loads((scored_build / "manifest.json").read_text())
    entry = manifest["ai_text_scores"]
    assert entry["detector"]["scoring_model"]["identity"] == f"pretrained:{tiny_llama}"
    assert entry["detector"]["max_tokens"] == 48
    counts = entry["counts"]
    assert counts["reviews"] == len(rows) == manifest["counts"]["reviews_kept"]
    assert counts["reviews"] == counts.get("scored", 0) + sum(v for k, v in counts.items() if k.startswith("skipped_"))
    assert counts["with_probability"] == len(probs)
    card = (scored_build / "README.md").read_text()
    assert R5K.AI_TEXT_SCORE in card and R5K.AI_TEXT_CRITERION in card


def test_other_configs_are_unchanged(scored_build, review5k_sample_build):
    """Only the reviews config gains columns: the default and sft shards are the default build's bytes, and the
    default build itself has no trace of the step."""
    for folder in ("data", "sft"):  # the Hub layout: data/ holds the default config, <config>/ the others
        ours = sorted((scored_build / folder).glob("*.parquet"))
        base = sorted((review5k_sample_build / folder).glob("*.parquet"))
        assert ours and [p.name for p in ours] == [p.name for p in base]
        assert [p.read_bytes() for p in ours] == [p.read_bytes() for p in base]
    manifest = json.loads((review5k_sample_build / "manifest.json").read_text())
    assert "ai_text_scores" not in manifest
    rows = read_rows(str(review5k_sample_build), "reviews", ["test"], None)
    assert rows and R5K.AI_TEXT_SCORE not in rows[0]


def test_human_reviews_only_moves_the_ground_truth(scored_build):
    from cyclebench.tasks import get_task

    task = get_task("review-5k")
    full = task.load(str(scored_build), "test")
    rows = read_rows(str(scored_build), "reviews", ["test"], None)
    scores = [r[R5K.AI_TEXT_SCORE] for r in rows]
    threshold = sorted(s for s in scores if s is not None)[len(scores) // 2]
    human = task.load(str(scored_build), "test", human_reviews_only=threshold)
    moved = human.source["human_reviews_only"]
    n_over = sum(s is not None and s > threshold for s in scores)
    assert moved["dropped"] == n_over > 0
    assert moved["reviews"] == len(rows) == moved["kept"] + moved["dropped"]
    assert moved["unscored_kept"] == sum(s is None for s in scores)
    n_ratings = sum(len(e.ratings) for e in human.examples)
    assert n_ratings < sum(len(e.ratings) for e in full.examples)
    assert len(human.examples) + moved["papers_left_without_reviews"] >= len(full.examples)
    assert "human_reviews_only" not in full.source  # the default load is as it was
    everything = task.load(str(scored_build), "test", human_reviews_only=1.0)
    assert everything.source["human_reviews_only"]["dropped"] == 0
    assert [e.ratings for e in everything.examples] == [e.ratings for e in full.examples]


def test_human_reviews_only_refusals(scored_build, review5k_sample_build):
    from cyclebench.tasks import get_task

    task = get_task("review-5k")
    with pytest.raises(ValueError, match="--ai-text-scores"):
        task.load(str(review5k_sample_build), "test", human_reviews_only=0.5)
    for bad in (1.5, -0.1, "high", True):
        with pytest.raises(ValueError, match="threshold"):
            task.load(str(scored_build), "test", human_reviews_only=bad)


def test_deepreview13k_scores_every_review_of_reviewer_comments(tiny_llama, tmp_path):
    """DeepReview-13K keeps its reviews in ``reviewer_comments``: the opt-in column holds one entry per review
    there (the same for every mode of a paper), the detector is in the manifest, the default build is unchanged."""
    import pyarrow.parquet as pq

    from cyclebench.builders import deepreview13k
    from cyclebench.builders.ai_text import DEEPREVIEW_COLUMN, comment_reviews
    from tests.conftest import FIXTURES

    inputs = [FIXTURES / "openreview" / "iclr2025_v2.jsonl"]
    config = deepreview13k.DeepReview13KConfig(require_text=False, modes=("fast", "standard"))
    plain = deepreview13k.build(inputs, None, tmp_path / "plain", config, progress=False)
    scored = deepreview13k.build(inputs, None, tmp_path / "scored", config, progress=False,
                                 ai_text_scores={"pretrained": str(tiny_llama), "max_tokens": 32})
    rows = [r for p in sorted((tmp_path / "scored" / "data").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    base = [r for p in sorted((tmp_path / "plain" / "data").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert rows and len(rows) == len(base)
    assert all(DEEPREVIEW_COLUMN not in r for r in base) and "ai_text_scores" not in plain.manifest
    for row, plain_row in zip(rows, base):
        cell = row.pop(DEEPREVIEW_COLUMN)
        assert row == plain_row  # every other column as in the default build
        reviews = comment_reviews(row["reviewer_comments"])
        assert [c["note_id"] for c in cell] == [r["note_id"] for r in reviews]
        assert all(c["ai_text_score"] is None for c in cell)  # a random model has no calibration
        assert all(isinstance(c["ai_text_criterion"], float) for c in cell if reviews)
    entry = scored.manifest["ai_text_scores"]
    assert entry["detector"]["no_calibration"].startswith("no_calibration")
    n_reviews = len({c for r in rows for c in [r["id"]]})  # papers
    assert entry["counts"]["reviews"] == scored.manifest["counts"]["reviews_kept"] and n_reviews


def test_human_reviews_only_pure_counts():
    from cyclebench.tasks import _human_reviews_only

    rows = [{"id": "p1", "reviews": [{"note_id": "a"}, {"note_id": "b"}]}, {"id": "p2", "reviews": [{"note_id": "c"}]}]
    scored = [{"note_id": "a", "ai_text_score": 0.2}, {"note_id": "b", "ai_text_score": None},
              {"note_id": "c", "ai_text_score": 0.95}]
    out, counts = _human_reviews_only(rows, scored, 0.9)
    assert [[r["note_id"] for r in row["reviews"]] for row in out] == [["a", "b"], []]
    assert counts == {"threshold": 0.9, "reviews": 3, "dropped": 1, "unscored_kept": 1,
                      "papers_left_without_reviews": 1, "kept": 2}
    assert rows[1]["reviews"] == [{"note_id": "c"}]  # the input is not modified
    with pytest.raises(ValueError, match="no calibration"):
        _human_reviews_only(rows, [{"note_id": "a", "ai_text_score": None}], 0.5)


def test_deepreview_human_reviews_only_drops_the_ratings_of_machine_scored_reviews():
    """Pure: the ratings of reviews scored above the threshold leave the ground truth, in order; an unscored
    review stays; a row whose scores do not line up with its ratings is read as it is and counted."""
    import json

    from cyclebench.sources.westlake import human_rated_row

    counts = {"reviews": 0, "dropped": 0, "unscored_kept": 0, "papers_left_without_reviews": 0,
              "papers_scores_misaligned": 0}
    row = {"id": "p", "rating": json.dumps(["6: above", "3: reject", "8: accept"]),
           "ai_text_scores": [{"note_id": "a", "ai_text_score": 0.2}, {"note_id": "b", "ai_text_score": 0.95},
                              {"note_id": "c", "ai_text_score": None}]}
    out = human_rated_row(row, 0.9, counts)
    assert json.loads(out["rating"]) == ["6: above", "8: accept"] and row["rating"] != out["rating"]
    assert counts == {"reviews": 3, "dropped": 1, "unscored_kept": 1, "papers_left_without_reviews": 0,
                      "papers_scores_misaligned": 0}
    all_machine = {**row, "ai_text_scores": [{"ai_text_score": 1.0}] * 3}
    assert json.loads(human_rated_row(all_machine, 0.5, counts)["rating"]) == []
    assert counts["papers_left_without_reviews"] == 1
    short = {**row, "ai_text_scores": [{"ai_text_score": 1.0}]}
    assert human_rated_row(short, 0.5, counts) is short and counts["papers_scores_misaligned"] == 1
    with pytest.raises(ValueError, match="--ai-text-scores"):
        human_rated_row({"id": "p", "rating": "[]"}, 0.5, counts)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), True, "high"])
def test_deepreview_task_checks_the_threshold_before_reading(bad, tmp_path):
    from cyclebench.tasks import get_task

    with pytest.raises(ValueError, match="probability threshold"):
        get_task("deepreview-13k").load(str(tmp_path), "test_2024", human_reviews_only=bad)


def test_pairwise_human_reviews_honour_human_reviews_only(scored_build, tmp_path):
    """Runs evaluated with ``human_reviews_only=T`` compared with ``--human-reviews``: the human system draws only
    from the reviews the option keeps, never from one it dropped as machine-written."""
    from cyclebench.backends.fake import FakeBackend
    from cyclebench.evaluate_pairwise import PairwiseRunConfig, _render_human, run_pairwise_evaluation
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

    scores = {r["note_id"]: r[R5K.AI_TEXT_SCORE] for r in read_rows(str(scored_build), "reviews", ["test"], None)}
    threshold = sorted(s for s in scores.values() if s is not None)[len(scores) // 2]
    dropped = {note for note, s in scores.items() if s is not None and s > threshold}
    assert dropped
    from cyclebench.protocols import get_protocol
    from cyclebench.records import ParsedReview, SimulatedReview

    sim = SimulatedReview(summary="s", strengths="s", weaknesses="w", questions="q", rating=5, soundness=3,
                          presentation=3, contribution=3, confidence=3)
    review = get_protocol("cyclereviewer", reviewers=1).render(ParsedReview(
        status="ok", reviewers=(sim,), rating=5, soundness=3, presentation=3, contribution=3, confidence=3,
        decision="reject", meta_review="meta"))
    run = tmp_path / "run"
    run_review_evaluation(ReviewRunConfig(task="review-5k", data=str(scored_build), protocol="cyclereviewer",
                                          protocol_options={"reviewers": 1}, backend="fake",
                                          model_args={"text": review},
                                          task_options={"human_reviews_only": threshold}, n_resamples=10), run)

    class Recording(FakeBackend):
        def generate(self, requests):
            self.shown = [*getattr(self, "shown", []), *(r.messages[-1]["content"] for r in requests)]
            return super().generate(requests)

    judge = Recording(text="x")
    run_pairwise_evaluation(PairwiseRunConfig(runs=(str(run),), backend="fake", human_reviews=True, n_resamples=10),
                            tmp_path / "pairwise", backend=judge)
    rows = read_rows(str(scored_build), "default", ["test"], None)
    texts = {r["note_id"]: _render_human(r)[:200] for row in rows for r in row[R5K.REVIEWS] or []}
    shown = [note for note, text in texts.items() if text and any(text in s for s in judge.shown)]
    assert shown and not set(shown) & dropped  # human reviews were shown, none of them a dropped one


def test_one_rule_keeps_or_drops_a_review_for_every_dataset():
    """``kept_as_human`` is what review-5k and deepreview-13k both apply: a NaN, inf, boolean or text score is
    no score (kept, counted unscored), never compared with the threshold."""
    from cyclebench.records import kept_as_human

    counts = {"reviews": 0, "dropped": 0, "unscored_kept": 0}
    verdicts = [kept_as_human(s, 0.5, counts) for s in (0.2, 0.9, 0.5, None, float("nan"), float("inf"), True, "0.9")]
    assert verdicts == [True, False, True, True, True, True, True, True]
    assert counts == {"reviews": 8, "dropped": 1, "unscored_kept": 5}
