"""Published reference numbers (``reported.json``): rows labelled "reported", never re-run.

The file names the source of every row; this module checks its shape (kinds, column keys, numbers in a
plausible range, a named source) so a typo in the data fails the tests instead of showing on the site.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files

from cyclebench.leaderboard.columns import COLUMNS


@dataclass(frozen=True)
class ReportedRow:
    kind: str
    task: str
    split: str
    model: str
    source: str  # the source's description, not its key
    figures: dict[str, float]
    role: str = "model"  # "model" | "human": a published human row is still labelled "reported"
    judge: str | None = None
    note: str = ""


def load_reported(text: str | None = None) -> list[ReportedRow]:
    """The rows of ``reported.json`` (or of ``text``), checked; a bad entry raises ValueError."""
    data = json.loads(text if text is not None else (files("cyclebench.leaderboard") / "reported.json").read_text(encoding="utf-8"))
    sources = data.get("sources") or {}
    rows = []
    for i, row in enumerate(data.get("rows") or []):
        where = f"reported.json rows[{i}]"
        unknown = set(row) - {"kind", "task", "split", "model", "source", "figures", "role", "judge", "note"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        kind = row.get("kind")
        if kind not in COLUMNS:
            raise ValueError(f"{where}: kind must be one of {sorted(COLUMNS)}, got {kind!r}")
        if row.get("source") not in sources:
            raise ValueError(f"{where}: source {row.get('source')!r} is not named in 'sources'")
        keys = {c.key for c in COLUMNS[kind]}
        figures = row.get("figures") or {}
        if not figures or set(figures) - keys:
            raise ValueError(f"{where}: figures must use the {kind} columns {sorted(keys)}, got {sorted(figures)}")
        for key, value in figures.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1.0 <= value <= 100.0:
                raise ValueError(f"{where}: figure {key} = {value!r} is not a plausible number")
        if row.get("role", "model") not in ("model", "human"):
            raise ValueError(f"{where}: role must be 'model' or 'human'")
        rows.append(ReportedRow(kind=kind, task=row["task"], split=row["split"], model=row["model"],
                                source=sources[row["source"]], figures={k: float(v) for k, v in figures.items()},
                                role=row.get("role", "model"), judge=row.get("judge"), note=row.get("note", "")))
    return rows
