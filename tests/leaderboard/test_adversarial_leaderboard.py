"""Adversarial submissions: the leaderboard cannot be forged (issue 11).

Each attack keeps the submission otherwise consistent (figures recomputed from the forged fields, metadata
checksums resealed), so only the defence under test can catch it: re-parsing every raw output
(``cyclebench.leaderboard.reparse``), re-running claimed baselines (``cyclebench.leaderboard.reproduce``) and comparing contents
(``cyclebench.leaderboard.duplicates``). Runs on the embedded Review-5K sample (a "model" served over an OpenAI-compatible
API, answered here by canned reviews, and the TF-IDF baseline); the seeded submissions are checked against
fresh corpus builds. The last sections hold the red team's follow-up attacks: failures that hide papers,
relabelled generator outcomes, hostile numbers and text, and outputs written over inputs.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cyclebench.backends.fake import FakeBackend
from cyclebench.cli import main as cyclebench_main
from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
from cyclebench.recorded import record_from_text, record_to_text, score_recorded_outputs
from cyclebench.protocols import get_protocol
from cyclebench.tasks import get_task
from cyclebench.leaderboard import rescore
from cyclebench.leaderboard.duplicates import same_content
from cyclebench.leaderboard.seed import BASELINES, SEED_DATE, SEED_TASKS, round_floats
from cyclebench.leaderboard.site import build_site
from cyclebench.leaderboard.submit import submit
from cyclebench.leaderboard.validate import DatasetBuilds, validate_submissions

from tests.test_evaluate_generator import research14k, review_text  # noqa: F401  (research14k: fixture)
from .test_leaderboard import _generator_run, codes, edit_predictions, edit_results, messages, rewrite

DATE = "2026-02-01"


SERVED = {"base_url": "http://127.0.0.1:8000/v1", "model": "canned-reviewer"}


class CannedServer(FakeBackend):
    """Canned reviews standing in for a model behind an OpenAI-compatible server: the run names the ``openai``
    backend and its fingerprint is the one that backend writes (the leaderboard refuses the test-only ``fake``)."""

    name = "openai"

    @property
    def fingerprint(self) -> str:
        return json.dumps({"backend": "openai", **SERVED}, sort_keys=True)


@dataclass(frozen=True)
class Board:
    data: Path
    runs: dict[str, Path]
    datasets: DatasetBuilds  # shared, so each baseline is re-run once for the whole module


def _canned_reviews(data: Path, folder: Path) -> tuple[Path, str]:
    """Per test paper a CycleReviewer answer (ratings vary by paper); the last paper fails to generate."""
    examples = get_task("review-5k").load(str(data), "test").examples
    canned = {e.paper_id: review_text([3 + i % 4, 5, 6, 4 + i % 5], "Accept" if i % 3 == 0 else "Reject")
              for i, e in enumerate(examples[:-1])}
    path = folder / "canned.jsonl"
    path.write_text("".join(json.dumps({"request_id": k, "text": v}) + "\n" for k, v in canned.items()))
    return path, examples[-1].paper_id


@pytest.fixture(scope="module")
def board(review5k_sample_build, tmp_path_factory) -> Board:
    root = tmp_path_factory.mktemp("adversarial-board")
    data = review5k_sample_build
    canned, failing = _canned_reviews(data, root)
    served = ReviewRunConfig(task="review-5k", data=str(data), protocol="cyclereviewer", backend="openai",
                             model_args=dict(SERVED), n_resamples=200)
    configs = {
        "model": (served, CannedServer(responses=str(canned), fail_ids=failing)),
        "model-first5": (replace(served, limit=5), CannedServer(responses=str(canned))),
        "fake": (replace(served, backend="fake", model_args={"responses": str(canned), "fail_ids": failing}), None),
        "tfidf": (ReviewRunConfig(task="review-5k", data=str(data), protocol="cyclereviewer", backend="baseline-tfidf",
                                  n_resamples=200), None),
    }
    runs = {}
    for name, (config, backend) in configs.items():
        run_review_evaluation(config, root / "runs" / name, backend=backend, progress=False)
        runs[name] = root / "runs" / name
    return Board(data, runs, DatasetBuilds({"review-5k": [data]}))


def submit_to(board: Board, run: str, subs: Path, name: str | None = None, date: str = DATE) -> Path:
    return submit(board.runs[run], name or run, out=subs, date=date, model_name=f"{run} under attack")


def validate(board: Board, folder: Path, against: list[Path] | None = None):
    [outcome] = validate_submissions([folder], board.datasets, against or [])
    return outcome


def rows_of(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]


def reclaim_figures(board: Board, folder: Path) -> None:
    """Recompute results.json's figures and counts from the submitted parsed fields, as a forger would, so
    the claimed figures agree with the (forged) predictions."""
    results = json.loads((folder / "results.json").read_text())
    by_id = {r["paper_id"]: r for r in rows_of(folder)}
    examples = get_task("review-5k").load(str(board.data), results["task"]["split"]).examples
    parsed = [rescore.parsed_from_row(by_id[e.paper_id]["parsed"]) for e in examples]
    recomputed = rescore.rescore_review(examples, parsed, n_resamples=results["n_resamples"], seed=results["seed"])
    results["metrics"] = recomputed["metrics"]
    results["counts"].update(recomputed["counts"])
    rewrite(folder, "results.json", json.dumps(results, indent=2))


def pose_as_another_model(board: Board, folder: Path, model: str = "my-own-model") -> None:
    """Rename the run's model (fingerprint and model_args) and recompute every row's request hash for it, as a
    careful forger would: the request hashes are public knowledge, so only the content rule is left."""
    from cyclebench.leaderboard.provenance import expected_request_hashes

    fingerprint = json.dumps({"backend": "openai", **SERVED, "model": model}, sort_keys=True)
    args = {**SERVED, "model": model}
    edit_results(folder, lambda r: r["model"].update(fingerprint=fingerprint, model_args=args))
    set_metadata(folder, lambda m: m["model"].update(fingerprint=fingerprint, model_args=args))
    results = json.loads((folder / "results.json").read_text())
    examples = get_task("review-5k").load(str(board.data), results["task"]["split"]).examples
    hashes = expected_request_hashes(results, examples)

    def rehash(rows):
        for row in rows:
            row["request_hash"] = hashes[row["paper_id"]]

    edit_predictions(folder, rehash)


def set_metadata(folder: Path, change) -> None:
    meta = yaml.safe_load((folder / "metadata.yaml").read_text())
    change(meta)
    (folder / "metadata.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))


def human_values(row: dict) -> None:
    """The forgery: the parsed rating and decision become the human ground truth."""
    ratings = row["human_ratings"]
    row["parsed"].update(status="ok", rating=sum(ratings) / len(ratings),
                         decision="accept" if row["human_accepted"] else "reject")


def forge_rows(folder: Path, which) -> None:
    def forge(rows):
        for row in rows:
            if which(row):
                human_values(row)

    edit_predictions(folder, forge)


# ------------------------------------------------------------------------------------------ item 1: forgery


def test_the_honest_model_run_with_a_generation_error_is_verified(board, tmp_path):
    folder = submit_to(board, "model", tmp_path)
    failed = [r for r in rows_of(folder) if r["generation_error"]]
    assert len(failed) == 1 and failed[0]["output"] is None  # the exemption: a recorded generation error
    outcome = validate(board, folder)
    assert outcome.verified, messages(outcome)
    assert outcome.label == "verified" and outcome.recomputed["counts"]["n_failed"] == 1


def test_parsed_set_to_the_human_values_with_the_output_untouched_is_rejected(board, tmp_path):
    folder = submit_to(board, "model", tmp_path)
    first = next(r["paper_id"] for r in rows_of(folder) if r["output"] is not None)
    forge_rows(folder, lambda row: row["output"] is not None)
    reclaim_figures(board, folder)
    outcome = validate(board, folder)
    assert codes(outcome) == {"parse_mismatch"}  # the figures agree with the forgery: only the re-parse catches it
    text = messages(outcome)
    assert f"paper {first!r}: parsed.rating is " in text and "but its raw output re-parses to" in text
    assert "with the cyclereviewer protocol (reviewers=4)" in text and "parsed.decision" in text


def test_parsed_set_to_the_human_values_with_the_output_null_is_rejected(board, tmp_path):
    folder = submit_to(board, "model", tmp_path)
    first = rows_of(folder)[0]["paper_id"]

    def forge(rows):
        for row in rows:
            human_values(row)
            row["output"] = None

    edit_predictions(folder, forge)
    reclaim_figures(board, folder)
    outcome = validate(board, folder)
    assert "missing_output" in codes(outcome)
    assert f"paper {first!r}: output is null and no generation error is recorded" in messages(outcome)


def test_a_generation_error_cannot_carry_a_score(board, tmp_path):
    """The exemption for output null + generation_error re-parses to a failure: forged values on it are
    rejected naming the paper and the field."""
    folder = submit_to(board, "model", tmp_path)
    [failed] = [r["paper_id"] for r in rows_of(folder) if r["generation_error"]]
    forge_rows(folder, lambda row: row["generation_error"] is not None)
    reclaim_figures(board, folder)
    outcome = validate(board, folder)
    assert codes(outcome) == {"parse_mismatch"}
    assert f"paper {failed!r}: parsed.status is 'ok' but its raw output re-parses to 'failed'" in messages(outcome)
    assert "parsed.rating" in messages(outcome)


MUTATIONS = {
    "rating": lambda p, d: p.update(rating=min(10.0, max(1.0, (p["rating"] or 5.0) + d))),
    "soundness": lambda p, d: p.update(soundness=min(4.0, max(1.0, (p["soundness"] or 2.0) + d / 3))),
    "decision": lambda p, d: p.update(decision="reject" if p["decision"] == "accept" else "accept"),
    "status": lambda p, d: p.update(status="partial" if p["status"] == "ok" else "ok"),
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(MUTATIONS)), index=st.integers(0, 100),
       delta=st.sampled_from([-2.5, -1.0, -0.25, 0.25, 1.0, 2.5]))
def test_any_single_forged_field_is_rejected_naming_paper_and_field(board, field, index, delta):
    with tempfile.TemporaryDirectory() as scratch:
        folder = submit_to(board, "model", Path(scratch))
        scored = [r["paper_id"] for r in rows_of(folder) if r["output"] is not None]
        paper = scored[index % len(scored)]
        changed = []

        def mutate(rows):
            target = next(r for r in rows if r["paper_id"] == paper)
            before = dict(target["parsed"])
            MUTATIONS[field](target["parsed"], delta)
            changed.append(target["parsed"] != before)

        edit_predictions(folder, mutate)
        assume(changed[0])
        reclaim_figures(board, folder)
        outcome = validate(board, folder)
        assert codes(outcome) == {"parse_mismatch"}
        assert f"paper {paper!r}: parsed.{field} is" in messages(outcome), messages(outcome)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300) | st.sampled_from(["## Rating\n\n11\n", "{}", "Rating: 6", "\x00"]))
def test_any_replaced_raw_output_is_read_without_a_crash(board, text):
    """A replaced output whose parsed fields were left as they were: re-parsed, never a traceback."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = submit_to(board, "model", Path(scratch))
        edit_predictions(folder, lambda rows: rows[0].update(output=text))
        outcome = validate(board, folder)
        assert outcome.status == "rejected" and codes(outcome) <= {"parse_mismatch", "figure_mismatch"}


