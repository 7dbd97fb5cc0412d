"""argparse types for the numbers every subcommand takes, checked when the command line is parsed.

A bad number (``--limit -1``, ``--bootstrap 0``, ``--test-fraction 1.5``, ``--seed 1e3``) is refused by
argparse itself: exit 2 with the usage and one ``error:`` line naming the flag, before anything runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from cyclebench.checks import parse_float, parse_int


def _arg_type(name: str, parse: Callable[[str], Any], ok: Callable[[Any], bool], rule: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, not {text[:40]!r}")
        return value

    convert.__name__ = name
    return convert


positive_int = _arg_type("positive_int", parse_int, lambda v: v >= 1, "an integer >= 1")
non_negative_int = _arg_type("non_negative_int", parse_int, lambda v: v >= 0, "an integer >= 0")
port = _arg_type("port", parse_int, lambda v: 1 <= v <= 65535, "a port number in 1..65535")
finite_float = _arg_type("finite_float", parse_float, lambda v: True, "a finite number")
open_fraction = _arg_type("fraction", parse_float, lambda v: 0 < v < 1, "a fraction in (0, 1)")
