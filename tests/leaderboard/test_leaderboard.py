"""Leaderboard: submit, validate (every rejection), re-score, and build the static site.

Runs on the embedded Review-5K sample with the two fast CPU baselines; the seeded submissions on the real
corpus are checked in test_seeded.py, the site in a real browser in test_browser.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from cyclebench.cli import leaderboard as leaderboard_cli
from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
from cyclebench.leaderboard import rescore, safe_read
from cyclebench.leaderboard.reported import load_reported
from cyclebench.leaderboard.site import assemble_tables, build_site
from cyclebench.leaderboard.submit import SubmitError, submit
from cyclebench.leaderboard.validate import DatasetBuilds, list_submissions, parse_data_options, validate_submissions

from tests.test_evaluate_generator import GENERATOR, _judge, fake, research14k, review_text  # noqa: F401  (research14k: fixture)

from .conftest import Sample

INJECTION = "<img src=x onerror=alert(1)><script>alert(2)</script>"
DATE = "2026-01-15"


def datasets_for(sample: Sample) -> DatasetBuilds:
    return DatasetBuilds(parse_data_options([f"review-5k={sample.data}"]))


def submit_run(sample: Sample, run: str, subs: Path, name: str | None = None, **kwargs) -> Path:
    return submit(sample.runs[run], name or run, out=subs, date=kwargs.pop("date", DATE), **kwargs)


def validate_one(folder: Path, sample: Sample, against: list[Path] | None = None):
    [outcome] = validate_submissions([folder], datasets_for(sample), against or [])
    return outcome


def rewrite(folder: Path, name: str, text: str | bytes, *, reseal: bool = True) -> None:
    """Change a submission file; ``reseal`` updates metadata's checksum so only the intended check fires."""
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    if reseal and name in ("results.json", "predictions.jsonl"):
        meta = yaml.safe_load((folder / "metadata.yaml").read_text())
        meta["files"][name] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        (folder / "metadata.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))


def edit_results(folder: Path, change) -> None:
    results = json.loads((folder / "results.json").read_text())
    change(results)
    rewrite(folder, "results.json", json.dumps(results, indent=2))


def edit_predictions(folder: Path, change) -> None:
    rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    rows = change(rows) or rows
    rewrite(folder, "predictions.jsonl", "".join(json.dumps(r) + "\n" for r in rows))


def codes(outcome) -> set[str]:
    return {p.code for p in outcome.problems}


def messages(outcome) -> str:
    return "\n".join(p.message for p in outcome.problems)


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="cyclebench leaderboard")
    leaderboard_cli.add_arguments(parser)
    return leaderboard_cli.run(parser.parse_args(list(argv)))


# ---------------------------------------------------------------------------------------------- submit


def test_submit_copies_the_run_and_writes_metadata(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "tfidf", tmp_path, name="tfidf-sample", authors=["A. Author"],
                        links=["https://example.org/paper"], model_name="TF-IDF")
    assert folder.name == f"{DATE}_tfidf-sample"
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.yaml", "predictions.jsonl", "results.json"]
    for name in ("results.json", "predictions.jsonl"):
        assert (folder / name).read_bytes() == (lb_sample.runs["tfidf"] / name).read_bytes()
    meta = yaml.safe_load((folder / "metadata.yaml").read_text())
    results = json.loads((folder / "results.json").read_text())
    assert meta["date"] == DATE and meta["name"] == "tfidf-sample" and meta["label"] == "baseline"
    assert meta["model"] == {"name": "TF-IDF", "backend": "baseline-tfidf", "model_args": {},
                             "fingerprint": results["model"]["fingerprint"], "baseline": True}
    assert meta["dataset"]["fingerprint"] == results["task"]["dataset_fingerprint"]
    assert meta["dataset"]["builder"] == "review-5k"
    assert meta["authors"] == ["A. Author"] and meta["links"] == ["https://example.org/paper"]
    assert meta["files"]["predictions.jsonl"] == "sha256:" + hashlib.sha256(
        (folder / "predictions.jsonl").read_bytes()).hexdigest()


def test_submit_refuses_a_bad_name_an_existing_folder_and_a_bad_run(lb_sample, tmp_path):
    submit_run(lb_sample, "constant", tmp_path)
    with pytest.raises(SubmitError, match="already exists"):
        submit_run(lb_sample, "constant", tmp_path)
    with pytest.raises(SubmitError, match="valid folder name"):
        submit_run(lb_sample, "constant", tmp_path, name="../escape")
    with pytest.raises(SubmitError, match="calendar date"):
        submit_run(lb_sample, "constant", tmp_path, name="x", date="2026-02-30")
    with pytest.raises(SubmitError, match="links"):
        submit_run(lb_sample, "constant", tmp_path, name="y", links=["javascript:alert(1)"])
    broken = tmp_path / "broken-run"
    broken.mkdir()
    (broken / "results.json").write_text('{"schema_version": 1, "kind": "review"}')
    (broken / "predictions.jsonl").write_text("")
    with pytest.raises(SubmitError, match="is not a run the leaderboard accepts"):
        submit(broken, "broken", out=tmp_path, date=DATE)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(DATE)) == [f"{DATE}_constant"]


