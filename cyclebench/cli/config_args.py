"""Flags from a config dataclass, so a flag, a YAML key and a Python field are one name and one rule.

Flag values are checked when the command line is parsed (type, then the field's range check from
``cyclebench.checks``), so ``--test-fraction 1.5`` exits 2 before anything runs. A ``--config`` YAML file
is checked against the same dataclass: unknown keys, wrong types and out-of-range numbers are one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from cyclebench.checks import check_type, check_value, parse_text

T = TypeVar("T")


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type, *, skip: tuple[str, ...] = ()) -> None:
    group = parser.add_argument_group(f"{cls.__name__} (also settable in --config YAML)")
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        hint = hints[f.name]
        origin = typing.get_origin(hint)
        default = f.default if f.default is not dataclasses.MISSING else None
        help_text = f"default: {default}" + (f"; {f.metadata['describe']}" if "describe" in f.metadata else "")
        if hint is bool:
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif origin is tuple:
            item = typing.get_args(hint)[0]
            group.add_argument(flag, dest=f.name, type=field_type(f, item, flag), nargs="+", default=None,
                               help=help_text)
        elif origin is typing.Literal:
            group.add_argument(flag, dest=f.name, choices=typing.get_args(hint), default=None, help=help_text)
        else:
            group.add_argument(flag, dest=f.name, type=field_type(f, hint, flag), default=None, help=help_text)
    parser.add_argument("--config", type=Path, default=None, help="YAML file of config fields; flags override it")


def field_type(field: dataclasses.Field[Any], hint: Any, flag: str) -> Any:
    """An argparse type for one field (or one item of a tuple field): parse the word, then range-check it."""

    def convert(text: str) -> Any:
        try:
            value = parse_text(hint, text)
            check_value(field, "value", value)  # argparse names the flag: "argument --seed: value must be ..."
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    convert.__name__ = getattr(hint, "__name__", "value")
    return convert


def load_config_file(path: Path, cls: type) -> dict[str, Any]:
    """The YAML mapping of ``path``, its keys checked against ``cls`` and its values typed; else ``ValueError``."""
    if path.is_dir():
        raise ValueError(f"--config {path} is a folder; expected a YAML file")
    if not path.is_file():
        raise FileNotFoundError(f"--config {path} not found")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ValueError(f"{path}: invalid YAML{where}: {problem}") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits, which Python refuses to convert
        raise ValueError(f"{path}: a value cannot be read: {' '.join(str(exc).split())[:120]}") from None
    except RecursionError:  # "[[[[..." nested deeper than the YAML parser goes
        raise ValueError(f"{path}: invalid YAML: nested too deeply") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: expected a mapping of config fields, not a {type(loaded).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(str(k) for k in loaded if k not in fields)
    if unknown:
        raise ValueError(f"{path}: unknown config keys {unknown}; known: {sorted(fields)}")
    values = {}
    for name, value in loaded.items():
        try:
            values[name] = check_type(name, hints[name], value)
            check_value(fields[name], name, values[name])
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    return values


def dataclass_from_arguments(cls: type[T], args: argparse.Namespace) -> T:
    """YAML values first, then every flag the user gave; any bad value is one ``ValueError`` line."""
    values: dict[str, Any] = {}
    if getattr(args, "config", None):
        values.update(load_config_file(Path(args.config), cls))
    for f in dataclasses.fields(cls):
        value = getattr(args, f.name, None)
        if value is not None:
            values[f.name] = value
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        if typing.get_origin(hints[name]) is tuple and isinstance(value, list):
            values[name] = tuple(value)
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"invalid {cls.__name__}: {exc}") from None
