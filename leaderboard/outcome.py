"""The outcome of validating one submission: verified, or rejected with every problem named."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGE_CHARS = 600
# The label a verified submission gets on the site, by its metadata label.
LABELS = {"model": "verified", "baseline": "baseline", "imported": "imported (not re-run)"}


@dataclass(frozen=True)
class Problem:
    """Why a submission is rejected: a short code (for counting) and a message for the submitter."""

    code: str
    message: str


@dataclass
class Verification:
    """The outcome of validating one submission."""

    folder: str
    status: str = "rejected"  # "verified" | "rejected"
    problems: list[Problem] = field(default_factory=list)
    kind: str | None = None
    label: str | None = None
    task: str | None = None
    split: str | None = None
    dataset_fingerprint: str | None = None
    dataset_path: str | None = None
    predictions_sha256: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    recomputed: dict[str, Any] = field(default_factory=dict)
    # Kept for the site, not serialised: the files as read, and per paper (human mean, predicted rating).
    metadata: dict[str, Any] | None = None
    results: dict[str, Any] | None = None
    points: list[tuple[float, float]] = field(default_factory=list)
    rating_bounds: tuple[float, float] | None = None

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    def add(self, code: str, message: str) -> None:
        if len(message) > MAX_MESSAGE_CHARS:  # messages quote submitted values, which may be huge
            message = message[: MAX_MESSAGE_CHARS - 20] + f" ... ({len(message):,} chars)"
        self.problems.append(Problem(code, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder, "status": self.status, "kind": self.kind, "label": self.label,
            "task": self.task, "split": self.split, "dataset_fingerprint": self.dataset_fingerprint,
            "predictions_sha256": self.predictions_sha256,
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
            "check": self.summary,
        }
