"""Adversarial values (issue 11): every bad value is a reasoned reject of its record or one clear line.

Huge integers, NaN, infinity and negative zero in scores and notes; broken snapshot files; wrong YAML configs;
bad numbers on the command line; unknown protocol options; missing models; an unreachable Hub or backend; a
build that keeps nothing; duplicate ids in the AI Scientist table. Never a traceback, a hang or a silent drop.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cyclebench.builders import aiscientist_iclr2022, review5k
from cyclebench.builders.base import EmptyBuildError
from cyclebench.builders.review5k import Review5KConfig
from cyclebench.cli import main
from cyclebench.cli.build import sample_dir
from cyclebench.records import RecordError
from cyclebench.sources.openreview import iter_raw_notes, parse_submission
from cyclebench.sources.scores import parse_score

SCALES = ("1/3/5/6/8/10", "0/2/4/6/8/10", "1-4", "0-10?")
SAMPLE = sample_dir() / "openreview.jsonl"


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and stderr of one CLI call (argparse errors exit through SystemExit)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


# ---------------------------------------------------------------------------------------------
# Scores: exact reading, reasoned rejects


score_texts = st.one_of(
    st.builds(lambda sign, digits, tail: f"{sign}{digits}{tail}", st.sampled_from(["", "-", "+", "**"]),
              st.one_of(st.integers(0, 12).map(str), st.text("0123456789", min_size=1, max_size=6000)),
              st.sampled_from(["", ": great", ".0", ".5", ".0000001", " good", "e5", "**"])),
    st.sampled_from(["nan", "NaN: x", "inf", "-inf: y", "1e400", "-0", "-0.0: strong reject", "\u0666", "1_0"]),
    st.text(max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(score_texts, st.sampled_from(SCALES))
def test_score_text_is_a_value_on_the_scale_or_a_reason(raw, scale):
    try:
        score = parse_score(raw, scale, "rating")
    except RecordError as exc:
        assert exc.reason.endswith("_rating") and len(exc.detail) < 200
    else:
        assert isinstance(score.value, int) and abs(score.value) <= 10
        assert not raw.lstrip("* ").startswith("-0")


@pytest.mark.parametrize(("raw", "scale", "reason"), [
    ("99999999999999999999999: great", "1/3/5/6/8/10", "out_of_scale_rating"),
    ("9" * 5000, "1/3/5/6/8/10", "out_of_scale_rating"),  # float("9"*5000) is inf: OverflowError before
    ("1" * 400 + ".5", "1-4", "non_integer_rating"),
    ("6.0000000000000000001", "1/3/5/6/8/10", "non_integer_rating"),  # a float round trip read it as 6
    (float("nan"), "0-10?", "non_integer_rating"),
    (float("inf"), "0-10?", "non_integer_rating"),
    (-0.0, "0/2/4/6/8/10", "negative_zero_rating"),  # ICLR 2026's scale has 0: -0.0 was kept as 0
    ("-0", "0/2/4/6/8/10", "negative_zero_rating"),
    ("-0.0: strong reject", "0/2/4/6/8/10", "negative_zero_rating"),
    ("\u0666", "1/3/5/6/8/10", "unparseable_rating"),  # an Arabic-Indic six is not a form value
])
def test_probe_scores_are_reasoned_rejects(raw, scale, reason):
    with pytest.raises(RecordError) as info:
        parse_score(raw, scale, "rating")
    assert info.value.reason == reason


def test_huge_python_int_is_out_of_scale_without_str():
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        huge = int("9" * 5000)
    finally:
        sys.set_int_max_str_digits(old)
    with pytest.raises(RecordError) as info:  # str(huge) raises ValueError under the default digit limit
        parse_score(huge, "1-10", "rating")
    assert info.value.reason == "out_of_scale_rating" and "bits" in info.value.detail


# ---------------------------------------------------------------------------------------------
# Notes with adversarial numbers, through the builder


def _first_note() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])


def _note_line(rating_json: str, **top: str) -> str:
    """The sample's first paper as one JSONL line, its first review's rating written as raw JSON text."""
    note = _first_note()
    note["details"]["directReplies"][0]["content"]["rating"] = {"value": "@@RATING@@"}
    for key in top:
        note[key] = f"@@{key}@@"
    line = json.dumps(note).replace('"@@RATING@@"', rating_json)
    for key, value in top.items():
        line = line.replace(f'"@@{key}@@"', value)
    return line


def _build_lines(tmp: Path, lines: list[str]) -> dict:
    raw = tmp / "raw.jsonl"
    raw.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        report = review5k.build(raw, None, tmp / "out", Review5KConfig(require_text=False, min_reviews=1),
                                progress=False, overwrite=True)
    except EmptyBuildError as exc:
        return exc.counts
    return report.manifest["counts"]


def _reconciles(counts: dict, papers_in: int) -> None:
    assert counts["papers_in"] == papers_in
    assert counts["papers_kept"] + sum(counts["papers_rejected"].values()) == papers_in
    assert (counts["reviews_kept"] + counts["reviews_dropped_with_paper"]
            + sum(counts["reviews_rejected"].values())) == counts["reviews_in"]


rating_json = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.text("0123456789", min_size=19, max_size=5000),          # past u64: orjson reads a float, or refuses
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-0.0", "-0", "1e-400", "6.000000000000001"]),
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
    score_texts.map(json.dumps),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rating_json)
@example(json.dumps("9" * 5000 + ": great"))  # the probe's crash: float() of it is inf, int(inf) raised
@example("-0.0")
def test_adversarial_rating_numbers_never_crash_the_build(tmp_path, rating):
    counts = _build_lines(tmp_path, [_note_line(rating)])
    _reconciles(counts, 1)
    rejected = {**counts["papers_rejected"], **counts["reviews_rejected"]}
    assert counts["papers_kept"] == 1 or rejected


@pytest.mark.parametrize(("rating", "where", "reason"), [
    ("99999999999999999999999", "reviews_rejected", "out_of_scale_rating"),
    (json.dumps("9" * 5000 + ": great"), "reviews_rejected", "out_of_scale_rating"),
    (json.dumps("-0"), "reviews_rejected", "negative_zero_rating"),
    ("1" + "0" * 5000, "papers_rejected", "malformed_json"),
    ("NaN", "papers_rejected", "malformed_json"),
    ("-0.0", "reviews_rejected", "negative_zero_rating"),
])
def test_probe_ratings_in_notes(tmp_path, rating, where, reason):
    counts = _build_lines(tmp_path, [_note_line(rating)])
    assert counts[where] == {reason: 1}
    _reconciles(counts, 1)


def test_int64_overflow_in_note_fields_is_a_reject_not_a_writer_crash(tmp_path):
    # orjson reads integers up to 2**64-1 as int; a dataset column is int64. Before: pyarrow OverflowError.
    paper = _note_line('{"value": 5}', number=str(2**64 - 1))
    note = _first_note()
    note["id"] = "second"
    note["details"]["directReplies"][0]["cdate"] = 2**63
    counts = _build_lines(tmp_path, [paper, json.dumps(note)])
    assert counts["papers_rejected"] == {"number_out_of_range": 1}
    assert counts["reviews_rejected"] == {"number_out_of_range": 1}
    assert counts["papers_kept"] == 1
    _reconciles(counts, 2)


# ---------------------------------------------------------------------------------------------
# Snapshot files that cannot be snapshots


def _bad_snapshot(tmp: Path, kind: str) -> Path:
    data = SAMPLE.read_bytes()
    if kind == "truncated.jsonl.gz":
        (tmp / kind).write_bytes(gzip.compress(data)[:4000])
    elif kind == "fake.jsonl.gz":
        (tmp / kind).write_bytes(data)
    elif kind == "unnamed_gzip.jsonl":
        (tmp / kind).write_bytes(gzip.compress(data))
    elif kind == "jsonl_inside.json":
        (tmp / kind).write_bytes(data)
    elif kind == "array_inside.jsonl":
        (tmp / kind).write_text(json.dumps([json.loads(x) for x in data.splitlines()], indent=1))
    elif kind == "one_line_array.jsonl":
        (tmp / kind).write_text(json.dumps([json.loads(x) for x in data.splitlines()]))
    elif kind == "utf16.jsonl":
        (tmp / kind).write_bytes(data.decode("utf-8").encode("utf-16"))
    elif kind == "truncated.json":
        (tmp / kind).write_text(json.dumps([json.loads(x) for x in data.splitlines()])[:5000])
    elif kind == "folder.jsonl":
        (tmp / kind).mkdir()
    return tmp / kind


@pytest.mark.parametrize(("kind", "says"), [
    ("truncated.jsonl.gz", "truncated or corrupt"),
    ("fake.jsonl.gz", "not gzip-compressed"),
    ("unnamed_gzip.jsonl", "is gzip-compressed"),
    ("jsonl_inside.json", "name it .jsonl"),
    ("array_inside.jsonl", "name it .json"),
    ("one_line_array.jsonl", "name it .json"),
    ("utf16.jsonl", "UTF-16"),
    ("truncated.json", "not valid JSON"),
    ("folder.jsonl", "is a folder"),
])
def test_unreadable_snapshot_is_one_line_and_writes_nothing(tmp_path, capsys, kind, says):
    snapshot = _bad_snapshot(tmp_path, kind)
    code, err = cli(["build", "review-5k", "--openreview", snapshot, "--allow-missing-text",
                     "--out", tmp_path / "out"], capsys)
    assert code == 2 and says in one_line(err) and kind in err
    assert not (tmp_path / "out").exists()


def test_bom_does_not_cost_the_first_paper(tmp_path):
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + SAMPLE.read_bytes())
    plain, with_bom = list(iter_raw_notes(SAMPLE)), list(iter_raw_notes(bom))
    assert [r.record_id for r in with_bom] == [r.record_id for r in plain]
    assert with_bom[0].error is None and parse_submission(with_bom[0].note).submission.id == plain[0].record_id


# ---------------------------------------------------------------------------------------------
# YAML configs checked against the config dataclass


@pytest.mark.parametrize(("yaml_text", "says"), [
    ("min_reviews: [1\n", "invalid YAML at line"),
    ("min_reviews: three\n", "min_reviews must be an integer"),
    ("min_reviews: 2.5\n", "min_reviews must be an integer"),
    ("require_text: 'no'\n", "require_text must be true or false"),
    ("venues: ICLR.cc/2024/Conference\n", "venues must be a list"),  # a string was matched by substring
    ("test_fraction: 1.5\n", "test_fraction must be a fraction in [0, 1)"),
    ("test_fraction: .nan\n", "test_fraction must be a finite number"),
    ("seed: -1\n", "seed must be in 0..4294967295"),
    ("max_rows_per_shard: 0\n", "max_rows_per_shard must be >= 1"),
    ("text_prefer: [latex, docx]\n", "'docx' is not one of"),
    ("withdrawn: maybe\n", "'maybe' is not one of"),
    ("not_a_field: 1\n", "unknown config keys ['not_a_field']"),
    ("- min_reviews\n", "expected a mapping"),
    ("seed: 99999999999999999999999999\n", "seed must be in 0..4294967295"),
    ("seed: " + "9" * 5000 + "\n", "a value cannot be read"),
])
def test_yaml_config_errors_are_one_line(tmp_path, capsys, yaml_text, says):
    config = tmp_path / "build.yaml"
    config.write_text(yaml_text)
    code, err = cli(["build", "review-5k", "--sample", "--out", tmp_path / "o", "--config", config], capsys)
    assert code == 2 and says in one_line(err)
    assert not (tmp_path / "o").exists()


def test_yaml_config_that_is_a_folder_or_missing(tmp_path, capsys):
    code, err = cli(["build", "review-5k", "--sample", "--out", tmp_path / "o", "--config", tmp_path], capsys)
    assert code == 2 and "is a folder" in one_line(err)
    code, err = cli(["build", "review-5k", "--sample", "--out", tmp_path / "o", "--config", tmp_path / "x.yaml"],
                    capsys)
    assert code == 2 and "not found" in one_line(err)


# ---------------------------------------------------------------------------------------------
# Command-line numbers, checked at parse time


@pytest.mark.parametrize("argv", [
    ["evaluate", "model", "--limit", "-1"],
    ["evaluate", "model", "--limit", "0"],
    ["evaluate", "model", "--bootstrap", "0"],
    ["evaluate", "model", "--bootstrap", "1e4"],
    ["evaluate", "model", "--seed", "-3"],
    ["evaluate", "model", "--batch-size", "0"],
    ["evaluate", "predictions", "--bootstrap", "-5"],
    ["evaluate", "papers", "--limit", "-1"],
    ["evaluate", "generator", "--n", "0"],
    ["evaluate", "generator", "--threshold", "nan"],
    ["build", "review-5k", "--test-fraction", "1.5"],
    ["build", "review-5k", "--test-fraction", "-0.1"],
    ["build", "review-5k", "--test-fraction", "nan"],
    ["build", "review-5k", "--min-reviews", "1e3"],
    ["build", "review-5k", "--max-rows-per-shard", "0"],
    ["build", "deepreview-13k", "--workers", "0"],
    ["build", "deepreview-13k", "--years", "20245"],
    ["build", "deepreview-13k", "--score-decimals", "7"],
    ["build", "aiscientist-iclr2022", "--test-fraction", "inf"],
    ["build", "research-14k", "--workers", "-2"],
    ["train", "recipe.yaml", "--num-processes", "0"],
    ["train", "recipe.yaml", "--main-process-port", "70000"],
])
def test_bad_numbers_exit_2_at_parse_time(capsys, argv):
    flag = next(a for a in argv if a.startswith("--"))
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert (f"argument {flag}:" in last or f"argument {flag}/" in last) and "Traceback" not in err  # an alias: --a/--b:


def test_limit_is_checked_by_the_task_too():
    from cyclebench.tasks import get_task

    for limit in (-1, 0, True, 2.5):
        with pytest.raises(ValueError, match="limit must be a positive integer"):
            get_task("review-5k").load("unused", limit=limit)


# ---------------------------------------------------------------------------------------------
# Evaluation: protocol options, models, an unreachable backend


def _evaluate(data: Path, out: Path, *extra: str) -> list[str]:
    return ["evaluate", "model", "--task", "review-5k", "--data", str(data), "--protocol", "cyclereviewer",
            "--output", str(out), "--bootstrap", "50", *extra]


def test_unknown_protocol_option_names_it_and_the_known_ones(review5k_sample_build, tmp_path, capsys):
    code, err = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--backend", "fake", "--protocol-args", "bogus=1"),
                    capsys)
    line = one_line(err)
    assert code == 2 and "bogus" in line and "known: reviewers, sampling" in line


@pytest.mark.parametrize("pretrained", ["missing-model-folder", "a-file"])
def test_hf_pretrained_path_that_is_not_a_model_folder(review5k_sample_build, tmp_path, capsys, pretrained):
    (tmp_path / "a-file").write_text("not a model")
    code, err = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--backend", "hf", "--model-args",
                              f"pretrained={tmp_path / pretrained}"), capsys)
    assert code == 2 and "hf backend" in one_line(err) and pretrained in err


def test_task_option_of_the_wrong_type(review5k_sample_build, tmp_path, capsys):
    code, err = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--backend", "fake", "--task-args",
                              "abstract_fallback=maybe"), capsys)
    assert code == 2 and "must be true or false" in one_line(err)


def test_unreachable_backend_fails_with_its_first_error(review5k_sample_build, tmp_path, capsys):
    empty = tmp_path / "canned.jsonl"
    empty.write_text("")  # no canned answer: the fake backend answers every request with an error
    code, err = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--backend", "fake", "--model-args",
                              f"responses={empty}"), capsys)
    line = one_line(err)
    n = json.loads((tmp_path / "run" / "results.json").read_text())["task"]["n_examples"]
    assert code == 1 and f"{n} of {n} requests failed" in line and "no canned response" in line


def test_unreachable_openai_server_fails(review5k_sample_build, tmp_path, capsys):
    code, err = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--limit", "2", "--backend", "openai", "--model-args",
                              "base_url=http://127.0.0.1:9/v1,model=m,max_retries=0,timeout=5"), capsys)
    assert code == 1 and "2 of 2 requests failed" in one_line(err) and "connection_error" in err


def test_judging_papers_with_an_unreachable_judge_fails(tmp_path, capsys):
    empty = tmp_path / "canned.jsonl"
    empty.write_text("")
    code, err = cli(["evaluate", "papers", "--papers", f"sample={sample_dir() / 'papers'}", "--limit", "2",
                     "--judge-protocol", "cyclereviewer", "--judge-backend", "fake", "--judge-model-args",
                     f"responses={empty}", "--bootstrap", "50", "--output", tmp_path / "run"], capsys)
    line = one_line(err)
    assert code == 1 and "2 of 2 failed" in line and "no canned response" in line


def test_a_run_with_some_answers_still_succeeds(review5k_sample_build, tmp_path, capsys):
    import pyarrow.parquet as pq

    ids = pq.read_table(next((review5k_sample_build / "data").glob("test-*.parquet"))).column("id").to_pylist()
    code, _ = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--backend", "fake", "--model-args",
                            f"fail_ids={ids[0]}"), capsys)  # one failed request is counted, not fatal
    assert code == 0


# ---------------------------------------------------------------------------------------------
# Builds that keep nothing, and the AI Scientist table


def test_build_that_keeps_no_paper_fails_and_leaves_out_alone(tmp_path, capsys):
    out = tmp_path / "out"
    code, err = cli(["build", "review-5k", "--sample", "--venues", "Nope/2024", "--out", out], capsys)
    line = one_line(err)
    assert code == 2 and "no paper kept: 40 rejected (venue_not_selected 40)" in line and "--venues" in line
    assert not out.exists()
    assert cli(["build", "review-5k", "--sample", "--out", out], capsys)[0] == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, err = cli(["build", "review-5k", "--sample", "--venues", "Nope/2024", "--out", out, "--overwrite"], capsys)
    assert code == 2 and "no paper kept" in one_line(err)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # kept whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no scratch folder left beside it


def test_deepreview_build_that_keeps_no_paper_fails(tmp_path, capsys):
    code, err = cli(["build", "deepreview-13k", "--openreview", SAMPLE, "--allow-missing-text", "--workers", "1",
                     "--venues", "Nope/2024", "--out", tmp_path / "out"], capsys)
    line = one_line(err)
    assert code == 2 and "no paper kept" in line and "venue_not_selected" in line
    assert not (tmp_path / "out").exists()


def _ais_inputs(tmp: Path, rows: list[str]) -> tuple[Path, Path]:
    papers = tmp / "papers"
    papers.mkdir()
    body = " ".join(["The method improves the baseline on every benchmark we tried."] * 40)
    for paper_id in ("p1", "p2", "p3"):
        (papers / f"{paper_id}.txt").write_text(f"# Paper {paper_id}\n\n## Abstract\n\n{body}\n\n## Intro\n\n{body}\n")
    table = tmp / "ratings.tsv"
    table.write_text("paper_id\t0\t1\t2\tdecision\n" + "".join(r + "\n" for r in rows))
    return table, papers


def test_aiscientist_duplicate_ids_are_reasoned_rejects(tmp_path):
    table, papers = _ais_inputs(tmp_path, ["p1\t6.0\t8.0\t\tAccept", "p2\t3.0\t5.0\t\tReject",
                                           "p1\t1.0\t1.0\t\tReject", "p1\t6.0\t8.0\t\tAccept"])
    manifest = aiscientist_iclr2022.build(table, papers, tmp_path / "out")
    counts = manifest["counts"]
    assert counts["papers_rejected"] == {"duplicate_id": 2} and counts["papers_kept"] == 2
    assert counts["papers_in"] == 4
    rejects = [json.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert {r["detail"] for r in rejects} == {"line 4; kept line 2", "line 5; kept line 2"}
    import pyarrow.parquet as pq

    rows = [r for f in sorted((tmp_path / "out" / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    assert {r["paper_id"]: r["ratings"] for r in rows}["p1"] == [6.0, 8.0]  # the first row is the one kept


@pytest.mark.parametrize("cell", ["1_0", "-0", "nan", "1e1", "inf", "9" * 400, "\u0666"])
def test_aiscientist_odd_rating_cells(tmp_path, cell):
    table, papers = _ais_inputs(tmp_path, [f"p1\t{cell}\t6.0\t\tAccept", "p2\t3.0\t5.0\t\tReject"])
    counts = aiscientist_iclr2022.build(table, papers, tmp_path / "out")["counts"]
    assert counts["papers_rejected"] == {"bad_rating": 1} and counts["papers_kept"] == 1


def test_aiscientist_build_that_keeps_no_paper_fails(tmp_path, capsys):
    table, papers = _ais_inputs(tmp_path, ["p1\tnan\t\t\tAccept", "p2\t11\t\t\tReject"])
    code, err = cli(["build", "aiscientist-iclr2022", "--ratings", table, "--papers", papers,
                     "--out", tmp_path / "out"], capsys)
    assert code == 2 and "no paper kept: 2 rejected (bad_rating 2)" in one_line(err)
    assert not (tmp_path / "out").exists()
    code, err = cli(["build", "aiscientist-iclr2022", "--ratings", papers, "--papers", papers,
                     "--out", tmp_path / "out"], capsys)
    assert code == 2 and "is a folder" in one_line(err)


# ---------------------------------------------------------------------------------------------
# Publish and fetch without a network


def test_publish_without_network_is_one_line(tmp_path, capsys):
    folder = tmp_path / "ds"
    (folder / "data").mkdir(parents=True)
    (folder / "README.md").write_text("---\nconfigs: []\n---\n")
    (folder / "data" / "train-00000-of-00001.parquet").write_bytes(b"PAR1")
    # publish checks every shard against the manifest before the network (issue 11, builds)
    import hashlib

    digest = hashlib.sha256(b"PAR1").hexdigest()
    (folder / "manifest.json").write_text(json.dumps({"shards": {"data/train-00000-of-00001.parquet": {"sha256": digest}}}))
    code, err = cli(["publish", folder, "--repo", "org/name", "--tag", "v1.0.0"], capsys)  # HF_HUB_OFFLINE=1
    line = one_line(err)
    assert code == 2 and "could not reach the Hugging Face Hub" in line and "nothing was published" in line


def test_fetch_refuses_a_folder_or_an_existing_snapshot(tmp_path, capsys):
    code, err = cli(["fetch", "openreview", "--venue", "ICLR.cc/2024/Conference", "--out", tmp_path], capsys)
    assert code == 2 and "is a folder" in one_line(err)
    existing = tmp_path / "raw.jsonl"
    existing.write_text("{}\n")
    code, err = cli(["fetch", "openreview", "--venue", "ICLR.cc/2024/Conference", "--out", existing], capsys)
    assert code == 2 and "--overwrite" in one_line(err) and existing.read_text() == "{}\n"


# ---------------------------------------------------------------------------------------------
# Usage errors found below argparse: one line, exit 2 (they used to leave through SystemExit, exit 1)


@pytest.mark.parametrize(("argv", "says"), [
    (["evaluate", "papers", "--papers", "x={tmp}", "--judge-protocol", "cyclereviewer", "--judge-backend",
      "baseline-constant", "--prefer", "bogus", "--output", "{tmp}/run"], "--prefer takes"),
    (["evaluate", "papers", "--papers", "x={tmp}", "--judge-protocol", "cyclereviewer", "--judge-backend",
      "baseline-constant", "--set-limit", "x=-1", "--output", "{tmp}/run"], "--set-limit takes"),
    (["evaluate", "papers", "--papers", "x={tmp}", "--judge-protocol", "cyclereviewer", "--judge-backend",
      "baseline-constant", "--second-judge-protocol", "cyclereviewer", "--output", "{tmp}/run"], "go together"),
    (["check-overlap", "--test", "{tmp}:nosuch", "--train", "{tmp}", "--report", "{tmp}/r.json"],
     "check-overlap: error:"),
    (["leaderboard", "validate", "--data", "review-5k"], "TASK=PATH"),
])
def test_usage_errors_below_argparse_are_one_line_exit_2(argv, says, tmp_path, capsys):
    code, err = cli([a.format(tmp=tmp_path) for a in argv], capsys)
    assert code == 2, err
    assert says in one_line(err)


@pytest.mark.parametrize("flag", [["--num-perm", "100000000"], ["--shingle-words", "100000"]])
def test_check_overlap_refuses_unaffordable_minhash_settings(flag, tmp_path, capsys):
    code, err = cli(["check-overlap", "--test", tmp_path, "--train", tmp_path, "--report", tmp_path / "r.json",
                     *flag], capsys)
    assert code == 2
    assert "invalid OverlapConfig" in one_line(err)
