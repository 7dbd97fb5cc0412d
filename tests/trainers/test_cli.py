"""``cyclebench train``: the exact launch commands of every recipe, recipe checks, and a real smoke run."""

from __future__ import annotations

import argparse
import shlex
import sys

import pytest

pytest.importorskip("trl", reason="the trainers need trl (pip install 'cyclebench[train]')")

from cyclebench.cli import train as train_cli
from cyclebench.trainers.configs import ACCELERATE_DIR, check_recipe

from .support import (
    RECIPES,
    REPO,
    research14k_rows,
    write_jsonl,
)

ALL_RECIPES = sorted(p.name for p in RECIPES.glob("*.yaml"))


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def _printed(capsys, *argv: str) -> list[list[str]]:
    assert train_cli.run(_args(*argv)) == 0
    return [shlex.split(line) for line in capsys.readouterr().out.splitlines()]


def test_every_published_size_and_method_has_a_recipe():
    assert ALL_RECIPES == sorted([
        "cyclereviewer-8b-full.yaml", "cyclereviewer-8b-lora.yaml", "cyclereviewer-70b-full.yaml",
        "cyclereviewer-70b-lora.yaml", "cyclereviewer-123b-lora.yaml", "deepreviewer-14b-full.yaml",
        "cycleresearcher-12b.yaml", "cycleresearcher-72b.yaml", "cycleresearcher-123b.yaml",
        "cycleresearcher-12b-simpo.yaml",
    ])
    assert {p.stem for p in ACCELERATE_DIR.glob("*.yaml")} == {"zero2", "zero3", "fsdp", "multi-node-zero3"}


@pytest.mark.parametrize("recipe", ALL_RECIPES)
def test_every_recipe_builds_its_configs(recipe):
    from cyclebench.trainers.configs import parse_recipe

    data = check_recipe(RECIPES / recipe)
    script_args, training_args, model_args = parse_recipe(RECIPES / recipe, {"bf16": False, "use_cpu": True})
    assert training_args.recipe_name == recipe.removesuffix(".yaml") == data["recipe_name"]
    assert isinstance(training_args.learning_rate, float) and model_args.model_name_or_path
    if script_args.trainer == "sft":
        assert script_args.dataset_format in ("review5k-sft", "deepreview13k", "research14k")


def test_published_values_are_in_the_recipes():
    from cyclebench.trainers.configs import parse_recipe

    def load(name):
        return parse_recipe(RECIPES / name, {"bf16": False, "use_cpu": True})

    _, t, m = load("cyclereviewer-123b-lora.yaml")
    assert m.use_peft and t.learning_rate == 1e-5 and t.num_train_epochs == 12
    s, t, _ = load("deepreviewer-14b-full.yaml")
    assert (t.learning_rate, t.max_steps, t.max_length, s.accelerate_config) == (5e-6, 23500, 40960, "zero3")
    assert t.per_device_train_batch_size * t.gradient_accumulation_steps * 8 == 16
    s, t, _ = load("cycleresearcher-12b.yaml")
    assert (t.learning_rate, t.max_steps, t.max_length, s.accelerate_config) == (4e-5, 12000, 32768, "zero2")
    for name in ("cycleresearcher-72b.yaml", "cycleresearcher-123b.yaml"):
        assert load(name)[1].max_length == 24576
    _, t, _ = load("cycleresearcher-12b-simpo.yaml")
    assert (t.loss_type, t.learning_rate, t.samples_per_prompt, t.sampling_temperature, t.num_train_epochs) == \
        ("simpo", 5e-7, 3, 0.4, 1)
    assert t.sampling_stop == ["\\clearpage"] and t.guard_model_args != t.reward_model_args


