"""Score texts with Fast-DetectGPT: models loaded by the hf backend, texts chunked to the context, batched.

Model args are the hf backend's (``pretrained=...,gguf_file=...,dtype=...,device=...,max_length=...``) plus
``batch_size`` (chunks per forward pass). The scoring and the reference model may differ but must share one
tokenizer (same vocabulary, token for token): otherwise the two distributions are over different things and the
detector refuses. One model serves as both unless a reference is given (one forward pass per chunk).

Each text is tokenized as the tokenizer does by default (its BOS when it adds one); the first token is context
only, every later one is scored once. A text longer than the model's context is cut into chunks that overlap by one
token (the last token of a chunk is the context of the next), and the statistics of its chunks are summed before
the criterion is taken. At most ``max_tokens`` tokens of a text are scored: the rest is not, and the row says so
(``truncated``, ``n_tokens_total``), nothing is cut silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclebench.detection.calibration import Calibration, find_calibration, read_calibrations
from cyclebench.detection.criterion import TokenSums, criterion, token_sums
from cyclebench.detection.items import Detection, TextItem

PLAIN_TEMPLATE = Path(__file__).with_name("plain_template.jinja")
DEFAULT_MAX_TOKENS = 512
DEFAULT_BATCH_SIZE = 4
SKIP_EMPTY = "empty_text"
SKIP_TOO_SHORT = "too_few_tokens"
SKIP_UNDEFINED = "criterion_undefined"


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    max_length: int
    identity: str
    model_args: dict[str, Any] = field(default_factory=dict)


def model_identity(backend: Any) -> str:
    """What a calibration is keyed by: the GGUF file's SHA-256 (whatever folder holds it), else the
    ``pretrained`` text as given (a Hub id names one model; a local folder is only as good as its name)."""
    if getattr(backend, "gguf", None):
        return f"gguf-sha256:{backend.gguf['sha256']}"
    return f"pretrained:{backend.model_args['pretrained']}"


def load_model(model_args: dict[str, Any]) -> tuple[LoadedModel, int]:
    """Load through the hf backend (dtype, device, GGUF, installed:PKG all as there); returns the model and the
    detection batch size. Detection never uses a chat template, so a base model without one gets a plain one."""
    from cyclebench.backends.hf import HFBackend

    args = dict(model_args)
    batch_size = args.pop("batch_size", DEFAULT_BATCH_SIZE)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"detect: batch_size must be a whole number >= 1, not {batch_size!r}")
    try:
        backend = HFBackend(**args)
    except ValueError as exc:
        if "no chat template" not in str(exc) or "chat_template" in args:
            raise
        backend = HFBackend(**args, chat_template=str(PLAIN_TEMPLATE))
    recorded = {k: v for k, v in backend.model_args.items() if k not in ("batch_size", "chat_template")}
    if backend.gguf:
        recorded["gguf"] = backend.gguf
    return LoadedModel(backend.model, backend.tokenizer, backend.max_length, model_identity(backend), recorded), \
        batch_size


def check_same_tokenizer(a: Any, b: Any) -> None:
    """Refuse a scoring/reference pair whose tokenizers differ (vocabulary or special tokens)."""
    if a is b:
        return
    if a.get_vocab() != b.get_vocab():
        raise ValueError("detect: the scoring and reference models have different tokenizers (vocabularies differ); "
                         "Fast-DetectGPT compares their distributions token by token and needs one tokenizer")
    if (a.bos_token_id, a.eos_token_id) != (b.bos_token_id, b.eos_token_id):
        raise ValueError("detect: the scoring and reference tokenizers differ in their BOS/EOS tokens")


@dataclass(frozen=True)
class _Chunk:
    text_index: int
    ids: list[int]


def chunk_ids(ids: Sequence[int], context: int) -> list[list[int]]:
    """Windows of at most ``context`` tokens overlapping by one, so each token after the first is scored once."""
    if context < 2:
        raise ValueError(f"detect: a context of {context} tokens cannot score anything (need >= 2)")
    if len(ids) < 2:
        return []
    step = context - 1
    return [list(ids[s: s + context]) for s in range(0, len(ids) - 1, step)]


class Detector:
    """A scoring model and a reference model (the same one by default), their calibration if one is shipped."""

    def __init__(self, scoring_args: dict[str, Any], reference_args: dict[str, Any] | None = None, *,
                 max_tokens: int = DEFAULT_MAX_TOKENS, calibration_file: str | Path | None = None):
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 2:
            raise ValueError(f"detect: max_tokens must be a whole number >= 2, not {max_tokens!r}")
        if calibration_file is not None:
            read_calibrations(calibration_file)  # a bad file is one line before any model is loaded
        import torch

        self._torch = torch
        self.max_tokens = max_tokens
        self.scoring, self.batch_size = load_model(scoring_args)
        if reference_args:
            self.reference, _ = load_model(reference_args)
            check_same_tokenizer(self.scoring.tokenizer, self.reference.tokenizer)
        else:
            self.reference = self.scoring
        self.context = min(self.scoring.max_length, self.reference.max_length)
        kwargs = {} if calibration_file is None else {"path": calibration_file}
        self.calibration: Calibration | None
        self.calibration, self.no_calibration = find_calibration(self.scoring.identity, self.reference.identity,
                                                                 **kwargs)

    def describe(self) -> dict[str, Any]:
        """What a results file records about the detector."""
        return {
            "method": "fast-detectgpt sampling discrepancy (analytic)",
            "scoring_model": {"identity": self.scoring.identity, **self.scoring.model_args},
            "reference_model": {"identity": self.reference.identity, **self.reference.model_args},
            "max_tokens": self.max_tokens, "context": self.context,
            "calibration": None if self.calibration is None else self.calibration.to_json(),
            "no_calibration": self.no_calibration,
        }

    def _forward(self, model: Any, batch: list[_Chunk], pad: int) -> Any:
        torch = self._torch
        width = max(len(c.ids) for c in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for r, c in enumerate(batch):  # right padding: a causal model's real positions never see it
            ids[r, : len(c.ids)] = torch.tensor(c.ids, dtype=torch.long)
            mask[r, : len(c.ids)] = 1
        device = next(model.parameters()).device
        with torch.no_grad():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        return logits[:, :-1].float().cpu(), ids[:, 1:], mask[:, 1:]

    def score(self, items: Sequence[TextItem]) -> list[Detection]:
        """One :class:`Detection` per item, in order."""
        tok = self.scoring.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        totals: list[int] = []
        chunks: list[_Chunk] = []
        for i, item in enumerate(items):
            if not item.text.strip():
                totals.append(0)
                continue
            ids = list(tok(item.text)["input_ids"])
            totals.append(len(ids))
            # max_tokens scored tokens follow one context token
            chunks.extend(_Chunk(i, c) for c in chunk_ids(ids[: self.max_tokens + 1], self.context))
        sums = [TokenSums() for _ in items]
        order = sorted(range(len(chunks)), key=lambda k: -len(chunks[k].ids))
        for start in range(0, len(order), self.batch_size):
            batch = [chunks[k] for k in order[start: start + self.batch_size]]
            score_logits, labels, mask = self._forward(self.scoring.model, batch, pad)
            ref_logits = score_logits if self.reference is self.scoring else \
                self._forward(self.reference.model, batch, pad)[0]
            for chunk, s in zip(batch, token_sums(score_logits, ref_logits, labels, mask)):
                sums[chunk.text_index] = sums[chunk.text_index] + s
        out = []
        for item, total, s in zip(items, totals, sums):
            value = criterion(s)
            skipped = (SKIP_EMPTY if not item.text.strip() else SKIP_TOO_SHORT if s.n_tokens == 0
                       else SKIP_UNDEFINED if value is None else None)
            probability = None if self.calibration is None else self.calibration.probability(value)
            out.append(Detection(item.id, value, probability, s.n_tokens, total,
                                 max(total - 1, 0) > s.n_tokens, skipped))
        return out
