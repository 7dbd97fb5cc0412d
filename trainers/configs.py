"""Recipe configuration: trl's config classes plus the fields this project adds, and the recipe parser.

A recipe is one flat YAML file (trl's ``--config`` format) whose keys are fields of three dataclasses:
:class:`ScriptArguments` (data, launch and post-run evaluation), the training config (:class:`SFTConfig` or
:class:`IterativeSimPOConfig`) and :class:`ModelArguments` (trl's ``ModelConfig``: model id, dtype, attention
kernel, LoRA; plus ``gguf_file``). The key ``trainer`` picks the set. Flags given after the recipe override it
(``--max_steps 2``), as in trl's scripts. An unknown key is an error, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trl
import yaml
from trl import ModelConfig

from cyclebench.trainers.trl_cpo import CPOConfig

TRAINERS = ("sft", "iterative-simpo")
# module run by ``accelerate launch -m`` (SFT) or ``python -m`` (the loop drives its own launches)
TRAINER_MODULES = {"sft": "cyclebench.trainers.sft", "iterative-simpo": "cyclebench.trainers.iterative_simpo"}
DATASET_FORMATS = ("review5k-sft", "deepreview13k", "research14k")
ACCELERATE_DIR = Path(__file__).resolve().parent / "accelerate"
RECIPES_DIR = Path(__file__).resolve().parent / "recipes"


@dataclass
class ScriptArguments(trl.ScriptArguments):
    """trl's dataset arguments (``dataset_name`` is a build folder, an original-files folder or a Hub id)
    plus the project's: which trainer, which data format, how to launch, and the evaluation after training."""

    trainer: str = field(default="sft", metadata={"help": f"which trainer runs the recipe: {', '.join(TRAINERS)}"})
    dataset_format: str = field(
        default="review5k-sft", metadata={"help": f"how rows become conversations: {', '.join(DATASET_FORMATS)}"}
    )
    dataset_revision: str | None = field(default=None, metadata={"help": "Hub revision (tag) of dataset_name"})
    max_train_samples: int | None = field(default=None, metadata={"help": "use at most this many training rows"})
    accelerate_config: str | None = field(
        default=None, metadata={"help": "accelerate config: a file, or a name in trainers/accelerate (zero2, zero3 ...)"}
    )
    # After training: a review evaluation of the trained model (reviewer recipes) and a leaderboard submission.
    eval_task: str | None = field(default=None, metadata={"help": "review task to evaluate the trained model on"})
    eval_data: str | None = field(default=None, metadata={"help": "dataset folder or Hub id of the eval task"})
    eval_split: str | None = field(default=None, metadata={"help": "split to evaluate (default: the task's)"})
    eval_revision: str | None = field(default=None, metadata={"help": "Hub revision of eval_data"})
    eval_protocol: str | None = field(default=None, metadata={"help": "review protocol (cyclereviewer, deepreviewer)"})
    eval_protocol_args: str | None = field(default=None, metadata={"help": "protocol options, k=v,..."})
    eval_task_args: str | None = field(
        default=None, metadata={"help": "task options, k=v,... (e.g. abstract_fallback=true,max_paper_tokens=1536)"}
    )
    eval_backend: str = field(default="hf", metadata={"help": "backend serving the trained model (hf, vllm)"})
    eval_model_args: str | None = field(default=None, metadata={"help": "extra backend args, k=v,..."})
    eval_limit: int | None = field(default=None, metadata={"help": "evaluate only the first N papers"})
    eval_max_tokens: int | None = field(default=None, metadata={"help": "override the protocol's max_tokens"})
    eval_n_resamples: int = field(default=10_000, metadata={"help": "bootstrap resamples of the evaluation"})


@dataclass
class SFTConfig(trl.SFTConfig):
    """trl's SFTConfig; ``recipe_name`` names the published recipe this run reproduces (kept in metadata)."""

    recipe_name: str | None = field(default=None, metadata={"help": "name of the recipe (e.g. cyclereviewer-8b-full)"})


