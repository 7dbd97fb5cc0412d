"""Iterative SimPO + NLL (REFERENCE 6): sample papers, judge them, train on best-vs-worst, check, repeat.

    python -m cyclebench.trainers.iterative_simpo --config trainers/recipes/cycleresearcher-12b-simpo.yaml

Each round k (1 .. ``rounds``):

1. **prompts**  a slice of the training prompts (``round_fraction`` of them, by a stable hash of their ids,
   so the rounds walk through the data and round k + 1/fraction sees the first slice again);
2. **sample**   ``samples_per_prompt`` papers per prompt from the current policy (vLLM on a GPU when installed,
   else transformers), each request with its own seed;
3. **judge**    each readable paper scored by the frozen reward judge (mean simulated rating);
4. **pairs**    per prompt, the best-scored sample is chosen and the worst rejected; prompts with fewer than two
   scored samples or all scores tied are skipped; unreadable papers and failed judgements are dropped; all
   counted by reason;
5. **train**    one epoch of SimPO + lambda * NLL on the chosen (:mod:`cyclebench.trainers.simpo`), new policy saved;
6. **evaluate** the new policy on ``eval_prompts`` held-out prompts, one sample each with fixed seeds, scored
   by the reward judge *and* a guard judge that is not the reward: if the reward's mean climbs while the
   guard's does not, the policy is learning the reward model, not better papers.

Files, per round in ``output_dir/round_<k>/``: ``prompts.json``, ``samples.jsonl``, ``scores.jsonl``,
``pairs.jsonl`` (with each pair's chosen-rejected score gap), ``policy/`` (+ ``train_metrics.json``:
SimPO's implicit reward margin on these pairs before and after training), ``eval/``, ``metrics.json``, and
the marker ``COMPLETE``, written last. ``state.json`` in ``output_dir`` lists the finished rounds. A stopped
run started again skips every round with a marker and redoes the round it was in; its generations and
judgements come back from the response caches in the round folder, so only training is repeated.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cyclebench.records import RecordError, problem_key

STATE_VERSION = 1
COMPLETE = "COMPLETE"
StageHook = Callable[[int, str], None]


# ---------------------------------------------------------------------------------------------
# Pure pieces


def stable_key(*parts: Any) -> int:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def round_prompt_ids(prompt_ids: Sequence[str], round_no: int, fraction: float, seed: int) -> list[str]:
    """The prompts of round ``round_no`` (1-based): the ids ordered by a seeded hash and cut into
    ceil(1 / fraction) consecutive slices; round k takes slice (k - 1) mod the number of slices."""
    if round_no < 1:
        raise ValueError("rounds are numbered from 1")
    ordered = sorted(prompt_ids, key=lambda pid: (stable_key(seed, "order", pid), pid))
    n_slices = max(1, math.ceil(1 / fraction - 1e-9))
    size = math.ceil(len(ordered) / n_slices)
    start = ((round_no - 1) % n_slices) * size
    return ordered[start:start + size]


def sample_seed(seed: int, round_no: int, prompt_id: str, sample_index: int) -> int:
    """A request seed per (run seed, round, prompt, sample): repeated samples differ, a rerun repeats them."""
    return stable_key(seed, round_no, prompt_id, sample_index) % (2**31 - 1)


@dataclass(frozen=True)
class ScoredSample:
    prompt_id: str
    sample_index: int
    request_id: str
    score: float | None
    drop_reason: str | None = None  # why the sample has no score


@dataclass(frozen=True)
class Pair:
    prompt_id: str
    chosen: str  # request ids
    rejected: str
    chosen_score: float
    rejected_score: float

    @property
    def gap(self) -> float:
        return self.chosen_score - self.rejected_score


@dataclass
class PairOutcome:
    pairs: list[Pair]
    prompts_skipped: Counter
    samples_dropped: Counter

    def counts(self, n_prompts: int, n_samples: int) -> dict[str, Any]:
        used = sum(1 for _ in self.pairs)
        out = {
            "prompts_in": n_prompts, "pairs": used, "prompts_skipped": dict(sorted(self.prompts_skipped.items())),
            "samples_in": n_samples, "samples_scored": n_samples - sum(self.samples_dropped.values()),
            "samples_dropped": dict(sorted(self.samples_dropped.items())),
        }
        if n_prompts != used + sum(self.prompts_skipped.values()):
            raise AssertionError(f"prompt counts do not reconcile: {out}")
        return out


def form_pairs(prompt_ids: Sequence[str], samples: Sequence[ScoredSample]) -> PairOutcome:
    """Best = chosen, worst = rejected, per prompt (the lowest sample index wins a tie for best or worst).

    A sample without a score is dropped (counted by its reason); a prompt with fewer than two scored samples
    is skipped as ``fewer_than_two_scored``, one whose scored samples all tie as ``tie``.
    """
    by_prompt: dict[str, list[ScoredSample]] = {pid: [] for pid in prompt_ids}
    dropped: Counter = Counter()
    for s in samples:
        if s.prompt_id not in by_prompt:
            raise ValueError(f"sample {s.request_id} belongs to no prompt of this round")
        if s.score is None:
            dropped[s.drop_reason or "unscored"] += 1
        else:
            by_prompt[s.prompt_id].append(s)
    pairs: list[Pair] = []
    skipped: Counter = Counter()
    for pid in prompt_ids:
        scored = sorted(by_prompt[pid], key=lambda s: s.sample_index)
        if len(scored) < 2:
            skipped["fewer_than_two_scored"] += 1
            continue
        best = max(scored, key=lambda s: s.score)  # max/min keep the first of equals
        worst = min(scored, key=lambda s: s.score)
        if best.score == worst.score:
            skipped["tie"] += 1
            continue
        pairs.append(Pair(pid, best.request_id, worst.request_id, best.score, worst.score))
    return PairOutcome(pairs, skipped, dropped)


def gap_summary(pairs: Sequence[Pair]) -> dict[str, Any]:
    gaps = [p.gap for p in pairs]
    if not gaps:
        return {"n": 0, "mean": None, "min": None, "max": None}
    return {"n": len(gaps), "mean": sum(gaps) / len(gaps), "min": min(gaps), "max": max(gaps)}


@dataclass(frozen=True)
class FittedPrompt:
    """A prompt's chat messages after the ``max_prompt_tokens`` budget: its content tokens before and after."""

    messages: list[dict[str, str]]
    tokens: int
    kept: int

    @property
    def truncated(self) -> bool:
        return self.kept < self.tokens


