"""Tiny chat models built in-process for backend tests (no Hub downloads).

``make_tiny_llama(path)`` / ``make_tiny_qwen2(path)`` write a complete ``save_pretrained`` folder: a
byte-level BPE tokenizer trained here on a few hundred generated lines, with special tokens and a Jinja chat
template, plus a 2-layer model with random (seeded) weights. The session fixtures ``tiny_llama`` and
``tiny_qwen2`` are registered by ``tests/conftest.py``, so every module shares one of each (a fixture imported
into a test module is registered, and built, once per importing module); import ``make_tiny_llama`` /
``make_tiny_qwen2`` from ``tests.tiny_models`` to build a variant.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

_WORDS = (
    "the paper proposes a method for learning sparse representations with attention and shows strong results "
    "on several benchmarks reviewers note that the experiments are thorough but the novelty is limited "
    "strengths clarity soundness weaknesses questions rating confidence accept reject minor major revision "
    "we thank the authors for their response model training data evaluation baseline ablation theorem proof "
    "figure table section appendix however moreover therefore because although results improve performance"
).split()

# Both templates render system/user/assistant turns and, when asked, the assistant generation prompt.
LLAMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|start|>{{ message['role'] }}\n{{ message['content'] }}<|end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|start|>assistant\n{% endif %}"
)
QWEN2_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _corpus(n_lines: int = 400, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(n_lines):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(5, 20))]
        line = " ".join(words)
        if rng.random() < 0.3:
            line = line.capitalize() + "."
        if rng.random() < 0.2:
            line += f" {rng.randint(0, 100)}"
        lines.append(line)
    return lines


def _train_tokenizer(specials: list[str], vocab_size: int = 512):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    return tok


def _save_tokenizer(path: Path, *, specials: list[str], template: str, bos: str | None, eos: str, pad: str):
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(
        tokenizer_object=_train_tokenizer(specials),
        bos_token=bos,
        eos_token=eos,
        pad_token=pad,
        additional_special_tokens=[t for t in specials if t not in (bos, eos, pad)],
        model_max_length=2048,
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = template
    fast.save_pretrained(path)
    return fast


def _finish_model(model, tok, path: Path) -> None:
    from transformers import GenerationConfig

    model.generation_config = GenerationConfig(
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        do_sample=False,
    )
    model.save_pretrained(path)


def make_tiny_llama(path: str | Path, *, seed: int = 0) -> Path:
    """A 2-layer random Llama + BPE tokenizer with a chat template, saved under ``path``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    specials = ["<|pad|>", "<|bos|>", "<|eot|>", "<|start|>", "<|end|>"]
    tok = _save_tokenizer(
        path, specials=specials, template=LLAMA_CHAT_TEMPLATE, bos="<|bos|>", eos="<|end|>", pad="<|pad|>"
    )
    config = LlamaConfig(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=len(tok),
        max_position_embeddings=2048,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    _finish_model(model, tok, path)
    return path


def make_tiny_qwen2(path: str | Path, *, seed: int = 0) -> Path:
    """A 2-layer random Qwen2 + BPE tokenizer (ChatML template, no BOS in the prompt), saved under ``path``."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = _save_tokenizer(
        path,
        specials=specials,
        template=QWEN2_CHAT_TEMPLATE,
        bos="<|endoftext|>",
        eos="<|im_end|>",
        pad="<|endoftext|>",
    )
    config = Qwen2Config(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=len(tok),
        max_position_embeddings=2048,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    _finish_model(model, tok, path)
    return path


def model_info(path: str | Path) -> dict:
    """The saved config as a dict (handy in assertions)."""
    return json.loads((Path(path) / "config.json").read_text())


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers", reason="tiny models need transformers (pip install 'cyclebench[train]')")
    return make_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_qwen2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers", reason="tiny models need transformers (pip install 'cyclebench[train]')")
    return make_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen2"))