def test_print_launch_for_a_deepspeed_recipe(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    recipe = str(RECIPES / "deepreviewer-14b-full.yaml")
    (train, evaluate) = _printed(capsys, recipe, "--print-launch")
    # a path to copy: relative to the working directory when the config lies inside it
    assert train[:4] == ["accelerate", "launch", "--config_file", "trainers/accelerate/zero3.yaml"]
    assert train[4:] == ["-m", "cyclebench.trainers.sft", "--config", recipe]
    assert evaluate == [sys.executable, "-m", "cyclebench.trainers.evaluate_run", "--config", recipe]


def test_print_launch_multi_node_with_overrides(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = str(RECIPES / "cycleresearcher-72b.yaml")
    (train,) = _printed(capsys, recipe, "--num-machines", "4", "--machine-rank", "2", "--main-process-ip", "10.1.2.3",
                        "--num-processes", "32", "--set", "max_steps=100", "--set", "learning_rate=2.0e-05")
    assert train[:4] == ["accelerate", "launch", "--config_file", str(ACCELERATE_DIR / "multi-node-zero3.yaml")]
    joined = " ".join(train)
    for part in ("--num_processes 32", "--machine_rank 2", "--main_process_ip 10.1.2.3", "--num_machines 4",
                 f"-m cyclebench.trainers.sft --config {recipe} --max_steps 100 --learning_rate 2e-05"):
        assert part in joined


def test_print_launch_of_the_simpo_loop_runs_its_driver(capsys):
    recipe = str(RECIPES / "cycleresearcher-12b-simpo.yaml")
    (driver,) = _printed(capsys, recipe)
    assert driver == [sys.executable, "-m", "cyclebench.trainers.iterative_simpo", "--config", recipe]


def test_the_round_launch_command_of_the_loop():
    from types import SimpleNamespace

    from cyclebench.trainers.iterative_simpo import round_launch_command

    command = round_launch_command(["--config", "r.yaml"], SimpleNamespace(accelerate_config="zero2"), "p.jsonl",
                                   "policy", "out", 8)
    assert command[1:3] == ["-m", "accelerate.commands.launch"]
    assert command[3:7] == ["--config_file", str(ACCELERATE_DIR / "zero2.yaml"), "--num_processes", "8"]
    assert command[7:] == ["-m", "cyclebench.trainers.simpo", "--config", "r.yaml", "--dataset_name", "p.jsonl",
                           "--model_name_or_path", "policy", "--output_dir", "out"]


@pytest.mark.parametrize("content, message", [
    ("trainer: sft\nlearning_rte: 1.0e-05\n", "did you mean 'learning_rate'"),
    ("trainer: sft\nlearning_rate: 4e-5\n", "is a string, not a number"),
    ("trainer: dpo\n", "trainer must be one of"),
])
def test_bad_recipes_are_refused_before_launch(tmp_path, capsys, content, message):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(content)
    assert train_cli.run(_args(str(recipe))) == 2
    assert message in capsys.readouterr().err


def test_a_gguf_file_override_is_a_known_model_argument(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = str(RECIPES / "cyclereviewer-8b-full.yaml")
    train = _printed(capsys, recipe, "--set", "gguf_file=SmolLM2-135M-Instruct.Q4_1.gguf")[0]
    assert "--gguf_file SmolLM2-135M-Instruct.Q4_1.gguf" in " ".join(train)


def test_unknown_override_is_refused(capsys):
    assert train_cli.run(_args(str(RECIPES / "cyclereviewer-8b-full.yaml"), "--set", "max_stepz=2")) == 2
    assert "max_stepz" in capsys.readouterr().err


@pytest.mark.slow  # ~15 s: a real accelerate launch in a subprocess
def test_smoke_run_through_accelerate_launch(tiny_llama_long, tmp_path, capfd, monkeypatch):
    data = tmp_path / "Research-14K"
    write_jsonl(data / "train.jsonl", research14k_rows(3))
    monkeypatch.chdir(REPO)  # `-m cyclebench.trainers.sft` imports the package from the working directory
    code = train_cli.run(_args(str(RECIPES / "cycleresearcher-12b.yaml"), "--smoke", "--run",
                               "--set", f"model_name_or_path={tiny_llama_long}", "--set", f"dataset_name={data}",
                               "--set", f"output_dir={tmp_path / 'run'}", "--set", "max_length=256"))
    out = capfd.readouterr().out
    assert code == 0, out
    assert out.splitlines()[0].startswith("accelerate launch --num_machines 1 --mixed_precision no")
    assert (tmp_path / "run" / "model.safetensors").is_file()
    assert (tmp_path / "run" / "data_report.json").is_file()
