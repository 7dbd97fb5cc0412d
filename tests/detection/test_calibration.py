"""Calibration: normal fits, P(machine), the shipped file, and refusing another model's calibration."""

from __future__ import annotations

import json
import math

import pytest

from cyclebench.detection.calibration import (
    CALIBRATION_FILE,
    NO_CALIBRATION,
    Calibration,
    Normal,
    auroc,
    find_calibration,
    read_calibrations,
)


def test_normal_fit_is_mean_and_sample_sd():
    n = Normal.fit([1.0, 2.0, 3.0, 4.0])
    assert (n.mean, n.n) == (2.5, 4)
    assert n.std == pytest.approx(math.sqrt(5 / 3))
    with pytest.raises(ValueError, match="at least 2"):
        Normal.fit([1.0, float("nan")])
    with pytest.raises(ValueError, match="not all equal"):
        Normal.fit([2.0, 2.0])


def test_probability_is_the_equal_prior_posterior():
    cal = Calibration("a", "a", Normal(0.0, 1.0, 10), Normal(3.0, 1.0, 10), {})
    assert cal.probability(1.5) == pytest.approx(0.5)  # midway between equal-width normals
    assert cal.probability(3.0) > 0.98 and cal.probability(0.0) < 0.02
    by_hand = math.exp(-0.5 * 4) / (math.exp(-0.5 * 1) + math.exp(-0.5 * 4))  # c = 1: machine z=2, human z=1
    assert cal.probability(1.0) == pytest.approx(by_hand)
    assert cal.probability(1e6) == pytest.approx(1.0)  # far tail: no 0/0
    assert cal.probability(-1e6) == pytest.approx(0.0)
    assert cal.probability(None) is None and cal.probability(float("inf")) is None


def test_auroc():
    assert auroc([0, 1], [2, 3]) == 1.0
    assert auroc([2, 3], [0, 1]) == 0.0
    assert auroc([1, 1], [1, 1]) == 0.5
    assert auroc([0, 2], [1, 3]) == 0.75
    with pytest.raises(ValueError):
        auroc([], [1])


def test_shipped_file_has_provenance():
    cals = read_calibrations()
    assert cals, "the package ships at least one calibration"
    for cal in cals:
        assert cal.scoring.startswith(("gguf-sha256:", "pretrained:"))
        for key in ("texts", "date", "scoring_model", "counts", "machine_text"):
            assert cal.provenance.get(key), key
        assert cal.provenance["counts"] == {"human": cal.human.n, "machine": cal.machine.n}
        assert cal.machine.mean > cal.human.mean  # machine text sits higher, as the criterion intends
    assert json.loads(CALIBRATION_FILE.read_text())["calibrations"]


def test_other_model_gets_no_probability(tmp_path):
    cal, why = find_calibration("pretrained:some/other-model", "pretrained:some/other-model")
    assert cal is None and why.startswith(NO_CALIBRATION) and "some/other-model" in why
    # the scoring model alone matching is not enough: the pair decides
    shipped = read_calibrations()[0]
    cal, why = find_calibration(shipped.scoring, "pretrained:another-reference")
    assert cal is None and why


def _file(*normals: tuple[float, float]) -> str:
    """A calibration file with one entry for the model pair ("a", "a") per (human, machine) pair of normals."""
    entries = [{"scoring": "a", "reference": "a", "human": {"mean": h[0], "std": h[1], "n": 5},
                "machine": {"mean": m[0], "std": m[1], "n": 5}} for h, m in zip(normals[::2], normals[1::2])]
    return json.dumps({"calibrations": entries})


@pytest.mark.parametrize("content, message", [
    ("not json", "cannot read"),
    ("[]", "'calibrations' list"),
    ('{"calibrations": [{"scoring": "a"}]}', "model identities"),
    ('{"calibrations": [{"scoring": "a", "reference": "a", "human": {"mean": 0, "std": 0, "n": 5}, '
     '"machine": {"mean": 1, "std": 1, "n": 5}}]}', "std > 0"),
    ('{"calibrations": [{"scoring": "a", "reference": "a", "human": {"mean": "x"}, "machine": {}}]}', "numeric"),
    (_file((0, math.nan), (1, 1)), "std > 0"),  # json.dumps writes NaN, json.loads reads it
    # labels swapped by an edit: machine text sits above human text, a file saying otherwise inverts every probability
    (_file((2, 1), (0, 1)), "swapped"),
    # two entries for one model pair: which one applies would be an accident of order
    (_file((0, 1), (1, 1), (0, 1), (2, 1)), "twice"),
])
def test_malformed_calibration_file_is_one_line(tmp_path, content, message):
    path = tmp_path / "cal.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_calibrations(path)
