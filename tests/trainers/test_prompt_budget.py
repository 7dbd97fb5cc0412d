"""Long prompts in short contexts for the Iterative SimPO loop (``max_prompt_tokens``), and the task options
of the post-training evaluation (``eval_task_args``): both explicit, counted, and refused when malformed."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

pytest.importorskip("trl", reason="the trainers need trl (pip install 'cyclebench[train]')")

from cyclebench.trainers.iterative_simpo import IterativeSimPO, fit_prompt, prompt_budget_summary

from .support import RECIPES, WordsGenerator, write_jsonl

REQUEST = "Now write the paper in LaTeX."


@pytest.fixture(scope="module")
def tokenizer(tiny_llama):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_llama))


def _count(tok, text):
    return len(tok(text, add_special_tokens=False)["input_ids"])


def _prompt(refs: int):
    user = "Topic: learning\n\n" + "\n\n".join(f"@misc{{ref{i}, title = {{paper number {i} on graphs}}}}"
                                               for i in range(refs)) + "\n\n" + REQUEST
    return [{"role": "system", "content": "Write a paper."}, {"role": "user", "content": user}]


def test_a_prompt_that_fits_is_unchanged(tokenizer):
    messages = _prompt(2)
    fitted = fit_prompt(messages, 10_000, tokenizer)
    assert fitted.messages == messages and not fitted.truncated and fitted.tokens == fitted.kept


def test_a_long_prompt_keeps_its_request_and_system_turn(tokenizer):
    messages = _prompt(200)
    fitted = fit_prompt(messages, 120, tokenizer)
    system, user = fitted.messages
    assert system == messages[0] and fitted.truncated
    assert user["content"].endswith("\n\n" + REQUEST)  # the request survives the cut
    assert user["content"].startswith("Topic: learning")  # head kept
    assert "truncated by cyclebench" in user["content"]
    assert fitted.kept == 120 and fitted.tokens == sum(_count(tokenizer, m["content"]) for m in messages)
    # the marker is the only overshoot (a few tokens, as cyclebench.truncation documents)
    from cyclebench.truncation import MARKER

    shown = sum(_count(tokenizer, m["content"]) for m in fitted.messages)
    marker = _count(tokenizer, MARKER.format(kept=0, total=fitted.tokens))
    assert 120 <= shown <= 120 + marker + 4
    assert messages[1]["content"].count("@misc") == 200  # the input is not modified


def test_a_request_as_long_as_the_room_is_cut_head_only(tokenizer):
    messages = [{"role": "user", "content": "word " * 400}]
    fitted = fit_prompt(messages, 50, tokenizer)
    assert fitted.kept == 50 and fitted.messages[0]["content"].startswith("word word")


@pytest.mark.parametrize("budget, match", [(0, ">= 1"), (True, ">= 1"), (2.5, ">= 1"), (3, "too small")])
def test_bad_budgets_are_one_line_errors(tokenizer, budget, match):
    with pytest.raises(ValueError, match=match):
        fit_prompt(_prompt(3), budget, tokenizer)


def test_a_prompt_without_a_user_turn_is_refused(tokenizer):
    with pytest.raises(ValueError, match="no user turn"):
        fit_prompt([{"role": "system", "content": "x"}], 100, tokenizer)


def test_the_summary_reconciles(tokenizer):
    fitted = {"a": fit_prompt(_prompt(200), 100, tokenizer), "b": fit_prompt(_prompt(1), 100, tokenizer)}
    summary = prompt_budget_summary(100, fitted)
    assert summary["n_prompts"] == 2 and summary["n_truncated"] == 1 and summary["n_whole"] == 1
    assert summary["truncated_ids"] == ["a"] and summary["max_prompt_tokens_seen"] == fitted["a"].tokens


def _args(tiny_llama, data, out, **extra):
    from cyclebench.trainers.configs import parse_recipe, smoke_overrides

    return parse_recipe(RECIPES / "cycleresearcher-12b-simpo.yaml", {
        **smoke_overrides("iterative-simpo"), "model_name_or_path": str(tiny_llama), "dataset_name": str(data),
        "output_dir": str(out), "round_fraction": 1.0, "rounds": 1, "samples_per_prompt": 2,
        "sampling_max_tokens": 8, "eval_prompts": 1, "learning_rate": 1.0e-3, "guard_protocol_args": "mode=fast",
        "reward_backend": "baseline-tfidf", "guard_backend": "baseline-tfidf", **extra})


def test_the_budget_is_a_positive_whole_number_in_recipes_and_code(tiny_llama, tmp_path):
    for bad in (0, -5):
        with pytest.raises(ValueError, match="max_prompt_tokens"):
            _args(tiny_llama, tmp_path, tmp_path / "run", max_prompt_tokens=bad)
    assert _args(tiny_llama, tmp_path, tmp_path / "run")[1].max_prompt_tokens is None


def test_the_fingerprint_holds_the_budget_only_when_set(tiny_llama, tmp_path):
    def fingerprint(**extra):
        return IterativeSimPO(*_args(tiny_llama, tmp_path, tmp_path / "run", **extra), generator=WordsGenerator(),
                              reward_backend=object(), guard_backend=object()).fingerprint()

    plain = fingerprint()
    assert fingerprint(max_prompt_tokens=64) != plain != fingerprint(max_prompt_tokens=128)


class LongTopicGenerator(WordsGenerator):
    """Prompts whose user turn is long (the topic repeated) and ends with a request paragraph."""

    def build_prompt(self, record):
        return [{"role": "system", "content": "Write a paper."},
                {"role": "user", "content": f"Topic: {record['topic']}\n\n" + " ".join([record["topic"]] * 60)
                                            + "\n\n" + REQUEST}]


@pytest.mark.slow  # ~15 s: one round on the tiny policy with the prompts cut
def test_a_round_samples_and_trains_on_the_cut_prompts_and_counts_them(tiny_llama, tmp_path):
    from .test_iterative import _judges

    data = tmp_path / "data"
    data.mkdir()
    write_jsonl(data / "train.jsonl", [{"id": f"t{i}", "topic": f"graph learning number {i}"} for i in range(2)]
                + [{"id": "short", "topic": "x"}])
    write_jsonl(data / "test.jsonl", [{"id": "h0", "topic": "held out topic"}])
    reward, guard = _judges()
    budget = 48
    state = IterativeSimPO(*_args(tiny_llama, data, tmp_path / "run", max_prompt_tokens=budget),
                           generator=LongTopicGenerator(), reward_backend=reward, guard_backend=guard).run()
    run = tmp_path / "run"
    metrics = json.loads((run / "round_1" / "metrics.json").read_text())
    pb = metrics["prompt_budget"]
    assert pb["max_prompt_tokens"] == budget and pb["n_prompts"] == 3
    assert pb["n_truncated"] + pb["n_whole"] == 3 and pb["n_truncated"] >= 2
    assert pb["max_prompt_tokens_seen"] > budget
    assert state["rounds"]["1"]["prompt_budget"] == pb
    samples = [json.loads(x) for x in (run / "round_1" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 6 and all("prompt_truncated" in s for s in samples)
    assert {s["prompt_id"] for s in samples if s["prompt_truncated"]} == set(pb["truncated_ids"])
    for line in (run / "round_1" / "pairs.jsonl").read_text().splitlines():
        pair = json.loads(line)  # training sees the prompt the policy was sampled with
        assert pair["prompt"][-1]["content"].endswith(REQUEST)
        if pair["prompt_id"] in pb["truncated_ids"]:
            assert "truncated by cyclebench" in pair["prompt"][-1]["content"]
    held_out = json.loads((run / "round_1" / "eval" / "summary.json").read_text())
    assert held_out["prompt_budget"]["n_prompts"] == 1
    table = json.loads((run / "summary.json").read_text())
    assert table["rounds"][-1]["prompts_truncated"] == pb["n_truncated"]


# ---------------------------------------------------------------------------------------------
# evaluate_run: task options


def _script(**kw):
    base = {"eval_task": "review-5k", "eval_data": "d", "eval_protocol": "cyclereviewer", "eval_backend": "baseline-constant",
            "eval_model_args": None, "eval_protocol_args": None, "eval_max_tokens": None, "eval_split": "test",
            "eval_revision": None, "eval_limit": None, "eval_n_resamples": 10, "eval_task_args": None}
    return SimpleNamespace(**{**base, **kw})


def test_evaluate_run_passes_the_task_options():
    from cyclebench.trainers.evaluate_run import eval_config

    config = eval_config(_script(eval_task_args="abstract_fallback=true,max_paper_tokens=64"),
                         SimpleNamespace(seed=0), tmp := __import__("pathlib").Path("m"))
    assert config.task_options == {"abstract_fallback": True, "max_paper_tokens": 64}
    assert eval_config(_script(), SimpleNamespace(seed=0), tmp).task_options == {}


@pytest.mark.parametrize("text, match", [
    ("abstract_fallbak=true", "takes options"),
    ("abstract_fallback=maybe", "true or false"),
    ("max_paper_tokens=0", ">= 1"),
    ("max_paper_tokens=many", ">= 1"),
])
def test_evaluate_run_refuses_bad_task_options(text, match):
    from cyclebench.trainers.evaluate_run import eval_task_options

    with pytest.raises(ValueError, match=match):
        eval_task_options(_script(eval_task_args=text))
    with pytest.raises(ValueError, match="no eval_task"):
        eval_task_options(_script(eval_task=None, eval_task_args="abstract_fallback=true"))


def test_the_recipe_key_reaches_the_script_arguments():
    from cyclebench.trainers.configs import parse_recipe, smoke_overrides

    script_args, _, _ = parse_recipe(RECIPES / "cyclereviewer-8b-full.yaml", {
        **smoke_overrides("sft"), "eval_task_args": "abstract_fallback=true,max_paper_tokens=1536"})
    assert script_args.eval_task_args == "abstract_fallback=true,max_paper_tokens=1536"


@pytest.mark.slow  # ~10 s: evaluate_run of a (tiny) model folder with the task options, on an abstract-only build
def test_evaluate_run_end_to_end_with_abstract_fallback(tiny_llama_long, corpus, tmp_path, monkeypatch):
    import shutil

    from cyclebench.builders import review5k
    from cyclebench.trainers import evaluate_run
    from cyclebench.trainers.configs import parse_recipe, smoke_overrides

    data = tmp_path / "r5k"
    review5k.build(corpus / "openreview" / "iclr2026_v2.jsonl", None, data,
                   review5k.Review5KConfig(require_text=False), progress=False)
    run = tmp_path / "run"
    shutil.copytree(tiny_llama_long, run)  # stands for a trained model
    # served from a copy beside the run: a full fine-tune's own folder holds the eval output, which the run layer
    # refuses as an output inside an input (a limit of evaluate_run for full fine-tunes, left to its owner's issue)
    model = shutil.copytree(tiny_llama_long, tmp_path / "model")
    monkeypatch.setattr(evaluate_run, "merged_model", lambda run_dir, model_args: model)
    args = parse_recipe(RECIPES / "cyclereviewer-8b-full.yaml", {
        **smoke_overrides("sft"), "model_name_or_path": str(tiny_llama_long), "dataset_name": str(data),
        "output_dir": str(run), "eval_data": str(data), "eval_backend": "hf", "eval_model_args": "batch_size=2",
        "eval_max_tokens": 4, "eval_task_args": "abstract_fallback=true,max_paper_tokens=32"})
    out = evaluate_run.main(*args)
    results = out["results"]
    assert results["task"]["source"]["abstract_fallback"] is True
    counts = results["counts"]
    assert counts["n_papers"] == 2 and counts["truncation"]["max_paper_tokens"] == 32
    assert counts["truncation"]["n_truncated"] == 2  # every abstract is longer than 32 tiny-vocabulary tokens
    # without the option the same build has no paper to evaluate: the option is what made this run possible
    args[0].eval_task_args = None
    shutil.rmtree(run / "eval")
    with pytest.raises(ValueError, match="no examples"):
        evaluate_run.main(*args)
