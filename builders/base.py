"""Machinery every dataset builder shares: hash splits, reject accounting, config hashing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from cyclebench.records import Reject

# Every dataset card cites the work whose datasets these rebuild.
CYCLERESEARCHER_CITATION = """```bibtex
@inproceedings{weng2025cycleresearcher,
  title     = {CycleResearcher: Improving Automated Research via Automated Review},
  author    = {Weng, Yixuan and Zhu, Minjun and Bao, Guangsheng and Zhang, Hongbo and Wang, Jindong and Zhang, Yue and Yang, Linyi},
  booktitle = {International Conference on Learning Representations},
  year      = {2025}
}
```"""


def stable_fraction(key: str, seed: int) -> float:
    """A number in [0, 1) fixed by (seed, key) on every machine and Python version (no ``hash()``)."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hash_split(paper_id: str, test_fraction: float, seed: int) -> str:
    """``"test"`` for about ``test_fraction`` of ids, ``"train"`` otherwise; adding papers moves no paper."""
    return "test" if stable_fraction(paper_id, seed) < test_fraction else "train"


def config_sha256(config: Any) -> str:
    payload = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class RejectLog:
    """Counts every record that did not become a row, by stage and reason, and writes one JSON line each.

    Builders call ``reject`` for every drop so that ``records in = rows out + rejects`` can be checked
    from the manifest alone.
    """

    def __init__(self, sink: TextIO | None = None):
        self.sink = sink
        self.counts: dict[str, Counter[str]] = {}

    def reject(self, reject: Reject) -> None:
        self.counts.setdefault(reject.stage, Counter())[reject.reason] += 1
        if self.sink is not None:
            row = {"detail": reject.detail, "reason": reject.reason, "record_id": reject.record_id, "stage": reject.stage}
            self.sink.write(json.dumps(row, ensure_ascii=True) + "\n")

    def by_reason(self, stage: str) -> dict[str, int]:
        return dict(sorted(self.counts.get(stage, Counter()).items()))

    def total(self, stage: str) -> int:
        return sum(self.counts.get(stage, Counter()).values())


def manifest_header(name: str, version: str, config: Any) -> dict[str, Any]:
    """The first keys of every builder's manifest: what was built, by which builder and with which config."""
    import cyclebench

    return {
        "dataset": name,
        "builder_version": version,
        "cyclebench_version": cyclebench.__version__,
        "config": dataclasses.asdict(config),
        "config_sha256": config_sha256(config),
    }


def input_fingerprint(path: Path) -> dict[str, Any]:
    from cyclebench.hub.writer import sha256_file

    return {"name": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}