# ---------------------------------------------------------------------------------------------- verified


def test_untouched_submissions_are_verified_with_every_figure_compared(lb_sample, tmp_path):
    folders = [submit_run(lb_sample, run, tmp_path) for run in ("constant", "tfidf")]
    outcomes = validate_submissions(folders, datasets_for(lb_sample), folders)
    for outcome in outcomes:
        assert outcome.status == "verified", messages(outcome)
        claimed = json.loads((tmp_path / outcome.folder / "results.json").read_text())["metrics"]
        assert outcome.summary["figures_compared"] == len(claimed) >= 16
        assert outcome.summary["max_abs_difference"] == 0.0 and outcome.summary["not_claimed"] == []
        assert outcome.label == "baseline" and outcome.dataset_path == str(lb_sample.data)
        assert len(outcome.points) == outcome.recomputed["counts"]["n_evaluated"]


def test_rescoring_reads_the_dataset_not_the_submitted_human_scores(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "tfidf", tmp_path)

    def shift(rows):
        rows[0]["human_ratings"] = [r + 1 for r in rows[0]["human_ratings"]]

    edit_predictions(folder, shift)
    outcome = validate_one(folder, lb_sample)
    assert codes(outcome) == {"human_scores_mismatch"}
    assert "1 predictions carry human scores that differ from the dataset build" in messages(outcome)


# ---------------------------------------------------------------------------------------------- rejections


def test_tampered_figure_is_rejected_naming_the_figure_and_the_difference(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "tfidf", tmp_path)
    original = json.loads((folder / "results.json").read_text())["metrics"]

    def tamper(results):
        results["metrics"]["rating_mae"]["value"] -= 0.25
        results["metrics"]["spearman"]["ci_high"] += 1e-6

    edit_results(folder, tamper)
    outcome = validate_one(folder, lb_sample)
    assert outcome.status == "rejected" and codes(outcome) == {"figure_mismatch"}
    text = messages(outcome)
    assert "figure rating_mae.value" in text and "off by 0.25 " in text
    assert f"re-scored {original['rating_mae']['value']:.10g}" in text
    assert "figure spearman.ci_high" in text and "off by 1e-06" in text
    assert len(outcome.problems) == 2


def test_a_difference_inside_the_tolerance_is_accepted(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "tfidf", tmp_path)
    edit_results(folder, lambda r: r["metrics"]["rating_mse"].update(value=r["metrics"]["rating_mse"]["value"] * (1 + 1e-12)))
    outcome = validate_one(folder, lb_sample)
    assert outcome.verified, messages(outcome)
    assert 0 < outcome.summary["max_rel_difference"] < rescore.REL_TOLERANCE


def test_tampered_counts_and_an_unknown_figure_are_rejected(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "tfidf", tmp_path)

    def tamper(results):
        results["counts"]["n_failed"] = 3
        results["metrics"]["rating_mae"]["n"] += 1
        results["metrics"]["magic_score"] = {"value": 1.0, "ci_low": 1.0, "ci_high": 1.0, "n": 1, "n_resamples": 1}

    edit_results(folder, tamper)
    text = messages(validate_one(folder, lb_sample))
    assert "count n_failed: claimed 3, re-scored 0" in text
    assert "figure rating_mae.n: claimed" in text
    assert "figure 'magic_score' is claimed but the scorer does not produce it" in text


def test_bad_schema_is_rejected_with_the_location(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "constant", tmp_path)

    def break_schema(results):
        results["task"]["split"] = 5
        del results["metrics"]["spearman"]
        results["metrics"]["rating_mae"]["value"] = "0.5"
        results["surprise"] = True

    edit_results(folder, break_schema)
    outcome = validate_one(folder, lb_sample)
    assert codes(outcome) == {"schema"}
    text = messages(outcome)
    assert "results.json at task.split: 5 is not of type 'string'" in text
    assert "results.json at metrics: 'spearman' is a required property" in text
    assert "results.json at metrics.rating_mae.value: '0.5' is not of type 'number', 'null'" in text
    assert "'surprise' was unexpected" in text


def test_bad_metadata_and_prediction_rows_break_their_schemas(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "constant", tmp_path)
    meta = yaml.safe_load((folder / "metadata.yaml").read_text())
    meta["links"] = ["javascript:alert(1)"]
    meta["model"]["name"] = ""
    (folder / "metadata.yaml").write_text(yaml.safe_dump(meta))

    def break_rows(rows):
        rows[1]["parsed"]["decision"] = "maybe"
        rows[2]["parsed"]["rating"] = "high"

    edit_predictions(folder, break_rows)
    text = messages(validate_one(folder, lb_sample))
    assert "metadata.yaml at links[0]: 'javascript:alert(1)' does not match" in text
    assert "metadata.yaml at model.name: '' should be non-empty" in text
    assert "predictions.jsonl line 2 at parsed.decision: 'maybe' is not one of ['accept', 'reject', None]" in text
    assert "predictions.jsonl line 3 at parsed.rating: 'high' is not of type 'number', 'null'" in text