def test_imported_recorded_outputs_are_re_parsed_and_a_forged_field_rejected(board, tmp_path):
    """`evaluate predictions` keeps each recorded text (a missing one: null with its reason), so the
    imported row is re-parsed too."""
    recorded = tmp_path / "recorded.jsonl"
    rows = rows_of(board.runs["model"])
    lines = [{"paper_id": r["paper_id"], "text": r["output"]} for r in rows if r["output"] is not None]
    lines[0]["text"] = None  # a recorded row without text
    recorded.write_text("".join(json.dumps(line) + "\n" for line in lines))
    run = tmp_path / "imported-run"
    score_recorded_outputs(task="review-5k", data=str(board.data), protocol="cyclereviewer", predictions=recorded,
                           fmt="jsonl", output=run, model_name="recorded", n_resamples=200)
    written = {r["paper_id"]: r for r in rows_of(run)}
    assert written[lines[0]["paper_id"]]["generation_error"] == "empty_recorded_output"
    assert sum(r["generation_error"] == "no_recorded_output" for r in written.values()) == 1
    folder = submit(run, "imported", out=tmp_path / "subs", date=DATE)
    outcome = validate(board, folder)
    assert outcome.verified and outcome.label == "imported (not re-run)", messages(outcome)

    target = lines[1]["paper_id"]
    forge_rows(folder, lambda row: row["paper_id"] == target)
    reclaim_figures(board, folder)
    forged = validate(board, folder)
    assert codes(forged) == {"parse_mismatch"} and f"paper {target!r}: parsed." in messages(forged)


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(st.sampled_from(["paper_id", "Overall", "overall", "OVERALL", "Decision", "Soundness", "x"]),
                       st.none() | st.text(max_size=20), max_size=7))
