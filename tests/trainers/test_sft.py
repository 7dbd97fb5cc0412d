"""Each SFT recipe runs two steps from its own YAML (shrunk with the smoke overrides) on a tiny model, with the
loss on assistant tokens only; a reviewer run is then evaluated and leaves a leaderboard submission."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl", reason="the trainers need trl (pip install 'cyclebench[train]')")

from cyclebench.trainers import evaluate_run, sft
from cyclebench.trainers.configs import parse_recipe, smoke_overrides

from .support import (
    RECIPES,
    deepreview_rows,
    research14k_rows,
    write_csv,
    write_jsonl,
)


def _run(recipe, model, data, out, **extra):
    overrides = {**smoke_overrides("sft"), "model_name_or_path": str(model), "dataset_name": str(data),
                 "output_dir": str(out), **extra}
    args = parse_recipe(RECIPES / recipe, overrides)
    return args, sft.main(*args)


def _labelled_spans(labels):
    """Runs of consecutive labelled (not -100) positions."""
    spans, start = [], None
    for i, label in enumerate(labels + [-100]):
        if label != -100 and start is None:
            start = i
        elif label == -100 and start is not None:
            spans.append((start, i))
            start = None
    return spans


@pytest.mark.slow  # ~8 s: full fine-tuning at 4,096 tokens
def test_reviewer_full_recipe_trains_on_the_reviews_only(tiny_llama_long, review5k_sample_build, tmp_path):
    # 4,096 tokens cut every sample row (paper ~3.4K tokens, reviews ~3K): the start of the reviews is kept.
    (_, training_args, _), trainer = _run("cyclereviewer-8b-full.yaml", tiny_llama_long, review5k_sample_build,
                                          tmp_path / "run", max_length=4096, max_train_samples=2)
    assert trainer.state.global_step == 2 and training_args.recipe_name == "cyclereviewer-8b-full"
    tok = trainer.processing_class
    for row in trainer.train_dataset:
        labels = row["labels"]
        ((start, end),) = _labelled_spans(labels)  # one assistant turn: one labelled run, to the cut
        assert end == len(labels) == 4096
        prompt = tok.decode(row["input_ids"][:start], skip_special_tokens=False)
        assert prompt.endswith("<|start|>assistant\n") and "## Summary" not in prompt
        assert tok.decode(labels[start:end], skip_special_tokens=False).startswith("## Summary")
    report = json.loads((tmp_path / "run" / "data_report.json").read_text())
    assert report["rows_out"] == 2 and report["truncated"] == 2 and report["rows_after_trl_preparation"] == 2
    assert (tmp_path / "run" / "model.safetensors").is_file()


@pytest.mark.slow  # ~15 s: LoRA training, merge, evaluation through hf
def test_reviewer_lora_recipe_then_evaluation_and_submission(tiny_llama_long, review5k_sample_build, tmp_path):
    args, trainer = _run("cyclereviewer-123b-lora.yaml", tiny_llama_long, review5k_sample_build, tmp_path / "run",
                         max_length=8192, max_train_samples=2, eval_data=str(review5k_sample_build), eval_backend="hf",
                         eval_model_args="batch_size=2")
    assert trainer.state.global_step == 2
    assert (tmp_path / "run" / "adapter_config.json").is_file()
    out = evaluate_run.main(*args)
    assert (tmp_path / "run" / "merged" / "config.json").is_file()  # vLLM-servable whole model
    results = out["results"]
    assert results["task"]["name"] == "review-5k" and results["task"]["split"] == "test"
    counts = results["counts"]
    assert counts["n_papers"] == 2 and counts["n_evaluated"] + counts["n_failed"] == 2
    assert out["submission"]["via"] == "cyclebench.leaderboard.submit"  # the leaderboard package's own checks passed
    folder = tmp_path / "run" / "submission" / out["submission"]["path"].rsplit("/", 1)[1]
    assert folder.name.endswith("_cyclereviewer-123b-lora")
    assert {p.name for p in folder.iterdir()} == {"results.json", "predictions.jsonl", "metadata.yaml"}
    import yaml

    meta = yaml.safe_load((folder / "metadata.yaml").read_text())
    assert meta["model"]["name"] == str(tmp_path / "run" / "merged") and meta["task"]["name"] == "review-5k"
    assert "recipe cyclereviewer-123b-lora" in meta["description"] and str(review5k_sample_build) in meta["description"]
    training = yaml.safe_load((tmp_path / "run" / "submission" / "training.yaml").read_text())
    assert training["model"]["method"] == "lora" and training["training"]["dataset"] == str(review5k_sample_build)


def test_without_the_leaderboard_package_the_three_files_are_written(tmp_path, monkeypatch):
    import sys

    import yaml

    monkeypatch.setitem(sys.modules, "cyclebench.leaderboard.submit", None)  # as if the package were not installed
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    (eval_dir / "results.json").write_text("{}")
    (eval_dir / "predictions.jsonl").write_text("")
    metadata = {"model": {"path": "m", "recipe": "r", "method": "full", "base_model": "b"},
                "training": {"dataset": "d", "dataset_format": "review5k-sft", "split": "train",
                             "learning_rate": 1e-5, "max_length": 8}}
    out = evaluate_run.write_submission(tmp_path / "submission", eval_dir, metadata, "r")
    assert out["via"] == "files"
    names = {p.name for p in (tmp_path / "submission").iterdir()}
    assert names == {"results.json", "predictions.jsonl", "metadata.yaml", "training.yaml"}
    written = yaml.safe_load((tmp_path / "submission" / "metadata.yaml").read_text())
    assert written["model"]["path"] == "m" and "not checked" in written["submission"]["note"]


def test_deepreviewer_recipe_on_the_original_csv_files(tiny_llama_long, tmp_path):
    data = tmp_path / "DeepReview-13K"
    write_csv(data / "train.csv", deepreview_rows(3, modes=2))
    _, trainer = _run("deepreviewer-14b-full.yaml", tiny_llama_long, data, tmp_path / "run", max_length=512)
    assert trainer.state.global_step == 2
    report = json.loads((tmp_path / "run" / "data_report.json").read_text())
    assert report["rows_in"] == 6 and report["rows_out"] == 6 and report["dataset_format"] == "deepreview13k"


def test_researcher_recipe_learns_both_assistant_turns_only(tiny_llama_long, tmp_path):
    data = tmp_path / "Research-14K"
    write_jsonl(data / "train.jsonl", research14k_rows(4))
    _, trainer = _run("cycleresearcher-12b.yaml", tiny_llama_long, data, tmp_path / "run", max_length=512)
    assert trainer.state.global_step == 2
    tok = trainer.processing_class
    for row in trainer.train_dataset:
        spans = _labelled_spans(row["labels"])
        assert len(spans) == 2  # part 1 and part 2; the results turn between them is context
        first = tok.decode(row["labels"][spans[0][0]:spans[0][1]], skip_special_tokens=False)
        second = tok.decode(row["labels"][spans[1][0]:spans[1][1]], skip_special_tokens=False)
        assert first.startswith("## Motivation") and second.startswith("\\section{Experiments}")
        between = tok.decode(row["input_ids"][spans[0][1]:spans[1][0]], skip_special_tokens=False)
        assert "## Experimental_results" in between