def test_unsupported_schema_version(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "constant", tmp_path)
    edit_results(folder, lambda r: r.update(schema_version=2))
    assert "results.json: schema_version 2 is not supported (supported: [1])" in messages(validate_one(folder, lb_sample))


def test_out_of_range_scores_are_rejected(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "tfidf", tmp_path)

    def out_of_range(rows):
        rows[0]["parsed"]["rating"] = 11.0
        rows[1]["parsed"]["rating"] = -1.0
        rows[2]["parsed"]["soundness"] = 5.0
        rows[3]["parsed"]["confidence"] = 0.0

    edit_predictions(folder, out_of_range)
    outcome = validate_one(folder, lb_sample)
    # The raw outputs still say otherwise, so the re-parse disagrees too (by design since issue 11).
    assert codes(outcome) == {"out_of_range", "parse_mismatch"}
    rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    text = messages(outcome)
    assert f"paper {rows[0]['paper_id']!r}: parsed.rating is 11 but its raw output re-parses to" in text
    assert f"rating: 2 predicted scores outside the scale 1-10 (first: paper {rows[0]['paper_id']!r} = 11)" in text
    assert f"soundness: 1 predicted score outside the scale 1-4 (first: paper {rows[2]['paper_id']!r} = 5)" in text
    assert "confidence: 1 predicted score outside the scale 1-5" in text


def test_unknown_dataset_differing_build_and_unknown_task(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "constant", tmp_path)
    [missing] = validate_submissions([folder], DatasetBuilds({}), [])
    assert codes(missing) == {"unknown_dataset"}
    assert "no dataset build given for task 'review-5k'; pass --data review-5k=PATH" in messages(missing)
    [differs] = validate_submissions([folder], DatasetBuilds({"review-5k": [lb_sample.other_build]}), [])
    assert codes(differs) == {"dataset_differs"}
    assert messages(differs).startswith("dataset build differs: results.json names sha256:")
    assert str(lb_sample.other_build) in messages(differs)

    edit_results(folder, lambda r: r["task"].update(name="no-such-task"))
    meta = yaml.safe_load((folder / "metadata.yaml").read_text())
    meta["task"]["name"] = "no-such-task"
    (folder / "metadata.yaml").write_text(yaml.safe_dump(meta))
    unknown = validate_one(folder, lb_sample)
    assert codes(unknown) == {"unknown_task"} and "unknown task 'no-such-task'" in messages(unknown)


def test_duplicates_by_predictions_and_by_model_task_split(lb_sample, tmp_path):
    first = submit_run(lb_sample, "tfidf", tmp_path, date="2026-01-01")
    copy = tmp_path / "2026-01-02_tfidf"
    shutil.copytree(first, copy)
    meta = yaml.safe_load((copy / "metadata.yaml").read_text())
    meta["date"] = "2026-01-02"
    (copy / "metadata.yaml").write_text(yaml.safe_dump(meta))
    rerun = submit_run(lb_sample, "tfidf", tmp_path, name="tfidf-rerun", date="2026-01-03")
    edit_predictions(rerun, lambda rows: rows[0].update(output=rows[0]["output"] + "\n"))
    other = submit_run(lb_sample, "tfidf-alpha", tmp_path, date="2026-01-04")

    outcomes = {o.folder: o for o in validate_submissions(list_submissions(tmp_path), datasets_for(lb_sample),
                                                          list_submissions(tmp_path))}
    assert outcomes[first.name].verified and outcomes[other.name].verified
    assert codes(outcomes[copy.name]) == {"duplicate"}
    assert f"duplicate of {first.name}: the same predictions.jsonl" in messages(outcomes[copy.name])
    assert codes(outcomes[rerun.name]) == {"duplicate"}
    assert "the same model fingerprint, task, split, dataset build and protocol" in messages(outcomes[rerun.name])
    # A new submission validated alone is compared with everything already in the leaderboard.
    [alone] = validate_submissions([rerun], datasets_for(lb_sample), list_submissions(tmp_path))
    assert codes(alone) == {"duplicate"}


