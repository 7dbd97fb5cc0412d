"""Adversarial outputs (issue 11): a careless or hostile ``--out``/``--output`` never deletes an input or a
folder cyclebench did not write, two writers into one target never both "win", a killed writer's scratch
is cleaned, modes follow the umask, an evaluation folder is never silently reused for another run, and a
read-only or full disk is one clear line with nothing half-written left behind."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyclebench.builders import review5k
from cyclebench.cli import main
from cyclebench.cli.build import sample_dir
from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation
from cyclebench.fileio import atomic_write_text, partial_name
from cyclebench.hub.writer import HubFolderWriter
from cyclebench.outputs import (
    MARKER_NAME,
    OutputExistsError,
    OutputMarker,
    OutputRefusedError,
    OutputWriteError,
    check_not_inputs,
    claim_run_folder,
)

FAST = ["--bootstrap", "50"]


def tree(path: Path) -> dict[str, str]:
    """Every file under ``path`` (or the file itself) with its sha256, and every folder: what must survive."""
    path = Path(path)
    if path.is_file():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()}
    out = {}
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).as_posix()
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


def cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def raw(tmp_path) -> Path:
    """A private copy of the embedded sample: snapshot + papers folder, as a user's inputs."""
    folder = tmp_path / "raw"
    shutil.copytree(sample_dir(), folder)
    return folder


def build_args(raw: Path, out: Path, *extra: str) -> list[str]:
    return ["build", "review-5k", "--openreview", str(raw / "openreview.jsonl"), "--papers", str(raw / "papers"),
            "--out", str(out), *extra]


def evaluate_args(data: Path, output: Path, *extra: str) -> list[str]:
    return ["evaluate", "model", "--task", "review-5k", "--data", str(data), "--protocol", "cyclereviewer",
            "--backend", "baseline-constant", "--output", str(output), *FAST, *extra]


# ------------------------------------------------------------------------------------- inputs are sacred


@pytest.mark.parametrize("where", ["equal-papers", "contains-inputs", "inside-papers", "symlink-to-papers"])
def test_build_never_writes_over_its_inputs(raw, tmp_path, capsys, where):
    out = {"equal-papers": raw / "papers", "contains-inputs": raw, "inside-papers": raw / "papers" / "built",
           "symlink-to-papers": tmp_path / "link"}[where]
    if where == "symlink-to-papers":
        out.symlink_to(raw / "papers", target_is_directory=True)
    before = tree(raw)
    code, err = cli(capsys, *build_args(raw, out, "--overwrite"))
    assert code == 2
    assert "input" in one_line(err)
    assert tree(raw) == before
    assert not [p for p in tmp_path.rglob(".*") if p.name.endswith(".partial")]


def test_output_inside_an_input_is_refused_without_overwrite_too(raw, capsys):
    before = tree(raw)
    code, err = cli(capsys, *build_args(raw, raw / "papers" / "built"))
    assert code == 2 and "is inside the input" in one_line(err)
    assert tree(raw) == before


@pytest.mark.parametrize("where", ["equal", "contains", "inside"])
def test_leaderboard_site_never_lands_on_the_submissions(tmp_path, capsys, where):
    subs = tmp_path / "lb" / "submissions"
    (subs / "2024-01-01_mine").mkdir(parents=True)
    (subs / "2024-01-01_mine" / "metadata.yaml").write_text("name: mine\n")
    (subs / "2024-01-01_mine" / "results.json").write_text("{}\n")
    out = {"equal": subs, "contains": tmp_path / "lb", "inside": subs / "site"}[where]
    before = tree(tmp_path / "lb")
    code, err = cli(capsys, "leaderboard", "build", "--out", str(out), "--submissions-dir", str(subs), "--overwrite")
    assert code == 2 and "input" in one_line(err)
    assert tree(tmp_path / "lb") == before


