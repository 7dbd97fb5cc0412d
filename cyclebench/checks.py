"""Checks of user-given settings, shared by the config dataclasses and the command line.

A config field may carry a range check in its metadata (``field(default=0.1, metadata=fraction())``).
``validate_fields`` runs the type and range checks of every field (a config's ``__post_init__`` calls it),
and the CLI turns the same checks into argparse types, so a flag, a YAML key and a Python argument are
refused by one rule with one message. Text is read strictly: ``"1e3"`` is not an integer, a 5000-digit
number is refused before it is converted, NaN and infinity are not numbers a setting can take.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[str, Any], None]

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,18}")


# ---------------------------------------------------------------------------------------------
# Range checks, as field metadata


def _metadata(check: Check, describe: str) -> Mapping[str, Any]:
    return {"check": check, "describe": describe}


def at_least(low: float) -> Mapping[str, Any]:
    """Metadata for a number that must be >= ``low``."""

    def check(name: str, value: Any) -> None:
        if value < low:
            raise ValueError(f"{name} must be >= {low}, not {value!r}")

    return _metadata(check, f">= {low}")


def between(low: float, high: float) -> Mapping[str, Any]:
    """Metadata for a number in the closed range [low, high] (for a tuple: each item)."""

    def check(name: str, value: Any) -> None:
        if not low <= value <= high:
            raise ValueError(f"{name} must be in {low}..{high}, not {value!r}")

    return _metadata(check, f"in {low}..{high}")


def fraction() -> Mapping[str, Any]:
    """Metadata for a share of papers: 0 <= value < 1 (1 would put every paper in one split)."""

    def check(name: str, value: Any) -> None:
        if not 0 <= value < 1:
            raise ValueError(f"{name} must be a fraction in [0, 1), not {value!r}")

    return _metadata(check, "in [0, 1)")


def one_of(choices: tuple[str, ...]) -> Mapping[str, Any]:
    """Metadata for a string (or each string of a tuple) from a fixed set."""

    def check(name: str, value: Any) -> None:
        if value not in choices:
            raise ValueError(f"{name}: {value!r} is not one of {', '.join(choices)}")

    return _metadata(check, f"one of {', '.join(choices)}")


def non_empty() -> Mapping[str, Any]:
    """Metadata for a string that must say something."""

    def check(name: str, value: Any) -> None:
        if not value.strip():
            raise ValueError(f"{name} must not be empty")

    return _metadata(check, "non-empty")


# ---------------------------------------------------------------------------------------------
# Types


def check_type(name: str, hint: Any, value: Any) -> Any:
    """``value`` if it has the type ``hint`` names (a list stands for a tuple); else ``ValueError``.

    bool is not an int here, an int is a float, a float must be finite, and ``X | None`` allows None.
    """
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return value
        hint = next(a for a in args if a is not type(None))
        return check_type(name, hint, value)
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(f"{name}: {value!r} is not one of {', '.join(map(str, args))}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{name} must be a list, not {_kind(value)}")
        return tuple(check_type(f"{name}[{i}]", args[0], item) for i, item in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, not {_kind(value)}")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, not {_kind(value)}")
        return value
    if hint is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"{name} must be a number, not {_kind(value)}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, not {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, not {_kind(value)}")
        return value
    return value


def _kind(value: Any) -> str:
    """A value for an error message: short, and never ``str()`` of a huge int (which raises)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def check_value(field: dataclasses.Field[Any], name: str, value: Any) -> None:
    """The field's range check (metadata ``check``) on a typed value, on each item of a tuple."""
    check = field.metadata.get("check")
    if check is None or value is None:
        return
    for item in value if isinstance(value, tuple) else (value,):
        check(name, item)


def validate_fields(config: Any) -> None:
    """Type and range of every field of a config dataclass; the first problem raises ``ValueError``."""
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        value = check_type(field.name, hints[field.name], getattr(config, field.name))
        check_value(field, field.name, value)


# ---------------------------------------------------------------------------------------------
# Text (command-line values)


def parse_int(text: str) -> int:
    """An integer written in decimal digits (at most 18: no setting needs more, and none converts slowly)."""
    if not _INTEGER_TEXT.fullmatch(text.strip()):
        raise ValueError(f"expected an integer, got {text[:40]!r}")
    return int(text)


def parse_float(text: str) -> float:
    """A finite number (``nan``, ``inf`` and overflowing numbers are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text[:40]!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {text[:40]!r}")
    return value


def parse_text(hint: Any, text: str) -> Any:
    """One command-line word as the scalar type ``hint`` names (int, float, or left as text)."""
    if hint is int:
        return parse_int(text)
    if hint is float:
        return parse_float(text)
    return text
