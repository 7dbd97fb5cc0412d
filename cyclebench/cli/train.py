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
    parser.add_argument("recipe", nargs="?", default=None,  # text: Path("") would read as the folder "."
                        help="a recipe YAML file, or a shipped recipe by name (e.g. cyclereviewer-8b-full; --list)")
    parser.add_argument("--list", action="store_true", help="list the shipped recipes and exit")
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
        resolve_recipe,
        smoke_overrides,
        text_fields,
    )

    recipe_path = resolve_recipe(args.recipe)
    recipe = check_recipe(recipe_path)
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
    recipe_args = ["--config", str(recipe_path), *flags]
    python = sys.executable

    if kind == "iterative-simpo":
        return [[python, "-m", TRAINER_MODULES[kind], *recipe_args]]

    accelerate_name = args.accelerate_config
    if accelerate_name is None:
        accelerate_name = "none" if args.smoke else recipe.get("accelerate_config")
    config_file = resolve_accelerate_config(accelerate_name)
    _check_multi_node(args, config_file)
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


def _check_multi_node(args: argparse.Namespace, config_file: Path | None) -> None:
    """Over several machines every node needs its own rank and the head's address: a printed command that
    silently used the config's rank 0 and placeholder address would start N head nodes."""
    machines = args.num_machines
    if machines is None and config_file is not None:
        import yaml

        try:
            value = (yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {}).get("num_machines")
        except (OSError, yaml.YAMLError, AttributeError):
            value = None
        machines = value if isinstance(value, int) else None
    if machines is None or machines <= 1:
        return
    missing = [flag for flag, value in (("--machine-rank", args.machine_rank), ("--main-process-ip", args.main_process_ip))
               if value is None]
    if missing:
        raise ValueError(f"a {machines}-machine launch needs {' and '.join(missing)} (this node's rank, 0.."
                         f"{machines - 1}, and the head node's address); run the command on every node with its own rank")
    if args.machine_rank >= machines:  # accelerate would wait forever for a node that never joins
        raise ValueError(f"--machine-rank must be 0..{machines - 1} for a {machines}-machine launch, not {args.machine_rank}")


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
    if args.list:
        from cyclebench.trainers.configs import RECIPES_DIR, read_recipe, shipped_recipes

        for name in shipped_recipes():
            recipe = read_recipe(RECIPES_DIR / f"{name}.yaml")
            print(f"{name:<28} {recipe.get('trainer', 'sft'):<16} {recipe.get('model_name_or_path', '')}")
        return 0
    if args.recipe is None or not args.recipe.strip():
        print("cyclebench train: give a recipe file or name (`cyclebench train --list` lists the shipped ones)",
              file=sys.stderr)
        return 2
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
