"""Shared protocol helpers: score and decision reading, the registry, title handling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cyclebench.protocols import available_protocols, get_protocol, parse_score, read_decision, status_for
from cyclebench.protocols.base import ReviewProtocol, paper_with_title
from cyclebench.records import problem_key


@pytest.mark.parametrize(
    ("raw", "lo", "hi", "value"),
    [
        ("6: marginally above the acceptance threshold", 1, 10, 6.0),
        ("10: strong accept, should be highlighted at the conference", 1, 10, 10.0),
        ("10", 1, 10, 10.0),
        ("3 good", 1, 4, 3.0),
        ("3.25", 1, 4, 3.25),
        ("**8**", 1, 10, 8.0),
        ("  `5`  ", 1, 10, 5.0),
        ("6.5/10", 1, 10, 6.5),
        ("6.", 1, 10, 6.0),
        ("- 7", 1, 10, 7.0),
        ("4.0", 1, 4, 4.0),
        (7, 1, 10, 7.0),
        (3.75, 1, 5, 3.75),
    ],
)
def test_parse_score_reads_the_leading_number(raw, lo, hi, value):
    reading = parse_score(raw, lo, hi)
    assert reading.value == value
    assert reading.problem is None


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (None, "rating_missing"),
        ("", "rating_missing"),
        ("   ", "rating_missing"),
        ("abc", "rating_unparseable"),
        ("12abc", "rating_unparseable"),
        ("3.25x", "rating_unparseable"),
        ("strong accept", "rating_unparseable"),
        (True, "rating_unparseable"),
        (float("nan"), "rating_unparseable"),
        ([6], "rating_unparseable"),
        ("11", "rating_out_of_range"),
        ("0", "rating_out_of_range"),
        ("-1", "rating_out_of_range"),
        (10.5, "rating_out_of_range"),
    ],
)
def test_parse_score_rejects_with_a_reason(raw, key):
    reading = parse_score(raw, 1, 10, field="rating")
    assert reading.value is None
    assert problem_key(reading.problem) == key


def test_out_of_range_reason_names_the_range():
    assert parse_score("11", 1, 10, field="rating").problem == "rating_out_of_range: 11 not in [1, 10]"


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("Accept (poster)", "accept"),
        ("Accept (oral)", "accept"),
        ("**Accept**", "accept"),
        ("accepted", "accept"),
        ("We recommend acceptance.", "accept"),
        ("Reject", "reject"),
        ("Reject (Score = 5)", "reject"),
        ("Reject (not selected for publication)", "reject"),
        ("Desk rejected", "reject"),
        ("The paper should not be accepted.", "reject"),
        ("I cannot accept this paper", "reject"),
        ("We don't accept it", "reject"),
        ("REJECT", "reject"),
        ("\n\nAccept\n\nThe reviewers would otherwise reject.", "accept"),
        ("The AC weighed the reviews.\nFinal: reject", "reject"),
    ],
)
def test_read_decision(text, decision):
    reading = read_decision(text)
    assert reading.decision == decision
    assert reading.problem is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (None, "decision_missing"),
        ("", "decision_missing"),
        ("**", "decision_missing"),
        ("Accept/Reject", "decision_ambiguous"),
        ("Accept or Reject", "decision_ambiguous"),
        ("unacceptable", "decision_unclear"),
        ("Withdrawn", "decision_unclear"),
        (42, "decision_unclear"),
    ],
)
def test_read_decision_failures(text, key):
    reading = read_decision(text)
    assert reading.decision is None
    assert problem_key(reading.problem) == key


def test_status_for():
    assert status_for(6.0, "accept") == "ok"
    assert status_for(None, "accept") == "partial"
    assert status_for(6.0, None) == "partial"
    assert status_for(None, None) == "failed"


def test_registry_names_and_options():
    assert set(available_protocols()) == {"cyclereviewer", "deepreviewer", "aiscientist"}
    for name in available_protocols():
        protocol = get_protocol(name)
        assert isinstance(protocol, ReviewProtocol)
        assert protocol.name == name
        assert protocol.describe()["name"] == name
    assert get_protocol("AI-Scientist", threshold=5).threshold == 5.0
    assert get_protocol("deep_reviewer", mode="Best Mode").mode == "best"


def test_registry_errors():
    with pytest.raises(KeyError, match="unknown review protocol"):
        get_protocol("gpt-reviewer")
    with pytest.raises(ValueError, match="unknown option.*no_such_option.*known: reviewers, sampling"):
        get_protocol("cyclereviewer", no_such_option=1)  # a ValueError by design: one line at the CLI


def test_sampling_defaults_and_override():
    cycle = get_protocol("cyclereviewer")
    assert cycle.sampling == {"temperature": 0.4, "top_p": 0.95, "max_tokens": 7000}
    assert cycle.max_model_len == 50000
    assert get_protocol("cyclereviewer", sampling={"temperature": 0.0}).sampling["temperature"] == 0.0
    assert get_protocol("deepreviewer").sampling["temperature"] == 0.4
    assert get_protocol("deepreviewer").max_model_len == 90000


def test_paper_with_title():
    assert paper_with_title("Body text", None) == "Body text"
    assert paper_with_title("Body text", "A Title") == "# A Title\n\nBody text"
    assert paper_with_title("# A  Title\n\nBody", "a title") == "# A  Title\n\nBody"
    with pytest.raises(ValueError):
        paper_with_title("   ", "t")
    with pytest.raises(TypeError):
        paper_with_title(None, "t")  # type: ignore[arg-type]


def test_family_modules_are_imported_lazily():
    code = "import sys, cyclebench.protocols as p; print(sorted(m for m in sys.modules if m.startswith('cyclebench.protocols.')))"
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "['cyclebench.protocols.base']"
