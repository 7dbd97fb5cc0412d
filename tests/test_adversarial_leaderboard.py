"""Adversarial submissions: the leaderboard cannot be forged (issue 11).

Each attack keeps the submission otherwise consistent (figures recomputed from the forged fields, metadata
checksums resealed), so only the defence under test can catch it: re-parsing every raw output
(``leaderboard.reparse``), re-running claimed baselines (``leaderboard.reproduce``) and comparing contents
(``leaderboard.duplicates``). Runs on the embedded Review-5K sample (a fake "model" with canned reviews, and
the TF-IDF baseline); the seeded submissions are checked against fresh corpus builds.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cyclebench.cli import main as cyclebench_main
from cyclebench.evaluate import ReviewRunConfig, run_review_evaluation
from cyclebench.imported import record_from_text, record_to_text, score_recorded_outputs
from cyclebench.protocols import get_protocol
from cyclebench.tasks import get_task
from leaderboard import rescore
from leaderboard.duplicates import same_content
from leaderboard.seed import BASELINES, SEED_DATE, SEED_TASKS, round_floats
from leaderboard.submit import submit
from leaderboard.validate import DatasetBuilds, validate_submissions

from .test_generation_eval import research14k, review_text  # noqa: F401  (research14k: fixture)
from .test_leaderboard import _generator_run, codes, edit_predictions, edit_results, messages, rewrite
from .test_leaderboard_seeded import seeded_validation

DATE = "2026-02-01"


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
def board(tmp_path_factory) -> Board:
    root = tmp_path_factory.mktemp("adversarial-board")
    data = root / "review5k"
    assert cyclebench_main(["build", "review-5k", "--sample", "--out", str(data)]) == 0
    canned, failing = _canned_reviews(data, root)
    configs = {
        "model": ReviewRunConfig(task="review-5k", data=str(data), protocol="cyclereviewer", backend="fake",
                                 model_args={"responses": str(canned), "fail_ids": failing}, n_resamples=200),
        "tfidf": ReviewRunConfig(task="review-5k", data=str(data), protocol="cyclereviewer", backend="baseline-tfidf",
                                 n_resamples=200),
    }
    runs = {}
    for name, config in configs.items():
        run_review_evaluation(config, root / "runs" / name, progress=False)
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


def test_imported_csv_rows_are_re_parsed_with_the_importers_decision_rule(corpus, tmp_path):
    from leaderboard.seed import build_corpus_datasets

    spec = next(t for t in SEED_TASKS if t.task == "aiscientist-iclr2022")
    data = build_corpus_datasets(corpus, tmp_path / "builds", (spec,))["aiscientist-iclr2022"]
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
    edit_results(other, lambda r: r["provenance"].update(imported=True, format="pickle"))
    set_metadata(other, lambda m: m.update(label="imported"))
    outcome = validate(board, other)
    assert codes(outcome) == {"protocol"} and "format 'pickle'" in messages(outcome)


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
    assert "model.baseline is true but backend 'fake' is not one of cyclebench's baselines" in messages(outcome)


def test_imported_outputs_relabelled_as_baseline_are_rejected(board, tmp_path):
    run = tmp_path / "imported-run"
    score_recorded_outputs(task="review-5k", data=str(board.data), protocol="cyclereviewer", fmt="jsonl",
                           predictions=board.runs["tfidf"] / "predictions.jsonl", output=run, n_resamples=200)
    folder = submit(run, "imported-baseline", out=tmp_path / "subs", date=DATE)
    edit_results(folder, lambda r: r["model"].update(baseline=True, backend="baseline-tfidf"))
    set_metadata(folder, lambda m: m["model"].update(baseline=True, backend="baseline-tfidf"))
    outcome = validate(board, folder)
    assert codes(outcome) == {"baseline_claim"}
    assert "model.baseline is true but a run of imported recorded outputs is not one of" in messages(outcome)


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
    edit_results(copy, lambda r: r["model"].update(fingerprint='{"backend": "my-own-model"}'))
    set_metadata(copy, lambda m: m["model"].update(fingerprint='{"backend": "my-own-model"}'))
    assert rows_of(copy)[0]["parsed"]["rating"] != rows_of(original)[0]["parsed"]["rating"]

    alone = validate(board, copy)
    assert alone.verified, messages(alone)  # a well-formed submission: only the content rule catches it
    outcome = validate(board, copy, against=[original, copy])
    assert codes(outcome) == {"duplicate"}
    assert f"duplicate of {original.name}: " in messages(outcome) and "papers have the same re-parsed" in messages(outcome)


def test_two_honest_different_models_do_not_collide(board, tmp_path):
    folders = [submit_to(board, "model", tmp_path), submit_to(board, "tfidf", tmp_path)]
    outcomes = validate_submissions(folders, board.datasets, folders)
    assert all(o.verified for o in outcomes), [messages(o) for o in outcomes]


@pytest.mark.parametrize(("same", "compared", "duplicate"), [
    (5, 6, True), (4, 6, False), (143, 150, True), (142, 150, False), (1, 1, True), (0, 1, False), (28, 150, False),
])
def test_the_content_rule_allows_five_percent_and_at_least_one_paper(same, compared, duplicate):
    assert same_content(same, compared) is duplicate


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


def test_every_seeded_submission_is_still_verified_and_labelled(corpus, tmp_path_factory):
    _, outcomes = seeded_validation(corpus, tmp_path_factory)
    assert {o.folder: [p.message for p in o.problems] for o in outcomes if not o.verified} == {}
    labels = {o.folder: o.label for o in outcomes}
    for spec in SEED_TASKS:
        for backend in BASELINES:
            assert labels[f"{SEED_DATE}_{backend}-{spec.task}"] == "baseline"
    assert sum(label == "imported (not re-run)" for label in labels.values()) == 6
