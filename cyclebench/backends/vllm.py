"""Offline generation with ``vllm.LLM`` (GPU). ``vllm`` is imported only when this backend is built.

model_args (``--model-args k=v,...``):

``pretrained``              model folder or Hub id (required).
``tensor_parallel_size``    GPUs per engine (default 1). Every number is checked when the backend is built
                            (whole numbers >= 1, ``gpu_memory_utilization`` in (0, 1], ``seed`` >= 0), every
                            switch is true/false (also 1/0, yes/no) and names stay the exact text given.
``data_parallel_size``      only 1 is accepted. vLLM's offline ``LLM`` does not do data parallelism inside one
                            process: recent versions raise for ``LLM(data_parallel_size>1)`` and older ones
                            can hang, and its multi-process DP example (one engine per GPU with
                            ``VLLM_DP_*`` environment variables) is out of scope here. For DP, run
                            ``vllm serve <model> --data-parallel-size N`` and use the ``openai`` backend,
                            or shard the papers over several runs.
``max_model_len``           context limit (default: the model's). Prompts longer than it come back with the
                            error ``prompt_too_long: N tokens > limit``; completions are capped so that prompt +
                            completion fits (finish ``length``).
``gpu_memory_utilization``  default 0.9.
``dtype``                   default ``auto``.
``enable_prefix_caching``   default: vLLM's.
``seed``                    engine seed (default: vLLM's); per-request ``seed`` in the sampling settings wins.
``trust_remote_code``       default false.

Requests go to ``llm.chat(conversations, [SamplingParams(...) per request], use_tqdm=False)``, which applies the
tokenizer's chat template with the generation prompt. Sampling keys: ``temperature`` (default 1.0), ``top_p``
(default 1.0), ``max_tokens`` (default 1024), ``stop``, ``seed``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from cyclebench.backends.base import (
    Backend,
    GenerationRequest,
    GenerationResponse,
    bool_arg,
    float_arg,
    int_arg,
    text_arg,
)

log = logging.getLogger(__name__)
_NAME = "vllm backend"

DEFAULT_MAX_TOKENS = 1024
# Arguments that change speed or memory, not outputs: left out of the fingerprint (and so of cache keys).
_NOT_IN_FINGERPRINT = ("gpu_memory_utilization", "enable_prefix_caching")


class VLLMBackend(Backend):
    name = "vllm"

    def __init__(
        self,
        pretrained: str | None = None,
        tensor_parallel_size: int = 1,
        data_parallel_size: int = 1,
        max_model_len: int | None = None,
        gpu_memory_utilization: float = 0.9,
        dtype: str = "auto",
        enable_prefix_caching: bool | None = None,
        seed: int | None = None,
        trust_remote_code: bool = False,
        **extra: Any,
    ):
        if extra:
            raise ValueError(f"vllm backend: unknown model_args {sorted(extra)}")
        if pretrained is None or pretrained == "":
            raise ValueError("vllm backend needs model_args pretrained=<model folder or Hub id>")
        if int_arg(_NAME, "data_parallel_size", data_parallel_size) != 1:
            raise ValueError(
                "vllm backend: data_parallel_size must be 1 - vLLM's offline LLM cannot do data parallelism in "
                "one process. Run `vllm serve <model> --data-parallel-size N` and use the openai backend "
                "(concurrency >= N), or shard the run."
            )
        args: dict[str, Any] = {
            "pretrained": text_arg(_NAME, "pretrained", pretrained),
            "tensor_parallel_size": int_arg(_NAME, "tensor_parallel_size", tensor_parallel_size),
            "data_parallel_size": 1,
            "max_model_len": None if max_model_len is None else int_arg(_NAME, "max_model_len", max_model_len),
            "gpu_memory_utilization": float_arg(_NAME, "gpu_memory_utilization", gpu_memory_utilization, high=1.0,
                                                low_open=True),
            "dtype": text_arg(_NAME, "dtype", dtype),
            "enable_prefix_caching": None if enable_prefix_caching is None
            else bool_arg(_NAME, "enable_prefix_caching", enable_prefix_caching),
            "seed": None if seed is None else int_arg(_NAME, "seed", seed, low=0),
            "trust_remote_code": bool_arg(_NAME, "trust_remote_code", trust_remote_code),
        }
        super().__init__(**args)
        try:
            import vllm
        except ImportError as exc:
            raise ImportError("the vllm backend needs vLLM: pip install vllm (or, in a cyclebench clone, pip install -e '.[vllm]'); vllm needs a GPU") from exc
        self._vllm = vllm

        engine: dict[str, Any] = {
            "model": args["pretrained"],
            "tensor_parallel_size": args["tensor_parallel_size"],
            "gpu_memory_utilization": args["gpu_memory_utilization"],
            "dtype": args["dtype"],
            "trust_remote_code": args["trust_remote_code"],
        }
        for key in ("max_model_len", "enable_prefix_caching", "seed"):
            if args[key] is not None:
                engine[key] = args[key]
        self.engine_args = engine
        self.llm = vllm.LLM(**engine)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = self._engine_max_len() or args["max_model_len"]
        if not self.max_model_len:
            raise ValueError("vllm backend: cannot tell the engine's context length; pass max_model_len=N")

    @property
    def fingerprint(self) -> str:
        args = {k: v for k, v in self.model_args.items() if k not in _NOT_IN_FINGERPRINT}
        return json.dumps({"backend": self.name, **args}, sort_keys=True, default=str)

    def _engine_max_len(self) -> int | None:
        engine = getattr(self.llm, "llm_engine", None)
        for holder in (getattr(engine, "model_config", None), getattr(engine, "vllm_config", None)):
            if holder is None:
                continue
            value = getattr(holder, "max_model_len", None)
            if value is None:
                value = getattr(getattr(holder, "model_config", None), "max_model_len", None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    def _prompt_len(self, request: GenerationRequest) -> int:
        text = self.tokenizer.apply_chat_template(
            [dict(m) for m in request.messages], tokenize=False, add_generation_prompt=True
        )
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def sampling_params(self, sampling: dict[str, Any], room: int) -> Any:
        """``SamplingParams`` for one request; ``room`` = context tokens left after the prompt."""
        temperature = sampling.get("temperature")
        top_p = sampling.get("top_p")
        max_tokens = sampling.get("max_tokens")
        stop = sampling.get("stop") or None
        if isinstance(stop, str):
            stop = [stop]
        kwargs: dict[str, Any] = {
            "temperature": 1.0 if temperature is None else float(temperature),
            "top_p": 1.0 if top_p is None else float(top_p),
            "max_tokens": min(DEFAULT_MAX_TOKENS if max_tokens is None else int(max_tokens), room),
            "stop": list(stop) if stop else None,
        }
        if sampling.get("seed") is not None:
            kwargs["seed"] = int(sampling["seed"])
        return self._vllm.SamplingParams(**kwargs)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        results: list[GenerationResponse | None] = [None] * len(requests)
        todo: list[int] = []
        params: dict[int, Any] = {}
        lengths: dict[int, int | None] = {}
        for i, req in enumerate(requests):
            try:
                n: int | None = self._prompt_len(req)
            except Exception as exc:  # noqa: BLE001 - e.g. a tokenizer without apply_chat_template(tokenize=False)
                # Cannot count here: let vLLM render it; a failure is isolated by the one-by-one retry below.
                log.debug("vllm backend: cannot pre-count %s: %s", req.request_id, exc)
                n = None
            lengths[i] = n
            if n is not None and n > self.max_model_len:
                results[i] = GenerationResponse(
                    req.request_id, None, error=f"prompt_too_long: {n} tokens > {self.max_model_len}", prompt_tokens=n
                )
                continue
            if n is not None and n == self.max_model_len:  # no room for a single token
                results[i] = GenerationResponse(
                    req.request_id, "", finish_reason="length", prompt_tokens=n, completion_tokens=0
                )
                continue
            try:
                params[i] = self.sampling_params(req.sampling, self.max_model_len - (n or 0))
            except Exception as exc:  # noqa: BLE001 - bad values fail this request only
                results[i] = GenerationResponse(req.request_id, None, error=f"bad_sampling: {exc}")
                continue
            todo.append(i)

        if todo:
            try:
                outputs = self._chat(requests, todo, params)
            except Exception as exc:  # noqa: BLE001 - retried one by one below
                log.warning("vllm backend: batch of %d failed (%s); retrying one by one", len(todo), exc)
                outputs = None
            if outputs is not None:
                for i, out in zip(todo, outputs):
                    results[i] = self._response(requests[i], out, lengths[i])
            else:
                for i in todo:
                    try:
                        (out,) = self._chat(requests, [i], params)
                        results[i] = self._response(requests[i], out, lengths[i])
                    except Exception as exc:  # noqa: BLE001 - one request fails, not the run
                        results[i] = GenerationResponse(
                            requests[i].request_id, None, error=f"generation_failed: {type(exc).__name__}: {exc}"
                        )
        return [
            r if r is not None else GenerationResponse(q.request_id, None, error="no_output")
            for r, q in zip(results, requests)
        ]

    def _chat(self, requests: Sequence[GenerationRequest], idx: list[int], params: dict[int, Any]) -> list[Any]:
        conversations = [[dict(m) for m in requests[i].messages] for i in idx]
        outputs = self.llm.chat(conversations, [params[i] for i in idx], use_tqdm=False)
        if len(outputs) != len(idx):
            raise RuntimeError(f"vllm returned {len(outputs)} outputs for {len(idx)} conversations")
        return outputs

    @staticmethod
    def _response(request: GenerationRequest, out: Any, counted: int | None) -> GenerationResponse:
        best = out.outputs[0]
        prompt_ids = getattr(out, "prompt_token_ids", None)
        return GenerationResponse(
            request_id=request.request_id,
            text=best.text,
            finish_reason=best.finish_reason,
            prompt_tokens=len(prompt_ids) if prompt_ids is not None else counted,
            completion_tokens=len(best.token_ids),
        )

    def close(self) -> None:
        self.llm = None