def test_predictions_file_inside_the_output_is_refused(review5k_sample_build, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(evaluate_args(review5k_sample_build, run)) == 0
    capsys.readouterr()
    before = tree(run)
    code, err = cli(capsys, "evaluate", "predictions", "--task", "review-5k", "--data", str(review5k_sample_build), "--protocol",
                    "cyclereviewer", "--predictions", str(run / "predictions.jsonl"), "--output", str(run), *FAST,
                    "--overwrite")
    assert code == 2 and "contains the input" in one_line(err)
    assert tree(run) == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.lists(st.sampled_from("ab"), min_size=1, max_size=4),
       source=st.lists(st.sampled_from("ab"), min_size=1, max_size=4))
def test_overlap_rule_is_the_path_prefix_relation(tmp_path, target, source):
    """Independent oracle: refused exactly when one path is an ancestor of (or equal to) the other."""
    root = tmp_path / "overlap"
    input_path = root.joinpath(*source)
    input_path.mkdir(parents=True, exist_ok=True)
    out = root.joinpath(*target)
    overlaps = target[: len(source)] == source or source[: len(target)] == target
    if overlaps:
        with pytest.raises(OutputRefusedError):
            check_not_inputs(out, [input_path])
    else:
        check_not_inputs(out, [input_path])
    check_not_inputs(out, [str(root / "never-made"), "ORG/Hub-Id", "x" * 5000])  # not local paths: no overlap


# ---------------------------------------------------------------------- replace only what we wrote


def test_overwrite_refuses_a_folder_cyclebench_did_not_write(raw, review5k_sample_build, tmp_path, capsys):
    mine = tmp_path / "mine"
    (mine / "notes").mkdir(parents=True)
    (mine / "notes" / "thesis.tex").write_text("years of work\n")
    before = tree(mine)
    for argv in (build_args(raw, mine, "--overwrite"),
                 ["leaderboard", "build", "--out", str(mine), "--submissions-dir", str(tmp_path / "none"), "--overwrite"],
                 evaluate_args(review5k_sample_build, mine, "--overwrite")):
        code, err = cli(capsys, *argv)
        line = one_line(err)
        assert code == 2 and str(mine) in line and MARKER_NAME in line, line
        assert tree(mine) == before


def test_forged_or_foreign_marker_does_not_count(review5k_sample_build, tmp_path, capsys):
    for text in ("not json", json.dumps({"kind": "dataset"}), json.dumps({"written_by": "cyclebench", "kind": "x"}),
                 "[" * 200_000, " " * (2 << 20) + '{"written_by": "cyclebench", "kind": "evaluation"}'):
        folder = tmp_path / f"forged{len(text)}"
        folder.mkdir()
        (folder / MARKER_NAME).write_text(text)
        (folder / "keep.txt").write_text("keep")
        code, err = cli(capsys, *evaluate_args(review5k_sample_build, folder, "--overwrite"))
        assert code == 2 and MARKER_NAME in one_line(err)
        assert (folder / "keep.txt").read_text() == "keep"


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.text(max_size=200), st.dictionaries(st.text(max_size=10), st.one_of(st.text(max_size=10),
                                                                                        st.integers(), st.none()))))
def test_marker_parser_never_raises_and_accepts_only_ours(value):
    text = value if isinstance(value, str) else json.dumps(value)
    marker = OutputMarker.from_text(text)
    if marker is not None:
        body = json.loads(text)
        assert body["written_by"] == "cyclebench" and body["kind"] in ("dataset", "evaluation", "site")


def test_overwrite_refuses_another_kind_of_output(review5k_sample_build, tmp_path, capsys):
    other_build = tmp_path / "other"
    assert main(["build", "review-5k", "--sample", "--out", str(other_build)]) == 0
    run = tmp_path / "run"
    assert main(evaluate_args(review5k_sample_build, run)) == 0
    capsys.readouterr()
    before_build, before_run = tree(other_build), tree(run)
    code, err = cli(capsys, *evaluate_args(review5k_sample_build, other_build, "--overwrite"))
    assert code == 2 and "'dataset'" in one_line(err)
    code, err = cli(capsys, "build", "review-5k", "--sample", "--out", str(run), "--overwrite")
    assert code == 2 and "'evaluation'" in one_line(err)
    assert tree(other_build) == before_build and tree(run) == before_run