def test_oversized_files_and_submissions_are_rejected_before_parsing(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "constant", tmp_path)
    with open(folder / "predictions.jsonl", "r+b") as handle:  # sparse: no 32 MiB written to disk
        handle.truncate(safe_read.MAX_PREDICTIONS_BYTES + 1)
    outcome = validate_one(folder, lb_sample)
    assert codes(outcome) == {"too_large"}
    assert (f"predictions.jsonl is {safe_read.MAX_PREDICTIONS_BYTES + 1:,} bytes; the limit is "
            f"{safe_read.MAX_PREDICTIONS_BYTES:,} bytes") in messages(outcome)

    together = submit_run(lb_sample, "tfidf", tmp_path)
    with open(together / "predictions.jsonl", "r+b") as handle:
        handle.truncate(safe_read.MAX_PREDICTIONS_BYTES - 10)
    with open(together / "results.json", "r+b") as handle:
        handle.truncate(safe_read.MAX_RESULTS_BYTES - 10)
    text = messages(validate_one(together, lb_sample))
    assert f"the limit is {safe_read.MAX_SUBMISSION_BYTES:,} bytes" in text and "the submission's files total" in text

    metadata = submit_run(lb_sample, "tfidf-alpha", tmp_path)
    (metadata / "metadata.yaml").write_text("a: b\n" * (safe_read.MAX_METADATA_BYTES // 5 + 1))
    assert "metadata.yaml is" in messages(validate_one(metadata, lb_sample))


def test_rescoring_work_is_capped(lb_sample, tmp_path, monkeypatch):
    from cyclebench.leaderboard import match

    folder = submit_run(lb_sample, "constant", tmp_path)
    monkeypatch.setattr(match, "MAX_RESCORE_DRAWS", 1000)
    outcome = validate_one(folder, lb_sample)
    assert codes(outcome) == {"too_large"}
    assert "resamples draws" in messages(outcome) and "the limit is 1,000" in messages(outcome)


def test_long_lines_and_too_many_rows():
    rows, errors = safe_read.parse_jsonl('{"a": 1}\n' + "x" * 50 + "\n", "p.jsonl", max_line_bytes=20)
    assert rows == [(1, {"a": 1})] and errors == ["p.jsonl line 2: longer than 20 bytes"]
    with pytest.raises(safe_read.ReadError, match="p.jsonl has 3 lines; the limit is 2"):
        safe_read.parse_jsonl("{}\n{}\n{}\n", "p.jsonl", max_rows=2)


MALFORMED = {
    "yaml syntax": ("metadata.yaml", "model: [unclosed\n", "malformed",
                    "metadata.yaml: malformed YAML at line 2 column 1"),
    "yaml alias": ("metadata.yaml", "a: &x [1, 2]\nb: *x\n", "malformed",
                   "metadata.yaml: YAML aliases are not allowed (line 2)"),
    "yaml python tag": ("metadata.yaml", "a: !!python/object/apply:os.system ['true']\n", "malformed",
                        "could not determine a constructor for the tag"),
    "yaml not a mapping": ("metadata.yaml", "- a\n- b\n", "malformed",
                           "metadata.yaml: expected a YAML mapping at the top, got list"),
    "json syntax": ("results.json", '{"schema_version": 1,', "malformed",
                    "results.json: malformed JSON at line 1 column 22"),
    "json NaN": ("results.json", '{"schema_version": 1, "x": NaN}', "malformed",
                 "results.json: NaN is not a JSON number"),
    "json repeated key": ("results.json", '{"kind": "review", "kind": "generator"}', "malformed",
                          "results.json: repeated key 'kind'"),
    "json not an object": ("results.json", "[1, 2]", "schema",
                           "results.json: expected a JSON/YAML object at the top, got list"),
    "not utf-8": ("results.json", b'{"a": "\xff"}', "malformed", "results.json: not UTF-8 (byte 7)"),
    "jsonl bad line": ("predictions.jsonl", '{"paper_id": "a"\n', "malformed",
                       "predictions.jsonl line 1: malformed JSON at line 1"),
    "jsonl blank line": ("predictions.jsonl", "\n\n", "malformed", "predictions.jsonl line 1: blank line"),
    "jsonl empty": ("predictions.jsonl", "", "malformed", "predictions.jsonl has no rows"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_give_clear_errors(lb_sample, tmp_path, case):
    name, content, code, expected = MALFORMED[case]
    folder = submit_run(lb_sample, "constant", tmp_path)
    rewrite(folder, name, content, reseal=False)
    outcome = validate_one(folder, lb_sample)
    assert outcome.status == "rejected" and code in codes(outcome)
    assert expected in messages(outcome), messages(outcome)


def test_missing_extra_and_linked_files(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "constant", tmp_path)
    (folder / "predictions.jsonl").unlink()
    (folder / "run.py").write_text("import os; os.system('echo pwned')\n")
    (folder / "extra").mkdir()
    outcome = validate_one(folder, lb_sample)
    assert {"missing_file", "unexpected_file"} <= codes(outcome)
    text = messages(outcome)
    assert "predictions.jsonl is missing" in text and "unexpected file 'run.py'" in text and "unexpected folder 'extra'" in text

    linked = submit_run(lb_sample, "tfidf", tmp_path)
    (linked / "results.json").unlink()
    os.symlink(lb_sample.runs["tfidf"] / "results.json", linked / "results.json")
    outcome = validate_one(linked, lb_sample)
    assert "results.json is a symbolic link; submissions hold plain files only" in messages(outcome)

    link = tmp_path / "2026-01-16_linked"
    os.symlink(lb_sample.runs["tfidf"], link)
    assert "is not a folder" in messages(validate_one(link, lb_sample, against=[link]))

    renamed = tmp_path / "not-a-dated-name"
    shutil.copytree(submit_run(lb_sample, "tfidf-alpha", tmp_path), renamed)
    assert "is not <YYYY-MM-DD>_<name>" in messages(validate_one(renamed, lb_sample))


def test_prediction_ids_must_match_the_split(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "tfidf", tmp_path)
    rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]

    def change(rows):
        extra = dict(rows[0], paper_id="not-a-paper")
        return rows[1:] + [extra, dict(rows[2])]

    edit_predictions(folder, change)
    text = messages(validate_one(folder, lb_sample))
    assert f"1 of the split's {len(rows)} papers have no prediction (first: {rows[0]['paper_id']!r})" in text
    assert "1 predictions are for papers not in review-5k/test (first: 'not-a-paper')" in text
    assert f"predictions.jsonl repeats 1 paper id(s) (first: {rows[2]['paper_id']!r})" in text


def test_metadata_must_agree_with_results_and_checksums(lb_sample, tmp_path):
    folder = submit_run(lb_sample, "constant", tmp_path)
    meta = yaml.safe_load((folder / "metadata.yaml").read_text())
    meta["task"]["split"] = "train"
    meta["label"] = "model"
    (folder / "metadata.yaml").write_text(yaml.safe_dump(meta))
    edit_results(folder, lambda r: None)
    rewrite(folder, "predictions.jsonl", (folder / "predictions.jsonl").read_text() + "", reseal=False)
    with open(folder / "results.json", "a") as handle:
        handle.write(" ")
    outcome = validate_one(folder, lb_sample)
    text = messages(outcome)
    assert "metadata.yaml task.split is 'train' but results.json says 'test'" in text
    assert "metadata.yaml label is 'model' but results.json says 'baseline'" in text
    assert "results.json has sha256:" in text and codes(outcome) == {"metadata_mismatch", "checksum_mismatch"}


# ---------------------------------------------------------------------------------------------- rescore


def test_figure_comparison_tolerance_and_undefined_values():
    fig = {"value": 2.0, "ci_low": 1.0, "ci_high": None, "n": 5, "n_resamples": 10}
    assert rescore.compare_figures({"x": dict(fig, value=2.0 * (1 + 5e-10))}, {"x": fig})[0] == []
    [problem] = rescore.compare_figures({"x": dict(fig, value=2.0 * (1 + 5e-9))}, {"x": fig})[0]
    assert problem.startswith("figure x.value: claimed 2.00000001, re-scored 2 (off by 1e-08")
    [problem] = rescore.compare_figures({"x": dict(fig, ci_high=3.0)}, {"x": fig})[0]
    assert "claimed 3, re-scored undefined (null) (one side is undefined" in problem
    problems, summary = rescore.compare_figures({}, {"x": fig})
    assert problems == [] and summary["not_claimed"] == ["x"]


def test_rating_range_comes_from_the_task_scale(lb_sample):
    from cyclebench.records import ReviewExample
    from cyclebench.tasks import get_task

    examples = get_task("review-5k").load(str(lb_sample.data), "test").examples
    assert {e.rating_scale for e in examples} == {"1/3/5/6/8/10"}
    assert rescore.rating_range(examples) == (1.0, 10.0)
    plain = ReviewExample("p", "t", "x", (3.0,), None)
    assert rescore.rating_range([plain]) == rescore.DEFAULT_RATING_RANGE
    assert rescore.rating_range([ReviewExample("p", "t", "x", (3.0,), None, rating_scale="1/3/5/6/8/10")]) == (1.0, 10.0)


def _generator_run(data: Path, tmp: Path, *, n: int = 1) -> Path:
    """A real generator evaluation on the Research-14K fixture, the generator and the judge answered by canned
    texts standing in for vLLM models (the leaderboard refuses runs that name the test-only ``fake`` backend)."""
    from cyclebench.evaluate_generator import GeneratorRunConfig, run_generator_evaluation
    from cyclebench.judge import JudgeConfig

    canned = dict(GENERATOR)
    judged = {"p1#s0": review_text([4, 6, 7, 8], "Accept"), "p2#s0": review_text([3, 5, 5, 6], "Reject")}
    if n > 1:
        one_pass = GENERATOR["p2#s0/part1"]
        canned.update({"p1#s1/part1": one_pass.replace("Hashed", "Sample1"), "p2#s1/part1": one_pass.replace("Hashed", "Sample2")})
        judged.update({"p1#s1": review_text([7, 7, 7, 8], "Accept"), "p2#s1": review_text([3, 5, 5, 6], "Reject")})
    generator, judge = fake(tmp, "gen", canned, text="garbage words", fail_ids="p3#s0/part1"), _judge(tmp, "judge", judged)
    generator.name = judge.name = "vllm"  # the fingerprints name the backend the run names
    config = GeneratorRunConfig(data=str(data), backend="vllm", judge=JudgeConfig("cyclereviewer", "vllm"),
                                n=n, limit=2 if n > 1 else None, n_resamples=300)
    run_generator_evaluation(config, tmp / "run", backend=generator, judge_backend=judge, progress=False)
    return tmp / "run"


def test_generator_run_is_verified_and_tampering_is_caught(research14k, tmp_path):  # noqa: F811
    run = _generator_run(research14k, tmp_path)
    folder = submit(run, "generator", out=tmp_path / "subs", date=DATE, model_name="Fake generator")
    meta = yaml.safe_load((folder / "metadata.yaml").read_text())
    assert meta["kind"] == "generator" and meta["judge"] == {"protocol": "cyclereviewer", "backend": "vllm", "model_args": {}}
    datasets = DatasetBuilds({"research-14k": [research14k]})
    [outcome] = validate_submissions([folder], datasets, [])
    assert outcome.verified, messages(outcome)
    assert outcome.kind == "generator" and outcome.label == "verified"
    claimed = json.loads((folder / "results.json").read_text())["metrics"]
    assert outcome.summary["figures_compared"] == len(claimed) >= 10

    [missing] = validate_submissions([folder], DatasetBuilds({}), [])
    assert codes(missing) == {"unknown_dataset"}
    edit_results(folder, lambda r: r["metrics"]["accept_rate_by_rating"].update(value=0.9))
    [tampered] = validate_submissions([folder], datasets, [])
    assert "figure accept_rate_by_rating.value: claimed 0.9, re-scored 0.5" in messages(tampered)

    def high_and_dropped(rows):
        judged = next(r for r in rows if r.get("outcome") == "judged")
        judged["judge"]["parsed"]["rating"] = 11.0
        return [r for r in rows if r["paper_id"] != "p4"]

    edit_predictions(folder, high_and_dropped)
    [broken] = validate_submissions([folder], datasets, [])
    assert "predictions.jsonl lacks 1 generated sample(s) (first: paper 'p4' sample 0)" in messages(broken)
    edit_predictions(folder, lambda rows: rows + [dict(rows[-1], paper_id="p4", outcome="parse_failed", judge=None)])
    [out_of_range] = validate_submissions([folder], datasets, [])
    # The judge's raw output still says otherwise, so the re-parse disagrees too (by design since issue 11), and
    # the copied row's turns (p3's failed part 1) give another outcome than the parse_failed it states.
    assert codes(out_of_range) == {"out_of_range", "parse_mismatch", "outcome_mismatch"}
    assert "rating: 1 predicted score outside the scale 0-10" in messages(out_of_range)
    assert "judge.parsed.rating is 11 but its raw output re-parses to" in messages(out_of_range)


def test_generator_table_names_the_judge_beside_published_rows(research14k, tmp_path):  # noqa: F811
    submit(_generator_run(research14k, tmp_path), "generator", out=tmp_path / "subs", date=DATE, model_name="Fake generator")
    report = build_site(tmp_path / "site", tmp_path / "subs", DatasetBuilds({"research-14k": [research14k]}))
    [table] = [t for t in report.tables if t.kind == "generator" and t.fingerprint]
    [published] = [t for t in report.tables if t.kind == "generator" and t.published]  # never sorted together
    assert [r.label for r in table.rows] == ["verified"] and [r.label for r in published.rows] == ["reported"] * 9
    measured = table.rows[0]
    assert measured.name == "Fake generator" and measured.how == "judge: cyclereviewer via vllm" and measured.n == 4
    assert measured.cells["accept_rate_by_decision"].value == 0.5 and measured.cells["share_failed_to_generate"].value == 0.25
    keys = [c.key for c in table.columns]
    assert keys[:5] == ["average_score", "avg_min_rating", "avg_max_rating", "accept_rate_by_decision", "accept_rate_by_rating"]
    assert "accept_rate_unstated" in [c.key for c in published.columns] and len(table.charts) == 2
    index = (tmp_path / "site" / "index.html").read_text()
    assert "judge: cyclereviewer via vllm" in index and "judge: CycleReviewer (as published)" in index
    page = (tmp_path / "site" / "submissions" / f"{DATE}_generator" / "index.html").read_text()
    assert "simulated (written by the generator), not run" in page


def test_generator_best_of_n_pick_and_figures_are_checked(research14k, tmp_path):  # noqa: F811
    folder = submit(_generator_run(research14k, tmp_path, n=2), "best-of-2", out=tmp_path / "subs", date=DATE)
    datasets = DatasetBuilds({"research-14k": [research14k]})
    [outcome] = validate_submissions([folder], datasets, [])
    assert outcome.verified, messages(outcome)
    edit_results(folder, lambda r: r["best_of_n_metrics"]["average_score"].update(value=1.0))
    [tampered] = validate_submissions([folder], datasets, [])
    assert "best-of-N figure average_score.value: claimed 1" in messages(tampered)

    def flip(rows):
        for row in rows:
            if row["set"] == "generated" and row["paper_id"] == "p1":
                row["best_of_n"] = not row["best_of_n"]

    edit_predictions(folder, flip)
    [flipped] = validate_submissions([folder], datasets, [])
    assert "best_of_n flags differ from the best-of-N rule for 1 prompt(s) (first: 'p1')" in messages(flipped)


def test_deepreview_submission_is_matched_by_the_split_file_fingerprint(tmp_path):
    """DeepReview-13K runs name the hash of the split's file, not of a Hub-layout build."""
    from tests.sources.test_westlake import _deepreview_rows, _write_csv

    data = tmp_path / "deepreview"
    data.mkdir()
    _write_csv(data / "train.csv", _deepreview_rows("t", 8, modes=3))
    _write_csv(data / "test_2024.csv", _deepreview_rows("a", 6))
    _write_csv(data / "test_2025.csv", _deepreview_rows("b", 5))
    run = tmp_path / "run"
    run_review_evaluation(ReviewRunConfig(task="deepreview-13k", data=str(data), protocol="deepreviewer",
                                          protocol_options={"mode": "fast"}, backend="baseline-constant",
                                          n_resamples=100), run, progress=False)
    folder = submit(run, "deepreview", out=tmp_path / "subs", date=DATE)
    [outcome] = validate_submissions([folder], DatasetBuilds({"deepreview-13k": [data]}), [])
    assert outcome.verified, messages(outcome)
    _write_csv(data / "test_2024.csv", _deepreview_rows("a", 7))
    [outcome] = validate_submissions([folder], DatasetBuilds({"deepreview-13k": [data]}), [])
    assert codes(outcome) == {"dataset_differs"}


# ---------------------------------------------------------------------------------------------- imported runs


def test_imported_recorded_outputs_are_labelled(lb_sample, tmp_path):
    from cyclebench.recorded import score_recorded_outputs

    run = tmp_path / "imported-run"
    score_recorded_outputs(task="review-5k", data=str(lb_sample.data), protocol="cyclereviewer",
                           predictions=lb_sample.runs["tfidf"] / "predictions.jsonl", fmt="jsonl", output=run,
                           model_name="recorded tfidf", n_resamples=300)
    folder = submit(run, "imported", out=tmp_path / "subs", date=DATE)
    assert yaml.safe_load((folder / "metadata.yaml").read_text())["label"] == "imported"
    outcome = validate_one(folder, lb_sample)
    assert outcome.verified, messages(outcome)
    assert outcome.label == "imported (not re-run)"


# ---------------------------------------------------------------------------------------------- site


def test_reported_rows_name_their_source_and_use_known_columns():
    rows = load_reported()
    assert {(r.kind, r.task) for r in rows} >= {("review", "review-5k"), ("review", "deepreview-13k"),
                                                ("review", "aiscientist-iclr2022"), ("generator", "research-14k")}
    cyclereviewer = next(r for r in rows if r.model == "CycleReviewer-123B")
    assert cyclereviewer.figures == {"proxy_mse": 1.43, "proxy_mae": 0.92, "rating_mse": 1.25, "rating_mae": 0.87,
                                     "decision_accuracy": 0.7424, "decision_macro_f1": 0.7399}
    assert "CycleResearcher (ICLR 2025)" in cyclereviewer.source
    with pytest.raises(ValueError, match="source 'nowhere' is not named"):
        load_reported(json.dumps({"sources": {}, "rows": [{"kind": "review", "task": "t", "split": "s", "model": "m",
                                                            "source": "nowhere", "figures": {"rating_mae": 1}}]}))
    with pytest.raises(ValueError, match="figures must use the review columns"):
        load_reported(json.dumps({"sources": {"s": "x"}, "rows": [{"kind": "review", "task": "t", "split": "s",
                                                                    "model": "m", "source": "s", "figures": {"f1": 1}}]}))


@pytest.fixture()
def site_submissions(lb_sample, tmp_path) -> Path:
    subs = tmp_path / "subs"
    submit_run(lb_sample, "constant", subs)
    submit_run(lb_sample, "tfidf", subs, model_name=INJECTION, authors=[INJECTION],
               links=["https://example.org/?a=1&b=2"])
    bad = submit_run(lb_sample, "tfidf-alpha", subs)
    edit_results(bad, lambda r: r["metrics"]["rating_mae"].update(value=0.01))
    return subs


def test_site_has_tables_labels_pages_plots_and_reconciles(lb_sample, site_submissions, tmp_path):
    report = build_site(tmp_path / "site", site_submissions, datasets_for(lb_sample))
    assert report.counts == {"submissions": 3, "verified": 2, "excluded": 1}
    site = tmp_path / "site"
    index = (site / "index.html").read_text()
    [table] = [t for t in report.tables if t.task == "review-5k" and t.fingerprint]
    assert [r.label for r in table.rows] == ["baseline", "baseline", "human"]  # published rows: their own table
    [published] = [t for t in report.tables if t.task == "review-5k" and t.published]
    assert [r.label for r in published.rows] == ["reported"] * 4 and published.title == "review-5k · published numbers"
    human = next(r for r in table.rows if r.label == "human")
    assert human.cells["proxy_mae"].value is not None and "rating_mae" not in human.cells
    assert {c.key for c in table.columns} >= {"rating_mae", "proxy_mse", "decision_accuracy", "decision_macro_f1",
                                             "spearman", "pairwise_accuracy"}
    for text in ("Human reviewers (n-1 proxy)", "CycleReviewer-123B", "Excluded submissions",
                 "figure rating_mae.value: claimed 0.01", "published numbers only", "Judge", "CycleReviewer (as published)"):
        assert text in index, text
    assert INJECTION not in index and "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in index
    pages = sorted(p.parent.name for p in (site / "submissions").glob("*/index.html"))
    assert pages == [f"{DATE}_constant", f"{DATE}_tfidf"]
    page = (site / "submissions" / f"{DATE}_tfidf" / "index.html").read_text()
    assert INJECTION not in page and "https://example.org/?a=1&amp;b=2" in page
    assert (site / "submissions" / f"{DATE}_tfidf" / "pred_vs_human.svg").read_text().startswith("<svg")
    charts = sorted(p.name for p in (site / "plots").glob("*.svg"))
    assert len(charts) == 3 and all(name.startswith(table.slug) for name in charts)
    assert "<script>" not in (site / "plots" / charts[0]).read_text()
    verification = json.loads((site / "verification.json").read_text())
    assert verification["submissions"] == verification["verified"] + verification["excluded"] == 3
    assert [s["status"] for s in verification["submissions_checked"]].count("verified") == 2
    assert (site / "static" / "sortable.js").is_file() and "http" not in (site / "static" / "sortable.js").read_text()
    assert "Content-Security-Policy" in index and "https://" not in index.split("<body>")[0]


def test_site_build_is_deterministic_and_atomic(lb_sample, site_submissions, tmp_path):
    build_site(tmp_path / "one", site_submissions, datasets_for(lb_sample))
    build_site(tmp_path / "two", site_submissions, datasets_for(lb_sample))
    files_one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert files_one == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*") if p.is_file())
    assert all((tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes() for f in files_one)
    with pytest.raises(FileExistsError):
        build_site(tmp_path / "one", site_submissions, datasets_for(lb_sample))
    assert not list(tmp_path.glob(".*partial"))


def test_tables_without_submissions_show_published_rows_only():
    tables = assemble_tables([], load_reported())
    assert {t.task for t in tables} == {"review-5k", "deepreview-13k", "aiscientist-iclr2022", "research-14k"}
    assert all(t.fingerprint is None and {r.label for r in t.rows} == {"reported"} for t in tables)
    generator = next(t for t in tables if t.kind == "generator")
    assert [c.key for c in generator.columns] == ["average_score", "avg_min_rating", "avg_max_rating", "accept_rate_unstated"]


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_submit_validate_build(lb_sample, tmp_path, capsys):
    subs = tmp_path / "subs"
    assert cli("submit", str(lb_sample.runs["constant"]), "--name", "const", "--authors", "A", "B",
               "--link", "https://example.org", "--date", DATE, "--out", str(subs)) == 0
    folder = subs / f"{DATE}_const"
    assert yaml.safe_load((folder / "metadata.yaml").read_text())["authors"] == ["A", "B"]
    assert cli("submit", str(lb_sample.runs["constant"]), "--name", "const", "--date", DATE, "--out", str(subs)) == 1
    report = tmp_path / "report.json"
    assert cli("validate", str(folder), "--submissions-dir", str(subs), "--data", f"review-5k={lb_sample.data}",
               "--report", str(report)) == 0
    assert json.loads(report.read_text())["verified"] == 1
    assert f"VERIFIED {folder.name}" in capsys.readouterr().out
    assert cli("validate", "--submissions-dir", str(subs)) == 1  # no dataset build: rejected
    assert "[unknown_dataset]" in capsys.readouterr().out
    with pytest.raises(ValueError, match="--data takes TASK=PATH"):
        cli("validate", str(folder), "--data", "review-5k")
    assert cli("build", "--out", str(tmp_path / "site"), "--submissions-dir", str(subs),
               "--data", f"review-5k={lb_sample.data}") == 0
    assert json.loads(capsys.readouterr().out)["verified"] == 1
    assert cli("build", "--out", str(tmp_path / "site"), "--submissions-dir", str(subs), "--strict") == 2
    assert cli("build", "--out", str(tmp_path / "site"), "--submissions-dir", str(subs), "--strict", "--overwrite") == 1
