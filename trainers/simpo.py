"""SimPO + lambda * NLL over trl's experimental CPO trainer (imported once, in :mod:`cyclebench.trainers.trl_cpo`).

trl 1.x ships SimPO as ``trl.experimental.cpo.CPOTrainer`` with ``CPOConfig(loss_type="simpo")`` and moves or
removes experimental trainers without notice, so everything that depends on it stays here, and the loss it
computes is pinned by :func:`simpo_nll_loss`, a pure function of per-sequence log-probabilities that the tests
compare with the trainer's own loss on a real batch.

The loss, for a batch of pairs (x, y_w, y_l) with completion lengths |y|:

    avg(y)     = (1 / |y|) * sum_t log p(y_t | x, y_<t)             (length-normalised log-likelihood)
    r(y)       = beta * avg(y)                                      (SimPO's implicit reward)
    L_pref     = mean_pairs  -log sigmoid(r(y_w) - r(y_l) - gamma)
    L_nll      = -(sum over the chosen tokens of the batch of log p) / (number of chosen tokens)
    L          = L_pref + lambda * L_nll                            (lambda = ``cpo_alpha``)

``python -m cyclebench.trainers.simpo --config RECIPE.yaml --dataset_name round_k/pairs.jsonl --model_name_or_path POLICY
--output_dir round_k/policy`` trains one round on a pairs file; under ``accelerate launch`` that is how the
iterative loop trains on several GPUs. :func:`train_pairs` is the same step in-process.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyclebench.trainers.trl_cpo import CPOTrainer

__all__ = ["SimPOLoss", "main", "pair_logps", "simpo_nll_loss", "train_pairs"]

PAIR_COLUMNS = ("prompt", "chosen", "rejected")
TRAIN_METRICS = "train_metrics.json"


# ---------------------------------------------------------------------------------------------
# The loss, by hand


def logsigmoid(x: float) -> float:
    """log(1 / (1 + e^-x)) without overflow for large |x|."""
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


@dataclass(frozen=True)
class SimPOLoss:
    loss: float
    preference_loss: float
    nll_loss: float
    chosen_rewards: tuple[float, ...]  # beta * avg log-prob of each chosen completion
    rejected_rewards: tuple[float, ...]

    @property
    def margins(self) -> tuple[float, ...]:
        return tuple(c - r for c, r in zip(self.chosen_rewards, self.rejected_rewards))


def simpo_nll_loss(chosen_logp_sums: Sequence[float], chosen_tokens: Sequence[int],
                   rejected_logp_sums: Sequence[float], rejected_tokens: Sequence[int], *,
                   beta: float, gamma: float, nll_weight: float, label_smoothing: float = 0.0) -> SimPOLoss:
    """SimPO + ``nll_weight`` * NLL of one batch from each completion's summed log-prob and token count.

    The NLL is the token-level mean over all chosen tokens of the batch (what trl's CPO trainer computes with
    ``CrossEntropyLoss``), not a mean of per-sequence means. ``label_smoothing`` mixes in the flipped-label
    term as trl does (0 in every recipe).
    """
    n = len(chosen_logp_sums)
    if n == 0 or not (n == len(chosen_tokens) == len(rejected_logp_sums) == len(rejected_tokens)):
        raise ValueError("need one summed log-prob and one token count per chosen and per rejected completion")
    if min(chosen_tokens) < 1 or min(rejected_tokens) < 1:
        raise ValueError("a completion needs at least one token")
    chosen = tuple(beta * s / t for s, t in zip(chosen_logp_sums, chosen_tokens))
    rejected = tuple(beta * s / t for s, t in zip(rejected_logp_sums, rejected_tokens))
    pref = []
    for c, r in zip(chosen, rejected):
        z = c - r - gamma
        pref.append(-logsigmoid(z) * (1 - label_smoothing) - logsigmoid(-z) * label_smoothing)
    preference = sum(pref) / n
    nll = -sum(chosen_logp_sums) / sum(chosen_tokens) if nll_weight else 0.0
    return SimPOLoss(preference + nll_weight * nll, preference, nll, chosen, rejected)


# ---------------------------------------------------------------------------------------------
# The trainer


def check_simpo_args(args: Any) -> None:
    if getattr(args, "loss_type", None) != "simpo":
        raise ValueError(f"the SimPO adapter trains with loss_type='simpo', not {getattr(args, 'loss_type', None)!r}")
    if args.beta <= 0:
        raise ValueError(f"beta must be > 0, got {args.beta}")
    if getattr(args, "alpha", 0.0):
        raise ValueError("alpha != 0 is AlphaPO, not SimPO; set alpha: 0")


def build_trainer(model: Any, args: Any, train_dataset: Any, tokenizer: Any, peft_config: Any = None) -> Any:
    """A CPOTrainer that computes SimPO + ``args.cpo_alpha`` * NLL on ``train_dataset`` (prompt/chosen/rejected)."""
    check_simpo_args(args)
    missing = [c for c in PAIR_COLUMNS if c not in train_dataset.column_names]
    if missing:
        raise ValueError(f"pairs need columns {PAIR_COLUMNS}, missing {missing}")
    return CPOTrainer(model=model, args=args, train_dataset=train_dataset, processing_class=tokenizer,
                      peft_config=peft_config)


def pair_logps(trainer: Any, dataset: Any = None) -> list[tuple[float, float]]:
    """Length-normalised log-probs ``(chosen, rejected)`` of every pair under the trainer's current model.

    Uses the trainer's own tokenization and forward pass (``concatenated_forward``), in dataset order, gathered
    over processes; a training step is not taken.
    """
    import torch

    dataset = trainer.train_dataset if dataset is None else dataset
    loader = trainer.get_eval_dataloader(dataset)
    model = trainer.model
    was_training = model.training
    model.eval()
    out: list[tuple[float, float]] = []
    with torch.no_grad():
        for batch in loader:
            batch = trainer._prepare_inputs(batch)
            chosen, rejected = trainer.concatenated_forward(model, batch)[:2]
            chosen = trainer.accelerator.gather_for_metrics(chosen.float())
            rejected = trainer.accelerator.gather_for_metrics(rejected.float())
            out.extend(zip(chosen.tolist(), rejected.tolist()))
    model.train(was_training)
    return out


def margin_summary(logps: list[tuple[float, float]], beta: float) -> dict[str, Any]:
    """SimPO's implicit reward margin beta * (avg log p(chosen) - avg log p(rejected)) over the pairs."""
    margins = [beta * (c - r) for c, r in logps]
    n = len(margins)
    return {
        "n_pairs": n,
        "mean_margin": sum(margins) / n if n else None,
        "accuracy": sum(m > 0 for m in margins) / n if n else None,
        "margins": margins,
    }