def test_a_file_as_output_is_refused(raw, tmp_path, capsys):
    target = tmp_path / "results.txt"
    target.write_text("mine")
    code, err = cli(capsys, *build_args(raw, target, "--overwrite"))
    assert code == 2 and "not a folder" in one_line(err)
    assert target.read_text() == "mine"


# ------------------------------------------------------------------------------------------- races


def _two_builds_at_once(raw: Path, out: Path, monkeypatch, overwrite: bool) -> list[BaseException | Path]:
    """Two builds into ``out`` whose commits are released together (both passed the early check)."""
    barrier = threading.Barrier(2, timeout=60)
    real_commit = HubFolderWriter.commit

    def commit_together(self):
        barrier.wait()
        return real_commit(self)

    monkeypatch.setattr(HubFolderWriter, "commit", commit_together)
    outcomes: list[BaseException | Path] = []

    def one() -> None:
        try:
            outcomes.append(review5k.build(raw / "openreview.jsonl", raw / "papers", out, overwrite=overwrite,
                                           progress=False).out)
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcomes.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return outcomes


def test_concurrent_builds_into_one_output_exactly_one_wins(raw, tmp_path, monkeypatch):
    out = tmp_path / "out"
    outcomes = _two_builds_at_once(raw, out, monkeypatch, overwrite=False)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(outcomes) == 2 and len(errors) == 1, outcomes
    assert isinstance(errors[0], FileExistsError) and "while this ran" in str(errors[0])
    assert json.loads((out / "manifest.json").read_text())["counts"]["papers_in"] == 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]  # no scratch, no old folder