@dataclass
class IterativeSimPOConfig(CPOConfig):
    """trl's CPOConfig (SimPO loss, ``cpo_alpha`` = lambda, ``simpo_gamma``, ``beta``) plus the loop's fields.

    The loop takes ``round_fraction`` of the training prompts per round, samples ``samples_per_prompt`` papers
    per prompt with the current policy, scores them with the reward judge, trains on best-vs-worst pairs and
    scores ``eval_prompts`` held-out prompts with the reward and the guard judge after every round.
    """

    loss_type: str = field(default="simpo", metadata={"help": "always simpo (trl's CPO trainer, SimPO loss)"})
    recipe_name: str | None = field(default=None, metadata={"help": "name of the recipe"})
    rounds: int = field(default=3, metadata={"help": "number of SimPO rounds"})
    round_fraction: float = field(default=1 / 3, metadata={"help": "share of the prompts each round uses"})
    samples_per_prompt: int = field(default=3, metadata={"help": "papers sampled per prompt"})
    generation_protocol: str = field(default="cycleresearcher", metadata={"help": "paper generation protocol"})
    generation_protocol_args: str | None = field(default=None, metadata={"help": "its options, k=v,..."})
    sampling_temperature: float = field(default=0.4, metadata={"help": "policy sampling temperature"})
    sampling_top_p: float = field(default=0.95, metadata={"help": "policy sampling top_p"})
    sampling_max_tokens: int = field(default=19_000, metadata={"help": "max new tokens per sampled paper"})
    max_prompt_tokens: int | None = field(
        default=None, metadata={"help": "cut each prompt's last user turn (the references) so that its turns hold "
                                        "at most this many tokens of the policy's tokenizer (cyclebench.truncation, "
                                        "head kept); counted per round in metrics.json. Default: no cut"}
    )
    sampling_stop: list[str] | None = field(default=None, metadata={"help": "stop strings (default: the protocol's)"})
    policy_backend: str = field(default="auto", metadata={"help": "auto (vllm on GPU when installed, else hf), vllm, hf"})
    policy_backend_args: str | None = field(default=None, metadata={"help": "extra backend args, k=v,..."})
    reward_protocol: str = field(default="cyclereviewer", metadata={"help": "protocol the reward judge reviews with"})
    reward_protocol_args: str | None = field(default=None, metadata={"help": "k=v,..."})
    reward_backend: str = field(default="vllm", metadata={"help": "backend of the frozen reward model"})
    reward_model_args: str | None = field(default=None, metadata={"help": "k=v,... (pretrained=...)"})
    reward_train_task: str | None = field(default=None, metadata={"help": "training task of a baseline reward judge"})
    reward_train_data: str | None = field(default=None, metadata={"help": "its data folder"})
    guard_protocol: str = field(default="deepreviewer", metadata={"help": "protocol of the second (guard) judge"})
    guard_protocol_args: str | None = field(default=None, metadata={"help": "k=v,..."})
    guard_backend: str = field(default="vllm", metadata={"help": "backend of the guard judge (not the reward)"})
    guard_model_args: str | None = field(default=None, metadata={"help": "k=v,..."})
    guard_train_task: str | None = field(default=None, metadata={"help": "training task of a baseline guard judge"})
    guard_train_data: str | None = field(default=None, metadata={"help": "its data folder"})
    judge_max_tokens: int | None = field(default=None, metadata={"help": "override both judges' max_tokens"})
    eval_prompts: int = field(default=64, metadata={"help": "held-out prompts scored by both judges each round"})
    eval_initial_policy: bool = field(default=True, metadata={"help": "also score the starting policy (round 0)"})
    sampling_chunk_size: int = field(
        default=256, metadata={"help": "requests per backend call; each call's answers are cached as it returns"}
    )
    measure_margins: bool = field(
        default=True, metadata={"help": "implicit reward margin on each round's pairs before/after training "
                                        "(two extra forward passes over the pairs)"}
    )
    train_launcher: str = field(
        default="in-process", metadata={"help": "in-process, or accelerate (each round's training as a launch)"}
    )
    round_num_processes: int | None = field(default=None, metadata={"help": "processes of each round's launch"})

    def __post_init__(self):
        if self.loss_type != "simpo":
            raise ValueError(f"IterativeSimPOConfig trains SimPO: loss_type must be 'simpo', not {self.loss_type!r}")
        if not 0 < self.round_fraction <= 1:
            raise ValueError(f"round_fraction must be in (0, 1], got {self.round_fraction}")
        if self.samples_per_prompt < 2:
            raise ValueError("samples_per_prompt must be >= 2 to form a pair")
        if self.rounds < 1:
            raise ValueError("rounds must be >= 1")
        if self.max_prompt_tokens is not None and (isinstance(self.max_prompt_tokens, bool)
                                                   or not isinstance(self.max_prompt_tokens, int)
                                                   or self.max_prompt_tokens < 1):
            raise ValueError(f"max_prompt_tokens must be a whole number of tokens >= 1, not {self.max_prompt_tokens!r}")
        if self.train_launcher not in ("in-process", "accelerate"):
            raise ValueError(f"train_launcher must be in-process or accelerate, not {self.train_launcher!r}")
        super().__post_init__()