def test_a_csv_record_is_stored_in_a_form_its_parser_reads_back(record):
    from cyclebench.protocols.aiscientist import parse_review_record

    text = record_to_text(record)
    assert record_from_text(text) == record and list(record_from_text(text)) == list(record)  # order kept
    assert parse_review_record(record_from_text(text)) == parse_review_record(record)


def test_imported_csv_rows_are_re_parsed_with_the_importers_decision_rule(corpus, aiscientist_build, tmp_path):
    data = aiscientist_build
    csv_path = sorted((corpus / "reviews" / "aiscientist_llm_reviews").glob("*.csv"))[0]
    run = tmp_path / "run"
    score_recorded_outputs(task="aiscientist-iclr2022", data=str(data), protocol="aiscientist",
                           protocol_options={"decision_rule": "threshold", "threshold": 6}, predictions=csv_path,
                           fmt="aiscientist-csv", output=run, n_resamples=100)
    folder = submit(run, "imported-csv", out=tmp_path / "subs", date=DATE)
    datasets = DatasetBuilds({"aiscientist-iclr2022": [data]})
    [outcome] = validate_submissions([folder], datasets, [])
    assert outcome.verified, messages(outcome)

    # The same records read with another threshold than the one results.json claims disagree.
    edit_results(folder, lambda r: r["protocol"]["arguments"].update(threshold=3))
    set_metadata(folder, lambda m: m["protocol"]["arguments"].update(threshold=3))
    [lying] = validate_submissions([folder], datasets, [])
    assert codes(lying) == {"protocol"} and "are not what its arguments" in messages(lying)
    # Stated consistently, the other threshold re-parses the records to other decisions than submitted.
    edit_results(folder, lambda r: r["protocol"]["options"].update(threshold=3.0))
    [other_rule] = validate_submissions([folder], datasets, [])
    assert codes(other_rule) == {"parse_mismatch"} and ": parsed.decision is 'reject' but" in messages(other_rule)


def test_a_forged_judge_review_of_a_generated_paper_is_rejected(research14k, tmp_path):  # noqa: F811
    folder = submit(_generator_run(research14k, tmp_path), "generator", out=tmp_path / "subs", date=DATE)
    datasets = DatasetBuilds({"research-14k": [research14k]})
    [honest] = validate_submissions([folder], datasets, [])
    assert honest.verified, messages(honest)

    def forge(rows):
        judged = next(r for r in rows if r.get("outcome") == "judged")
        judged["judge"]["parsed"].update(rating=9.5, decision="accept")
        return rows

    edit_predictions(folder, forge)
    results = json.loads((folder / "results.json").read_text())
    recomputed = rescore.rescore_generator([r for r in rows_of(folder) if r["set"] == "generated"],
                                           threshold=results["threshold"], n_resamples=results["n_resamples"],
                                           seed=results["seed"])
    edit_results(folder, lambda r: r.update(metrics=recomputed["metrics"]))
    [forged] = validate_submissions([folder], datasets, [])
    assert "parse_mismatch" in codes(forged) and "figure_mismatch" not in codes(forged)
    assert "sample 0: judge.parsed.rating is 9.5 but its raw output re-parses to" in messages(forged)


def test_an_unknown_protocol_or_import_format_is_a_clear_rejection(board, tmp_path):
    folder = submit_to(board, "model", tmp_path)
    edit_results(folder, lambda r: r["protocol"].update(name="no-such-protocol"))
    set_metadata(folder, lambda m: m["protocol"].update(name="no-such-protocol"))
    outcome = validate(board, folder)
    assert codes(outcome) == {"protocol"} and "protocol 'no-such-protocol'" in messages(outcome)

    other = submit_to(board, "model", tmp_path, name="imported-format")
    source = "0" * 64
    edit_results(other, lambda r: (r["provenance"].update(imported=True, format="pickle", source_sha256=source),
                                   r["model"].update(backend="imported", fingerprint=f"imported:{source}")))
    set_metadata(other, lambda m: (m.update(label="imported"),
                                   m["model"].update(backend="imported", fingerprint=f"imported:{source}")))
    outcome = validate(board, other)
    # The rows keep a model run's request hashes, which imported outputs never carry (provenance), too.
    assert codes(outcome) == {"protocol", "provenance"} and "format 'pickle'" in messages(outcome)


# ------------------------------------------------------------------------------------------ item 2: baselines


