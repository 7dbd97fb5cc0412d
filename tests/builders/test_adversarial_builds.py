"""Adversarial builds (issue 11): builders, ``check-overlap`` and ``publish`` never destroy, overwrite or leak
a user's file, and odd cards or tables are one clear line (or a counted skip), never a traceback.

Each test plants the attack a red team found (a card path leading outside the folder, a report path onto a
shard, a ``--config`` inside ``--out``, a typo in ``--decontaminate-against``, a link in a folder to publish,
a corrupt card or table, an absurd timestamp) and hashes what must survive before and after."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyclebench.builders import decontaminate
from cyclebench.cli import main
from cyclebench.cli.build import sample_dir
from cyclebench.fileio import sha256_file
from cyclebench.hub.load import dataset_files
from cyclebench.hub.writer import HubFolderWriter, card_front_matter
from cyclebench.outputs import MARKER_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]
ABSTRACT = ("We study how large language models can act as reviewers of machine learning papers and release a "
            "corpus of submissions with their public reviews, a training recipe and an evaluation harness.")


def tree(path: Path) -> dict[str, str]:
    """Every file under ``path`` (or the file itself) with its sha256, and every folder: what must survive."""
    path = Path(path)
    if path.is_file():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()}
    return {p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(path.rglob("*"))}


def cli(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str]:
    """Exit code and the one stderr line of a CLI call; a traceback fails the test."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and len(lines) <= 1, err
    return code, lines[0] if lines else ""


def hidden_leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def dataset(folder: Path, splits: dict[str, list[dict[str, Any]]]) -> Path:
    """A small marked build (card, shards, manifest with sha256, rejects), as ``cyclebench build`` writes."""
    schema = pa.schema([pa.field("id", pa.string()), pa.field("title", pa.string()), pa.field("abstract", pa.string()),
                        pa.field("year", pa.int64()), pa.field("num_reviews", pa.int64())])
    with HubFolderWriter(folder, {"default": schema}, {"default": list(splits)}) as writer:
        for split, rows in splits.items():
            writer.add_many("default", split, [{"year": 2024, "num_reviews": 3, "abstract": ABSTRACT, **r} for r in rows])
        shards = writer.finish_shards()
        writer.write_text("manifest.json", json.dumps({"dataset": "tiny", "shards": shards}, indent=2) + "\n")
        writer.write_text("rejects.jsonl", "")
        writer.write_text("README.md", card_front_matter({"default": schema}, writer.split_rows(), shards,
                                                         license_id="cc-by-4.0", pretty_name="tiny", tags=[]) + "\n# tiny\n")
        writer.commit()
    return folder


@pytest.fixture()
def pair(tmp_path: Path) -> dict[str, Path]:
    """A test dataset whose paper ``p1`` also sits in a train dataset."""
    train = dataset(tmp_path / "train", {"train": [{"id": "p1", "title": "Learning to review"}]})
    test = dataset(tmp_path / "test", {"train": [{"id": "q0", "title": "Other"}],
                                       "test": [{"id": "p1", "title": "Learning to review"},
                                                {"id": "p2", "title": "Something new", "abstract": "x"}]})
    return {"train": train, "test": test}


def set_card_path(folder: Path, old: str, new: str) -> None:
    card = folder / "README.md"
    card.write_text(card.read_text(encoding="utf-8").replace(f"path: {old}", f"path: {new}"), encoding="utf-8")


def victim(tmp_path: Path) -> Path:
    """A parquet file of the user's, outside every dataset folder, with a row a removal would drop."""
    path = tmp_path / "victim" / "important.parquet"
    path.parent.mkdir()
    pq.write_table(pa.table({"id": ["p1", "keep"], "title": ["Learning to review", "Mine"]}), path)
    return path


# ---------------------------------------------------------------------------------------------
# 1. Card paths never lead outside the dataset folder (reading or removal)