CONFIG_CLASSES = {"sft": SFTConfig, "iterative-simpo": IterativeSimPOConfig}


@dataclass
class ModelArguments(ModelConfig):
    """trl's ModelConfig plus ``gguf_file``: a GGUF file inside ``model_name_or_path`` (a local folder, or
    ``installed:PKG``), read by transformers and dequantised to float32. The trained model is saved as a
    normal safetensors folder, so only the starting model is read from the GGUF."""

    gguf_file: str | None = field(default=None, metadata={"help": "GGUF file inside model_name_or_path"})


# ---------------------------------------------------------------------------------------------
# Recipes


def read_recipe(path: str | Path) -> dict[str, Any]:
    """The recipe's YAML mapping (no validation beyond its shape and the ``trainer`` key); a folder, a missing
    or unreadable file and invalid YAML (``python/object`` tags included) are one ``ValueError`` line."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"recipe {path} is a folder; expected a recipe YAML file (trainers/recipes/*.yaml)")
    if not path.is_file():
        raise FileNotFoundError(f"recipe not found: {path}")
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a recipe is a YAML mapping of field: value")
    kind = data.get("trainer", "sft")
    if kind not in TRAINERS:
        raise ValueError(f"{path}: trainer must be one of {', '.join(TRAINERS)}, not {kind!r}")
    return data


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML{yaml_problem(exc)}") from None
    except RecursionError:
        raise ValueError(f"{path}: invalid YAML: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits, which Python refuses to convert
        raise ValueError(f"{path}: a value cannot be read: {' '.join(str(exc).split())[:120]}") from None
    except OSError as exc:
        raise ValueError(f"cannot read recipe {path}: {exc.strerror or exc}") from None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """`` at line L, column C: problem`` of a YAML error, on one line."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"{where}: {' '.join(str(problem).split())[:200]}"


def recipe_fields(kind: str) -> dict[str, tuple[Any, Any]]:
    """Every key a recipe of ``kind`` may set: ``name -> (dataclass field, resolved type hint)``."""
    import dataclasses
    import typing

    out: dict[str, tuple[Any, Any]] = {}
    for cls in (ScriptArguments, CONFIG_CLASSES[kind], ModelArguments):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            out.setdefault(f.name, (f, hints.get(f.name, f.type)))
    return out


def text_fields(kind: str) -> frozenset[str]:
    """Keys whose value is a name or a path (type ``str`` or ``str | None``): kept as the exact text given."""
    return frozenset(name for name, (_, hint) in recipe_fields(kind).items() if _plain(hint)[0] is str)


# Numbers a recipe may not set to zero or less: each trains nothing or fails late, on the GPUs.
POSITIVE = frozenset({
    "learning_rate", "num_train_epochs", "per_device_train_batch_size", "per_device_eval_batch_size",
    "gradient_accumulation_steps", "eval_accumulation_steps", "max_length", "max_completion_length",
    "max_train_samples", "lora_r", "lora_alpha", "logging_steps", "save_steps", "eval_steps", "adam_epsilon",
    "beta", "rounds", "samples_per_prompt", "sampling_max_tokens", "sampling_chunk_size", "round_num_processes",
    "judge_max_tokens", "max_prompt_tokens", "eval_limit", "eval_max_tokens", "eval_n_resamples", "dataset_num_proc",
    "dataloader_prefetch_factor", "torch_empty_cache_steps", "ddp_timeout",
})
# Numbers with a bounded range.
RANGES: dict[str, tuple[float, float, bool, bool, str]] = {  # low, high, low included, high included, shown
    "lora_dropout": (0.0, 1.0, True, False, "in [0, 1)"),
    "adam_beta1": (0.0, 1.0, True, False, "in [0, 1)"),
    "adam_beta2": (0.0, 1.0, True, False, "in [0, 1)"),
    "sampling_top_p": (0.0, 1.0, False, True, "in (0, 1]"),
    "round_fraction": (0.0, 1.0, False, True, "in (0, 1]"),
}
# Every other number must be >= 0, except those whose default is negative (-1 means "not set": max_steps,
# local_rank) and AlphaPO's alpha, which may be negative.
MAY_BE_NEGATIVE = frozenset({"alpha"})
# Text fields that also take true/false (``resume_from_checkpoint: true`` = the latest checkpoint).
TEXT_OR_SWITCH = frozenset({"resume_from_checkpoint"})