def fit_prompt(messages: Sequence[Mapping[str, str]], budget: int, tokenizer: Any) -> FittedPrompt:
    """The prompt with its last user turn (a Research-14K prompt: topic, BibTeX references, then the request)
    cut so that all turns' contents hold at most ``budget`` tokens (the chat template adds a few per turn).

    The turn's last paragraph (the request: "... provide the Title, Abstract ... in LaTeX format") is kept
    whole when it takes under half the room, and the text before it is cut, head kept, by
    :func:`cyclebench.truncation.truncate_head` (its marker says how much was kept); otherwise the whole turn is
    cut head-only. The other turns are never cut: when they alone reach the budget it is too small for this
    prompt (a ``ValueError`` naming both numbers)."""
    from cyclebench.truncation import check_budget, truncate_head

    budget = check_budget(budget)
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    if not users:
        raise ValueError("max_prompt_tokens: the prompt has no user turn to cut")
    last = users[-1]

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    others = sum(count(m.get("content") or "") for i, m in enumerate(messages) if i != last)
    room = budget - others
    if room < 1:
        raise ValueError(f"max_prompt_tokens={budget} is too small: the prompt's other turns already hold {others} "
                         "tokens (only the last user turn is cut)")
    content = messages[last].get("content") or ""
    total = count(content)
    shown, kept = content, total
    if total > room:
        head, sep, tail = content.rpartition("\n\n")
        tail_tokens = count(sep + tail) if head.strip() else room
        if tail_tokens < room // 2:
            cut = truncate_head(head, room - tail_tokens, tokenizer)
            shown, kept = cut.text + sep + tail, cut.kept + tail_tokens
        else:
            cut = truncate_head(content, room, tokenizer)
            shown, kept = cut.text, cut.kept
    fitted = [dict(m) for m in messages]
    fitted[last]["content"] = shown
    return FittedPrompt(fitted, others + total, others + kept)