@pytest.mark.parametrize("pattern", ["../victim/*.parquet", "{victim}", "data/../../victim/*.parquet"])
def test_card_path_outside_the_folder_is_refused_and_nothing_outside_is_rewritten(pair, tmp_path, capsys, pattern):
    target = victim(tmp_path)
    set_card_path(pair["test"], "data/test-*", pattern.format(victim=target))
    before, folder_before = tree(target.parent), tree(pair["test"])
    with pytest.raises(ValueError, match=r"README\.md: configs\[0\]\.data_files\[1\].*outside the dataset folder"):
        dataset_files(pair["test"])
    code, line = cli(capsys, "check-overlap", "--test", f"{pair['test']}:train", "--train", pair["train"],
                     "--report", tmp_path / "r.json", "--remove")
    assert code == 2 and "outside the dataset folder" in line and "README.md" in line
    assert tree(target.parent) == before and tree(pair["test"]) == folder_before
    with pytest.raises(ValueError, match="outside the dataset folder"):  # the removal step checks on its own
        decontaminate.remove_contaminated(pair["test"], {"test": {}}, against=[], config=decontaminate.OverlapConfig())
    assert tree(target.parent) == before


def test_card_glob_through_a_link_outside_is_refused(pair, tmp_path, capsys):
    target = victim(tmp_path)
    (pair["test"] / "data" / "test-99999-of-99999.parquet").symlink_to(target)
    before = tree(target.parent)
    with pytest.raises(ValueError, match="a link to .*important.parquet, outside the dataset folder"):
        dataset_files(pair["test"])
    code, line = cli(capsys, "check-overlap", "--test", pair["test"], "--train", pair["train"],
                     "--report", tmp_path / "r.json", "--remove")
    assert code == 2 and "outside the dataset folder" in line
    assert tree(target.parent) == before and not (tmp_path / "r.json").exists()


def test_removal_refuses_a_folder_holding_a_link_and_keeps_it(pair, tmp_path):
    """Removal rewrites a folder from a copy: a link (or FIFO) in it would be followed or lost, so it is refused."""
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    (pair["test"] / "notes.txt").symlink_to(notes)
    before = tree(pair["test"])
    with pytest.raises(ValueError, match="notes.txt is a link or not a regular file"):
        decontaminate.remove_contaminated(pair["test"], {"test": {}}, against=[], config=decontaminate.OverlapConfig())
    assert tree(pair["test"]) == before and (pair["test"] / "notes.txt").is_symlink()


# ---------------------------------------------------------------------------------------------
# 2. --report never overwrites an input or a file that is not a report


@pytest.mark.parametrize("inside", ["manifest.json", "data/test-00000-of-00001.parquet", "README.md", "new.json"])
def test_report_inside_an_input_is_refused(pair, tmp_path, capsys, inside):
    before = tree(pair["test"])
    code, line = cli(capsys, "check-overlap", "--test", pair["test"], "--train", pair["train"],
                     "--report", pair["test"] / inside)
    assert code == 2 and "is inside the input" in line
    assert tree(pair["test"]) == before


def test_report_replaces_only_an_earlier_report_with_umask_modes(pair, tmp_path, capsys):
    other = tmp_path / "notes.json"
    other.write_text('{"mine": true}\n')
    argv = ["check-overlap", "--test", pair["test"], "--train", pair["train"]]
    code, line = cli(capsys, *argv, "--report", other)
    assert code == 2 and "is not a check-overlap report" in line and other.read_text() == '{"mine": true}\n'
    link = tmp_path / "link.json"
    link.symlink_to(other)
    code, line = cli(capsys, *argv, "--report", link)
    assert code == 2 and "symbolic link" in line and link.is_symlink()
    report = tmp_path / "reports" / "overlap.json"
    old_umask = os.umask(0o027)
    try:
        assert main([str(a) for a in [*argv, "--report", report]]) == 0
        first = report.read_text()
        assert main([str(a) for a in [*argv, "--report", report, "--cutoff-date", "2025-01-01"]]) == 0  # a report: replaced
    finally:
        os.umask(old_umask)
    assert report.stat().st_mode & 0o777 == 0o640  # the umask's, not mkstemp's 0600
    assert report.read_text() != first and "cutoff" in json.loads(report.read_text())
    assert hidden_leftovers(report.parent) == []


# ---------------------------------------------------------------------------------------------
# 3. --overwrite never deletes an input that sits inside --out