def check_values(kind: str, values: Mapping[Any, Any], where: str) -> None:
    """Every key a field of the recipe's dataclasses and every value of the field's type: numbers finite and
    in range (POSITIVE, RANGES, else >= 0), switches true/false, names text. One ``ValueError`` line listing
    every problem, prefixed with ``where`` (the recipe's path, or ``--set``)."""
    import difflib

    fields = recipe_fields(kind)
    problems = []
    for key, value in values.items():
        if not isinstance(key, str):
            problems.append(f"key {key!r} is not a field name")
        elif key not in fields:
            near = difflib.get_close_matches(key, list(fields), n=1)
            problems.append(f"unknown key {key!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
        else:
            field_, hint = fields[key]
            problem = value_problem(key, hint, field_.default, value)
            if problem:
                problems.append(problem)
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))


def value_problem(name: str, hint: Any, default: Any, value: Any) -> str | None:
    """What is wrong with ``value`` for the field ``name`` of type ``hint``, or None."""
    kind, optional = _plain(hint)
    if value is None:
        return None if optional or kind is None else f"{name}: null is not allowed (remove the key instead)"
    if kind is bool:
        return None if isinstance(value, bool) else f"{name}: {value!r} is not true or false"
    if kind is str:
        if isinstance(value, str) or (isinstance(value, bool) and name in TEXT_OR_SWITCH):
            return None
        return f"{name}: {value!r} is read as {type(value).__name__}; write a name or path in quotes"
    if kind not in (int, float):
        return None
    if isinstance(value, str):
        return f"{name}: {value!r} is a string, not a number (YAML needs 4.0e-05, not 4e-5)"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{name}: {value!r} is not a number"
    if kind is int and not isinstance(value, int):
        return f"{name}: {value!r} is not a whole number"
    if not math.isfinite(value):
        return f"{name}: {value!r} is not a finite number"
    return _range_problem(name, default, value)


def _range_problem(name: str, default: Any, value: float) -> str | None:
    if name in RANGES:
        low, high, low_in, high_in, shown = RANGES[name]
        inside = (low <= value if low_in else low < value) and (value <= high if high_in else value < high)
        return None if inside else f"{name}: {value!r} must be {shown}"
    if name in POSITIVE:
        return None if value > 0 else f"{name}: {value!r} must be > 0"
    negative_default = isinstance(default, (int, float)) and not isinstance(default, bool) and default < 0
    if value < 0 and not negative_default and name not in MAY_BE_NEGATIVE:
        return f"{name}: {value!r} must be >= 0"
    return None


def _plain(hint: Any) -> tuple[Any, bool]:
    """``(bool|int|float|str, optional)`` for a simple field type (``X`` or ``X | None``; an int field takes
    an int, a float field an int or a float); ``(None, optional)`` for anything else (unions, lists, enums)."""
    import types
    import typing

    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        optional = len(rest) < len(args)
        return (rest[0] if len(rest) == 1 and rest[0] in (bool, int, float, str) else None), optional
    return (hint if hint in (bool, int, float, str) else None), False


def check_recipe(path: str | Path) -> dict[str, Any]:
    """Check a recipe without building the training config (which also checks the hardware, so a bf16 recipe
    would fail on a CPU login node): see :func:`check_values` (YAML reads ``4e-5`` as a string; write
    ``4.0e-05``). Returns the mapping."""
    data = read_recipe(path)
    check_values(data.get("trainer", "sft"), data, str(path))
    return data


def override_argv(overrides: Mapping[str, Any] | None) -> list[str]:
    """``{"max_steps": 2, "bf16": False}`` as flags (``--max_steps 2 --bf16 false``) for trl's parser."""
    import json

    argv: list[str] = []
    for key, value in (overrides or {}).items():
        if value is None:
            raise ValueError(f"override {key}: None cannot be given as a flag; remove the key from the recipe instead")
        argv.append(f"--{key}")
        if isinstance(value, bool):
            argv.append("true" if value else "false")
        elif isinstance(value, (list, tuple)):
            argv.extend(str(v) for v in value)
        elif isinstance(value, dict):
            argv.append(json.dumps(value))
        else:
            argv.append(str(value))
    return argv