def test_a_genuine_baseline_is_re_run_and_labelled_baseline(board, tmp_path):
    outcome = validate(board, submit_to(board, "tfidf", tmp_path))
    assert outcome.verified and outcome.label == "baseline", messages(outcome)


def test_a_model_relabelled_as_baseline_is_rejected(board, tmp_path):
    folder = submit_to(board, "model", tmp_path)
    edit_results(folder, lambda r: r["model"].update(baseline=True))
    set_metadata(folder, lambda m: m["model"].update(baseline=True))
    outcome = validate(board, folder)
    assert codes(outcome) == {"baseline_claim"}
    assert "model.baseline is true but backend 'openai' is not one of cyclebench's baselines" in messages(outcome)


def test_imported_outputs_relabelled_as_baseline_are_rejected(board, tmp_path):
    run = tmp_path / "imported-run"
    score_recorded_outputs(task="review-5k", data=str(board.data), protocol="cyclereviewer", fmt="jsonl",
                           predictions=board.runs["tfidf"] / "predictions.jsonl", output=run, n_resamples=200)
    folder = submit(run, "imported-baseline", out=tmp_path / "subs", date=DATE)
    edit_results(folder, lambda r: r["model"].update(baseline=True, backend="baseline-tfidf"))
    set_metadata(folder, lambda m: m["model"].update(baseline=True, backend="baseline-tfidf"))
    outcome = validate(board, folder)
    # Since the red team's follow-up an imported run must also name the backend "imported" (provenance).
    assert codes(outcome) == {"baseline_claim", "provenance"}
    assert "model.baseline is true but a run of imported recorded outputs is not one of" in messages(outcome)
    assert "imported outputs name model.backend 'baseline-tfidf'" in messages(outcome)


def test_a_baseline_backend_must_say_it_is_one(board, tmp_path):
    folder = submit_to(board, "tfidf", tmp_path)
    edit_results(folder, lambda r: r["model"].update(baseline=False))
    set_metadata(folder, lambda m: m["model"].update(baseline=False))
    assert codes(validate(board, folder)) == {"baseline_claim"}


def test_a_baseline_whose_outputs_were_improved_does_not_reproduce(board, tmp_path):
    """Outputs, parsed fields and figures all consistent, but not what the baseline gives."""
    folder = submit_to(board, "tfidf", tmp_path)
    target = rows_of(folder)[0]
    better = sum(target["human_ratings"]) / len(target["human_ratings"])

    def improve(rows):
        rows[0]["output"] = re.sub(r"## Rating\n\n[0-9.]+", f"## Rating\n\n{better:.2f}", rows[0]["output"], count=1)
        rows[0]["parsed"] = asdict(get_protocol("cyclereviewer").parse(rows[0]["output"]))

    edit_predictions(folder, improve)
    reclaim_figures(board, folder)
    outcome = validate(board, folder)
    assert codes(outcome) == {"baseline_not_reproduced"}, messages(outcome)
    assert "other predictions for 1 of" in messages(outcome) and repr(target["paper_id"]) in messages(outcome)
    assert outcome.label is None


def _nudge_rating(rows, by: float) -> None:
    rating = rows[0]["parsed"]["rating"]
    rows[0]["output"] = re.sub(r"## Rating\n\n[0-9.]+", f"## Rating\n\n{rating + by:.2f}", rows[0]["output"], count=1)
    rows[0]["parsed"] = asdict(get_protocol("cyclereviewer").parse(rows[0]["output"]))


def test_a_baseline_one_rounding_unit_off_still_reproduces(board, tmp_path):
    """Another BLAS build may move a two-decimal baseline score by one unit: still the baseline."""
    folder = submit_to(board, "tfidf", tmp_path)
    edit_predictions(folder, lambda rows: _nudge_rating(rows, 0.01))
    reclaim_figures(board, folder)
    outcome = validate(board, folder)
    assert outcome.status == "verified", messages(outcome)
    assert outcome.label == "baseline"


def test_a_baseline_two_rounding_units_off_does_not_reproduce(board, tmp_path):
    folder = submit_to(board, "tfidf", tmp_path)
    edit_predictions(folder, lambda rows: _nudge_rating(rows, 0.02))
    reclaim_figures(board, folder)
    outcome = validate(board, folder)
    assert codes(outcome) == {"baseline_not_reproduced"}, messages(outcome)


def test_a_baseline_claiming_other_model_args_does_not_reproduce(board, tmp_path):
    folder = submit_to(board, "tfidf", tmp_path, name="tfidf-claims-alpha")
    edit_results(folder, lambda r: r["model"].update(model_args={"alpha": 3.0}))
    set_metadata(folder, lambda m: m["model"].update(model_args={"alpha": 3.0}))
    outcome = validate(board, folder)
    assert codes(outcome) == {"baseline_not_reproduced"}
    assert "gives the model fingerprint" in messages(outcome)

    broken = submit_to(board, "tfidf", tmp_path, name="tfidf-bad-args")
    edit_results(broken, lambda r: r["model"].update(model_args={"alpha": -1}))
    set_metadata(broken, lambda m: m["model"].update(model_args={"alpha": -1}))
    assert "alpha must be a positive number" in messages(validate(board, broken))


# ------------------------------------------------------------------------------------------ item 3: duplicates


def test_a_byte_tweaked_copy_with_a_new_fingerprint_is_a_duplicate(board, tmp_path):
    original = submit_to(board, "model", tmp_path, name="original", date="2026-01-01")
    copy = submit_to(board, "model", tmp_path, name="my-own-model", date="2026-01-02")

    def tweak(rows):  # one paper's rating changed, in the output and (consistently) in parsed
        rows[0]["output"] = rows[0]["output"].replace("## Rating\n\n3", "## Rating\n\n8", 1)
        rows[0]["parsed"] = asdict(get_protocol("cyclereviewer").parse(rows[0]["output"]))

    edit_predictions(copy, tweak)
    reclaim_figures(board, copy)
    pose_as_another_model(board, copy)
    assert rows_of(copy)[0]["parsed"]["rating"] != rows_of(original)[0]["parsed"]["rating"]

    alone = validate(board, copy)
    assert alone.verified, messages(alone)  # a well-formed submission: only the content rule catches it
    outcome = validate(board, copy, against=[original, copy])
    assert codes(outcome) == {"duplicate"}
    assert f"duplicate of {original.name}: " in messages(outcome) and "papers both give a value for have the same re-parsed" in messages(outcome)


