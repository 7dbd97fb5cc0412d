"""Flags from a config dataclass, so a flag, a YAML key and a Python field are one name."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

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
        if hint is bool:
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                               help=f"default: {default}")
        elif origin is tuple:
            item = typing.get_args(hint)[0]
            group.add_argument(flag, dest=f.name, type=item, nargs="+", default=None, help=f"default: {default}")
        elif origin is typing.Literal:
            group.add_argument(flag, dest=f.name, choices=typing.get_args(hint), default=None,
                               help=f"default: {default}")
        else:
            group.add_argument(flag, dest=f.name, type=hint, default=None, help=f"default: {default}")
    parser.add_argument("--config", type=Path, default=None, help="YAML file of config fields; flags override it")


def dataclass_from_arguments(cls: type[T], args: argparse.Namespace) -> T:
    """YAML values first, then every flag the user gave; unknown YAML keys are an error."""
    values: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(cls)}
    if getattr(args, "config", None):
        loaded = yaml.safe_load(Path(args.config).read_text()) or {}
        if not isinstance(loaded, dict):
            raise SystemExit(f"{args.config}: expected a mapping of config fields")
        unknown = sorted(set(loaded) - names)
        if unknown:
            raise SystemExit(f"{args.config}: unknown config keys {unknown}; known: {sorted(names)}")
        values.update(loaded)
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        if typing.get_origin(hints[name]) is tuple and isinstance(value, list):
            values[name] = tuple(value)
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"invalid {cls.__name__}: {exc}") from exc