def parser_for(kind: str):
    from trl import TrlParser

    return TrlParser((ScriptArguments, CONFIG_CLASSES[kind], ModelArguments))


def parse_recipe(path: str | Path, overrides: Mapping[str, Any] | Sequence[str] | None = None):
    """``(script_args, training_args, model_args)`` of a recipe, with overrides (a mapping or flags) on top."""
    kind = read_recipe(path).get("trainer", "sft")
    argv = list(overrides) if isinstance(overrides, (list, tuple)) else override_argv(overrides)
    return parse_argv(["--config", str(path), *argv], kind=kind)


def parse_argv(argv: Sequence[str], *, kind: str):
    argv = list(argv)
    parsed = parser_for(kind).parse_args_and_config(argv)
    script_args = parsed[0]
    if script_args.trainer != kind:
        raise ValueError(f"this recipe is for trainer {script_args.trainer!r}, not {kind!r}")
    if script_args.dataset_format not in DATASET_FORMATS:
        raise ValueError(f"dataset_format must be one of {', '.join(DATASET_FORMATS)}, not {script_args.dataset_format!r}")
    return parsed


def parse_recipe_argv(kind: str, argv: Sequence[str] | None = None):
    """For ``python -m cyclebench.trainers.<module> --config RECIPE.yaml [--flag value ...]``."""
    return parse_argv(sys.argv[1:] if argv is None else argv, kind=kind)


def resolve_accelerate_config(name: str | None) -> Path | None:
    """A file path as given, or ``zero3`` -> ``trainers/accelerate/zero3.yaml``; None stays None."""
    if name is None or str(name).lower() in ("", "none"):
        return None
    path = Path(name)
    if path.is_file():
        return path
    shipped = ACCELERATE_DIR / (path.name if path.suffix == ".yaml" else f"{name}.yaml")
    if shipped.is_file():
        return shipped
    known = ", ".join(sorted(p.stem for p in ACCELERATE_DIR.glob("*.yaml")))
    raise FileNotFoundError(f"accelerate config {name!r} not found (shipped: {known})")


def shipped_recipes() -> list[str]:
    """The recipe names installed with the package (``cyclereviewer-8b-full``, ...), sorted."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def resolve_recipe(name: str | Path) -> Path:
    """A recipe file as given when it is a file, else a shipped recipe by name (``cyclereviewer-8b-full`` or
    ``cyclereviewer-8b-full.yaml``), so an installed package finds its recipes without a checkout. An unknown
    name is a ``FileNotFoundError`` naming the close matches."""
    import difflib

    if not str(name).strip():
        raise ValueError("give a recipe file or name (`cyclebench train --list` lists the shipped ones)")
    path = Path(name)
    if path.is_file():
        return path
    if len(path.parts) == 1:  # a bare name; a folder of that name (a run's output, often) does not hide it
        stem = path.name.removesuffix(".yaml")
        shipped = RECIPES_DIR / f"{stem}.yaml"
        if stem and shipped.is_file():
            return shipped
    if path.exists():
        return path  # a folder: read_recipe says so
    if len(path.parts) == 1:
        close = difflib.get_close_matches(stem, shipped_recipes(), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `cyclebench train --list` lists the shipped ones"
        raise FileNotFoundError(f"recipe {str(name)!r} is neither a file nor a shipped recipe{hint}")
    raise FileNotFoundError(f"recipe file {str(name)!r} not found")


def smoke_overrides(kind: str, *, cuda: bool = False) -> dict[str, Any]:
    """Shrink a recipe to a few CPU-sized steps (the model and data are still the caller's to give)."""
    common = {
        "per_device_train_batch_size": 1, "gradient_accumulation_steps": 1, "gradient_checkpointing": False,
        "bf16": False, "use_cpu": not cuda, "save_strategy": "no", "report_to": "none", "logging_steps": 1,
        "dtype": "float32", "attn_implementation": "sdpa", "dataloader_num_workers": 0, "seed": 0,
    }
    if kind == "sft":
        return {**common, "max_steps": 2, "max_length": 1024, "packing": False, "eval_limit": 2,
                "eval_max_tokens": 16, "eval_n_resamples": 200, "max_train_samples": 8}
    return {**common, "rounds": 2, "samples_per_prompt": 3, "sampling_max_tokens": 48, "eval_prompts": 2,
            "max_length": 512, "num_train_epochs": 1, "policy_backend": "hf", "policy_backend_args": "",
            "train_launcher": "in-process"}
