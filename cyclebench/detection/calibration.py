"""From the criterion to P(machine | criterion), read from reference distributions computed and shipped here.

As the Fast-DetectGPT release does, each class's criterion is fitted by a normal distribution (mean and sample
standard deviation of the criterion on human and on machine passages) and the probability is the posterior with
equal priors: ``N(c; mu_m, s_m) / (N(c; mu_h, s_h) + N(c; mu_m, s_m))``. The distributions are ours (see
``calibration.json``: which texts, which models, counts, date), not the original's, and they belong to one
(scoring, reference) model pair: a text scored by any other pair gets the criterion and ``probability: null``
with the reason, never a probability read from another model's distributions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
NO_CALIBRATION = "no_calibration"


@dataclass(frozen=True)
class Normal:
    mean: float
    std: float
    n: int

    @classmethod
    def fit(cls, values: Sequence[float]) -> Normal:
        """Mean and sample standard deviation (n - 1); at least two values with some spread."""
        xs = [float(v) for v in values if v is not None and math.isfinite(v)]
        if len(xs) < 2:
            raise ValueError(f"a normal fit needs at least 2 finite values, got {len(xs)}")
        mean = sum(xs) / len(xs)
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
        if not std > 0:
            raise ValueError("a normal fit needs values that are not all equal")
        return cls(mean, std, len(xs))

    def log_pdf(self, x: float) -> float:
        return -0.5 * ((x - self.mean) / self.std) ** 2 - math.log(self.std) - 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class Calibration:
    """The two fitted distributions of one (scoring, reference) model pair, and where they came from."""

    scoring: str  # model identity (see scorer.model_identity)
    reference: str
    human: Normal
    machine: Normal
    provenance: dict[str, Any]

    def probability(self, value: float | None) -> float | None:
        """P(machine | criterion) with equal priors, computed in log space (no 0/0 far in a tail)."""
        if value is None or not math.isfinite(value):
            return None
        lh, lm = self.human.log_pdf(value), self.machine.log_pdf(value)
        top = max(lh, lm)
        return math.exp(lm - top) / (math.exp(lh - top) + math.exp(lm - top))

    def to_json(self) -> dict[str, Any]:
        return {"scoring": self.scoring, "reference": self.reference,
                "human": vars(self.human), "machine": vars(self.machine), "provenance": self.provenance}


def _normal(entry: Any, where: str) -> Normal:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object with mean, std, n")
    try:
        normal = Normal(float(entry["mean"]), float(entry["std"]), int(entry["n"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: needs numeric mean, std, n ({exc})") from None
    if not (math.isfinite(normal.mean) and math.isfinite(normal.std) and normal.std > 0 and normal.n >= 2):
        raise ValueError(f"{where}: mean and std must be finite, std > 0, n >= 2")
    return normal


def read_calibrations(path: str | Path = CALIBRATION_FILE) -> list[Calibration]:
    """Every entry of a calibration file (the shipped one by default); a malformed file is one line."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read calibration file {path}: {exc}") from None
    entries = data.get("calibrations") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"calibration file {path}: expected an object with a 'calibrations' list")
    out: list[Calibration] = []
    for i, e in enumerate(entries):
        where = f"{path.name} calibrations[{i}]"
        if not isinstance(e, dict) or not isinstance(e.get("scoring"), str) or not isinstance(e.get("reference"), str):
            raise ValueError(f"{where}: needs 'scoring' and 'reference' model identities")
        cal = Calibration(e["scoring"], e["reference"], _normal(e.get("human"), f"{where}.human"),
                          _normal(e.get("machine"), f"{where}.machine"), dict(e.get("provenance") or {}))
        # machine text is likelier than the reference model's samples, human text is not: the other way round,
        # every probability read from the entry would be inverted
        if not cal.machine.mean > cal.human.mean:
            raise ValueError(f"{where}: machine mean {cal.machine.mean} is not above human mean {cal.human.mean}; "
                             f"are the labels swapped?")
        if any((c.scoring, c.reference) == (cal.scoring, cal.reference) for c in out):
            raise ValueError(f"{where}: the model pair {cal.scoring} / {cal.reference} is calibrated twice")
        out.append(cal)
    return out


def find_calibration(scoring: str, reference: str, path: str | Path = CALIBRATION_FILE
                     ) -> tuple[Calibration | None, str | None]:
    """The calibration of exactly this model pair, or (None, why not)."""
    for cal in read_calibrations(path):
        if cal.scoring == scoring and cal.reference == reference:
            return cal, None
    return None, (f"{NO_CALIBRATION}: no shipped calibration for scoring model {scoring} with reference model "
                  f"{reference}; the criterion is reported without a probability")


def auroc(human: Sequence[float], machine: Sequence[float]) -> float:
    """Area under the ROC curve with machine text as the positive class (the Mann-Whitney U statistic over all
    pairs, a tie counting one half): the chance that a machine text's criterion exceeds a human text's."""
    if not human or not machine:
        raise ValueError("AUROC needs at least one human and one machine value")
    wins = sum((m > h) + 0.5 * (m == h) for m in machine for h in human)
    return wins / (len(human) * len(machine))