def test_two_honest_different_models_do_not_collide(board, tmp_path):
    folders = [submit_to(board, "model", tmp_path), submit_to(board, "tfidf", tmp_path)]
    outcomes = validate_submissions(folders, board.datasets, folders)
    assert all(o.verified for o in outcomes), [messages(o) for o in outcomes]


@pytest.mark.parametrize(("same", "compared", "either", "duplicate"), [
    (5, 6, 6, True), (4, 6, 6, False), (143, 150, 150, True), (142, 150, 150, False), (1, 1, 1, True),
    (0, 1, 1, False), (28, 150, 150, False),
    # papers only one side gives a value for are not compared: a copy with 6 of 11 papers failed still collides
    (5, 5, 11, True), (4, 4, 11, False), (2, 2, 3, False), (3, 3, 3, True),
])
def test_the_content_rule_allows_five_percent_and_needs_an_overlap(same, compared, either, duplicate):
    assert same_content(same, compared, either) is duplicate


# ------------------------------------------------------------------------------------------ item 4: green anywhere


def test_figures_rounded_to_ten_significant_digits_still_verify(board, tmp_path):
    folder = submit_to(board, "tfidf", tmp_path)
    edit_results(folder, lambda r: r.update(round_floats(r)))
    outcome = validate(board, folder)
    assert outcome.verified, messages(outcome)
    noisy = {"a": 0.3229606481481481, "b": 5.6e-17, "c": [0.5228703703703704, 2]}
    other = {"a": 0.32296064814814823, "b": 0.0, "c": [0.5228703703703703, 2]}
    assert round_floats(noisy) == round_floats(other) == {"a": 0.3229606481, "b": 0.0, "c": [0.5228703704, 2]}


# ------------------------------------------------------------------------------------------ item 5: the seeded


@pytest.mark.slow  # the session's seeded_validation (tests/leaderboard/conftest.py): ~3 minutes on 2 CPU cores
def test_every_seeded_submission_is_still_verified_and_labelled(seeded_validation):
    _, outcomes = seeded_validation
    assert {o.folder: [p.message for p in o.problems] for o in outcomes if not o.verified} == {}
    labels = {o.folder: o.label for o in outcomes}
    for spec in SEED_TASKS:
        for backend in BASELINES:
            assert labels[f"{SEED_DATE}_{backend}-{spec.task}"] == "baseline"
    assert sum(label == "imported (not re-run)" for label in labels.values()) == 6


# ------------------------------------------------------------------------------------------ red team: failures


def worst_papers(folder: Path, k: int) -> set[str]:
    """The k rated papers whose predicted rating is furthest from the human mean: what a reviewer would hide."""
    rated = [r for r in rows_of(folder) if r["parsed"]["rating"] is not None]
    rated.sort(key=lambda r: -abs(r["parsed"]["rating"] - sum(r["human_ratings"]) / len(r["human_ratings"])))
    return {r["paper_id"] for r in rated[:k]}


def declare_failed(folder: Path, papers: set[str], *, keep_output: bool) -> None:
    """Record a generation error (and the failed review a run writes for it) on ``papers``."""
    from cyclebench.evaluate_reviews import failed_parse

    def fail(rows):
        for row in rows:
            if row["paper_id"] in papers:
                row["generation_error"] = "timeout"
                row["parsed"] = asdict(failed_parse("generation_error: timeout"))
                row["output"] = row["output"] if keep_output else None

    edit_predictions(folder, fail)


def test_a_readable_output_declared_failed_is_rejected_naming_the_paper(board, tmp_path):
    """The red team's cherry-picker: the worst papers get a generation error, their outputs kept, the figures
    recomputed without them. The output is what gets scored, so a row may not carry both."""
    folder = submit_to(board, "model", tmp_path)
    hidden = worst_papers(folder, 6)
    declare_failed(folder, hidden, keep_output=True)
    reclaim_figures(board, folder)
    outcome = validate(board, folder)
    assert codes(outcome) == {"output_with_error"}
    first = next(r["paper_id"] for r in rows_of(folder) if r["paper_id"] in hidden)
    assert f"paper {first!r}: generation_error is set but output is kept (6 prediction(s) so)" in messages(outcome)


def test_failures_show_beside_the_figures_and_a_copy_with_failures_is_a_duplicate(board, tmp_path):
    """Declared failures without output are what a run may record: verified, but the site shows over how many
    papers the figures are; and failing rows of someone else's run leaves a copy of the rest (rule 3)."""
    from cyclebench.leaderboard.site import coverage

    subs = tmp_path / "subs"
    original = submit_to(board, "model", subs, name="honest", date="2026-01-01")
    copy = submit_to(board, "model", subs, name="cherry", date="2026-01-02")
    declare_failed(copy, worst_papers(copy, 5), keep_output=False)  # 5 of the 10 rated papers left
    reclaim_figures(board, copy)
    pose_as_another_model(board, copy)
    alone = validate(board, copy)
    assert alone.verified, messages(alone)
    n = len(rows_of(copy))
    assert coverage(alone) == (n - 6, n, 6)  # the run's own failure and the five declared
    outcome = validate(board, copy, against=[original, copy])
    assert codes(outcome) == {"duplicate"}
    assert f"duplicate of {original.name}: {n - 6} of the {n - 6} papers both give a value for" in messages(outcome)


