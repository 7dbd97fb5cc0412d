"""Red-team cases for the familiar CLI: task names that are paths, a dataset folder with a comma in its name,
a folder shadowing a shipped recipe, machine ranks out of range, and defaults of options without help."""

from __future__ import annotations

import pytest

from cyclebench.cli import CyclebenchParser, build_parser, main
from cyclebench.cli.evaluate import task_runs


@pytest.mark.parametrize("tasks", ["../x,review-5k", "review-5k,/tmp/elsewhere", ".,review-5k", "review-5k,Review-5K",
                                   "review-5k,nosuch"])
def test_every_task_name_is_checked_before_any_run_or_folder(tmp_path, tasks):
    # a task name becomes OUTPUT/<task>: '../x' or '/abs' would write outside OUTPUT, and a typo in the
    # second task would only be found after the first task's run (hours on a GPU)
    with pytest.raises(ValueError, match="unknown task"):
        task_runs(tasks, "data", tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "x").exists()


def test_an_unknown_task_makes_no_run_folder(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["evaluate", "model", "--tasks", "review-5k,../escape", "--data", str(tmp_path), "--protocol",
                 "cyclereviewer", "--backend", "baseline-constant", "--output", str(out)])
    assert code == 2 and "unknown task '../escape'" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "escape").exists()


def test_a_dataset_folder_whose_name_holds_a_comma_is_one_dataset(tmp_path):
    folder = tmp_path / "builds,v2"
    folder.mkdir()
    runs = task_runs("review-5k,deepreview-13k", str(folder), tmp_path / "out")
    assert [(t, d) for t, d, _ in runs] == [("review-5k", str(folder)), ("deepreview-13k", str(folder))]


def test_a_folder_named_like_a_shipped_recipe_does_not_hide_it(tmp_path, monkeypatch, capsys):
    # a training run's output folder is often named after its recipe
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cyclereviewer-8b-full").mkdir()
    assert main(["train", "cyclereviewer-8b-full", "--no-eval"]) == 0
    assert "recipes/cyclereviewer-8b-full.yaml" in capsys.readouterr().out


def test_an_empty_recipe_name_is_refused(capsys):
    assert main(["train", ""]) == 2
    assert "give a recipe file or name" in capsys.readouterr().err


@pytest.mark.parametrize("given, machines", [
    (["--num-machines", "2", "--machine-rank", "2", "--main-process-ip", "10.0.0.1"], 2),
    (["--accelerate-config", "multi-node-zero3", "--machine-rank", "4", "--main-process-ip", "10.0.0.1"], 4),
])
def test_a_machine_rank_past_the_last_machine_is_refused(capsys, given, machines):
    assert main(["train", "cyclereviewer-8b-full", "--no-eval", *given]) == 2
    assert f"--machine-rank must be 0..{machines - 1}" in capsys.readouterr().err


def test_options_without_help_text_still_show_their_default():
    parser = CyclebenchParser(prog="x")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fmt", default="jsonl", choices=["jsonl", "text"])
    parser.add_argument("--rate", default="50%", help="95% of %% (literal percent)".replace("95% of", "95%% of"))
    parser.add_argument("--flag", action="store_true")
    text = " ".join(parser.format_help().split())
    assert "--seed SEED (default: 0)" in text and "(default: jsonl)" in text
    assert "95% of % (literal percent) (default: 50%)" in text and "--flag" in text and "(default: False)" not in text
    model = build_parser()._subparsers._group_actions[0].choices["evaluate"]
    model_help = " ".join(model._subparsers._group_actions[0].choices["model"].format_help().split())
    assert "--seed SEED (default: 0)" in model_help