def copy_build(source: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(source, target)
    return target


def test_config_inside_out_is_not_deleted_by_overwrite(review5k_sample_build, tmp_path, capsys):
    out = copy_build(review5k_sample_build, tmp_path / "r5")
    (out / "build.yaml").write_text("min_reviews: 1\n")
    before = tree(out)
    code, line = cli(capsys, "build", "review-5k", "--sample", "--config", out / "build.yaml", "--out", out, "--overwrite")
    assert code == 2 and "contains the input" in line and "build.yaml" in line
    assert tree(out) == before


def test_decontaminate_against_inside_out_is_not_deleted(review5k_sample_build, tmp_path, capsys):
    sample = sample_dir()
    out = tmp_path / "d5"
    assert main(["build", "deepreview-13k", "--openreview", str(sample / "openreview.jsonl"), "--papers",
                 str(sample / "papers"), "--out", str(out)]) == 0
    copy_build(review5k_sample_build, out / "trainref")
    before = tree(out)
    code, line = cli(capsys, "build", "deepreview-13k", "--openreview", sample / "openreview.jsonl", "--papers",
                     sample / "papers", "--out", out, "--overwrite", "--decontaminate-against", out / "trainref")
    assert code == 2 and "contains the input" in line and "trainref" in line
    assert tree(out) == before


@pytest.mark.parametrize(("flag", "name"), [("--config", "build.yaml"), ("--outline-cache", "cache"),
                                            ("--work-dir", "work"), ("--abstracts", "cited.jsonl")])
def test_research14k_reads_and_caches_are_checked_before_anything(review5k_sample_build, tmp_path, capsys, flag, name):
    out = copy_build(review5k_sample_build, tmp_path / "r14")
    if flag in ("--config", "--abstracts"):
        (out / name).write_text("{}\n" if name.endswith("jsonl") else "min_sections: 2\n")
    before = tree(out)
    code, line = cli(capsys, "build", "research-14k", "--papers", tmp_path / "nopapers", "--metadata",
                     tmp_path / "nometa.jsonl", "--out", out, "--overwrite", flag, out / name)
    assert code == 2 and name in line and ("contains the input" in line or "is inside the output" in line)
    assert tree(out) == before and not (out / "cache").exists()


def test_aiscientist_config_inside_out_is_refused(review5k_sample_build, tmp_path, capsys):
    out = copy_build(review5k_sample_build, tmp_path / "ais")
    (out / "build.yaml").write_text("seed: 1\n")
    before = tree(out)
    (tmp_path / "papers").mkdir()
    code, line = cli(capsys, "build", "aiscientist-iclr2022", "--ratings", tmp_path / "r.tsv", "--papers",
                     tmp_path / "papers", "--out", out, "--overwrite", "--config", out / "build.yaml")
    assert code == 2 and "contains the input" in line and tree(out) == before


def test_chain_cache_inside_out_is_refused(review5k_sample_build, tmp_path, capsys):
    out = copy_build(review5k_sample_build, tmp_path / "dr")
    sample = sample_dir()
    before = tree(out)
    code, line = cli(capsys, "build", "deepreview-13k", "--openreview", sample / "openreview.jsonl", "--out", out,
                     "--overwrite", "--allow-missing-text", "--chain", "model", "--chain-backend", "fake",
                     "--chain-cache", out / "cache")
    assert code == 2 and "--chain-cache" in line and tree(out) == before


# ---------------------------------------------------------------------------------------------
# 4. Decontamination is checked first and committed with the build


def deepreview_args(out: Path, *extra: Any) -> list[Any]:
    sample = sample_dir()
    return ["build", "deepreview-13k", "--openreview", sample / "openreview.jsonl", "--papers", sample / "papers",
            "--out", out, "--test-fraction", "0.5", *extra]


def test_mistyped_decontaminate_against_fails_before_the_build(tmp_path, capsys):
    out = tmp_path / "dr"
    code, line = cli(capsys, *deepreview_args(out, "--decontaminate-against", tmp_path / "typo"))
    assert code == 2 and "typo" in line and not out.exists() and hidden_leftovers(tmp_path) == []
    assert main([str(a) for a in deepreview_args(out)]) == 0
    before = tree(out)
    code, line = cli(capsys, *deepreview_args(out, "--overwrite", "--seed", "7", "--decontaminate-against", tmp_path / "typo"))
    assert code == 2 and tree(out) == before  # the previous build is still there, unreplaced


def test_decontamination_failure_leaves_the_previous_build(pair, tmp_path, capsys):
    out = tmp_path / "dr"
    assert main([str(a) for a in deepreview_args(out)]) == 0
    before = tree(out)
    shard = next((pair["train"] / "data").glob("train-*.parquet"))
    shard.write_bytes(b"not parquet")  # found by the card, unreadable when the overlap is checked
    code, line = cli(capsys, *deepreview_args(out, "--overwrite", "--seed", "7", "--decontaminate-against", pair["train"]))
    assert code == 2 and "not a readable parquet file" in line
    assert tree(out) == before and hidden_leftovers(tmp_path) == []


def test_decontaminated_build_appears_whole_and_names_its_folder(tmp_path, capsys):
    first = tmp_path / "first"
    assert main([str(a) for a in deepreview_args(first)]) == 0
    capsys.readouterr()
    out = tmp_path / "dr"
    assert main([str(a) for a in deepreview_args(out, "--seed", "3", "--decontaminate-against", first)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["out"] == str(out) and sum(summary["decontamination"]["test_2025"].values()) > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["decontamination"][0]["against"] == [f"{out}:train", f"{first}:train"]
    text = "".join(p.read_text() for p in (out / "README.md", out / "manifest.json", out / "decontamination.json"))
    assert ".partial" not in text and "/build:" not in text  # labels name --out, not the scratch it was built in
    for rel, info in manifest["shards"].items():
        assert sha256_file(out / rel) == info["sha256"]
    assert hidden_leftovers(tmp_path) == [] and (out / MARKER_NAME).is_file()


# ---------------------------------------------------------------------------------------------
# 5. publish uploads only the checked files of a build


def publishable(tmp_path: Path) -> Path:
    return dataset(tmp_path / "pub", {"train": [{"id": "a", "title": "A"}], "test": [{"id": "b", "title": "B"}]})


def test_publish_refuses_links_strays_and_corrupt_shards_before_the_network(tmp_path):
    from cyclebench.hub.publish import validate_folder

    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    folder = publishable(tmp_path)
    assert MARKER_NAME not in validate_folder(folder)
    (folder / "notes.txt").symlink_to(secret)
    with pytest.raises(ValueError, match="links or special files.*notes.txt"):
        validate_folder(folder)
    (folder / "notes.txt").unlink()
    (folder / "extra").mkdir()
    (folder / "extra" / "etc").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="extra/etc"):
        validate_folder(folder)
    (folder / "extra" / "etc").unlink()
    (folder / "extra" / "notes.txt").write_text("draft\n")
    stray = next((folder / "data").glob("train-*")).with_name("train-99999-of-99999.parquet")
    pq.write_table(pa.table({"id": ["x"]}), stray)  # the card's data/train-* would load it
    with pytest.raises(ValueError, match=r"not part of the build.*data/train-99999-of-99999.parquet, extra/notes.txt"):
        validate_folder(folder)
    stray.unlink()
    (folder / "extra" / "notes.txt").unlink()
    (folder / "extra").rmdir()
    shard = next((folder / "data").glob("test-*"))
    shard.write_bytes(shard.read_bytes()[:-9] + b"corrupted")
    with pytest.raises(ValueError, match=r"differ from the sha256.*data/test-"):
        validate_folder(folder)


def test_publish_refuses_a_folder_without_manifest_or_with_a_card_outside(tmp_path):
    from cyclebench.hub.publish import validate_folder

    folder = publishable(tmp_path)
    set_card_path(folder, "data/test-*", "../victim/*.parquet")
    with pytest.raises(ValueError, match="outside the dataset folder"):
        validate_folder(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(ValueError, match="no manifest.json"):
        validate_folder(folder)


PUBLISH_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from cyclebench.hub.publish import publish_folder

    out = {}
    for name in sys.argv[2:]:
        try:
            out[name] = publish_folder(name, sys.argv[1], "v1.0.0").files
        except ValueError as exc:
            out[name] = "refused: " + str(exc)
    print("RESULT " + json.dumps(out))
    """
)


def test_publish_against_the_fake_hub_sends_nothing_for_a_bad_folder(tmp_path):
    try:
        from fake_hub import FakeHub
        from test_publish import _client_env
    except ImportError:  # tests/ imported as a package
        from tests.fake_hub import FakeHub
        from tests.hub.test_publish import _client_env

    bad = publishable(tmp_path / "bad")
    (bad / "notes.txt").symlink_to("/etc/passwd")
    good = publishable(tmp_path / "good")
    script = tmp_path / "publish.py"
    script.write_text(PUBLISH_SCRIPT)
    with FakeHub() as hub:
        env = _client_env(hub, tmp_path)
        proc = subprocess.run([sys.executable, str(script), "org/tiny", str(bad)], env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        requests_after_bad = list(hub.requests)
        proc = subprocess.run([sys.executable, str(script), "org/tiny", str(good)], env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        result = json.loads(next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))[7:])
        uploaded = set(hub.repo("org/tiny").commits[hub.repo("org/tiny").tags["v1.0.0"]].files)
    assert requests_after_bad == []  # refused before any request reached the Hub
    assert uploaded == {".gitattributes", *result[str(good)]} and MARKER_NAME not in uploaded
    assert "notes.txt" not in uploaded


# ---------------------------------------------------------------------------------------------
# 6. Odd cards and tables: one line naming the file, or a counted skip of the row


@pytest.mark.parametrize(("replace", "says"), [
    (("pretty_name: tiny", "pretty_name: [unclosed"), "invalid YAML front matter"),
    (("configs:\n", "configs:\n- 5\n"), r"configs[0] is 5 (int)"),
    (("  data_files:\n  - split: train\n    path: data/train-*\n  - split: test\n    path: data/test-*\n",
      "  data_files: data/*\n"), "data_files must be a list"),
    (("  data_files:\n", "  data_files:\n  - 7\n"), "data_files[0] (default) is 7 (int)"),
    (("  - split: test\n", "  - split: [1]\n"), "split must be a non-empty string"),
    ((("configs:\n- config_name: default\n  default: true\n  data_files:\n  - split: train\n    path: data/train-*\n"
       "  - split: test\n    path: data/test-*\n"), "configs: 5\n"), "configs must be a list"),
])
def test_odd_cards_are_one_line_naming_the_card(pair, tmp_path, capsys, replace, says):
    card = pair["test"] / "README.md"
    text = card.read_text()
    assert replace[0] in text
    card.write_text(text.replace(replace[0], replace[1], 1))
    code, line = cli(capsys, "check-overlap", "--test", pair["test"], "--train", pair["train"], "--report", tmp_path / "r.json")
    assert code == 2 and f"{card}:" in line and says in line


_PATTERNS = st.sampled_from(["data/train-*", "data/test-*", "data/*", "**", "*.parquet", "../victim/*", "/etc/*",
                             "data/../../*", "~/x", "hf://datasets/x/*", "a\x00b", "", "[", "data/[a-"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.text(max_size=8), _PATTERNS)
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["config_name", "data_files", "split", "path", "default", "x"]), inner, max_size=4)),
    max_leaves=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(configs=_VALUES)
def test_any_card_configs_give_files_inside_or_a_clear_error(tmp_path_factory, configs):
    folder = tmp_path_factory.mktemp("card")
    (folder / "data").mkdir()
    for name in ("train-0.parquet", "test-0.parquet"):
        (folder / "data" / name).write_bytes(b"PAR1")
    (folder / "README.md").write_text("---\n" + yaml.safe_dump({"configs": configs}) + "---\n# card\n")
    try:
        splits = dataset_files(folder)
    except ValueError as exc:
        assert str(folder / "README.md") in str(exc) or "no config" in str(exc) or "no dataset card" in str(exc)
        return
    for files in splits.values():
        for path in files:
            assert folder.resolve() in path.resolve().parents and path.is_file()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80))
def test_any_front_matter_text_is_read_or_refused_in_one_line(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("front")
    (folder / "README.md").write_text("---\n" + text + "\n---\n# card\n", encoding="utf-8")
    (folder / "test.jsonl").write_text('{"id": "a"}\n')
    try:
        dataset_files(folder)
    except ValueError as exc:
        assert "\n" not in " ".join(str(exc).split()) and str(folder) in str(exc)


def original(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize(("name", "data", "says"), [
    ("test.json", b"5", "has no row with columns"),
    ("test.csv", "id,title\nabc,Tit\xe9\n".encode("latin-1"), "not UTF-8 text"),
    ("test.parquet", b"not parquet", "not a readable parquet file"),
    ("test.jsonl", b'{"id": "a", "title": "x"}\n{"id": "b", "title": \n', "cannot be read as a jsonl table"),
])
def test_unreadable_original_files_are_one_line_naming_the_file(pair, tmp_path, capsys, name, data, says):
    folder = original(tmp_path / "orig", name, data)
    code, line = cli(capsys, "check-overlap", "--test", folder, "--train", pair["train"], "--report", tmp_path / "r.json")
    assert code == 2 and str(folder / name) in line and says in line


def test_rows_that_are_not_objects_are_counted_skips(pair, tmp_path, capsys):
    lines = [json.dumps({"id": "p1", "title": "Learning to review"}), "5", '["id", "title"]', "null",
             json.dumps({"id": "p9", "title": "Fresh"}), json.dumps({"id": "p9", "title": "Fresh"}), json.dumps({"title": "no id"})]
    folder = original(tmp_path / "orig", "test.jsonl", ("\n".join(lines) + "\n").encode())
    code, _ = cli(capsys, "check-overlap", "--test", folder, "--train", pair["train"], "--report", tmp_path / "r.json")
    assert code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    summary = report["tests"][0]
    assert summary["rows"] == 7 and summary["papers"] == 2 and summary["repeated_rows"] == 1
    assert summary["skipped"]["row_not_an_object"] == 3 and summary["skipped"]["no_id"] == 1
    assert report["contaminated"][f"{folder}:test"]["by_reason"] == {"overlap:id": 1}


_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)),
                     lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                     max_leaves=8)
_ROWS = st.lists(st.one_of(_JSON, st.fixed_dictionaries({"id": _JSON}, optional={
    "title": _JSON, "abstract": _JSON, "arxiv": _JSON, "year": _JSON, "cdate": _JSON, "odate": _JSON})), min_size=1, max_size=6)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_ROWS)
def test_any_jsonl_rows_reconcile_or_fail_in_one_line(pair, tmp_path_factory, rows):
    folder = original(tmp_path_factory.mktemp("rows"), "test.jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode())
    refs = decontaminate.parse_split_arg(str(folder), "test")
    trains = decontaminate.parse_split_arg(str(pair["train"]), "train")
    try:
        report = decontaminate.check_overlap(refs, trains, cutoff_date="2025-01-01")
    except ValueError as exc:
        assert str(folder / "test.jsonl") in str(exc)
        return
    summary = report["tests"][0]
    skipped = summary["skipped"]
    assert summary["rows"] == len(rows)
    assert summary["rows"] == (summary["papers"] + summary["repeated_rows"] + skipped.get("no_id", 0)
                               + skipped.get("row_not_an_object", 0))
    seen = report["cutoff"]["possibly_seen"][f"{folder}:test"]
    assert seen["undated"] == sum(seen["undated_by_reason"].values())


# ---------------------------------------------------------------------------------------------
# 7. An absurd timestamp makes a paper undated, with the reason


@pytest.mark.parametrize("cdate", [-2**62, 2**62, -99999999999999999])
def test_absurd_dates_are_counted_as_undated(pair, tmp_path, capsys, cdate):
    rows = [{"id": "old", "title": "Old", "cdate": 1_600_000_000_000}, {"id": "bad", "title": "Bad", "cdate": cdate},
            {"id": "mixed", "title": "Mixed", "cdate": cdate, "odate": 1_700_000_000_000}]
    folder = original(tmp_path / "orig", "test.jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode())
    code, _ = cli(capsys, "check-overlap", "--test", folder, "--train", pair["train"], "--report", tmp_path / "r.json",
                  "--cutoff-date", "2025-01-01")
    assert code == 0
    seen = json.loads((tmp_path / "r.json").read_text())["cutoff"]["possibly_seen"][f"{folder}:test"]
    assert seen["undated"] == 1 and seen["undated_by_reason"] == {"date_out_of_range": 1}
    assert seen["items"] == {"old": {"public_date": "2020-09-13", "field": "cdate"},
                             "mixed": {"public_date": "2023-11-14", "field": "odate"}}


@settings(max_examples=60, deadline=None)
@given(value=st.integers())
def test_any_integer_date_is_a_date_or_undated(value):
    ms, field = decontaminate.public_date({"cdate": value}, None)
    if ms is None:
        assert decontaminate.undated_reason({"cdate": value}) == "date_out_of_range"
    else:
        assert field == "cdate" and decontaminate._iso(ms)
