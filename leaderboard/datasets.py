"""The local dataset builds a validation re-scores against (``--data TASK=PATH``), named by fingerprint."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cyclebench.leaderboard.outcome import Problem


def parse_data_options(values: list[str]) -> dict[str, list[Path]]:
    """``["TASK=PATH", ...]`` -> ``{task: [path, ...]}``; a malformed entry or a missing folder is an error."""
    out: dict[str, list[Path]] = {}
    for value in values:
        task, sep, path = value.partition("=")
        if not sep or not task.strip() or not path.strip():
            raise ValueError(f"--data takes TASK=PATH, got {value!r}")
        folder = Path(path.strip())
        if not folder.is_dir():
            raise ValueError(f"--data {value}: {folder} is not a folder")
        out.setdefault(task.strip(), []).append(folder)
    return out


class DatasetBuilds:
    """Local dataset builds per task, their fingerprints, loaded splits and baseline re-runs (each computed
    once: the builds are read-only inputs, so what is computed from them does not change)."""

    def __init__(self, builds: dict[str, list[Path]] | None = None):
        self.builds = {task: [Path(p) for p in paths] for task, paths in (builds or {}).items()}
        self._loaded: dict[tuple[Any, ...], Any] = {}
        self._fingerprints: dict[tuple[Path, str | None], str] = {}
        self._memo: dict[str, Any] = {}

    def fingerprint(self, path: Path, split: str | None = None) -> str:
        """The one dataset fingerprint (``cyclebench.hub.load.dataset_fingerprint``) of the data a run of
        ``split`` reads from ``path``: the build's, or the split's original file (DeepReview-13K CSVs)."""
        from cyclebench.hub.load import dataset_fingerprint

        if (path, split) not in self._fingerprints:
            self._fingerprints[(path, split)] = dataset_fingerprint(str(path), None, split)[0]
        return self._fingerprints[(path, split)]

    def find(self, task: str, fingerprint: str, split: str | None = None) -> tuple[Path | None, Problem | None]:
        """The build of ``task`` whose fingerprint (for ``split``) is ``fingerprint``."""
        paths = self.builds.get(task)
        if not paths:
            return None, Problem("unknown_dataset", f"no dataset build given for task {task!r}; pass --data "
                                                    f"{task}=PATH with the build the results name ({fingerprint})")
        for path in paths:
            if self.fingerprint(path, split) == fingerprint:
                return path, None
        given = ", ".join(f"{self.fingerprint(p, split)} ({p})" for p in paths)
        return None, Problem("dataset_differs", f"dataset build differs: results.json names {fingerprint}, the "
                                                f"build(s) given for {task} are {given}")

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per key (a baseline re-run on one of these builds), then the kept value."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def load(self, task: Any, path: Path, split: str, options: dict[str, Any], limit: int | None) -> Any:
        key = (task.name, str(path), split, json.dumps(options, sort_keys=True), limit)
        if key not in self._loaded:
            self._loaded[key] = task.load(str(path), split, None, limit, **options)
        return self._loaded[key]