def test_the_site_shows_papers_evaluated_out_of_the_split_and_the_failures(board, tmp_path):
    subs = tmp_path / "subs"
    folder = submit_to(board, "model", subs)
    declare_failed(folder, worst_papers(folder, 3), keep_output=False)
    reclaim_figures(board, folder)
    submit_to(board, "tfidf", subs)
    report = build_site(tmp_path / "site", subs, board.datasets)
    assert report.counts == {"submissions": 2, "verified": 2, "excluded": 0}
    [table] = [t for t in report.tables if t.fingerprint]
    model = next(r for r in table.rows if r.href == f"submissions/{folder.name}/index.html")
    n = model.n
    assert (model.evaluated, model.failed) == (n - 4, 4)
    index = (tmp_path / "site" / "index.html").read_text()
    assert f'data-value="{float(n - 4)!r}">{n - 4} / {n}</td>' in index and "excluded from the score metrics" in index
    page = (tmp_path / "site" / "submissions" / folder.name / "index.html").read_text()
    assert f"{n - 4} of {n} evaluated; 4 failed, excluded from the score metrics" in page


# ------------------------------------------------------------------------------------------ red team: outcomes


def reclaim_generator_figures(folder: Path) -> dict:
    """Recompute a generator submission's figures and counts from its rows, as a forger would; returns them."""
    results = json.loads((folder / "results.json").read_text())
    recomputed = rescore.rescore_generator([r for r in rows_of(folder) if r["set"] == "generated"],
                                           threshold=results["threshold"], n_resamples=results["n_resamples"],
                                           seed=results["seed"])
    edit_results(folder, lambda r: (r.update(metrics=recomputed["metrics"]), r["counts"].update(recomputed["counts"])))
    return recomputed


@pytest.mark.parametrize("drop_judge", [False, True])
@pytest.mark.parametrize("forged", ["generation_failed", "parse_failed", "unreadable"])
def test_a_judged_sample_relabelled_as_a_failure_is_rejected(research14k, tmp_path, forged, drop_judge):  # noqa: F811
    folder = submit(_generator_run(research14k, tmp_path), "generator", out=tmp_path / "subs", date=DATE)
    datasets = DatasetBuilds({"research-14k": [research14k]})
    before = json.loads((folder / "results.json").read_text())["metrics"]["average_score"]["value"]
    low = min((r for r in rows_of(folder) if r.get("outcome") == "judged"), key=lambda r: r["judge"]["parsed"]["rating"])

    def relabel(rows):
        for row in rows:
            if row["set"] == "generated" and row["paper_id"] == low["paper_id"]:
                row.update(outcome=forged, reason="generation_error: timeout")
                if drop_judge:
                    row.update(judge=None, paper_text_sha256=None)

    edit_predictions(folder, relabel)
    assert reclaim_generator_figures(folder)["metrics"]["average_score"]["value"] > before  # what the attack buys
    [outcome] = validate_submissions([folder], datasets, [])
    assert codes(outcome) == {"outcome_mismatch"}, messages(outcome)
    assert f"paper {low['paper_id']!r} sample 0: outcome is {forged!r} but its turns give 'judged'" in messages(outcome)


def test_a_failed_sample_with_a_judge_block_or_a_float_n_is_rejected(research14k, tmp_path):  # noqa: F811
    folder = submit(_generator_run(research14k, tmp_path), "generator", out=tmp_path / "subs", date=DATE)
    datasets = DatasetBuilds({"research-14k": [research14k]})

    def judge_the_failure(rows):
        judged = next(r for r in rows if r.get("outcome") == "judged")
        failed = next(r for r in rows if r.get("outcome") == "generation_failed")
        failed["judge"] = judged["judge"]

    edit_predictions(folder, judge_the_failure)
    [outcome] = validate_submissions([folder], datasets, [])
    assert codes(outcome) == {"outcome_mismatch"} and ": judge is 'a judge block' but its turns give" in messages(outcome)

    (tmp_path / "n").mkdir()
    other = submit(_generator_run(research14k, tmp_path / "n"), "float-n", out=tmp_path / "subs", date=DATE)
    rewrite(other, "results.json", (other / "results.json").read_text().replace('"n": 1,', '"n": 1.0,', 1))
    [outcome] = validate_submissions([other], datasets, [])
    assert codes(outcome) == {"schema"} and "results.json at generator.n: 1.0 is not of type 'integer'" in messages(outcome)


# ------------------------------------------------------------------------------------------ red team: numbers


def _plant(folder: Path, name: str, put, number: str) -> None:
    """Put ``number`` (raw JSON text) where ``put`` writes the placeholder, in results.json or the rows."""
    path = folder / name
    if name == "results.json":
        document = json.loads(path.read_text())
        put(document)
        text = json.dumps(document, indent=2)
    else:
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        put(rows)
        text = "".join(json.dumps(row) + "\n" for row in rows)
    assert '"HOSTILE"' in text
    rewrite(folder, name, text.replace('"HOSTILE"', number))


PLACES = {
    "figure value": ("results.json", lambda r: r["metrics"]["spearman"].update(value="HOSTILE")),
    "figure interval": ("results.json", lambda r: r["metrics"]["rating_mae"].update(ci_high="HOSTILE")),
    "count": ("results.json", lambda r: r["counts"].update(n_papers="HOSTILE")),
    "protocol sampling": ("results.json", lambda r: r["protocol"]["sampling"].update(temperature="HOSTILE")),
    "parsed rating": ("predictions.jsonl", lambda rows: rows[0]["parsed"].update(rating="HOSTILE")),
    "parsed soundness": ("predictions.jsonl", lambda rows: rows[0]["parsed"].update(soundness="HOSTILE")),
    "human rating": ("predictions.jsonl", lambda rows: rows[1]["human_ratings"].__setitem__(0, "HOSTILE")),
}
HOSTILE_NUMBERS = ["1e999", "-1e999", "1" + "0" * 400, "-" + "9" * 309, "12.5e400"]