def test_overwrite_checks_the_marker_again_at_commit(raw, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert review5k.build(raw / "openreview.jsonl", raw / "papers", out, progress=False).out == out
    real_commit = HubFolderWriter.commit

    def swapped_meanwhile(self):
        shutil.rmtree(out)  # someone puts their own folder there while the build runs
        (out / "theirs").mkdir(parents=True)
        (out / "theirs" / "data.csv").write_text("a,b\n")
        return real_commit(self)

    monkeypatch.setattr(HubFolderWriter, "commit", swapped_meanwhile)
    with pytest.raises(OutputRefusedError, match=MARKER_NAME):
        review5k.build(raw / "openreview.jsonl", raw / "papers", out, overwrite=True, progress=False)
    assert tree(out) == {"theirs": "dir", "theirs/data.csv": hashlib.sha256(b"a,b\n").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]


# ------------------------------------------------------------------------------------- stale scratch


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _scratch(path: Path, age_s: float = 0.0) -> Path:
    path.mkdir()
    (path / "half.parquet").write_bytes(b"half")
    if age_s:
        then = time.time() - age_s
        os.utime(path, (then, then))
    return path


def test_stale_scratch_of_the_target_is_cleaned_and_nothing_else(raw, tmp_path, capsys):
    out = tmp_path / "out"
    dead, alive = _dead_pid(), os.getppid()
    host = partial_name("out").split("@")[1].split(".")[0]  # this machine, as scratch names record it
    stale = [_scratch(tmp_path / f".out.{dead}@{host}.deadbeef.partial"),   # killed mid-build
             _scratch(tmp_path / f".out.old-{dead}@{host}.deadbeef"),       # killed mid-swap
             _scratch(tmp_path / f".out.old-{dead}"),                       # an older version's name
             _scratch(tmp_path / ".out.k3j4_9zq.partial", age_s=3 * 86400)]  # mkdtemp's, days old
    kept = [_scratch(tmp_path / f".out.{alive}@{host}.cafebabe.partial"),  # its writer still runs
            _scratch(tmp_path / f".out.{dead}@00000000.deadbeef.partial"),  # another machine's, fresh
            _scratch(tmp_path / ".out.abcdefgh.partial"),                 # no owner in the name, fresh
            _scratch(tmp_path / f".other.{dead}@{host}.deadbeef.partial"),  # another target's
            _scratch(tmp_path / ".out-notes"), _scratch(tmp_path / "out.partial")]
    out.mkdir()  # an empty folder counts as absent
    assert main(build_args(raw, out)) == 0
    assert [p for p in stale if p.exists()] == []
    assert all((p / "half.parquet").read_bytes() == b"half" for p in kept)
    assert (out / MARKER_NAME).is_file()


def test_interrupted_swap_is_put_back(raw, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(build_args(raw, out)) == 0
    before = tree(out)
    os.rename(out, tmp_path / f".out.old-{_dead_pid()}")  # killed between moving the old folder and the new one in
    code, err = cli(capsys, *build_args(raw, out))
    assert code == 2 and "exists" in one_line(err)  # the previous build is back and is not replaced silently
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]


# ----------------------------------------------------------------------------------------- modes


def test_folders_and_files_follow_the_umask(raw, review5k_sample_build, tmp_path, capsys):
    previous = os.umask(0o027)
    try:
        assert main(build_args(raw, tmp_path / "ds")) == 0
        assert main(evaluate_args(review5k_sample_build, tmp_path / "run")) == 0
        (tmp_path / "subs").mkdir()
        assert main(["leaderboard", "build", "--out", str(tmp_path / "site"), "--submissions-dir",
                     str(tmp_path / "subs")]) == 0
    finally:
        os.umask(previous)
    for name in ("ds", "run", "site"):
        root = tmp_path / name
        for p in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(p.stat().st_mode)
            assert mode == (0o750 if p.is_dir() else 0o640), (p, oct(mode))


# ----------------------------------------------------------------------------- evaluation run folders


REVIEW = ("## Summary\nS\n## Soundness\n3 good\n## Presentation\n3 good\n## Contribution\n2 fair\n## Strengths\nx\n"
          "## Weaknesses\ny\n## Questions\nz\n## Rating\n6: ok\n## Confidence\n3: fine\n## Meta Review\nm\n"
          "## Paper Decision\nAccept\n")


def _config(built: Path, **changes) -> ReviewRunConfig:
    base = dict(task="review-5k", data=str(built), protocol="cyclereviewer", backend="fake",
                model_args={"text": REVIEW}, n_resamples=50, limit=6)
    return ReviewRunConfig(**{**base, **changes})


def _run(config: ReviewRunConfig, output: Path, **kwargs):
    from cyclebench.backends import build_backend

    backend = build_backend("fake", config.model_args)
    run_review_evaluation(config, output, backend=backend, progress=False, **kwargs)
    return backend


@pytest.mark.parametrize("change", [
    {"model_args": {"text": REVIEW + "\n"}}, {"protocol_options": {"reviewers": 2}},
    {"sampling": {"temperature": 0.7}}, {"split": "train"}, {"seed": 1}, {"protocol": "deepreviewer"},
])
def test_output_holding_a_different_run_is_refused(review5k_sample_build, tmp_path, change):
    run = tmp_path / "run"
    _run(_config(review5k_sample_build), run)
    before = tree(run)
    with pytest.raises(OutputExistsError, match="different run .*" + next(iter(change))):
        _run(_config(review5k_sample_build, **change), run)
    assert tree(run) == before


def test_same_run_resumes_and_overwrite_replaces(review5k_sample_build, tmp_path, capsys):
    run = tmp_path / "run"
    assert len(_run(_config(review5k_sample_build), run).calls) == 6
    assert _run(_config(review5k_sample_build), run).calls == []  # same run: resumed from the cache
    assert len(_run(_config(review5k_sample_build, n_resamples=60, batch_size=2, limit=8), run).calls) == 2  # same run, 2 more papers
    assert _run(_config(review5k_sample_build, limit=8), run).calls == []
    other = _config(review5k_sample_build, model_args={"text": "no review here"})
    assert len(_run(other, run, overwrite=True).calls) == 6  # replaced: nothing reused from the old run
    results = json.loads((run / "results.json").read_text())
    assert results["model"]["model_args"] == {"text": "no review here"} and results["counts"]["n_failed"] == 6
    code, err = cli(capsys, "evaluate", "model", "--task", "review-5k", "--data", str(review5k_sample_build), "--protocol",
                    "cyclereviewer", "--backend", "fake", "--model-args", "text=x", "--limit", "2", "--output",
                    str(run), *FAST)
    assert code == 2 and "different run (differs in: model_args)" in one_line(err)
    assert main(["evaluate", "model", "--task", "review-5k", "--data", str(review5k_sample_build), "--protocol", "cyclereviewer",
                 "--backend", "fake", "--model-args", "text=x", "--limit", "2", "--output", str(run), *FAST,
                 "--overwrite"]) == 0


def test_another_model_behind_the_same_arguments_is_refused(review5k_sample_build, tmp_path):
    from cyclebench.backends import build_backend

    run = tmp_path / "run"
    _run(_config(review5k_sample_build), run)
    swapped = build_backend("fake", {"text": "a retrained checkpoint at the same path"})
    with pytest.raises(OutputExistsError, match="fingerprint"):
        run_review_evaluation(_config(review5k_sample_build), run, backend=swapped, progress=False)
    assert swapped.calls == []


def test_a_run_that_fails_before_any_work_leaves_no_folder(review5k_sample_build, tmp_path, capsys):
    code, err = cli(capsys, *evaluate_args(review5k_sample_build, tmp_path / "new" / "run", "--split", "no-such-split"))
    assert code == 2 and one_line(err)
    assert list((tmp_path / "new").iterdir()) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.dictionaries(st.sampled_from(["task", "split", "seed", "protocol"]), st.integers(0, 2), max_size=3),
       second=st.dictionaries(st.sampled_from(["task", "split", "seed", "protocol"]), st.integers(0, 2), max_size=3),
       overwrite=st.booleans())
