"""Long papers in short contexts, explicitly: the task option ``max_paper_tokens=N`` cuts each paper text to
its first N tokens of the model's own tokenizer before the protocol builds the prompt.

Head only, by choice: the head (title, abstract, introduction, method) is what every paper has, while a
"conclusion" heading is missing or misnamed in many texts, so a head + conclusion cut would treat papers
unevenly. A cut text ends with :data:`MARKER` (a few tokens beyond the budget), so the model is told that
the paper goes on. Default: no truncation (the option absent), and then prompts, cache keys and
``predictions.jsonl`` are exactly what they were. When the option is on, ``results.json`` records the budget
and how many papers were cut (``counts.truncation``), and each prediction row says whether its paper was
(``truncated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from cyclebench.records import ReviewExample

MAX_PAPER_TOKENS = "max_paper_tokens"
MARKER = "\n\n[... paper truncated by cyclebench: the first {kept} of {total} tokens are shown ...]"
DEFINITION = ("max_paper_tokens=N: each paper text longer than N tokens of the model's tokenizer is cut to its "
              "first N tokens (head only) and ends with a line saying so; counts.truncation gives the budget and "
              "how many papers were cut, each prediction row's 'truncated' whether its paper was")


def check_budget(value: Any) -> int:
    """A token budget: a whole number >= 1 (``max_paper_tokens=0`` would show the model nothing)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"task option {MAX_PAPER_TOKENS} must be a whole number of tokens >= 1, not {value!r}")
    return value


@dataclass(frozen=True)
class Cut:
    """One paper text after truncation: its token count before, how many were kept, the text shown."""

    text: str
    tokens: int
    kept: int

    @property
    def truncated(self) -> bool:
        return self.kept < self.tokens


def truncate_head(text: str, budget: int, tokenizer: Any) -> Cut:
    """``text`` cut after its first ``budget`` tokens (character offsets of a fast tokenizer, else decoding
    the kept ids), plus :data:`MARKER`; unchanged when it fits."""
    if isinstance(getattr(tokenizer, "is_fast", None), bool) and tokenizer.is_fast:
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
        if len(ids) <= budget:
            return Cut(text, len(ids), len(ids))
        head = text[: offsets[budget - 1][1]]
    else:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) <= budget:
            return Cut(text, len(ids), len(ids))
        head = tokenizer.decode(ids[:budget], skip_special_tokens=True)
    return Cut(head + MARKER.format(kept=budget, total=len(ids)), len(ids), budget)


@dataclass(frozen=True)
class Truncation:
    """The papers as the model sees them, which were cut, and the summary ``results.json`` records."""

    examples: list[ReviewExample]
    flags: list[bool]
    summary: dict[str, Any]


def paper_tokenizer(backend: Any) -> Any:
    """The tokenizer a budget is counted in: the model's own (hf and vllm backends hold one)."""
    tokenizer = getattr(backend, "tokenizer", None)
    if tokenizer is None or not callable(tokenizer):
        name = getattr(backend, "name", type(backend).__name__)
        raise ValueError(f"task option {MAX_PAPER_TOKENS} counts tokens with the model's tokenizer; the {name} "
                         "backend has none (use hf or vllm, or drop the option)")
    return tokenizer


def truncate_papers(examples: Sequence[ReviewExample], budget: int, tokenizer: Any) -> Truncation:
    """Every paper cut to ``budget`` tokens; the summary counts them (cut + kept whole = papers)."""
    budget = check_budget(budget)
    cuts = [truncate_head(ex.paper_text, budget, tokenizer) for ex in examples]
    flags = [c.truncated for c in cuts]
    shown = [replace(ex, paper_text=c.text) if c.truncated else ex for ex, c in zip(examples, cuts)]
    summary = {
        MAX_PAPER_TOKENS: budget,
        "method": "head",
        "tokenizer": getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__,
        "n_papers": len(cuts),
        "n_truncated": sum(flags),
        "n_whole": len(cuts) - sum(flags),
        "max_paper_tokens_seen": max((c.tokens for c in cuts), default=0),
    }
    return Truncation(shown, flags, summary)
