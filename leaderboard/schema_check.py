"""JSON Schema checks of submission files, with messages that say which file, where and what.

The schemas live in ``leaderboard/schemas/`` (package data), one file per document kind and
``schema_version``: ``metadata.v1``, ``results.v1``, ``prediction-review.v1``, ``prediction-generator.v1``.
A new version adds files beside the old ones, so old submissions keep validating against the schema
they were written for.

"integer" means an integer as JSON writes it: ``200.0`` is not one. (JSON Schema lets a float with a zero
fraction pass as an integer; the checks after the schema would then hand a float to ``range`` or to a
seed, so the validator is stricter than the standard here.)
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from typing import Any

SUPPORTED_VERSIONS = (1,)
# The metadata's free-text fields (model.name, authors, description) exclude control characters (C0, C1,
# DEL), bidirectional overrides and U+FFFE/U+FFFF: they end up in SVG labels, which such characters break.
PLAIN_TEXT_PATTERN_START = "^[^\\u0000-"
SCHEMA_FILES = {
    "metadata": "metadata.v{version}.schema.json",
    "results": "results.v{version}.schema.json",
    "prediction-review": "prediction-review.v{version}.schema.json",
    "prediction-generator": "prediction-generator.v{version}.schema.json",
}


def schema_text(name: str) -> str:
    return (files("cyclebench.leaderboard") / "schemas" / name).read_text(encoding="utf-8")


@cache
def _registry() -> Any:
    from referencing import Registry, Resource

    resources = []
    for pattern in SCHEMA_FILES.values():
        for version in SUPPORTED_VERSIONS:
            schema = json.loads(schema_text(pattern.format(version=version)))
            resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def _is_strict_integer(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _strict_validator_class() -> Any:
    """Draft 2020-12 with "integer" meaning a JSON integer, not a float with a zero fraction."""
    from jsonschema import Draft202012Validator, validators

    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer)
    return validators.extend(Draft202012Validator, type_checker=checker)


@cache
def validator(kind: str, version: int) -> Any:
    """A Draft 2020-12 validator (strict integers) for one document kind and schema version."""
    schema = json.loads(schema_text(SCHEMA_FILES[kind].format(version=version)))
    cls = _strict_validator_class()
    cls.check_schema(schema)
    return cls(schema, registry=_registry())


def _where(path: Any) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in path]
    return "".join(parts).lstrip(".") or "(top level)"


def _message(error: Any) -> str:
    """jsonschema's message, except for the plain-text patterns, whose regex says little to a submitter."""
    if error.validator == "pattern" and str(error.validator_value).startswith(PLAIN_TEXT_PATTERN_START):
        forbidden = "[" + error.validator_value[len("^[^"):-len("]*$")] + "]"  # "^[^X]*$" -> "[X]"
        match = re.search(forbidden, error.instance)
        if match:
            return (f"{_short(repr(error.instance), 120)} holds the control character U+{ord(match.group()):04X} at "
                    f"position {match.start()}; names, authors and descriptions are plain text")
    return _short(error.message)


def schema_errors(instance: Any, kind: str, version: int, label: str, limit: int = 20) -> list[str]:
    """Messages for every schema violation (the first ``limit``, then a count of the rest)."""
    errors = sorted(validator(kind, version).iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    out = [f"{label} at {_where(e.absolute_path)}: {_message(e)}" for e in errors[:limit]]
    if len(errors) > limit:
        out.append(f"{label}: {len(errors) - limit} more schema violations")
    return out


def _short(message: str, width: int = 300) -> str:
    return message if len(message) <= width else message[: width - 3] + "..."


def document_version(document: Any, label: str) -> tuple[int | None, str | None]:
    """``(schema_version, None)`` or ``(None, why not)``; checked before picking the schema."""
    if not isinstance(document, dict):
        return None, f"{label}: expected a JSON/YAML object at the top, got {type(document).__name__}"
    version = document.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        return None, f"{label}: schema_version must be an integer (supported: {list(SUPPORTED_VERSIONS)}), got {version!r}"
    if version not in SUPPORTED_VERSIONS:
        return None, f"{label}: schema_version {version} is not supported (supported: {list(SUPPORTED_VERSIONS)})"
    return version, None