def test_claim_resumes_exactly_the_same_run(tmp_path_factory, first, second, overwrite):
    folder = tmp_path_factory.mktemp("claim") / "run"
    claim_run_folder(folder, OutputMarker("evaluation", "review", first))
    (folder / "results.json").write_text("{}")
    if first == second or overwrite:
        claim_run_folder(folder, OutputMarker("evaluation", "review", second), overwrite=overwrite)
        assert json.loads((folder / MARKER_NAME).read_text()).get("run", {}) == second
        assert (folder / "results.json").exists() == (not overwrite)
    else:
        with pytest.raises(OutputExistsError):
            claim_run_folder(folder, OutputMarker("evaluation", "review", second))
        assert (folder / "results.json").exists()


def test_concurrent_claims_of_a_new_run_folder_exactly_one_wins(tmp_path, monkeypatch):
    import cyclebench.outputs as outputs

    folder = tmp_path / "run"
    barrier = threading.Barrier(4, timeout=60)
    real_claim = outputs._claim_marker

    def claim_together(*args):
        barrier.wait()  # every run has seen an empty folder: now they race for it
        return real_claim(*args)

    monkeypatch.setattr(outputs, "_claim_marker", claim_together)
    outcomes: list[object] = []

    def claim(seed: int) -> None:
        try:
            outcomes.append(claim_run_folder(folder, OutputMarker("evaluation", "review", {"seed": seed})).claimed_now)
        except OutputExistsError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=claim, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes.count(True) == 1 and sum(isinstance(o, OutputExistsError) for o in outcomes) == 3, outcomes
    assert sorted(p.name for p in folder.iterdir()) == [MARKER_NAME]


# ------------------------------------------------------------------------------ read-only, full disk


def _fail_under(monkeypatch, root: Path, code: int, *, mkdir: bool = False, write: bool = False) -> None:
    """Make the OS refuse writes under ``root`` the way a read-only mount (EROFS) or a full disk (ENOSPC) does."""
    real_mkdir, real_write = os.mkdir, Path.write_text

    def refuse(path) -> None:
        if str(os.fspath(path)).startswith(str(root)):
            raise OSError(code, os.strerror(code), os.fspath(path))

    def fake_mkdir(path, mode=0o777, *a, **k):
        if mkdir:
            refuse(path)
        return real_mkdir(path, mode, *a, **k)

    def fake_write(self, *a, **k):
        if write and ".partial" in str(self):
            refuse(self)
        return real_write(self, *a, **k)

    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    monkeypatch.setattr(Path, "write_text", fake_write)


