"""``cyclebench train``: shipped recipes found by name, listed, and a multi-node launch that refuses to guess."""

from __future__ import annotations

import shlex

import pytest

from cyclebench.cli import main
from cyclebench.trainers.configs import RECIPES_DIR, resolve_recipe, shipped_recipes


def test_a_shipped_recipe_is_found_by_name_with_or_without_its_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside a checkout: only the installed package's recipes exist
    assert resolve_recipe("cyclereviewer-8b-full") == RECIPES_DIR / "cyclereviewer-8b-full.yaml"
    assert resolve_recipe("cyclereviewer-8b-full.yaml") == RECIPES_DIR / "cyclereviewer-8b-full.yaml"


def test_a_file_in_the_working_folder_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cyclereviewer-8b-full.yaml").write_text("trainer: sft\n", encoding="utf-8")
    assert resolve_recipe("cyclereviewer-8b-full.yaml") == tmp_path.joinpath("cyclereviewer-8b-full.yaml").relative_to(tmp_path)


def test_an_unknown_name_names_the_close_matches(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="did you mean cyclereviewer-8b-full"):
        resolve_recipe("cyclereviewer-8b-ful")
    with pytest.raises(FileNotFoundError, match="not found"):
        resolve_recipe("no/such/recipe.yaml")


def test_train_by_name_prints_the_shipped_recipe_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "cyclereviewer-8b-lora", "--no-eval"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert shlex.split(line)[-2:] == ["--config", str(RECIPES_DIR / "cyclereviewer-8b-lora.yaml")]


def test_train_list_names_every_shipped_recipe(capsys):
    assert main(["train", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == shipped_recipes() and "cyclereviewer-8b-full" in listed


def test_train_without_a_recipe_says_how_to_find_one(capsys):
    assert main(["train"]) == 2
    assert "--list" in capsys.readouterr().err


@pytest.mark.parametrize("given, missing", [
    ([], "--machine-rank and --main-process-ip"),
    (["--machine-rank", "1"], "--main-process-ip"),
    (["--main-process-ip", "10.0.0.5"], "--machine-rank"),
])
def test_a_multi_node_launch_refuses_to_print_without_rank_and_address(capsys, given, missing):
    # cyclereviewer-70b-full's accelerate config says num_machines: 4 with a placeholder address
    assert main(["train", "cyclereviewer-70b-full", *given]) == 2
    err = capsys.readouterr().err
    assert f"needs {missing}" in err and "4-machine" in err


def test_num_machines_given_on_the_command_line_counts_too(capsys):
    assert main(["train", "cyclereviewer-8b-full", "--num-machines", "2"]) == 2
    assert "2-machine launch needs" in capsys.readouterr().err
    assert main(["train", "cyclereviewer-8b-full", "--num-machines", "1", "--no-eval"]) == 0