def prompt_budget_summary(budget: int, fitted: Mapping[str, FittedPrompt]) -> dict[str, Any]:
    """What ``metrics.json`` records for a round's prompts under the budget (cut + whole = prompts)."""
    n_cut = sum(f.truncated for f in fitted.values())
    return {"max_prompt_tokens": budget, "method": "head of the last user turn", "n_prompts": len(fitted),
            "n_truncated": n_cut, "n_whole": len(fitted) - n_cut,
            "max_prompt_tokens_seen": max((f.tokens for f in fitted.values()), default=0),
            "truncated_ids": sorted(pid for pid, f in fitted.items() if f.truncated)}


# ---------------------------------------------------------------------------------------------
# Files


def write_json(path: Path, payload: Any) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Prompts


@dataclass(frozen=True)
class PromptSet:
    ids: list[str]
    records: dict[str, dict[str, Any]]
    skipped: dict[str, int]


def load_prompts(dataset: str, split: str, *, config: str | None, revision: str | None, generator: Any) -> PromptSet:
    """The prompt records of a split, by id; records whose prompt cannot be built are counted and left out."""
    from cyclebench.hub.load import read_split
    from cyclebench.trainers.data import row_id

    ids: list[str] = []
    records: dict[str, dict[str, Any]] = {}
    skipped: Counter = Counter()
    for index, row in enumerate(read_split(dataset, split, config=config, revision=revision)):
        pid = row_id(row, index)
        if pid in records:
            skipped["duplicate_prompt_id"] += 1
            continue
        try:
            generator.build_prompt(row)
        except (RecordError, ValueError, KeyError, TypeError) as exc:
            skipped[getattr(exc, "reason", type(exc).__name__)] += 1
            continue
        ids.append(pid)
        records[pid] = dict(row)
    return PromptSet(ids, records, dict(sorted(skipped.items())))


# ---------------------------------------------------------------------------------------------
# The loop


def initial_gguf_file(model_args: Any, policy: str) -> str | None:
    """The recipe's ``gguf_file`` when ``policy`` is the recipe's own model (the starting policy), else None:
    the policies the loop saved are safetensors folders (the rule of :func:`cyclebench.trainers.simpo.load_policy`)."""
    gguf = getattr(model_args, "gguf_file", None)
    if gguf and str(policy) == str(getattr(model_args, "model_name_or_path", None)):
        return str(gguf)
    return None


def policy_backend_args(config: Any, model_args: Any, policy: str) -> tuple[str, dict[str, Any]]:
    """Backend name and arguments that sample from ``policy`` (``auto``: vLLM when installed and a GPU is
    there, else transformers). The starting policy is read from the recipe's ``gguf_file`` when it has one
    (only the hf backend reads GGUF, so ``auto`` picks it then); later rounds' saved folders are read without it."""
    import importlib.util

    from cyclebench.backends import parse_model_args

    extra = parse_model_args(config.policy_backend_args)
    if "gguf_file" in extra:
        raise ValueError("policy_backend_args: gguf_file would be applied to every round's policy, but only the "
                         "starting one is a GGUF file; set the recipe's gguf_file (next to model_name_or_path)")
    gguf = initial_gguf_file(model_args, policy)
    name = config.policy_backend
    cuda = _cuda_available()
    if name == "auto":
        name = "vllm" if cuda and gguf is None and importlib.util.find_spec("vllm") is not None else "hf"
    elif gguf is not None and name != "hf":
        raise ValueError(f"policy_backend {name}: the starting policy is the GGUF file {gguf}, which only the hf "
                         "backend reads; use policy_backend hf (or auto)")
    args: dict[str, Any] = {"pretrained": str(policy)}
    if gguf is not None:
        args["gguf_file"] = gguf
    dtype = getattr(model_args, "dtype", None)
    if dtype in ("float32", "bfloat16", "float16", "auto"):
        args["dtype"] = dtype
    if name == "hf" and cuda:
        args["device"] = "cuda"
    args.update(extra)
    return name, args


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:  # pragma: no cover
        return False


