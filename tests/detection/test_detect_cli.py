"""`cyclebench detect` end to end with a tiny random model; the detector's refusals; SmolLM2 (slow)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers")

TEXTS = [
    {"id": "t1", "text": "the paper proposes a method for learning sparse representations with attention " * 3},
    {"id": "t2", "text": "reviewers note that the experiments are thorough but the novelty is limited."},
    {"id": "empty", "text": "   "},
    {"id": "one", "text": "x"},  # one token of the tiny tokenizer (which adds no BOS)
]


def _write_texts(path, rows=TEXTS, extra=b""):
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in rows) + extra)
    return path


def _calibration_for(identity: str, path):
    path.write_text(json.dumps({"calibrations": [{
        "scoring": identity, "reference": identity,
        "human": {"mean": 0.0, "std": 1.0, "n": 10}, "machine": {"mean": 2.0, "std": 1.0, "n": 10},
        "provenance": {"texts": "test"}}]}))
    return path


def test_detect_texts_end_to_end(tiny_llama, tmp_path, capsys):
    from cyclebench.cli import main

    texts = _write_texts(tmp_path / "texts.jsonl", extra=b"{broken\n")
    out = tmp_path / "run"
    assert main(["detect", "--texts", str(texts), "--model-args", f"pretrained={tiny_llama},batch_size=2",
                 "--max-tokens", "16", "--output", str(out)]) == 0
    rows = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r for r in rows}
    assert [r["id"] for r in rows] == ["t1", "t2", "empty", "one", "line 5"]
    assert by_id["t1"]["truncated"] is True and by_id["t1"]["n_tokens"] == 16  # recorded, not cut silently
    assert by_id["t1"]["n_tokens_total"] > 17
    assert by_id["t2"]["truncated"] is False and isinstance(by_id["t2"]["criterion"], float)
    assert by_id["empty"]["skipped"] == "empty_text" and by_id["empty"]["criterion"] is None
    assert by_id["one"]["skipped"] == "too_few_tokens"
    assert by_id["line 5"]["skipped"] == "not_json"
    assert all(r["probability"] is None for r in rows)  # a random model has no shipped calibration
    results = json.loads((out / "results.json").read_text())
    c = results["counts"]
    assert c["n_texts"] == 5 == c["n_scored"] + c["n_skipped"]
    assert c["skipped"] == {"empty_text": 1, "not_json": 1, "too_few_tokens": 1}
    assert results["probability_note"].startswith("no_calibration")
    assert results["detector"]["scoring_model"]["identity"] == f"pretrained:{tiny_llama}"
    report = (out / "report.md").read_text()
    assert "No probability" in report and results["plots"]
    assert all((out / name).is_file() for name in results["plots"])
    # an existing run is not overwritten without --overwrite; another folder never
    assert main(["detect", "--texts", str(texts), "--model-args", f"pretrained={tiny_llama}",
                 "--output", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


def test_calibrated_probability_and_chunking(tiny_llama, tmp_path):
    """A calibration for this exact model gives probabilities; a text longer than the context is scored in
    chunks, every token after the first exactly once (a chunk's tokens see only that chunk as context)."""
    from cyclebench.detection.items import TextItem
    from cyclebench.detection.scorer import Detector

    cal = _calibration_for(f"pretrained:{tiny_llama}", tmp_path / "cal.json")
    whole = Detector({"pretrained": str(tiny_llama)}, max_tokens=64, calibration_file=cal)
    chunked = Detector({"pretrained": str(tiny_llama), "max_length": 7, "batch_size": 3}, max_tokens=64,
                       calibration_file=cal)
    assert chunked.context == 7
    items = [TextItem("a", TEXTS[0]["text"]), TextItem("b", TEXTS[1]["text"])]
    for x, y in zip(whole.score(items), chunked.score(items)):
        assert x.n_tokens == y.n_tokens == min(64, x.n_tokens_total - 1) > 7
        assert isinstance(y.criterion, float)
        assert 0.0 <= x.probability <= 1.0 and 0.0 <= y.probability <= 1.0
    assert whole.describe()["calibration"]["provenance"] == {"texts": "test"}


def test_chunk_ids_score_each_token_once():
    from cyclebench.detection.scorer import chunk_ids

    ids = list(range(10))
    chunks = chunk_ids(ids, 4)
    assert chunks == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert sum(len(c) - 1 for c in chunks) == len(ids) - 1
    assert chunk_ids([5], 4) == [] and chunk_ids(list(range(4)), 4) == [[0, 1, 2, 3]]
    assert chunk_ids(list(range(5)), 4) == [[0, 1, 2, 3], [3, 4]]
    with pytest.raises(ValueError):
        chunk_ids(ids, 1)


def test_different_tokenizers_are_refused(tiny_llama, tiny_qwen2):
    from cyclebench.detection.scorer import Detector

    with pytest.raises(ValueError, match="different tokenizers"):
        Detector({"pretrained": str(tiny_llama)}, {"pretrained": str(tiny_qwen2)})


def test_separate_reference_model(tiny_llama, tmp_path):
    """Scoring and reference models differ (same tokenizer, other weights): both are used, no calibration."""
    from cyclebench.detection.items import TextItem
    from cyclebench.detection.scorer import Detector
    from tests.tiny_models import make_tiny_llama

    other = make_tiny_llama(tmp_path / "other", seed=1)
    same = Detector({"pretrained": str(tiny_llama)})
    pair = Detector({"pretrained": str(tiny_llama)}, {"pretrained": str(other)})
    item = [TextItem("a", TEXTS[1]["text"])]
    assert pair.describe()["reference_model"]["identity"] == f"pretrained:{other}"
    assert same.score(item)[0].criterion != pytest.approx(pair.score(item)[0].criterion)


def test_bad_arguments_are_one_line(tiny_llama, tmp_path, capsys):
    from cyclebench.cli import main

    texts = _write_texts(tmp_path / "t.jsonl")
    for argv, message in [
        (["--model-args", f"pretrained={tiny_llama},batch_size=0"], "batch_size"),
        (["--model-args", f"pretrained={tmp_path / 'nowhere'}"], "not found"),
        (["--model-args", f"pretrained={tiny_llama}", "--max-tokens", "1"], "max-tokens"),
        (["--model-args", f"pretrained={tiny_llama}", "--calibration", str(texts)], "calibration"),
    ]:
        assert main(["detect", "--texts", str(texts), *argv, "--output", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err  # (transformers' progress bars may precede it)
        lines = [line for line in err.splitlines() if line.startswith("cyclebench")]
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in err, err


def test_detect_papers_folder(tiny_llama, tmp_path):
    from cyclebench.cli import main

    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "a.md").write_text("# A paper\n\n" + TEXTS[0]["text"])
    (papers / "b.pdf").write_bytes(b"\x00\x01 garbage")
    out = tmp_path / "run"
    assert main(["detect", "--papers", str(papers), "--model-args", f"pretrained={tiny_llama}",
                 "--output", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["input"]["n_found"] == 2 and results["counts"]["n_scored"] == 1
    assert [u["id"] for u in results["input"]["unread"]] == ["b"]


@pytest.mark.slow
def test_smollm2_scores_with_its_shipped_calibration(tmp_path):
    from cyclebench.backends import parse_model_args
    from cyclebench.backends.gguf import smollm2_model_args
    from cyclebench.detection.items import TextItem
    from cyclebench.detection.scorer import Detector

    try:
        args = parse_model_args(smollm2_model_args())
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    detector = Detector(args, max_tokens=128)
    assert detector.calibration is not None, detector.no_calibration
    [d] = detector.score([TextItem("r", "The authors propose a new regularizer for training deep networks. "
                                        "The experiments on CIFAR-10 are limited and the baselines are weak.")])
    assert d.skipped is None and d.n_tokens > 20 and 0.0 <= d.probability <= 1.0

