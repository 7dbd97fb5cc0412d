"""``cyclebench tasks``: what ``evaluate`` can be given: tasks, protocols and backends, one line each."""

from __future__ import annotations

import argparse
import importlib
import json
from typing import Any


def _summary(spec: str) -> str:
    """First docstring line of a registered ``"module:Class"`` (the class's, else its module's)."""
    module_name, _, class_name = spec.partition(":")
    module = importlib.import_module(module_name)
    for doc in (getattr(getattr(module, class_name, None), "__doc__", None), module.__doc__):
        if doc and doc.strip():
            return doc.strip().splitlines()[0].strip()
    return ""


def catalogue() -> dict[str, list[dict[str, Any]]]:
    """Every registered task, generation task, protocol and backend with one line about it; importing a
    backend's module loads no model library (they are imported when a backend is built)."""
    from cyclebench.backends.base import BACKENDS
    from cyclebench.generation import GENERATION_TASKS
    from cyclebench.protocols import available_protocols
    from cyclebench.protocols.base import available_pairwise_protocols, protocol_spec
    from cyclebench.tasks import TASKS

    return {
        "tasks": [{"name": t.name, "kind": "review", "splits": list(t.splits), "eval_split": t.eval_split,
                   "about": t.description} for t in TASKS.values()]
                 + [{"name": name, "kind": "generation", "about": "paper generation prompts"}
                    for name in GENERATION_TASKS],
        "protocols": [{"name": name, "about": _summary(protocol_spec(name))} for name in available_protocols()]
                     + [{"name": name, "kind": "pairwise", "about": _summary(protocol_spec(name))}
                        for name in available_pairwise_protocols()],
        "backends": [{"name": name, "about": _summary(spec)} for name, spec in BACKENDS.items()],
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the catalogue as JSON")


def run(args: argparse.Namespace) -> int:
    found = catalogue()
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for section, entries in found.items():
        print(f"{section}:")
        width = max(len(e["name"]) for e in entries)
        for entry in entries:
            kind = {"generation": " [evaluate generator]", "pairwise": " [evaluate pairwise]"}.get(entry.get("kind", ""), "")
            print(f"  {entry['name']:<{width}}  {entry['about']}{kind}")
    return 0
