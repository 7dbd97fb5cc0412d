"""The records at the detector's seams: a text in, a detection out (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TextItem:
    id: str
    text: str


@dataclass(frozen=True)
class Detection:
    """One text's result: criterion (None when skipped), probability (None without a calibration)."""

    id: str
    criterion: float | None
    probability: float | None
    n_tokens: int  # tokens scored
    n_tokens_total: int  # tokens of the whole text
    truncated: bool
    skipped: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "criterion": self.criterion, "probability": self.probability,
                "n_tokens": self.n_tokens, "n_tokens_total": self.n_tokens_total, "truncated": self.truncated,
                "skipped": self.skipped}