class IterativeSimPO:
    """One run of the loop in ``config.output_dir``; :meth:`run` does (or resumes) every round."""

    def __init__(self, script_args: Any, config: Any, model_args: Any, *, generator: Any = None,
                 reward_backend: Any = None, guard_backend: Any = None, on_stage: StageHook | None = None,
                 launch_argv: Sequence[str] | None = None, prompt_tokenizer: Any = None):
        from cyclebench.trainers.judges import check_distinct, spec_from_config

        self.script_args = script_args
        self.config = config
        self.model_args = model_args
        self.run_dir = Path(config.output_dir)
        self.generator = generator if generator is not None else self._build_generator()
        self.reward_spec = spec_from_config("reward", config)
        self.guard_spec = spec_from_config("guard", config)
        if reward_backend is None and guard_backend is None:
            check_distinct(self.reward_spec, self.guard_spec)
        elif reward_backend is not None and reward_backend is guard_backend:
            raise ValueError("the guard judge is the reward judge (the same backend object was given for both)")
        self.reward_backend = reward_backend
        self.guard_backend = guard_backend
        # A policy backend that cannot read the starting policy is one line now, not after the prompts are read.
        policy_backend_args(config, model_args, str(model_args.model_name_or_path))
        self.on_stage = on_stage
        self.launch_argv = list(launch_argv or [])
        self.sampling = {**dict(getattr(self.generator, "sampling", {}) or {}),
                         "temperature": config.sampling_temperature, "top_p": config.sampling_top_p,
                         "max_tokens": config.sampling_max_tokens}
        if config.sampling_stop:
            self.sampling["stop"] = list(config.sampling_stop)
        self.max_prompt_tokens = getattr(config, "max_prompt_tokens", None)
        self._prompt_tokenizer = prompt_tokenizer  # loaded from the starting policy when first needed
        self._fitted: dict[tuple[int, str], FittedPrompt] = {}

    def prompt_messages(self, prompts: PromptSet, pid: str) -> tuple[list[dict[str, str]], FittedPrompt | None]:
        """The chat messages the policy sees (and trains on) for one prompt: the generator's prompt, cut to
        ``max_prompt_tokens`` when the config sets one (then also how it was cut)."""
        messages = self.generator.build_prompt(prompts.records[pid])
        if self.max_prompt_tokens is None:
            return messages, None
        key = (id(prompts), pid)  # a train and a held-out prompt may share an id
        if key not in self._fitted:
            self._fitted[key] = fit_prompt(messages, self.max_prompt_tokens, self.prompt_tokenizer())
        return self._fitted[key].messages, self._fitted[key]

    def prompt_tokenizer(self) -> Any:
        """The starting policy's tokenizer (every round's policy keeps it: the loop saves it with each one)."""
        if self._prompt_tokenizer is None:
            from transformers import AutoTokenizer

            from cyclebench.backends.gguf import model_source

            path, gguf = model_source(str(self.model_args.model_name_or_path),
                                      getattr(self.model_args, "gguf_file", None), who="max_prompt_tokens")
            self._prompt_tokenizer = AutoTokenizer.from_pretrained(
                path, trust_remote_code=bool(getattr(self.model_args, "trust_remote_code", False)),
                **({"gguf_file": gguf} if gguf else {}))
        return self._prompt_tokenizer

    def prompt_budget(self, prompts: PromptSet, pids: Sequence[str]) -> dict[str, Any] | None:
        """The budget's summary over these prompts (None without a budget)."""
        if self.max_prompt_tokens is None:
            return None
        return prompt_budget_summary(self.max_prompt_tokens,
                                     {pid: self.prompt_messages(prompts, pid)[1] for pid in dict.fromkeys(pids)})

    def _build_generator(self):
        from cyclebench.backends import parse_model_args
        from cyclebench.trainers.generation import build_generator

        return build_generator(self.config.generation_protocol, **parse_model_args(self.config.generation_protocol_args))

    # -- state ----------------------------------------------------------------------------------

    def fingerprint(self) -> str:
        """What must not change between a run and its resumption (``rounds`` may grow)."""
        c = self.config
        payload = {
            "initial_policy": self.model_args.model_name_or_path, "dataset": self.script_args.dataset_name,
            "dataset_config": self.script_args.dataset_config, "train_split": self.script_args.dataset_train_split,
            "test_split": self.script_args.dataset_test_split, "generator": getattr(self.generator, "name", "?"),
            "sampling": self.sampling, "round_fraction": c.round_fraction, "samples_per_prompt": c.samples_per_prompt,
            "seed": c.seed, "reward": self.reward_spec.identity(), "guard": self.guard_spec.identity(),
            "beta": c.beta, "simpo_gamma": c.simpo_gamma, "cpo_alpha": c.cpo_alpha, "learning_rate": c.learning_rate,
            "eval_prompts": c.eval_prompts,
        }
        gguf = getattr(self.model_args, "gguf_file", None)
        if gguf:  # only then, so that runs without one keep their fingerprint
            payload["initial_gguf_file"] = gguf
        if self.max_prompt_tokens is not None:  # likewise
            payload["max_prompt_tokens"] = self.max_prompt_tokens
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def load_state(self) -> dict[str, Any]:
        path = self.run_dir / "state.json"
        fingerprint = self.fingerprint()
        if path.is_file():
            state = json.loads(path.read_text(encoding="utf-8"))
            if state.get("fingerprint") != fingerprint:
                raise ValueError(f"{self.run_dir} holds a run with other settings (state.json fingerprint differs); "
                                 "use a new output_dir or the settings it was started with")
            return state
        return {"version": STATE_VERSION, "fingerprint": fingerprint,
                "initial_policy": self.model_args.model_name_or_path, "rounds": {}, "status": "running"}

    def save_state(self, state: dict[str, Any]) -> None:
        write_json(self.run_dir / "state.json", state)

    def _stage(self, round_no: int, stage: str, state: dict[str, Any]) -> None:
        state["current"] = {"round": round_no, "stage": stage}
        self.save_state(state)
        if self.on_stage is not None:
            self.on_stage(round_no, stage)

    # -- run ------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        state = self.load_state()
        state["status"] = "running"
        sa = self.script_args
        train = load_prompts(sa.dataset_name, sa.dataset_train_split, config=sa.dataset_config,
                             revision=sa.dataset_revision, generator=self.generator)
        held_out = load_prompts(sa.dataset_name, sa.dataset_test_split, config=sa.dataset_config,
                                revision=sa.dataset_revision, generator=self.generator)
        if not train.ids:
            raise ValueError(f"no usable training prompt in {sa.dataset_name} split {sa.dataset_train_split}: "
                             f"skipped {train.skipped}")
        eval_ids = sorted(held_out.ids)[: self.config.eval_prompts]
        state["prompts"] = {"train": len(train.ids), "train_skipped": train.skipped, "eval": len(eval_ids),
                            "eval_skipped": held_out.skipped}
        policy = str(self.model_args.model_name_or_path)
        if self.config.eval_initial_policy:
            marker = self.run_dir / "round_0" / COMPLETE
            if not marker.is_file():
                self._stage(0, "evaluate", state)
                summary = self.evaluate(policy, 0, held_out, eval_ids, self.run_dir / "round_0" / "eval")
                write_json(self.run_dir / "round_0" / "metrics.json", {"round": 0, "policy": policy, "eval": summary})
                marker.write_text("ok\n", encoding="utf-8")
                state["rounds"]["0"] = {"policy": policy, "eval": summary}
                self.save_state(state)
        for k in range(1, self.config.rounds + 1):
            round_dir = self.run_dir / f"round_{k}"
            if (round_dir / COMPLETE).is_file():
                policy = json.loads((round_dir / "metrics.json").read_text(encoding="utf-8"))["policy_out"]
                continue
            metrics = self.run_round(k, policy, train, held_out, eval_ids, state)
            policy = metrics["policy_out"]
            (round_dir / COMPLETE).write_text("ok\n", encoding="utf-8")
            state["rounds"][str(k)] = {key: metrics[key] for key in ("policy_out", "pairs", "gaps", "margin", "eval",
                                                                     "prompt_budget") if key in metrics}
            self.save_state(state)
        state["status"] = "complete"
        state["final_policy"] = policy
        state.pop("current", None)
        self.save_state(state)
        write_json(self.run_dir / "summary.json", summary_table(state))
        return state

    def run_round(self, k: int, policy: str, train: PromptSet, held_out: PromptSet, eval_ids: list[str],
                  state: dict[str, Any]) -> dict[str, Any]:
        c = self.config
        round_dir = self.run_dir / f"round_{k}"
        round_dir.mkdir(parents=True, exist_ok=True)
        ids = round_prompt_ids(train.ids, k, c.round_fraction, c.seed)
        write_json(round_dir / "prompts.json", {"round": k, "policy": policy, "prompt_ids": ids})

        self._stage(k, "sample", state)
        jobs = [(pid, j) for pid in ids for j in range(c.samples_per_prompt)]
        samples, sample_cache = self.sample(policy, k, train, jobs, round_dir / "cache" / "policy")
        write_jsonl(round_dir / "samples.jsonl", samples)

        self._stage(k, "judge", state)
        readable = [(s["request_id"], s["paper_text"]) for s in samples if s["drop_reason"] is None]
        verdicts = self._judge("reward", readable, round_dir / "cache" / "reward")
        by_id = {v.request_id: v for v in verdicts}
        scored: list[ScoredSample] = []
        score_rows = []
        for s in samples:
            v = by_id.get(s["request_id"])
            reason = s["drop_reason"] or (v.reason if v is not None else "not_judged")
            score = v.score if v is not None else None
            scored.append(ScoredSample(s["prompt_id"], s["sample_index"], s["request_id"], score,
                                       None if score is not None else reason))
            score_rows.append({"request_id": s["request_id"], "prompt_id": s["prompt_id"],
                               "sample_index": s["sample_index"], "score": score,
                               "reason": None if score is not None else reason,
                               "decision": v.decision if v is not None else None})
        write_jsonl(round_dir / "scores.jsonl", score_rows)

        outcome = form_pairs(ids, scored)
        counts = outcome.counts(len(ids), len(samples))
        text_by_id = {s["request_id"]: s["output"] for s in samples}
        pair_rows = [{
            "prompt_id": p.prompt_id,
            "prompt": self.prompt_messages(train, p.prompt_id)[0],
            "chosen": [{"role": "assistant", "content": text_by_id[p.chosen]}],
            "rejected": [{"role": "assistant", "content": text_by_id[p.rejected]}],
            "chosen_request": p.chosen, "rejected_request": p.rejected,
            "chosen_score": p.chosen_score, "rejected_score": p.rejected_score, "gap": p.gap,
        } for p in outcome.pairs]
        write_jsonl(round_dir / "pairs.jsonl", pair_rows)

        self._stage(k, "train", state)
        policy_dir = round_dir / "policy"
        if pair_rows:
            train_metrics = self.train(round_dir / "pairs.jsonl", policy, policy_dir)
            policy_out = str(policy_dir)
        else:
            train_metrics = {"skipped": "no_pairs"}
            policy_out = policy

        self._stage(k, "evaluate", state)
        eval_summary = self.evaluate(policy_out, k, held_out, eval_ids, round_dir / "eval")
        margin = {key: train_metrics.get(key, {}).get("mean_margin") for key in ("margin_before", "margin_after")}
        metrics = {
            "round": k, "policy_in": policy, "policy_out": policy_out, "pairs": counts,
            "gaps": gap_summary(outcome.pairs), "margin": margin,
            "train": {key: train_metrics.get(key) for key in ("train_loss", "global_steps", "skipped", "launcher")},
            "eval": eval_summary, "sample_cache": sample_cache,
            **({"prompt_budget": budget} if (budget := self.prompt_budget(train, ids)) is not None else {}),
            "definitions": {
                "gap": "reward judge score of the chosen minus that of the rejected sample",
                "margin": "SimPO implicit reward margin beta * (mean log p(chosen) - mean log p(rejected)) "
                          "averaged over this round's pairs, before and after this round's training",
            },
        }
        write_json(round_dir / "metrics.json", metrics)
        return metrics

    # -- stages ---------------------------------------------------------------------------------

    def sample(self, policy: str, round_no: int, prompts: PromptSet, jobs: Sequence[tuple[str, int]],
               cache_dir: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """One response per (prompt, sample index); each row says why it is unusable, if it is."""
        from cyclebench.backends import GenerationRequest, open_backend

        requests = [
            GenerationRequest(f"r{round_no}:{pid}:s{j}", tuple(self.prompt_messages(prompts, pid)[0]),
                              {**self.sampling, "seed": sample_seed(self.config.seed, round_no, pid, j)})
            for pid, j in jobs
        ]
        name, args = policy_backend_args(self.config, self.model_args, policy)
        opened = open_backend(name, args, cache_dir)
        cached = opened.cached
        try:
            responses = []
            chunk = max(1, int(self.config.sampling_chunk_size))
            for start in range(0, len(requests), chunk):
                responses.extend(cached.generate(requests[start:start + chunk]))
        finally:
            opened.close()
            del opened
            _free_accelerator_memory()
        rows = []
        for (pid, j), request, response in zip(jobs, requests, responses):
            paper, reason = None, None
            if response.error is not None or response.text is None:
                reason = f"generation_error:{problem_key(response.error or 'empty_response')}"
            else:
                paper = self.generator.to_paper_text(response.text)
                if paper is None:
                    reason = "paper_unparseable"
            row = {"request_id": request.request_id, "prompt_id": pid, "sample_index": j,
                   "seed": request.sampling["seed"], "output": response.text, "error": response.error,
                   "finish_reason": response.finish_reason, "paper_text": paper, "drop_reason": reason}
            fitted = self.prompt_messages(prompts, pid)[1]
            if fitted is not None:  # only with a budget, so rows without one are as they were
                row["prompt_truncated"] = fitted.truncated
            rows.append(row)
        return rows, {"hits": cached.hits, "misses": cached.misses}

    def _judge(self, role: str, papers: list[tuple[str, str]], cache_dir: Path):
        from cyclebench.trainers.judges import score_papers

        spec = self.reward_spec if role == "reward" else self.guard_spec
        injected = self.reward_backend if role == "reward" else self.guard_backend
        try:
            return score_papers(spec, papers, cache_dir=cache_dir, backend=injected, seed=self.config.seed,
                                batch_size=self.config.sampling_chunk_size) if papers else []
        finally:
            _free_accelerator_memory()

    def train(self, pairs_file: Path, policy: str, policy_dir: Path) -> dict[str, Any]:
        from cyclebench.trainers.simpo import TRAIN_METRICS, train_pairs

        if self.config.train_launcher == "in-process":
            return {**train_pairs(pairs_file, policy, policy_dir, self.config, self.model_args), "launcher": "in-process"}
        saved_policy = bool(getattr(self.model_args, "gguf_file", None)) and initial_gguf_file(self.model_args,
                                                                                              policy) is None
        command = round_launch_command(self.launch_argv, self.script_args, pairs_file, policy, policy_dir,
                                       self.config.round_num_processes, clear_gguf_file=saved_policy)
        subprocess.run(command, check=True)
        metrics = json.loads((policy_dir / TRAIN_METRICS).read_text(encoding="utf-8"))
        return {**metrics, "launcher": "accelerate", "command": command}

    def evaluate(self, policy: str, round_no: int, prompts: PromptSet, eval_ids: list[str],
                 out_dir: Path) -> dict[str, Any]:
        """Held-out prompts, one sample each (the same seeds every round), scored by both judges."""
        from cyclebench.trainers.judges import summarize

        out_dir.mkdir(parents=True, exist_ok=True)
        if not eval_ids:
            return {"n_prompts": 0, "note": "no held-out prompts"}
        # The eval seeds do not depend on the round, so every round's policy answers the same requests.
        jobs = [(pid, 0) for pid in eval_ids]
        samples, _ = self.sample(policy, 0, prompts, jobs, out_dir / "cache" / f"policy_round_{round_no}")
        readable = [(s["request_id"], s["paper_text"]) for s in samples if s["drop_reason"] is None]
        reward = self._judge("reward", readable, out_dir / "cache" / "reward")
        guard = self._judge("guard", readable, out_dir / "cache" / "guard")
        r_by, g_by = {v.request_id: v for v in reward}, {v.request_id: v for v in guard}
        write_jsonl(out_dir / "samples.jsonl", samples)
        write_jsonl(out_dir / "scores.jsonl", [
            {"request_id": s["request_id"], "prompt_id": s["prompt_id"], "drop_reason": s["drop_reason"],
             "reward": asdict(r_by[s["request_id"]]) if s["request_id"] in r_by else None,
             "guard": asdict(g_by[s["request_id"]]) if s["request_id"] in g_by else None}
            for s in samples
        ])
        unreadable = Counter(s["drop_reason"] for s in samples if s["drop_reason"] is not None)
        summary = {"n_prompts": len(eval_ids), "papers_unreadable": dict(sorted(unreadable.items())),
                   "reward": summarize(reward), "guard": summarize(guard)}
        budget = self.prompt_budget(prompts, eval_ids)
        if budget is not None:
            summary["prompt_budget"] = budget
        write_json(out_dir / "summary.json", summary)
        return summary


def _free_accelerator_memory() -> None:
    """Give the GPU back between stages (sampler, judges and trainer take turns on it); nothing to do on CPU."""
    if _cuda_available():
        import gc

        import torch

        gc.collect()
        torch.cuda.empty_cache()


def round_launch_command(launch_argv: Sequence[str], script_args: Any, pairs_file: Path, policy: str,
                         policy_dir: Path, num_processes: int | None, *, clear_gguf_file: bool = False) -> list[str]:
    """``accelerate launch [--config_file F] [--num_processes N] -m cyclebench.trainers.simpo <recipe flags> --dataset_name
    PAIRS --model_name_or_path POLICY --output_dir DIR`` (later flags win over the recipe's). ``clear_gguf_file``
    adds ``--gguf_file ""``: POLICY is a folder the loop saved, and the recipe's GGUF file is not in it."""
    from cyclebench.trainers.configs import resolve_accelerate_config

    command = [sys.executable, "-m", "accelerate.commands.launch"]
    config_file = resolve_accelerate_config(script_args.accelerate_config)
    if config_file is not None:
        command += ["--config_file", str(config_file)]
    if num_processes:
        command += ["--num_processes", str(num_processes)]
    command += ["-m", "cyclebench.trainers.simpo", *launch_argv, "--dataset_name", str(pairs_file),
                "--model_name_or_path", str(policy), "--output_dir", str(policy_dir)]
    if clear_gguf_file:
        command += ["--gguf_file", ""]
    return command


def summary_table(state: Mapping[str, Any]) -> dict[str, Any]:
    """Per round: pairs, mean gap, margin before/after, and both judges' mean held-out scores."""
    rows = []
    for k in sorted(state.get("rounds", {}), key=int):
        r = state["rounds"][k]
        ev = r.get("eval") or {}
        rows.append({
            "round": int(k),
            "pairs": (r.get("pairs") or {}).get("pairs"),
            "mean_gap": (r.get("gaps") or {}).get("mean"),
            "margin_before": (r.get("margin") or {}).get("margin_before"),
            "margin_after": (r.get("margin") or {}).get("margin_after"),
            "reward_mean": (ev.get("reward") or {}).get("mean_score"),
            "guard_mean": (ev.get("guard") or {}).get("mean_score"),
            **({"prompts_truncated": r["prompt_budget"]["n_truncated"]} if r.get("prompt_budget") else {}),
        })
    return {"rounds": rows, "final_policy": state.get("final_policy"),
            "guard_note": "a reward mean that rises while the guard mean does not is a sign of reward hacking"}


def run_iterative_simpo(script_args: Any, config: Any, model_args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run (or resume) the loop; keyword arguments as :class:`IterativeSimPO` takes them."""
    return IterativeSimPO(script_args, config, model_args, **kwargs).run()


def main(script_args: Any, training_args: Any, model_args: Any) -> dict[str, Any]:
    return run_iterative_simpo(script_args, training_args, model_args, launch_argv=sys.argv[1:])


if __name__ == "__main__":
    from cyclebench.trainers.configs import parse_recipe_argv

    main(*parse_recipe_argv(kind="iterative-simpo"))