def test_read_only_parent_is_one_line(raw, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        probe = ro / "probe"
        try:
            probe.mkdir()
        except PermissionError:
            pass
        else:
            probe.rmdir()
            pytest.skip("this user (root) writes into read-only folders anyway; the EROFS/ENOSPC cases below "
                        "simulate it with monkeypatched os functions")
        code, err = cli(capsys, *build_args(raw, ro / "out"))
        assert code == 2 and "Permission denied" in one_line(err)
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize(("code", "how"), [(errno.EROFS, "mkdir"), (errno.ENOSPC, "write")])
def test_build_on_a_failing_disk_is_one_line_and_leaves_nothing(raw, tmp_path, capsys, monkeypatch, code, how):
    _fail_under(monkeypatch, tmp_path / "disk", code, mkdir=how == "mkdir", write=how == "write")
    if how == "write":
        (tmp_path / "disk").mkdir()
    rc, err = cli(capsys, *build_args(raw, tmp_path / "disk" / "out"))
    line = one_line(err)
    assert rc == 2 and f"could not write {tmp_path / 'disk' / 'out'}: {os.strerror(code)}" in line, line
    assert not (tmp_path / "disk").exists() or list((tmp_path / "disk").iterdir()) == []


def test_overwrite_on_a_full_disk_keeps_the_previous_build(raw, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert main(build_args(raw, out)) == 0
    before = tree(out)
    _fail_under(monkeypatch, tmp_path, errno.ENOSPC, write=True)
    code, err = cli(capsys, *build_args(raw, out, "--overwrite"))
    assert code == 2 and f"could not write {out}: No space left" in one_line(err)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]


def test_leaderboard_site_on_a_read_only_disk(tmp_path, capsys, monkeypatch):
    (tmp_path / "subs").mkdir()
    _fail_under(monkeypatch, tmp_path / "www", errno.EROFS, mkdir=True)
    code, err = cli(capsys, "leaderboard", "build", "--out", str(tmp_path / "www" / "site"), "--submissions-dir",
                    str(tmp_path / "subs"))
    assert code == 2 and "could not write" in one_line(err) and "Read-only file system" in one_line(err)


def test_evaluation_on_a_full_disk_leaves_no_half_files_and_resumes(review5k_sample_build, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    real_write = Path.write_text

    def full_when_staging(self, *a, **k):
        if ".staged." in str(self):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write(self, *a, **k)

    monkeypatch.setattr(Path, "write_text", full_when_staging)
    with pytest.raises(OutputWriteError, match="No space left"):
        _run(_config(review5k_sample_build), run)
    monkeypatch.setattr(Path, "write_text", real_write)
    assert sorted(p.name for p in run.iterdir()) == [MARKER_NAME, "cache"]  # no report, no results, no scratch
    assert _run(_config(review5k_sample_build), run).calls == []  # what was generated before the disk filled is kept
    assert (run / "results.json").is_file() and (run / "report.md").is_file()


def test_atomic_write_failure_leaves_no_scratch(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    target.write_text("old")
    _fail_under(monkeypatch, tmp_path, errno.ENOSPC, write=True)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"] and target.read_text() == "old"


# ------------------------------------------------------------------------------ marker stays local


def test_marker_is_not_published_or_loaded(review5k_sample_build):
    from datasets import load_dataset

    from cyclebench.hub.publish import validate_folder

    assert (review5k_sample_build / MARKER_NAME).is_file()
    assert MARKER_NAME not in validate_folder(review5k_sample_build)
    assert MARKER_NAME not in (review5k_sample_build / "manifest.json").read_text() + (review5k_sample_build / "README.md").read_text()
    assert load_dataset(str(review5k_sample_build), split="train").num_rows > 0