@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(sorted(PLACES)), number=st.sampled_from(HOSTILE_NUMBERS))
def test_a_hostile_number_anywhere_is_one_malformed_problem(board, where, number):
    """1e999 reads as infinity and a 400-digit integer overflows every float comparison: both are refused
    while reading, naming the file and the place, never a traceback nor a verified infinity."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = submit_to(board, "model", Path(scratch))
        name, put = PLACES[where]
        _plant(folder, name, put, number)
        outcome = validate(board, folder)
        assert codes(outcome) == {"malformed"}, messages(outcome)
        assert re.search(r"is not a finite number|an integer of \d+ digits is too large", messages(outcome))
        assert messages(outcome).startswith(name)


@settings(max_examples=40, deadline=None)
@given(good=st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**6, 10**6),
       bad=st.sampled_from([math.inf, -math.inf, math.nan, 10**400, -(10**400)]))
def test_agrees_never_accepts_a_non_finite_side(good, bad):
    assert rescore.agrees(bad, good)[0] is False and rescore.agrees(good, bad)[0] is False
    assert rescore.agrees(bad, bad)[0] is False


@pytest.mark.parametrize("key", ["n_resamples", "seed", "n_examples"])
def test_an_integer_written_as_a_float_is_a_schema_error(board, tmp_path, key):
    """JSON Schema lets 200.0 pass as an integer; the validator does not (it would reach range() or a seed)."""
    folder = submit_to(board, "model", tmp_path)
    text, n = re.subn(rf'"{key}": (\d+)', rf'"{key}": \1.0', (folder / "results.json").read_text(), count=1)
    assert n == 1
    rewrite(folder, "results.json", text)
    outcome = validate(board, folder)
    assert codes(outcome) == {"schema"} and ".0 is not of type 'integer'" in messages(outcome), messages(outcome)
    assert key in messages(outcome)


@pytest.mark.parametrize(("yaml_text", "why"), [
    ("    1: x\n", "at model.model_args: the key 1 is not a string"),
    ("    ? null\n    : y\n", "at model.model_args: the key None is not a string"),
    ("    temperature: .inf\n", "at model.model_args.temperature: inf is not a finite number"),
])
def test_hostile_yaml_in_metadata_is_one_malformed_problem(board, tmp_path, yaml_text, why):
    folder = submit_to(board, "model", tmp_path)
    text = (folder / "metadata.yaml").read_text()
    assert "  model_args:\n" in text
    (folder / "metadata.yaml").write_text(text.replace("  model_args:\n", "  model_args:\n" + yaml_text, 1))
    outcome = validate(board, folder)
    assert codes(outcome) == {"malformed"} and f"metadata.yaml {why}" in messages(outcome), messages(outcome)


def test_hostile_folders_never_stop_the_others_nor_the_site(board, tmp_path):
    subs = tmp_path / "subs"
    key = submit_to(board, "model", subs, name="a-yaml-key")
    text = (key / "metadata.yaml").read_text()
    (key / "metadata.yaml").write_text(text.replace("  model_args:\n", "  model_args:\n    1: x\n", 1))
    _plant(submit_to(board, "model", subs, name="b-big-soundness"), "predictions.jsonl",
           PLACES["parsed soundness"][1], "1" + "0" * 400)
    seed = submit_to(board, "model", subs, name="c-float-seed")
    rewrite(seed, "results.json", (seed / "results.json").read_text().replace('"seed": 0', '"seed": 0.0', 1))
    honest = submit_to(board, "tfidf", subs, name="d-honest")
    folders = sorted(subs.iterdir())
    outcomes = validate_submissions(folders, board.datasets, folders)
    assert [o.status for o in outcomes] == ["rejected", "rejected", "rejected", "verified"]
    assert [codes(o) for o in outcomes[:3]] == [{"malformed"}, {"malformed"}, {"schema"}]
    report = build_site(tmp_path / "site", subs, board.datasets)
    assert report.counts == {"submissions": 4, "verified": 1, "excluded": 3}
    assert (tmp_path / "site" / "submissions" / honest.name / "index.html").is_file()


def test_an_unexpected_failure_rejects_that_submission_only(board, tmp_path, monkeypatch):
    """The last resort: an exception the checks did not foresee is one rejected ``internal_error`` naming its
    type; the other submissions are validated and the site is built."""
    import cyclebench.leaderboard.validate as validate_module

    subs = tmp_path / "subs"
    submit_to(board, "model", subs, name="a-trips-a-bug")
    submit_to(board, "tfidf", subs, name="b-honest")
    real = validate_module.check_review

    def check(results, *args):
        if results["model"]["backend"] == "openai":
            raise ZeroDivisionError("a bug the checks did not foresee")
        return real(results, *args)

    monkeypatch.setattr(validate_module, "check_review", check)
    report = build_site(tmp_path / "site", subs, board.datasets)
    tripped, honest = report.verifications
    assert codes(tripped) == {"internal_error"} and "failed on this submission with ZeroDivisionError" in messages(tripped)
    assert honest.verified and report.counts == {"submissions": 2, "verified": 1, "excluded": 1}


# ------------------------------------------------------------------------------------------ red team: outputs


@pytest.mark.parametrize("where", ["a submission's file", "a submission folder", "the submissions folder",
                                   "the data build"])
def test_a_report_is_never_written_over_an_input(board, tmp_path, capsys, where):
    subs = tmp_path / "subs"
    folder = submit_to(board, "tfidf", subs)
    target = {"a submission's file": folder / "results.json", "a submission folder": folder / "report.json",
              "the submissions folder": subs / "report.json", "the data build": board.data / "report.json"}[where]
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert cyclebench_main(["leaderboard", "validate", str(folder), "--submissions-dir", str(subs),
                            "--data", f"review-5k={board.data}", "--report", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"--report {target}" in err and "the input" in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert where == "a submission's file" or not target.exists()


def test_a_cache_dir_on_in_or_around_an_input_is_refused(board, tmp_path, capsys):
    for cache in (board.data, board.data / "cache", board.data.parent):
        assert cyclebench_main(["evaluate", "model", "--task", "review-5k", "--data", str(board.data),
                                "--protocol", "cyclereviewer", "--backend", "baseline-constant",
                                "--output", str(tmp_path / "run"), "--cache-dir", str(cache)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and f"the input {board.data}" in err
    assert not (board.data / "cache").exists() and not (tmp_path / "run").exists()


# ------------------------------------------------------------------------------------------ red team: text


@pytest.mark.parametrize(("field", "change"), [
    ("model.name", lambda m: m["model"].update(name="Evil\x01Name\x0c")),
    ("authors[0]", lambda m: m.update(authors=["A. \u202eRevo"])),
    ("description", lambda m: m.update(description="fine\nlines\tand tabs, but a bell\x07")),
])
def test_control_characters_in_metadata_text_are_rejected(board, tmp_path, field, change):
    folder = submit_to(board, "tfidf", tmp_path)
    set_metadata(folder, change)
    outcome = validate(board, folder)
    assert codes(outcome) == {"schema"}
    assert f"metadata.yaml at {field}: " in messages(outcome) and "holds the control character U+" in messages(outcome)


@settings(max_examples=40, deadline=None)
@given(names=st.lists(st.text(max_size=30) | st.sampled_from(["Evil\x01Name\x0c", "\ud800x", "a\ufffeb", "<b>&\x00"]),
                      min_size=1, max_size=4))
def test_any_label_gives_a_well_formed_svg(names):
    import xml.etree.ElementTree as ET

    from cyclebench import plots

    n = len(names)
    svg = plots.bars(names, [1.0] * n, [0.5] * n, [1.5] * n, title=names[0], ylabel=names[-1])
    ET.fromstring(svg.encode("utf-8"))  # strict UTF-8: a lone surrogate would fail here


# ------------------------------------------------------------------------------------------ red team: provenance


def imported_copy(board: Board, tmp_path: Path) -> Path:
    """The model run's outputs scored as imported recorded outputs, then submitted."""
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("".join(json.dumps({"paper_id": r["paper_id"], "text": r["output"]}) + "\n"
                                for r in rows_of(board.runs["model"]) if r["output"] is not None))
    run = tmp_path / "imported-run"
    score_recorded_outputs(task="review-5k", data=str(board.data), protocol="cyclereviewer", predictions=recorded,
                           fmt="jsonl", output=run, model_name="recorded", n_resamples=200)
    return submit(run, "relabelled", out=tmp_path / "subs", date=DATE)