def load_pairs(path: str | os.PathLike[str]):
    """The ``prompt``/``chosen``/``rejected`` columns of a pairs JSONL file as a ``datasets.Dataset``."""
    from datasets import Dataset

    rows = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            missing = [c for c in PAIR_COLUMNS if c not in row]
            if missing:
                raise ValueError(f"{path}:{line_no}: a pair needs {PAIR_COLUMNS}, missing {missing}")
            rows.append({c: row[c] for c in PAIR_COLUMNS})
    if not rows:
        raise ValueError(f"{path}: no pairs")
    return Dataset.from_list(rows)


def load_policy(path: str, model_args: Any, args: Any):
    """Model and tokenizer of a policy folder, with the recipe's dtype and attention kernel. The recipe's
    ``gguf_file`` is read when ``path`` is the recipe's own model (round 0); later rounds load the safetensors
    folders the loop saved."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cyclebench.backends.gguf import as_trainable, model_source

    dtype = getattr(model_args, "dtype", None) or "auto"
    kwargs: dict[str, Any] = {"dtype": dtype if dtype == "auto" else getattr(torch, dtype),
                              "trust_remote_code": bool(getattr(args, "trust_remote_code", False))}
    if getattr(model_args, "attn_implementation", None):
        kwargs["attn_implementation"] = model_args.attn_implementation
    gguf = getattr(model_args, "gguf_file", None)
    if gguf and str(path) == str(getattr(model_args, "model_name_or_path", None)):
        path, gguf = model_source(path, gguf, who="simpo")
    else:
        gguf = None
    file_kwargs = {"gguf_file": gguf} if gguf else {}
    model = as_trainable(AutoModelForCausalLM.from_pretrained(path, **kwargs, **file_kwargs))
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=kwargs["trust_remote_code"], **file_kwargs)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def train_pairs(pairs_file: str | os.PathLike[str], policy: str, output_dir: str | os.PathLike[str], args: Any,
                model_args: Any) -> dict[str, Any]:
    """One epoch (as ``args`` says) of SimPO + NLL on a pairs file, starting from ``policy``; the new policy is
    saved whole (a LoRA adapter is merged) in ``output_dir`` with ``train_metrics.json``: the implicit reward
    margins on these pairs before and after training, and the trainer's logged losses."""
    import dataclasses

    from trl import get_peft_config

    output_dir = Path(output_dir)
    # margins are measured in training-sized micro-batches (the eval default of 8 pairs of 32K tokens would not fit)
    args = dataclasses.replace(args, output_dir=str(output_dir),
                               per_device_eval_batch_size=args.per_device_train_batch_size)
    measure = bool(getattr(args, "measure_margins", True))
    dataset = load_pairs(pairs_file)
    model, tokenizer = load_policy(policy, model_args, args)
    trainer = build_trainer(model, args, dataset, tokenizer, get_peft_config(model_args))
    before = margin_summary(pair_logps(trainer), args.beta) if measure else {"mean_margin": None, "skipped": True}
    result = trainer.train()
    after = margin_summary(pair_logps(trainer), args.beta) if measure else {"mean_margin": None, "skipped": True}
    trainer.accelerator.wait_for_everyone()
    model = trainer.model
    if hasattr(model, "merge_and_unload"):  # LoRA: the next round samples from a whole model
        model = trainer.accelerator.unwrap_model(model).merge_and_unload()
        if trainer.accelerator.is_main_process:
            model.save_pretrained(output_dir)
    else:
        trainer.save_model(str(output_dir))
    metrics = {
        "policy_in": str(policy),
        "pairs_file": str(pairs_file),
        "n_pairs": len(dataset),
        "beta": args.beta, "simpo_gamma": args.simpo_gamma, "cpo_alpha": args.cpo_alpha,
        "learning_rate": args.learning_rate, "num_train_epochs": args.num_train_epochs,
        "global_steps": result.global_step,
        "train_loss": result.training_loss,
        "log_history": [h for h in trainer.state.log_history if "loss" in h or "train_loss" in h],
        "margin_before": before,
        "margin_after": after,
        "definition": "margin = beta * (mean log p(chosen) - mean log p(rejected)) per pair, length-normalised "
                      "over completion tokens, computed with the trainer's forward pass before and after training",
    }
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(output_dir)
        tmp = output_dir / (TRAIN_METRICS + ".partial")
        tmp.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, output_dir / TRAIN_METRICS)
    trainer.accelerator.wait_for_everyone()
    del trainer, model
    _free_memory()
    return metrics


def _free_memory() -> None:
    """Give the GPU back to the next stage of the loop (a sampler or a judge); nothing to do on CPU."""
    import torch

    if torch.cuda.is_available():
        import gc

        gc.collect()
        torch.cuda.empty_cache()


def main(script_args: Any, training_args: Any, model_args: Any) -> dict[str, Any]:
    """Train one SimPO round: ``dataset_name`` is the pairs file, ``model_name_or_path`` the policy."""
    if not script_args.dataset_name or not Path(script_args.dataset_name).is_file():
        raise ValueError(f"dataset_name must be a pairs JSONL file, got {script_args.dataset_name!r}")
    return train_pairs(script_args.dataset_name, model_args.model_name_or_path, training_args.output_dir,
                       training_args, model_args)


if __name__ == "__main__":
    from cyclebench.trainers.configs import parse_recipe_argv

    main(*parse_recipe_argv(kind="iterative-simpo"))
