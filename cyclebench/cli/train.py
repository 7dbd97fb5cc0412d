"""``cyclebench train RECIPE.yaml``: print (or run) the exact launch command of a training recipe.

SFT recipes run under ``accelerate launch`` with the recipe's accelerate config (DeepSpeed ZeRO-2/3, FSDP,
multi-node), then, when the recipe names an evaluation task, ``python -m cyclebench.trainers.evaluate_run`` evaluates the
trained model and writes a leaderboard submission. An Iterative SimPO recipe runs its driver with ``python``;
the driver launches each round's training itself. ``--smoke`` shrinks a recipe to two CPU steps (give the
model and data with ``--set``). Without ``--run`` nothing is started.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from cyclebench.cli.arg_types import non_negative_int, port, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", type=Path, help="a recipe YAML (trainers/recipes/*.yaml)")
    parser.add_argument("--print-launch", action="store_true", help="print the commands (the default without --run)")
    parser.add_argument("--run", action="store_true", help="run the commands, one after the other")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a recipe key (repeatable; the value is read as YAML: 2, true, 1.0e-05, text)")
    parser.add_argument("--smoke", action="store_true",
                        help="two CPU-sized steps: batch 1, fp32, no checkpoints, no accelerate config")
    parser.add_argument("--accelerate-config", default=None,
                        help="override the recipe's: a file, a shipped name (zero2, zero3, fsdp, multi-node-zero3) "
                             "or none")
    parser.add_argument("--num-processes", type=positive_int, default=None, help="processes over all machines")
    parser.add_argument("--num-machines", type=positive_int, default=None)
    parser.add_argument("--machine-rank", type=non_negative_int, default=None, help="this machine's rank (multi-node)")
    parser.add_argument("--main-process-ip", default=None, help="the head node's address (multi-node)")
    parser.add_argument("--main-process-port", type=port, default=None)
    parser.add_argument("--no-eval", action="store_true", help="do not evaluate the trained model afterwards")


def parse_overrides(items: list[str], text_keys: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``KEY=VALUE`` items as a mapping, each value read as YAML, except that a key in ``text_keys`` (a name or
    a path) keeps the text given when YAML would read a number or a switch (``007`` stays "007"). Invalid
    YAML, a missing ``=`` and a key given twice are one ``ValueError`` line."""
    import yaml

    from cyclebench.trainers.configs import yaml_problem

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        if key in out:
            raise ValueError(f"--set {key} is given twice; give each key once")
        try:
            parsed = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError as exc:
            raise ValueError(f"--set {item[:200]!r}: the value is not valid YAML{yaml_problem(exc)}") from None
        except RecursionError:
            raise ValueError(f"--set {key}: the value is not valid YAML: nested too deeply") from None
        except ValueError as exc:  # e.g. an integer of thousands of digits
            raise ValueError(f"--set {key}: the value cannot be read: {' '.join(str(exc).split())[:120]}") from None
        if key in text_keys and parsed is not None and not isinstance(parsed, str):
            parsed = value.strip()
        out[key] = parsed
    return out


def _cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def build_commands(args: argparse.Namespace) -> list[list[str]]:
    """The commands ``--run`` would start, in order (pure apart from reading the recipe)."""
    from cyclebench.trainers.configs import (
        TRAINER_MODULES,
        check_recipe,
        check_values,
        override_argv,
        resolve_accelerate_config,
        smoke_overrides,
        text_fields,
    )

    recipe = check_recipe(args.recipe)
    kind = recipe.get("trainer", "sft")
    cuda = _cuda()
    given = parse_overrides(args.overrides, text_fields(kind))
    overrides = {**(smoke_overrides(kind, cuda=cuda) if args.smoke else {}), **given}
    if kind == "iterative-simpo":  # the loop launches each round's training itself: pass the launch settings on
        if args.num_processes is not None:
            overrides["round_num_processes"] = args.num_processes
        if args.accelerate_config is not None:
            overrides["accelerate_config"] = args.accelerate_config
    unknown = set(overrides) - _known_keys(kind)
    if unknown:
        raise ValueError(f"--set: unknown keys {sorted(unknown)} for a {kind} recipe")
    check_values(kind, given, "--set")  # the same number, switch and name checks as the recipe file
    flags = override_argv(overrides)
    recipe_args = ["--config", str(args.recipe), *flags]
    python = sys.executable

    if kind == "iterative-simpo":
        return [[python, "-m", TRAINER_MODULES[kind], *recipe_args]]

    accelerate_name = args.accelerate_config
    if accelerate_name is None:
        accelerate_name = "none" if args.smoke else recipe.get("accelerate_config")
    config_file = resolve_accelerate_config(accelerate_name)
    launch = ["accelerate", "launch"]
    if config_file is not None:
        launch += ["--config_file", _shown_path(config_file)]
    else:  # no config file: one plain process, say everything so accelerate asks nothing
        launch += ["--num_machines", str(args.num_machines or 1), "--mixed_precision", "no",
                   "--dynamo_backend", "no"]
        if args.num_processes is None:
            launch += ["--num_processes", "1"]
        if not cuda:
            launch.append("--cpu")
    for flag, value in (("--num_processes", args.num_processes), ("--machine_rank", args.machine_rank),
                        ("--main_process_ip", args.main_process_ip), ("--main_process_port", args.main_process_port)):
        if value is not None:
            launch += [flag, str(value)]
    if config_file is not None and args.num_machines is not None:
        launch += ["--num_machines", str(args.num_machines)]
    commands = [[*launch, "-m", TRAINER_MODULES[kind], *recipe_args]]
    eval_task = overrides.get("eval_task", recipe.get("eval_task"))
    if eval_task and not args.no_eval and (args.machine_rank in (None, 0)):
        commands.append([python, "-m", "cyclebench.trainers.evaluate_run", *recipe_args])
    return commands


def _shown_path(path: Path) -> str:
    """Relative to the working directory when it lies inside it (a command to copy), else absolute."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _known_keys(kind: str) -> set[str]:
    import dataclasses

    from cyclebench.trainers.configs import CONFIG_CLASSES, ModelArguments, ScriptArguments

    return {f.name for cls in (ScriptArguments, CONFIG_CLASSES[kind], ModelArguments) for f in dataclasses.fields(cls)}


def _runnable(command: list[str]) -> list[str]:
    """``accelerate launch ...`` through this interpreter's accelerate, whatever is first on PATH."""
    if command[:2] == ["accelerate", "launch"]:
        return [sys.executable, "-m", "accelerate.commands.launch", *command[2:]]
    return command


def run(args: argparse.Namespace) -> int:
    try:
        commands = build_commands(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"cyclebench train: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    for command in commands:
        print(shlex.join(command))
    if not args.run:
        return 0
    env = {**os.environ, "TRL_EXPERIMENTAL_SILENCE": "1"}
    for command in commands:
        print(f"+ {shlex.join(command)}", file=sys.stderr, flush=True)
        code = subprocess.run(_runnable(command), env=env).returncode
        if code != 0:
            print(f"cyclebench train: command failed with exit code {code}", file=sys.stderr)
            return code
    return 0
