"""SimPO + NLL: the loss by hand, the same loss from trl's CPO trainer on a real batch, and the loop's pure parts."""

from __future__ import annotations

import math
from collections import Counter

import pytest

pytest.importorskip("trl", reason="the trainers need trl (pip install 'cyclebench[train]')")

from cyclebench.trainers.iterative_simpo import (
    ScoredSample,
    form_pairs,
    gap_summary,
    round_prompt_ids,
    sample_seed,
)
from cyclebench.trainers.judges import JudgeSpec, check_distinct, verdict_from_response
from cyclebench.trainers.simpo import logsigmoid, simpo_nll_loss



def test_loss_by_hand():
    # Two pairs. Chosen: summed log-probs -6 over 3 tokens and -3 over 2; rejected: -8 over 4 and -2 over 1.
    # Length-normalised: chosen -2.0, -1.5; rejected -2.0, -2.0. With beta 2: rewards -4, -3 vs -4, -4.
    # z = r_w - r_l - gamma = 0 - 0.5 and 1 - 0.5 -> -0.5, 0.5.
    # -log sigmoid(-0.5) = log(1 + e^0.5) = 0.974077; -log sigmoid(0.5) = log(1 + e^-0.5) = 0.474077.
    # Preference loss = mean = 0.724077. NLL over the 5 chosen tokens = (6 + 3) / 5 = 1.8.
    # Loss = 0.724077 + 0.3 * 1.8 = 1.264077.
    out = simpo_nll_loss([-6.0, -3.0], [3, 2], [-8.0, -2.0], [4, 1], beta=2.0, gamma=0.5, nll_weight=0.3)
    assert out.chosen_rewards == (-4.0, -3.0) and out.rejected_rewards == (-4.0, -4.0)
    assert out.margins == (0.0, 1.0)
    assert out.preference_loss == pytest.approx((math.log1p(math.exp(0.5)) + math.log1p(math.exp(-0.5))) / 2)
    assert out.preference_loss == pytest.approx(0.724077, abs=1e-6)
    assert out.nll_loss == pytest.approx(1.8)
    assert out.loss == pytest.approx(1.264077, abs=1e-6)
    assert simpo_nll_loss([-6.0], [3], [-8.0], [4], beta=2.0, gamma=0.5, nll_weight=0.0).loss == pytest.approx(0.974077, abs=1e-6)


def test_logsigmoid_is_stable_far_out():
    assert logsigmoid(800.0) == 0.0 and logsigmoid(-800.0) == -800.0
    assert logsigmoid(0.0) == pytest.approx(-math.log(2))


def test_bad_batches_are_refused():
    with pytest.raises(ValueError, match="one summed log-prob"):
        simpo_nll_loss([-1.0], [1, 2], [-1.0], [1], beta=1, gamma=0, nll_weight=1)
    with pytest.raises(ValueError, match="at least one token"):
        simpo_nll_loss([-1.0], [0], [-1.0], [1], beta=1, gamma=0, nll_weight=1)


def _sequence_logps(model, input_ids, attention_mask, labels):
    """Summed log-prob and token count of each sequence's labelled tokens, computed here, not by trl."""
    import torch

    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits.float()
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    target = labels[:, 1:]
    mask = target != -100
    picked = logp.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1).tolist(), mask.sum(-1).tolist()


def test_trl_cpo_trainer_computes_the_same_loss(tiny_llama, tmp_path):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cyclebench.trainers.configs import IterativeSimPOConfig
    from cyclebench.trainers.simpo import build_trainer

    tok = AutoTokenizer.from_pretrained(tiny_llama)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    pairs = Dataset.from_list([
        {"prompt": [{"role": "user", "content": "write about attention"}],
         "chosen": [{"role": "assistant", "content": "the method improves results on benchmarks"}],
         "rejected": [{"role": "assistant", "content": "reject"}]},
        {"prompt": [{"role": "user", "content": "write about sparse models"}],
         "chosen": [{"role": "assistant", "content": "sparse representations"}],
         "rejected": [{"role": "assistant", "content": "the novelty is limited and the proof is missing"}]},
    ])
    args = IterativeSimPOConfig(output_dir=str(tmp_path), beta=2.5, simpo_gamma=1.375, cpo_alpha=0.7,
                                per_device_train_batch_size=2, per_device_eval_batch_size=2, max_length=128,
                                bf16=False, use_cpu=True, report_to="none", gradient_checkpointing=False)
    trainer = build_trainer(model, args, pairs, tok)
    batch = trainer._prepare_inputs(next(iter(trainer.get_eval_dataloader(trainer.train_dataset))))
    model.eval()
    with torch.no_grad():
        loss, metrics = trainer.get_batch_loss_metrics(model, batch, train_eval="eval")
    c_sum, c_n = _sequence_logps(model, batch["chosen_input_ids"], batch["chosen_attention_mask"], batch["chosen_labels"])
    r_sum, r_n = _sequence_logps(model, batch["rejected_input_ids"], batch["rejected_attention_mask"],
                                 batch["rejected_labels"])
    ours = simpo_nll_loss(c_sum, c_n, r_sum, r_n, beta=2.5, gamma=1.375, nll_weight=0.7)
    assert loss.item() == pytest.approx(ours.loss, abs=1e-5)
    assert metrics["eval_nll_loss"] == pytest.approx(ours.nll_loss, abs=1e-5)
    assert metrics["eval_rewards/margins"] == pytest.approx(sum(ours.margins) / 2, abs=1e-5)