def relabel_as_model(folder: Path, fingerprint: str) -> None:
    model = {"backend": "vllm", "model_args": {"pretrained": "Org/SuperReviewer-70B"}, "fingerprint": fingerprint}

    def change(results):
        for key in ("label", "source_file", "source_sha256", "format", "import_problems", "n_recorded"):
            results["provenance"].pop(key, None)
        results["provenance"]["imported"] = False
        results["model"].update(model)

    edit_results(folder, change)
    set_metadata(folder, lambda m: (m.update(label="model"), m["model"].update(model, name="Super")))


def test_imported_outputs_relabelled_as_a_model_run_are_rejected(board, tmp_path):
    folder = imported_copy(board, tmp_path)
    assert validate(board, folder).verified
    relabel_as_model(folder, "vllm:super")
    outcome = validate(board, folder)
    assert codes(outcome) == {"provenance"}
    assert "model.fingerprint 'vllm:super' is not what backend 'vllm' writes" in messages(outcome)

    # With a fingerprint of the right shape, the rows still carry an import's request hashes.
    relabel_as_model(folder, json.dumps({"backend": "vllm", "pretrained": "Org/SuperReviewer-70B"}))
    outcome = validate(board, folder)
    assert codes(outcome) == {"provenance"}
    assert ": request_hash " in messages(outcome) and "is not what this kind of run writes" in messages(outcome)


def test_the_test_only_fake_backend_is_not_a_model(board, tmp_path):
    outcome = validate(board, submit_to(board, "fake", tmp_path))
    assert codes(outcome) == {"provenance"}
    assert "model.backend is 'fake', the test-only backend of canned answers" in messages(outcome)


def test_a_run_on_the_first_papers_only_gets_its_own_table(board, tmp_path):
    subs = tmp_path / "subs"
    limited = submit_to(board, "model-first5", subs)
    submit_to(board, "tfidf", subs)
    report = build_site(tmp_path / "site", subs, board.datasets)
    assert report.counts["verified"] == 2, [messages(v) for v in report.verifications]
    tables = [t for t in report.tables if t.fingerprint]
    assert sorted(t.limit or 0 for t in tables) == [0, 5]
    first5 = next(t for t in tables if t.limit == 5)
    assert first5.title.endswith("first 5 papers only (--limit)")
    assert [r.href for r in first5.rows if r.href] == [f"submissions/{limited.name}/index.html"]
    assert "first 5 papers only (--limit)" in (tmp_path / "site" / "index.html").read_text()


def test_a_validate_report_replaces_only_an_earlier_report(board, tmp_path, capsys):
    """The --report rule check-overlap follows: an existing file that is not a validate report stays as it is."""
    subs = tmp_path / "subs"
    folder = submit_to(board, "tfidf", subs)
    argv = ["leaderboard", "validate", str(folder), "--submissions-dir", str(subs), "--data", f"review-5k={board.data}"]
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": true}\n')
    assert cyclebench_main([*argv, "--report", str(notes)]) == 2
    assert "is not an earlier validate report" in capsys.readouterr().err
    assert notes.read_text() == '{"mine": true}\n'
    report = tmp_path / "report.json"
    assert cyclebench_main([*argv, "--report", str(report)]) == 0
    assert cyclebench_main([*argv, "--report", str(report)]) == 0  # an earlier report: replaced
    assert json.loads(report.read_text())["verified"] == 1
