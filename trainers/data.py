"""Our built datasets as training rows: chat conversations tokenized with a loss mask on assistant turns.

Three sources, one shape (a list of ``{"role", "content"}`` messages per row):

``review5k-sft``    the ``sft`` config of a Review-5K build: ``messages`` = system, paper, reviews (assistant).
``deepreview13k``   DeepReview-13K: ``inputs`` (system + paper) followed by ``outputs`` (the assistant answer),
                    each either chat messages or their JSON text; a plain string output is one assistant turn.
                    Read from the original WestlakeNLP files (``train.csv`` ...) or from a cyclebench build.
``research14k``     Research-14K ``messages``: system, user (references), assistant (part 1), user
                    (``## Experimental_results``), assistant (part 2); the loss is on both assistant turns.

Masking does not depend on a chat template written for it (trl's ``assistant_only_loss`` needs
``{% generation %}`` markers, which the Mistral templates of the 12B/123B models lack, and Mistral-Nemo moves the
system prompt into the last user turn, so rendering prefixes does not work either). Instead the conversation is
rendered once with the model's own template, each assistant content is found in the rendered text (in order,
after the user turn before it), its span is extended over the end-of-turn token that follows it (the tokenizer's
EOS, or a special token named like one: ``<|im_end|>``, ``<|eot_id|>``, ``</s>``), and every token overlapping
a span gets mask 1. trl builds ``labels`` (-100 where the mask is 0) from the ``assistant_masks`` column of a
pre-tokenized dataset.

Every row that does not become a training row is counted with its reason (:class:`ConversionReport`):
rows in = rows out + rows rejected.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cyclebench.hub.columns import DeepReview13K, Research14K, Review5K
from cyclebench.hub.load import decoded_cell, read_split
from cyclebench.records import RecordError

Message = dict[str, str]
ROLES = ("system", "user", "assistant")


# ---------------------------------------------------------------------------------------------
# Rows -> conversations (pure)


def normalise_messages(value: Any, where: str) -> list[Message]:
    """``value`` as a list of ``{"role", "content"}`` (extra keys dropped); raises RecordError when it is not one."""
    value = decoded_cell(value)
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list) or not value:
        raise RecordError(f"{where}_not_messages", type(value).__name__)
    out = []
    for i, message in enumerate(value):
        if not isinstance(message, Mapping):
            raise RecordError(f"{where}_not_messages", f"item {i} is {type(message).__name__}")
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise RecordError("unknown_role", f"{where}[{i}].role={role!r}")
        if not isinstance(content, str) or not content.strip():
            raise RecordError("empty_content", f"{where}[{i}] ({role})")
        out.append({"role": role, "content": content})
    return out


def check_conversation(messages: list[Message]) -> list[Message]:
    """A trainable conversation has at least one assistant turn and no assistant turn before a user turn."""
    roles = [m["role"] for m in messages]
    if "assistant" not in roles:
        raise RecordError("no_assistant_turn")
    if "user" not in roles or roles.index("user") > roles.index("assistant"):
        raise RecordError("assistant_before_user")
    return messages


def review5k_sft_conversation(row: Mapping[str, Any]) -> list[Message]:
    return check_conversation(normalise_messages(row.get(Review5K.MESSAGES), "messages"))


def deepreview_conversation(row: Mapping[str, Any]) -> list[Message]:
    inputs = normalise_messages(row.get(DeepReview13K.INPUTS), "inputs")
    outputs = decoded_cell(row.get(DeepReview13K.OUTPUTS))
    if isinstance(outputs, str):  # a plain answer string
        if not outputs.strip():
            raise RecordError("empty_content", "outputs")
        outputs = [{"role": "assistant", "content": outputs}]
    outputs = normalise_messages(outputs, "outputs")
    if any(m["role"] != "assistant" for m in outputs):
        raise RecordError("outputs_not_assistant", ",".join(m["role"] for m in outputs))
    return check_conversation(inputs + outputs)


def research14k_conversation(row: Mapping[str, Any]) -> list[Message]:
    return check_conversation(normalise_messages(row.get(Research14K.MESSAGES), "messages"))


CONVERTERS: dict[str, Callable[[Mapping[str, Any]], list[Message]]] = {
    "review5k-sft": review5k_sft_conversation,
    "deepreview13k": deepreview_conversation,
    "research14k": research14k_conversation,
}
# The Hub config a format's rows live in when a cyclebench build (or the original Hub repo) is read.
DEFAULT_CONFIGS: dict[str, str | None] = {"review5k-sft": "sft", "deepreview13k": None, "research14k": None}
_ID_KEYS = (Review5K.ID, Research14K.PAPER_ID, Review5K.PAPER_ID)


def row_id(row: Mapping[str, Any], index: int) -> str:
    for key in _ID_KEYS:
        value = row.get(key)
        if value not in (None, ""):
            return str(value)
    return f"row-{index}"


# ---------------------------------------------------------------------------------------------
# Conversation -> tokens with an assistant mask


@dataclass(frozen=True)
class TokenizedChat:
    input_ids: list[int]
    assistant_masks: list[int]
    # The conversation was longer than max_length and was cut (keeping its start).
    truncated: bool
    # An assistant turn that the template does not close with the tokenizer's EOS (the model would not learn to stop).
    unterminated_turns: int = 0


def end_of_turn_tokens(tokenizer: Any) -> tuple[str, ...]:
    """Tokens that can close an assistant turn: the EOS first, then special tokens named like an end of turn
    (``<|im_end|>``, ``<|eot_id|>``, ``<end_of_turn>``, ``</s>``), for tokenizers whose EOS is another token."""
    found = [tokenizer.eos_token] if tokenizer.eos_token else []
    for token in getattr(tokenizer, "all_special_tokens", ()):
        low = token.lower()
        if token not in found and ("end" in low or "eot" in low or low == "</s>"):
            found.append(token)
    return tuple(found)


def assistant_char_spans(text: str, messages: list[Message],
                         end_tokens: str | tuple[str, ...] | None) -> tuple[list[tuple[int, int]], int]:
    """Character spans of the assistant turns in ``text`` (the rendered conversation), each extended over the
    end-of-turn token that closes it; and how many turns had none right after them.

    Each assistant content (stripped, as templates often trim) is searched for in order, after the content of
    the user turn before it, so a reply that repeats the prompt is not matched inside the prompt.
    """
    ends = (end_tokens,) if isinstance(end_tokens, str) else tuple(t for t in end_tokens or () if t)
    spans: list[tuple[int, int]] = []
    unterminated = 0
    cursor = 0
    for i, message in enumerate(messages):
        content = message["content"].strip()
        if message["role"] != "assistant":
            if message["role"] == "user":
                found = text.find(content, cursor)
                if found >= 0:
                    cursor = found + len(content)
            continue
        start = text.find(content, cursor)
        if start < 0:
            raise RecordError("assistant_not_in_rendered_chat", f"turn {i}")
        end = start + len(content)
        rest = text[end:]
        stripped = rest.lstrip(" \t\n")
        closing = next((t for t in ends if stripped.startswith(t)), None)
        if closing is not None:
            end += len(rest) - len(stripped) + len(closing)
        else:
            unterminated += 1
        spans.append((start, end))
        cursor = end
    return spans, unterminated


def tokenize_conversation(tokenizer: Any, messages: list[Message], max_length: int | None) -> TokenizedChat:
    """Render with the tokenizer's chat template, tokenize (fast tokenizer: offsets), mark assistant tokens.

    Raises RecordError when the template rejects the messages or when, after cutting to ``max_length``, no
    assistant token is left (such a row would teach nothing).
    """
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False)
    except Exception as exc:  # noqa: BLE001 - a template raising on these messages (e.g. role order)
        raise RecordError("chat_template_error", f"{type(exc).__name__}: {exc}") from None
    spans, unterminated = assistant_char_spans(text, messages, end_of_turn_tokens(tokenizer))
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])
    mask = [0] * len(ids)
    k = 0
    for t, (a, b) in enumerate(encoded["offset_mapping"]):
        while k < len(spans) and spans[k][1] <= a:
            k += 1
        if k < len(spans) and a < spans[k][1] and b > spans[k][0]:
            mask[t] = 1
    truncated = max_length is not None and len(ids) > max_length
    if truncated:
        ids, mask = ids[:max_length], mask[:max_length]
    if 1 not in mask:
        raise RecordError("no_assistant_token_within_max_length" if truncated else "no_assistant_token",
                          f"{len(encoded['input_ids'])} tokens, max_length {max_length}")
    return TokenizedChat(ids, mask, truncated, unterminated)


def require_fast_tokenizer(tokenizer: Any) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("assistant masking needs a fast tokenizer (character offsets); load it with use_fast=True")
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("the tokenizer has no chat template: give the recipe a chat_template_path")


# ---------------------------------------------------------------------------------------------
# Reading rows


def iter_rows(dataset: str, split: str, *, dataset_format: str, config: str | None = None,
              revision: str | None = None) -> Iterator[dict[str, Any]]:
    """Rows of one split of a training dataset (``cyclebench.hub.load.read_split``: a table file, a split's
    original file, a cyclebench build or a Hub repo); the config defaults to the format's (``sft`` for
    Review-5K)."""
    if dataset_format not in CONVERTERS:
        raise ValueError(f"unknown dataset_format {dataset_format!r}; choices: {', '.join(CONVERTERS)}")
    config = config if config is not None else DEFAULT_CONFIGS[dataset_format]
    yield from read_split(dataset, split, config=config, revision=revision)


# ---------------------------------------------------------------------------------------------
# Rows -> a tokenized dataset


@dataclass
class ConversionReport:
    """What happened to every row: ``rows_in == rows_out + sum(rejected.values())``."""

    dataset_format: str
    rows_in: int = 0
    rows_out: int = 0
    rejected: Counter = field(default_factory=Counter)
    truncated: int = 0
    unterminated_turns: int = 0
    tokens: int = 0
    assistant_tokens: int = 0
    examples: dict[str, str] = field(default_factory=dict)  # first row id seen per reject reason

    def reject(self, rid: str, error: RecordError) -> None:
        self.rejected[error.reason] += 1
        self.examples.setdefault(error.reason, f"{rid}: {error.detail}" if error.detail else rid)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_format": self.dataset_format, "rows_in": self.rows_in, "rows_out": self.rows_out,
            "rejected": dict(sorted(self.rejected.items())), "truncated": self.truncated,
            "unterminated_assistant_turns": self.unterminated_turns, "tokens": self.tokens,
            "assistant_tokens": self.assistant_tokens, "reject_examples": dict(sorted(self.examples.items())),
        }

    def check(self) -> None:
        if self.rows_in != self.rows_out + sum(self.rejected.values()):
            raise AssertionError(f"rows do not reconcile: {self.to_dict()}")


def tokenized_rows(rows: Iterable[Mapping[str, Any]], dataset_format: str, tokenizer: Any,
                   max_length: int | None, *, limit: int | None = None,
                   report: ConversionReport | None = None) -> Iterator[dict[str, Any]]:
    """``{"id", "input_ids", "assistant_masks"}`` per usable row; the rest counted in ``report``."""
    convert = CONVERTERS[dataset_format]
    report = report if report is not None else ConversionReport(dataset_format)
    for index, row in enumerate(rows):
        if limit is not None and report.rows_out >= limit:
            break
        report.rows_in += 1
        rid = row_id(row, index)
        try:
            chat = tokenize_conversation(tokenizer, convert(row), max_length)
        except RecordError as exc:
            report.reject(rid, exc)
            continue
        report.rows_out += 1
        report.truncated += chat.truncated
        report.unterminated_turns += chat.unterminated_turns
        report.tokens += len(chat.input_ids)
        report.assistant_tokens += sum(chat.assistant_masks)
        yield {"id": rid, "input_ids": chat.input_ids, "assistant_masks": chat.assistant_masks}


def build_sft_dataset(dataset: str, split: str, *, dataset_format: str, tokenizer: Any, max_length: int | None,
                      config: str | None = None, revision: str | None = None, limit: int | None = None):
    """A ``datasets.Dataset`` of tokenized rows for trl's SFTTrainer, and the :class:`ConversionReport`."""
    from datasets import Dataset

    require_fast_tokenizer(tokenizer)
    report = ConversionReport(dataset_format)
    rows = iter_rows(dataset, split, dataset_format=dataset_format, config=config, revision=revision)
    out = list(tokenized_rows(rows, dataset_format, tokenizer, max_length, limit=limit, report=report))
    report.check()
    if not out:
        raise ValueError(f"no trainable row in {dataset} split {split}: {report.to_dict()}")
    return Dataset.from_list(out), report