def test_only_simpo_is_accepted(tmp_path):
    from cyclebench.trainers.configs import IterativeSimPOConfig

    with pytest.raises(ValueError, match="loss_type must be 'simpo'"):
        IterativeSimPOConfig(output_dir=str(tmp_path), loss_type="sigmoid", use_cpu=True, bf16=False)
    with pytest.raises(ValueError, match="samples_per_prompt"):
        IterativeSimPOConfig(output_dir=str(tmp_path), samples_per_prompt=1, use_cpu=True, bf16=False)


# ---------------------------------------------------------------------------------------------
# The loop's pure parts


def test_rounds_walk_through_the_prompts_in_slices():
    ids = [f"p{i}" for i in range(10)]
    slices = [round_prompt_ids(ids, k, 1 / 3, seed=0) for k in (1, 2, 3)]
    assert [len(s) for s in slices] == [4, 4, 2]
    assert sorted(pid for s in slices for pid in s) == sorted(ids)  # disjoint and complete
    assert round_prompt_ids(ids, 4, 1 / 3, seed=0) == slices[0]  # the fourth round starts the next pass
    assert round_prompt_ids(ids, 1, 1 / 3, seed=1) != slices[0]
    assert sorted(round_prompt_ids(ids, 2, 1.0, seed=0)) == sorted(ids)  # fraction 1: every prompt every round


def test_sample_seeds_differ_per_sample_and_repeat_per_run():
    seeds = {sample_seed(0, 1, "p", j) for j in range(3)}
    assert len(seeds) == 3 and sample_seed(0, 1, "p", 2) == sample_seed(0, 1, "p", 2)
    assert sample_seed(0, 2, "p", 0) != sample_seed(0, 1, "p", 0)


def _s(pid, j, score, reason=None):
    return ScoredSample(pid, j, f"{pid}:{j}", score, reason)


def test_pairs_best_against_worst_with_ties_and_drops_counted():
    samples = [
        _s("a", 0, 5.0), _s("a", 1, 7.5), _s("a", 2, 3.0),            # pair 7.5 vs 3.0
        _s("b", 0, 6.0), _s("b", 1, 6.0), _s("b", 2, 6.0),            # all tied
        _s("c", 0, 4.0), _s("c", 1, None, "paper_unparseable"), _s("c", 2, None, "judge_unparseable:rating_missing"),
        _s("d", 0, 6.0), _s("d", 1, 6.0), _s("d", 2, 2.0),            # best tie: the first sample wins
    ]
    outcome = form_pairs(["a", "b", "c", "d"], samples)
    assert [(p.prompt_id, p.chosen, p.rejected, p.gap) for p in outcome.pairs] == [("a", "a:1", "a:2", 4.5),
                                                                                  ("d", "d:0", "d:2", 4.0)]
    assert outcome.prompts_skipped == Counter({"tie": 1, "fewer_than_two_scored": 1})
    assert outcome.samples_dropped == Counter({"paper_unparseable": 1, "judge_unparseable:rating_missing": 1})
    counts = outcome.counts(4, len(samples))
    assert counts["pairs"] + sum(counts["prompts_skipped"].values()) == counts["prompts_in"] == 4
    assert counts["samples_scored"] + sum(counts["samples_dropped"].values()) == counts["samples_in"] == 12
    assert gap_summary(outcome.pairs) == {"n": 2, "mean": 4.25, "min": 4.0, "max": 4.5}


def test_a_sample_of_another_prompt_is_an_error():
    with pytest.raises(ValueError, match="belongs to no prompt"):
        form_pairs(["a"], [_s("z", 0, 1.0)])


def test_judge_verdicts_never_score_a_failure_as_zero():
    from cyclebench.protocols import get_protocol

    protocol = get_protocol("cyclereviewer")
    assert verdict_from_response("r", None, "timeout: 30 s", protocol).reason == "judge_error:timeout"
    unparsed = verdict_from_response("r", "no review here", None, protocol)
    assert unparsed.score is None and unparsed.reason.startswith("judge_unparseable:")
    from cyclebench.records import ParsedReview, SimulatedReview

    text = protocol.render(ParsedReview(status="ok", rating=6.0, decision="accept", reviewers=(SimulatedReview(rating=6.0),)))
    assert verdict_from_response("r", text, None, protocol).score == 6.0


def test_the_guard_must_not_be_the_reward():
    reward = JudgeSpec("reward", "cyclereviewer", "vllm", model_args={"pretrained": "R"})
    with pytest.raises(ValueError, match="guard judge is the reward judge"):
        check_distinct(reward, JudgeSpec("guard", "cyclereviewer", "vllm", model_args={"pretrained": "R"}))
    check_distinct(reward, JudgeSpec("guard", "deepreviewer", "vllm", model_args={"pretrained": "G"}))
