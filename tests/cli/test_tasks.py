"""``cyclebench tasks`` lists every registered task, protocol and backend, and loads no model library."""

from __future__ import annotations

import json
import subprocess
import sys

from cyclebench.backends.base import BACKENDS
from cyclebench.cli import main
from cyclebench.protocols import available_protocols
from cyclebench.protocols.base import available_pairwise_protocols
from cyclebench.tasks import TASKS


def test_every_registered_name_has_one_line(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line for line in lines if not line.startswith("  ")] == ["tasks:", "protocols:", "backends:"]
    for name in [*TASKS, "research-14k", *available_protocols(), *BACKENDS]:
        (line,) = [line for line in lines if line.split()[:1] == [name]]
        assert len(line.split(None, 1)) == 2, f"{name} has no description"


def test_json_names_match_the_registries(capsys):
    assert main(["tasks", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in found["tasks"] if t["kind"] == "review"] == list(TASKS)
    assert {p["name"] for p in found["protocols"]} == {*available_protocols(), *available_pairwise_protocols()}
    assert [b["name"] for b in found["backends"]] == list(BACKENDS)
    assert all(entry["about"] for section in found.values() for entry in section)


def test_listing_loads_no_model_library():
    code = ("import sys; from cyclebench.cli.tasks import catalogue; catalogue(); "
            "print(sorted(m for m in ('torch', 'transformers', 'vllm', 'openai') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
