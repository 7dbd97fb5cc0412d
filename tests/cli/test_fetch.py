"""The fetch step's file writing (the network half cannot run here) and the CLI surface."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cyclebench.cli import SUBCOMMANDS, build_parser, main
from cyclebench.sources.fetch import api_version_for, submission_invitation, write_snapshot
from cyclebench.sources.openreview import iter_raw_notes, parse_submission


class _Note:
    """Stands in for openreview-py's Note: what the snapshot needs is ``to_json()``."""

    def __init__(self, payload):
        self.payload = payload

    def to_json(self):
        return self.payload


def test_write_snapshot_round_trips_through_the_reader(corpus, tmp_path):
    lines = (corpus / "openreview" / "iclr2026_v2.jsonl").read_text().splitlines()[:5]
    notes = [_Note(json.loads(line)) for line in lines]
    out = tmp_path / "raw.jsonl"
    assert write_snapshot(notes, out) == 5
    assert not (tmp_path / "raw.jsonl.partial").exists()
    back = [parse_submission(r.note).submission for r in iter_raw_notes(out)]
    want = [parse_submission(json.loads(line)).submission for line in lines]
    assert back == want
    assert out.read_bytes().isascii()


def test_interrupted_snapshot_leaves_no_file(tmp_path):
    def notes():
        yield {"id": "a"}
        raise ConnectionError("network went away")

    with pytest.raises(ConnectionError):
        write_snapshot(notes(), tmp_path / "raw.jsonl")
    assert not (tmp_path / "raw.jsonl").exists()


def test_api_version_by_venue():
    assert api_version_for("ICLR.cc/2023/Conference") == 1
    assert api_version_for("ICLR.cc/2024/Conference") == 2
    assert submission_invitation("ICLR.cc/2022/Conference", 1) == "ICLR.cc/2022/Conference/-/Blind_Submission"
    assert submission_invitation("ICLR.cc/2025/Conference", 2) == "ICLR.cc/2025/Conference/-/Submission"


def test_fetch_without_openreview_py_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "openreview", None)
    assert main(["fetch", "openreview", "--venue", "ICLR.cc/2024/Conference", "--out", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "pip install openreview-py" in err and ".[fetch]" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([command, "--help"])
    assert info.value.code == 0
    assert "usage" in capsys.readouterr().out


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "cyclebench", "--help"], capture_output=True, text=True, check=True)
    for command in SUBCOMMANDS:
        assert command in result.stdout


def test_build_config_yaml_rejects_unknown_keys(tmp_path, capsys):
    config = tmp_path / "build.yaml"
    config.write_text("min_reviews: 3\nnot_a_field: 1\n")
    assert main(["build", "review-5k", "--sample", "--out", str(tmp_path / "o"), "--config", str(config)]) == 2
    assert "unknown config keys" in capsys.readouterr().err


def test_user_errors_are_one_line_not_tracebacks(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CYCLEBENCH_DEBUG", raising=False)
    code = main(["evaluate", "model", "--task", "review-5k", "--data", str(tmp_path / "missing"),
                 "--protocol", "cyclereviewer", "--backend", "fake", "--output", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("cyclebench evaluate: error:") and "Traceback" not in err
    assert "--revision" in err
