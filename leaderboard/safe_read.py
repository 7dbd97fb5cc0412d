"""Read submission files as bounded, inert data.

A submission comes from a stranger's pull request, so nothing in it is executed or trusted before it is
checked: a file's size is checked (``lstat``, links refused) before a byte is parsed, JSON is strict (no
NaN/Infinity, no repeated keys), YAML is the safe subset without aliases and with dates left as strings,
and JSONL is read line by line with a per-line and a row limit. Every value read is then plain data
(:func:`plain_data_problem`): string keys, finite numbers a float can hold (``1e999`` reads as infinity, a
400-digit integer overflows every float comparison), text without lone surrogates (it cannot be written as
UTF-8). Every failure is a :class:`ReadError` with a code and a message that names the file, the line and
the limit.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

# Documented limits (README of leaderboard/submissions repeats them). A run of a few thousand papers with
# raw outputs fits; a submission that needs more should be split by split.
MAX_METADATA_BYTES = 64 * 1024
MAX_RESULTS_BYTES = 2 * 1024 * 1024
MAX_PREDICTIONS_BYTES = 32 * 1024 * 1024
MAX_SUBMISSION_BYTES = 33 * 1024 * 1024
MAX_PREDICTION_LINE_BYTES = 1024 * 1024
MAX_PREDICTION_ROWS = 100_000

FILE_LIMITS = {
    "metadata.yaml": MAX_METADATA_BYTES,
    "results.json": MAX_RESULTS_BYTES,
    "predictions.jsonl": MAX_PREDICTIONS_BYTES,
}


class ReadError(ValueError):
    """A file that cannot be read as the data it should be; ``code`` groups the failures."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def regular_file_size(path: Path) -> int:
    """Size of a regular file; a link, folder or device is refused (a link could point anywhere)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise ReadError("missing_file", f"{path.name} is missing") from None
    if stat.S_ISLNK(info.st_mode):
        raise ReadError("not_a_file", f"{path.name} is a symbolic link; submissions hold plain files only")
    if not stat.S_ISREG(info.st_mode):
        raise ReadError("not_a_file", f"{path.name} is not a plain file")
    return info.st_size


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a plain file of at most ``limit`` bytes."""
    size = regular_file_size(path)
    if size > limit:
        raise ReadError("too_large", f"{path.name} is {size:,} bytes; the limit is {limit:,} bytes")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew between the check and the read
        raise ReadError("too_large", f"{path.name} is over {limit:,} bytes")
    return data


def decode_utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReadError("malformed", f"{name}: not UTF-8 (byte {error.start})") from None


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"repeated key {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _where(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(top level)"


def _number_problem(value: float) -> str | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a finite number (1e999 and the like read as infinity)"
    try:
        float(value)
    except OverflowError:
        return f"an integer of {len(str(abs(value)))} digits is too large for a number"
    return None


def plain_data_problem(value: Any) -> str | None:
    """Why ``value`` (as JSON or YAML read it) is not plain data the checks can compare, or None: a key that
    is not a string, a number that is not finite or too large for a float, a string with a lone surrogate.
    Walked without recursion (the parsers already bound nesting)."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"at {_where(path)}: the key {key!r} is not a string"
                stack.append(((*path, key), child))
        elif isinstance(item, list):
            stack.extend(((*path, i), child) for i, child in enumerate(item))
        elif isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return f"at {_where(path)}: the text holds a lone surrogate (not a Unicode character)"
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            why = _number_problem(item)
            if why:
                return f"at {_where(path)}: {why}"
    return None


def _plain(value: Any, name: str) -> Any:
    why = plain_data_problem(value)
    if why:
        raise ReadError("malformed", f"{name} {why}")
    return value


def loads_json(text: str, name: str) -> Any:
    """Strict JSON: a repeated key or NaN/Infinity is an error, not a silent last-wins or a float; the value
    read must be plain data (:func:`plain_data_problem`)."""
    try:
        value = json.loads(text, object_pairs_hook=_no_repeated_keys, parse_constant=_no_constants)
    except json.JSONDecodeError as error:
        raise ReadError("malformed", f"{name}: malformed JSON at line {error.lineno} column {error.colno}: "
                                     f"{error.msg}") from None
    except ValueError as error:
        raise ReadError("malformed", f"{name}: {error}") from None
    except RecursionError:
        raise ReadError("malformed", f"{name}: JSON nested too deeply") from None
    return _plain(value, name)


def read_json(path: Path, limit: int) -> Any:
    return loads_json(decode_utf8(read_bounded(path, limit), path.name), path.name)


def _plain_loader() -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class PlainLoader(base):  # type: ignore[misc, valid-type]
        """Safe YAML whose dates stay strings (a JSON Schema then checks them like any other string)."""

    PlainLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return PlainLoader


def loads_yaml_mapping(text: str, name: str) -> dict[str, Any]:
    """A YAML mapping read with the safe loader; aliases are refused (they can expand a small file into a
    huge structure), as are tags the safe loader does not know (no Python objects)."""
    import yaml

    try:
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                raise ReadError("malformed", f"{name}: YAML aliases are not allowed (line {mark.line + 1})")
        value = yaml.load(text, Loader=_plain_loader())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ReadError("malformed", f"{name}: malformed YAML{where}: {problem}") from None
    if not isinstance(value, dict):
        raise ReadError("malformed", f"{name}: expected a YAML mapping at the top, got {type(value).__name__}")
    return _plain(value, name)


def read_yaml_mapping(path: Path, limit: int) -> dict[str, Any]:
    return loads_yaml_mapping(decode_utf8(read_bounded(path, limit), path.name), path.name)


def parse_jsonl(text: str, name: str, *, max_rows: int = MAX_PREDICTION_ROWS,
                max_line_bytes: int = MAX_PREDICTION_LINE_BYTES) -> tuple[list[tuple[int, Any]], list[str]]:
    """``([(line number, value)], [error per bad line])``; a blank line (other than the file's last
    newline) is an error, so every line either is a record or is reported."""
    rows: list[tuple[int, Any]] = []
    errors: list[str] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > max_rows:
        raise ReadError("too_large", f"{name} has {len(lines):,} lines; the limit is {max_rows:,}")
    for line_no, line in enumerate(lines, start=1):
        if len(line.encode("utf-8")) > max_line_bytes:
            errors.append(f"{name} line {line_no}: longer than {max_line_bytes:,} bytes")
            continue
        if not line.strip():
            errors.append(f"{name} line {line_no}: blank line")
            continue
        try:
            rows.append((line_no, loads_json(line, f"{name} line {line_no}")))
        except ReadError as error:
            errors.append(error.message)
    return rows, errors
