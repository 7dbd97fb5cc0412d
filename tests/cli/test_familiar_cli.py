"""The CLI as researchers expect it: lm-eval spellings, several tasks per call, defaults in help, the leaderboard outside a checkout."""

from __future__ import annotations

import json
import pytest

from cyclebench.cli import build_parser, main
from cyclebench.cli.evaluate import task_runs


def test_lm_eval_spellings_are_aliases_of_ours():
    parser = build_parser()
    ours = parser.parse_args(["evaluate", "model", "--task", "review-5k", "--data", "d", "--protocol", "cyclereviewer",
                              "--backend", "hf", "--model-args", "pretrained=x", "--gen-args", "max_tokens=8",
                              "--batch-size", "2", "--output", "o"])
    theirs = parser.parse_args(["evaluate", "model", "--tasks", "review-5k", "--data", "d", "--protocol",
                                "cyclereviewer", "--model", "hf", "--model_args", "pretrained=x", "--gen_kwargs",
                                "max_tokens=8", "--batch_size", "2", "--output_path", "o", "--log_samples"])
    for key in ("task", "data", "backend", "model_args", "gen_args", "batch_size", "output"):
        assert getattr(ours, key) == getattr(theirs, key), key
    assert theirs.log_samples is True


def test_task_runs_one_task_keeps_the_output_folder_several_get_one_each(tmp_path):
    assert task_runs("review-5k", "d", tmp_path) == [("review-5k", "d", tmp_path)]
    assert task_runs("review-5k,deepreview-13k", "a,b", tmp_path) == [
        ("review-5k", "a", tmp_path / "review-5k"), ("deepreview-13k", "b", tmp_path / "deepreview-13k")]
    assert task_runs("review-5k, aiscientist-iclr2022", "shared", tmp_path)[1] == (
        "aiscientist-iclr2022", "shared", tmp_path / "aiscientist-iclr2022")
    for tasks, data, message in (("review-5k,,x", "d", "empty task name"), ("review-5k,review-5k", "d", "twice"),
                                 ("review-5k,deepreview-13k", "a,b,c", "3 datasets")):
        with pytest.raises(ValueError, match=message):
            task_runs(tasks, data, tmp_path)


def test_several_tasks_in_one_call_one_failing_does_not_stop_the_others(tmp_path, capsys, review5k_sample_build):
    good = review5k_sample_build
    missing = tmp_path / "no-such-build"
    code = main(["evaluate", "model", "--tasks", "aiscientist-iclr2022,review-5k", "--data", f"{missing},{good}",
                 "--protocol", "cyclereviewer", "--model", "baseline-constant", "--output_path", str(tmp_path / "out"),
                 "--split", "test", "--bootstrap", "50"])
    err = capsys.readouterr().err
    assert code == 2
    assert "task aiscientist-iclr2022: error:" in err and "1 of 2 tasks finished; failed: aiscientist-iclr2022" in err
    results = json.loads((tmp_path / "out" / "review-5k" / "results.json").read_text(encoding="utf-8"))
    assert results["counts"]["n_evaluated"] == results["counts"]["n_papers"] > 0
    assert not (tmp_path / "out" / "aiscientist-iclr2022" / "results.json").exists()


def test_every_help_shows_the_defaults(capsys):
    parser = build_parser()
    subcommands = parser._subparsers._group_actions[0].choices  # noqa: SLF001 -- argparse keeps them here
    for name, sub in subcommands.items():
        text = sub.format_help()  # every subcommand's help renders (a bad %-format would raise here)
        assert text
        for action in sub._actions:  # noqa: SLF001
            for nested in getattr(action, "choices", None) or {}:
                if isinstance(action.choices, dict):
                    assert action.choices[nested].format_help()
    model_help = " ".join(subcommands["evaluate"]._subparsers._group_actions[0].choices["model"].format_help().split())  # noqa: SLF001
    assert "(default: 10000)" in model_help and "(default: 16)" in model_help
    train_help = " ".join(subcommands["train"].format_help().split())
    assert "--set KEY=VALUE" in train_help and "(default: None)" not in train_help


@pytest.mark.parametrize("action", [["build", "--out", "site"], ["validate"]])
def test_leaderboard_outside_a_checkout_says_which_folder_to_pass(tmp_path, monkeypatch, capsys, action):
    monkeypatch.chdir(tmp_path)
    assert main(["leaderboard", *action]) == 2
    err = capsys.readouterr().err
    assert "pass --submissions-dir PATH" in err and "leaderboard/submissions/ of a cyclebench checkout" in err
    assert not (tmp_path / "site").exists()
