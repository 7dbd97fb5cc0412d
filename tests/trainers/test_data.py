"""Training rows: conversations from each dataset shape, assistant-only masks, counted rejects."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers", reason="tokenizers come from transformers (pip install 'cyclebench[train]')")

from cyclebench.records import RecordError
from cyclebench.trainers.data import (
    ConversionReport,
    assistant_char_spans,
    build_sft_dataset,
    deepreview_conversation,
    research14k_conversation,
    tokenize_conversation,
    tokenized_rows,
)

from .support import (
    deepreview_rows,
    research14k_rows,
    write_csv,
    write_jsonl,
)

FIVE_TURNS = [
    {"role": "system", "content": "You write papers."},
    {"role": "user", "content": "references here"},
    {"role": "assistant", "content": "the paper proposes a method"},
    {"role": "user", "content": "## Experimental_results"},
    {"role": "assistant", "content": "results improve"},
]


def _tokenizer(path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def _masked_text(tok, chat):
    return tok.decode([t for t, m in zip(chat.input_ids, chat.assistant_masks) if m], skip_special_tokens=False)


@pytest.mark.parametrize("model, end", [("tiny_llama", "<|end|>"), ("tiny_qwen2", "<|im_end|>")])
def test_only_assistant_turns_and_their_end_token_are_masked_in(model, end, request):
    tok = _tokenizer(request.getfixturevalue(model))
    chat = tokenize_conversation(tok, FIVE_TURNS, max_length=None)
    assert _masked_text(tok, chat) == f"the paper proposes a method{end}results improve{end}"
    unmasked = tok.decode([t for t, m in zip(chat.input_ids, chat.assistant_masks) if not m], skip_special_tokens=False)
    for text in ("You write papers.", "references here", "## Experimental_results", "assistant\n"):
        assert text in unmasked
    assert not chat.truncated and chat.unterminated_turns == 0


def test_a_reply_that_repeats_the_prompt_is_found_after_the_prompt(tiny_llama):
    tok = _tokenizer(tiny_llama)
    messages = [{"role": "user", "content": "echo this"}, {"role": "assistant", "content": "echo this"}]
    text = tok.apply_chat_template(messages, tokenize=False)
    (start, end), = assistant_char_spans(text, messages, tok.eos_token)[0]
    assert text.index("echo this") < start and text[start:end] == "echo this<|end|>"


def test_the_end_of_turn_token_need_not_be_the_eos():
    text = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\nan answer<|im_end|>\n"
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "an answer"}]
    ((start, end),), unterminated = assistant_char_spans(text, messages, ("<|endoftext|>", "<|im_end|>"))
    assert text[start:end] == "an answer<|im_end|>" and unterminated == 0
    ((start, end),), unterminated = assistant_char_spans(text, messages, "<|endoftext|>")
    assert text[start:end] == "an answer" and unterminated == 1  # counted: the model would not learn to stop


def test_truncation_keeps_rows_that_still_hold_an_assistant_token(tiny_llama):
    tok = _tokenizer(tiny_llama)
    full = tokenize_conversation(tok, FIVE_TURNS, max_length=None)
    first_assistant = full.assistant_masks.index(1)
    cut = tokenize_conversation(tok, FIVE_TURNS, max_length=first_assistant + 2)
    assert cut.truncated and len(cut.input_ids) == first_assistant + 2 and sum(cut.assistant_masks) == 2
    with pytest.raises(RecordError) as err:
        tokenize_conversation(tok, FIVE_TURNS, max_length=first_assistant)
    assert err.value.reason == "no_assistant_token_within_max_length"


def test_deepreview_rows_from_json_text_and_plain_string_outputs():
    row = deepreview_rows(1)[0]
    chat = deepreview_conversation(row)
    assert [m["role"] for m in chat] == ["system", "user", "assistant"]
    plain = deepreview_conversation({**row, "outputs": "\\boxed_review{ok}"})
    assert plain[-1] == {"role": "assistant", "content": "\\boxed_review{ok}"}


@pytest.mark.parametrize("row, reason", [
    ({"inputs": "[]", "outputs": "x"}, "inputs_not_messages"),
    ({"inputs": json.dumps([{"role": "user", "content": "p"}]), "outputs": ""}, "empty_content"),
    ({"inputs": json.dumps([{"role": "critic", "content": "p"}]), "outputs": "x"}, "unknown_role"),
    ({"inputs": json.dumps([{"role": "user", "content": "p"}]),
      "outputs": json.dumps([{"role": "user", "content": "q"}])}, "outputs_not_assistant"),
])
def test_bad_deepreview_rows_name_their_reason(row, reason):
    with pytest.raises(RecordError) as err:
        deepreview_conversation(row)
    assert err.value.reason == reason


def test_research_rows_need_an_assistant_turn_after_a_user_turn():
    assert len(research14k_conversation(research14k_rows(1)[0])) == 5
    with pytest.raises(RecordError, match="no_assistant_turn"):
        research14k_conversation({"messages": FIVE_TURNS[:2]})
    with pytest.raises(RecordError, match="assistant_before_user"):
        research14k_conversation({"messages": [FIVE_TURNS[2], FIVE_TURNS[1]]})


def test_counts_reconcile_with_a_reason_for_every_rejected_row(tiny_llama):
    tok = _tokenizer(tiny_llama)
    rows = research14k_rows(3) + [{"paperId": "bad1", "messages": "not json"},
                                  {"paperId": "bad2", "messages": FIVE_TURNS[:2]}]
    report = ConversionReport("research14k")
    out = list(tokenized_rows(rows, "research14k", tok, None, report=report))
    assert [r["id"] for r in out] == ["p0", "p1", "p2"]
    report.check()
    assert report.rows_in == 5 and report.rows_out == 3
    assert dict(report.rejected) == {"messages_not_messages": 1, "no_assistant_turn": 1}
    assert report.to_dict()["reject_examples"]["no_assistant_turn"] == "bad2"


def test_original_deepreview_csv_folder_becomes_a_dataset(tiny_llama, tmp_path):
    tok = _tokenizer(tiny_llama)
    write_csv(tmp_path / "train.csv", deepreview_rows(2, modes=3))
    dataset, report = build_sft_dataset(str(tmp_path), "train", dataset_format="deepreview13k", tokenizer=tok,
                                        max_length=512)
    # every mode of a paper is its own training row (the three chains differ)
    assert len(dataset) == 6 and report.rows_in == 6 and set(dataset.column_names) == {"id", "input_ids", "assistant_masks"}


def test_a_split_with_no_trainable_row_is_an_error_with_the_counts(tiny_llama, tmp_path):
    tok = _tokenizer(tiny_llama)
    write_jsonl(tmp_path / "train.jsonl", [{"paperId": "x", "messages": FIVE_TURNS[:2]}])
    with pytest.raises(ValueError, match="no_assistant_turn"):
        build_sft_dataset(str(tmp_path), "train", dataset_format="research14k", tokenizer=tok, max_length=256)
