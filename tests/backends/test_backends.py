"""Backends: model-args parsing, HF generation on a tiny in-process Llama/Qwen2, the OpenAI client against a local
OpenAI-compatible server serving that model, the response cache, and vLLM argument mapping (with a fake module)."""

from __future__ import annotations

import json
import shutil
import sys
import time
import types
from typing import ClassVar

import pytest

from cyclebench.backends import GenerationRequest, build_backend, parse_model_args
from cyclebench.backends.cache import CachedBackend
from cyclebench.backends.fake import FakeBackend

try:
    from openai_server import OpenAIServer
except ImportError:  # tests/ imported as a package
    from tests.openai_server import OpenAIServer


def req(rid: str, text: str, system: str | None = None, **sampling) -> GenerationRequest:
    messages = ({"role": "system", "content": system},) if system else ()
    return GenerationRequest(rid, messages + ({"role": "user", "content": text},), sampling)


GREEDY = {"temperature": 0, "max_tokens": 10}
SAMPLED = {"temperature": 0.8, "top_p": 0.9, "max_tokens": 10, "seed": 1234}


def mixed_requests() -> list[GenerationRequest]:
    return [
        req("a", "Summarize the paper in one line.", system="You are a reviewer.", **GREEDY),
        req("b", "What are the strengths?", **SAMPLED),
        req("c", "the paper proposes a method for learning sparse representations with attention", **GREEDY),
        req("d", "List the weaknesses.", **SAMPLED),
        req("e", "Rate it.", temperature=0, max_tokens=6),
    ]


# ---------------------------------------------------------------------------------------------- model args


def test_parse_model_args_coerces_types():
    args = parse_model_args("pretrained=/m/x, batch_size=8,temperature=0.5,trust_remote_code=True,seed=none,d=bf16")
    assert args == {
        "pretrained": "/m/x",
        "batch_size": 8,
        "temperature": 0.5,
        "trust_remote_code": True,
        "seed": None,
        "d": "bf16",
    }
    assert parse_model_args("") == {} and parse_model_args(None) == {}
    with pytest.raises(ValueError, match="key=value"):
        parse_model_args("pretrained")


def test_unknown_backend_and_unknown_args():
    with pytest.raises(ValueError, match="unknown backend 'nope'.*fake"):
        build_backend("nope")
    with pytest.raises(ValueError, match="unknown model_args"):
        build_backend("fake", "colour=blue")


def test_fake_backend_from_model_args(tmp_path):
    canned = tmp_path / "canned.jsonl"
    canned.write_text('{"request_id": "x", "text": "canned x"}\n{"request_id": "7", "text": "seven"}\n')
    fake = build_backend("fake", f"responses={canned},text=default,fail_ids=y;3")
    assert isinstance(fake, FakeBackend)
    out = fake.generate([req("x", "hi"), req("y", "hi"), req("z", "hi"), req("3", "hi"), req("7", "hi")])
    assert [o.request_id for o in out] == ["x", "y", "z", "3", "7"]
    assert [o.text for o in out] == ["canned x", None, "default", None, "seven"]
    assert out[1].error == out[3].error == "fake_failure"
    assert fake.calls == ["x", "y", "z", "3", "7"] and fake.batches == [fake.calls]
    assert build_backend("fake", "fail_ids=3").fail_ids == {"3"}  # coerced int back to an id


# ---------------------------------------------------------------------------------------------- HF


@pytest.fixture(scope="module")
def hf(tiny_llama):
    backend = build_backend("hf", f"pretrained={tiny_llama},batch_size=2,dtype=float32")
    yield backend
    backend.close()


def test_hf_mixed_batch_same_order_and_batch_invariant(hf):
    reqs = mixed_requests()
    out = hf.generate(reqs)
    assert [o.request_id for o in out] == ["a", "b", "c", "d", "e"]
    for o, r in zip(out, reqs):
        assert o.error is None and isinstance(o.text, str)
        assert o.finish_reason in ("stop", "length")
        assert o.prompt_tokens > 0 and 0 < o.completion_tokens <= r.sampling["max_tokens"]
        assert o.cached is False
    # The same answers one by one and in reverse order: batching and neighbours change nothing.
    singles = [hf.generate([r])[0] for r in reqs]
    reverse = hf.generate(reqs[::-1])[::-1]
    assert [o.text for o in singles] == [o.text for o in out] == [o.text for o in reverse]
    # The longer prompt really is longer once templated.
    assert out[2].prompt_tokens > out[4].prompt_tokens


def test_hf_seeded_sampling_is_reproducible(hf):
    import transformers

    a = hf.generate([req("s", "Tell me about the results.", **SAMPLED)])[0]
    b = hf.generate([req("s2", "Tell me about the results.", **SAMPLED)])[0]
    other = hf.generate([req("s3", "Tell me about the results.", **{**SAMPLED, "seed": 99})])[0]
    assert a.text == b.text
    assert other.text != a.text
    unseeded = {k: v for k, v in SAMPLED.items() if k != "seed"}
    transformers.set_seed(7)
    c = hf.generate([req("u", "Tell me about the results.", **unseeded)])[0]
    transformers.set_seed(7)
    d = hf.generate([req("u", "Tell me about the results.", **unseeded)])[0]
    assert c.text == d.text


def test_hf_stop_strings_and_length(hf):
    full = hf.generate([req("f", "Write the review.", temperature=0, max_tokens=16)])[0]
    assert full.finish_reason == "length" and full.completion_tokens == 16
    assert len(full.text) > 6
    stop = full.text[3:6]
    cut = full.text.index(stop)
    stopped = hf.generate([req("f", "Write the review.", temperature=0, max_tokens=16, stop=[stop, "\x00never"])])[0]
    assert stopped.finish_reason == "stop"
    assert stopped.text == full.text[:cut]
    assert stopped.completion_tokens < 16
    short = hf.generate([req("f", "Write the review.", temperature=0, max_tokens=3)])[0]
    assert short.finish_reason == "length" and short.completion_tokens == 3


def test_hf_prompt_too_long_is_an_error_response(tiny_llama):
    small = build_backend("hf", {"pretrained": str(tiny_llama), "max_length": 48})
    long_text = "the paper proposes a method " * 40
    out = small.generate([req("long", long_text, **GREEDY), req("ok", "hi", temperature=0, max_tokens=200)])
    assert out[0].request_id == "long" and out[0].text is None
    assert out[0].error.startswith("prompt_too_long: ") and out[0].error.endswith(" tokens > 48")
    assert int(out[0].error.split()[1]) == out[0].prompt_tokens > 48
    # The short prompt still runs, capped at the context limit.
    assert out[1].error is None and out[1].finish_reason == "length"
    assert out[1].prompt_tokens + out[1].completion_tokens == 48


def test_hf_batch_size_respected(hf, monkeypatch):
    sizes = []
    real = hf.model.generate

    def spy(*args, **kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(hf.model, "generate", spy)
    reqs = [req(f"r{i}", f"question number {i}", temperature=0, max_tokens=2) for i in range(5)]
    out = hf.generate(reqs)
    assert [o.request_id for o in out] == [f"r{i}" for i in range(5)]
    assert sorted(sizes, reverse=True) == [2, 2, 1]
    # Mixed sampling settings never share a batch.
    sizes.clear()
    hf.generate(mixed_requests())
    assert sorted(sizes) == [1, 2, 2]  # greedy(10) x2, sampled x2, greedy(6) x1


def test_hf_ignores_checkpoint_generation_defaults(hf, tiny_llama, tmp_path):
    folder = tmp_path / "opinionated"
    shutil.copytree(tiny_llama, folder)
    config = json.loads((folder / "generation_config.json").read_text())
    config.update(do_sample=True, temperature=5.0, top_k=3, repetition_penalty=3.0, min_new_tokens=8)
    (folder / "generation_config.json").write_text(json.dumps(config))
    opinionated = build_backend("hf", f"pretrained={folder}")
    assert opinionated.checkpoint_generation_config.repetition_penalty == 3.0
    reqs = mixed_requests()
    assert [o.text for o in opinionated.generate(reqs)] == [o.text for o in hf.generate(reqs)]


def test_hf_qwen2_and_missing_chat_template(tiny_qwen2, tmp_path):
    qwen = build_backend("hf", f"pretrained={tiny_qwen2},batch_size=4")
    out = qwen.generate([req("q1", "hello", **GREEDY), req("q2", "how are you", system="Be kind.", **SAMPLED)])
    assert [o.error for o in out] == [None, None]
    assert all(0 < o.completion_tokens <= 10 for o in out)

    bare = tmp_path / "no-template"
    shutil.copytree(tiny_qwen2, bare)
    (bare / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((bare / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="no chat template"):
        build_backend("hf", f"pretrained={bare}")
    template = tmp_path / "plain.jinja"
    template.write_text("{% for m in messages %}{{ m['content'] }}\n{% endfor %}")
    plain = build_backend("hf", f"pretrained={bare},chat_template={template}")
    assert plain.generate([req("p", "hello", **GREEDY)])[0].error is None


# ---------------------------------------------------------------------------------------------- OpenAI


@pytest.fixture(scope="module")
def server(hf):
    with OpenAIServer(hf, model="tiny") as srv:
        yield srv


def client(base_url: str, **kwargs):
    args = {"base_url": base_url, "model": "tiny", "backoff": 0.01, **kwargs}
    return build_backend("openai", args)


def test_openai_matches_hf_greedy(hf, server):
    reqs = [r for r in mixed_requests() if r.sampling["temperature"] == 0]
    reqs.append(req("stop", "Write the review.", temperature=0, max_tokens=16, stop=["e"]))
    direct = hf.generate(reqs)
    remote = client(server.base_url, concurrency=3).generate(reqs)
    for d, r in zip(direct, remote):
        assert r.error is None
        assert (r.request_id, r.text, r.finish_reason, r.prompt_tokens, r.completion_tokens) == (
            d.request_id,
            d.text,
            d.finish_reason,
            d.prompt_tokens,
            d.completion_tokens,
        )
    body = server.bodies[-1]
    assert body["model"] == "tiny" and body["max_tokens"] in (6, 10, 16) and body["temperature"] == 0


def test_openai_seeded_sampling_matches_hf(hf, server):
    r = req("b", "What are the strengths?", **SAMPLED)
    assert client(server.base_url).generate([r])[0].text == hf.generate([r])[0].text


@pytest.fixture()
def fake_server():
    with OpenAIServer(FakeBackend(text="served"), model="tiny") as srv:
        yield srv


@pytest.mark.parametrize("status", [503, 500, 429])
def test_openai_retries_then_succeeds(status):
    with OpenAIServer(FakeBackend(text="served"), fail_first=2, fail_status=status) as srv:
        out = client(srv.base_url, max_retries=3).generate([req("a", "hi", **GREEDY)])[0]
    assert out.error is None and out.text == "served"
    assert srv.seen == 3


def test_openai_honours_retry_after():
    with OpenAIServer(FakeBackend(text="served"), fail_first=1, fail_status=429, retry_after=1) as srv:
        start = time.monotonic()
        out = client(srv.base_url, max_retries=2, backoff=0).generate([req("a", "hi", **GREEDY)])[0]
        elapsed = time.monotonic() - start
    assert out.error is None and srv.seen == 2
    assert elapsed >= 0.95


def test_openai_gives_up_after_retries():
    with OpenAIServer(FakeBackend(text="served"), fail_first=100, fail_status=503) as srv:
        out = client(srv.base_url, max_retries=2).generate([req("a", "hi", **GREEDY)])[0]
    assert out.text is None and out.error.startswith("http_503: ") and "injected failure 3" in out.error
    assert srv.seen == 3


def test_openai_permanent_400_is_not_retried(fake_server):
    server = fake_server
    before = server.seen
    out = client(server.base_url, max_retries=3).generate(
        [req("bad", "hi", temperature=0, max_tokens=-1), req("good", "hi", **GREEDY)]
    )
    assert out[0].request_id == "bad" and out[0].text is None
    assert out[0].error.startswith("http_400: ") and "max_tokens" in out[0].error
    assert out[1].error is None
    assert server.seen - before == 2
    unknown = build_backend("openai", {"base_url": server.base_url, "model": "other"}).generate([req("m", "hi")])
    assert unknown[0].error.startswith("http_404: ")


def test_openai_prompt_too_long_from_server(tiny_llama):
    small = build_backend("hf", {"pretrained": str(tiny_llama), "max_length": 32})
    with OpenAIServer(small) as srv:
        out = client(srv.base_url).generate([req("long", "the paper proposes " * 30, **GREEDY)])[0]
    assert out.error.startswith("http_400: ") and "prompt_too_long" in out.error


def test_openai_timeout():
    # A fake model behind the server: the handler outlives the test and must not touch a closed model.
    with OpenAIServer(FakeBackend(text="late"), delay=2.0) as srv:
        start = time.monotonic()
        out = client(srv.base_url, timeout=0.3, max_retries=0).generate([req("slow", "hi", **GREEDY)])[0]
        elapsed = time.monotonic() - start
    assert out.text is None and out.error == "timeout"
    assert elapsed < 1.5


def test_openai_connection_error():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = client(f"http://127.0.0.1:{port}/v1", max_retries=1, backoff=0).generate([req("x", "hi")])[0]
    assert out.text is None and out.error.startswith("connection_error")


def test_openai_concurrency():
    reqs = [req(f"c{i}", f"question {i}", temperature=0, max_tokens=2) for i in range(4)]
    with OpenAIServer(FakeBackend(text="served"), delay=0.4) as srv:
        start = time.monotonic()
        out = client(srv.base_url, concurrency=4).generate(reqs)
        elapsed = time.monotonic() - start
    assert [o.request_id for o in out] == ["c0", "c1", "c2", "c3"]
    assert all(o.error is None for o in out)
    assert srv.max_in_flight >= 2
    assert elapsed < 4 * 0.4


def test_openai_api_key_stays_secret(fake_server, monkeypatch):
    server = fake_server
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    backend = build_backend("openai", "model=tiny")
    out = backend.generate([req("k", "hi", **GREEDY)])[0]
    assert out.error is None
    assert server.auth[-1] == "Bearer sk-very-secret"
    for text in (backend.fingerprint, json.dumps(backend.model_args), repr(backend)):
        assert "sk-very-secret" not in text
    assert backend.model_args["base_url"] == server.base_url
    monkeypatch.delenv("OPENAI_API_KEY")
    keyless = build_backend("openai", "model=tiny")
    assert keyless.generate([req("k", "hi", **GREEDY)])[0].error is None
    assert server.auth[-1] is None
    with pytest.raises(ValueError, match="model"):
        build_backend("openai", {"base_url": server.base_url})


# ---------------------------------------------------------------------------------------------- cache


def test_cache_second_run_makes_no_calls(tmp_path):
    reqs = [req(f"p{i}", f"paper {i}", **GREEDY) for i in range(4)]
    first = CachedBackend(FakeBackend(text="review"), tmp_path)
    out1 = first.generate(reqs)
    assert first.backend.calls == ["p0", "p1", "p2", "p3"]
    assert (first.hits, first.misses) == (0, 4)
    assert not any(o.cached for o in out1)

    fake = FakeBackend(text="review")
    second = CachedBackend(fake, tmp_path)
    assert len(second) == 4
    out2 = second.generate(reqs)
    assert fake.calls == []
    assert [o.text for o in out2] == [o.text for o in out1]
    assert [o.request_id for o in out2] == ["p0", "p1", "p2", "p3"]
    assert all(o.cached for o in out2)
    assert (second.hits, second.misses) == (4, 0)
    # Mixed hits and misses: only the misses go to the backend, answers keep the original order.
    more = reqs[:2] + [req("new", "another paper", **GREEDY)] + reqs[2:]
    out3 = second.generate(more)
    assert fake.calls == ["new"]
    assert [o.request_id for o in out3] == ["p0", "p1", "new", "p2", "p3"]
    assert [o.cached for o in out3] == [True, True, False, True, True]


def test_cache_tolerates_torn_last_line(tmp_path):
    reqs = [req(f"p{i}", f"paper {i}", **GREEDY) for i in range(3)]
    cache = CachedBackend(FakeBackend(text="review"), tmp_path)
    cache.generate(reqs)
    with cache.path.open("a") as fh:
        fh.write('{"key": "abc", "respo')  # killed mid-write
    fake = FakeBackend(text="review")
    reopened = CachedBackend(fake, tmp_path)
    assert reopened.torn_lines == 1 and len(reopened) == 3
    extra = req("p9", "paper 9", **GREEDY)
    reopened.generate(reqs + [extra])
    assert fake.calls == ["p9"]
    again = CachedBackend(FakeBackend(text="review"), tmp_path)
    assert again.torn_lines == 0 and len(again) == 4
    assert all(json.loads(line) for line in again.path.read_text().splitlines())


def test_cache_does_not_store_errors(tmp_path):
    reqs = [req("ok", "a", **GREEDY), req("bad", "b", **GREEDY)]
    first = CachedBackend(FakeBackend(text="review", fail_ids="bad"), tmp_path)
    out = first.generate(reqs)
    assert out[1].error == "fake_failure"
    fake = FakeBackend(text="review")  # same fingerprint? no: fail_ids is a model arg
    assert fake.fingerprint != first.fingerprint
    retry = CachedBackend(FakeBackend(text="review", fail_ids="bad"), tmp_path)
    retry.generate(reqs)
    assert retry.backend.calls == ["bad"]
    assert len(retry) == 1


def test_cache_keys_follow_the_fingerprint(tmp_path):
    r = [req("p", "paper", **GREEDY)]
    CachedBackend(FakeBackend(text="one"), tmp_path).generate(r)
    other = CachedBackend(FakeBackend(text="two"), tmp_path)
    assert other.generate(r)[0].text == "two" and other.backend.calls == ["p"]
    assert len(list(tmp_path.iterdir())) == 2
    # Same messages and sampling, another sampling value: another key.
    same = CachedBackend(FakeBackend(text="one"), tmp_path)
    same.generate([req("p", "paper", temperature=0, max_tokens=11)])
    assert same.misses == 1


def test_cache_over_hf_chunks(tmp_path, hf):
    cached = CachedBackend(hf, tmp_path, chunk_size=2)
    out = cached.generate(mixed_requests())
    lines = cached.path.read_text().splitlines()
    assert len(lines) == 5 and all(o.error is None for o in out)
    again = CachedBackend(hf, tmp_path).generate(mixed_requests())
    assert [o.text for o in again] == [o.text for o in out] and all(o.cached for o in again)


# ---------------------------------------------------------------------------------------------- vLLM


def test_vllm_real_engine_or_skip(tiny_llama):
    try:
        import vllm  # noqa: F401
    except ImportError:
        pytest.skip("vllm is not installed (pip install 'cyclebench[vllm]'; it needs a GPU)")
    import torch

    if not torch.cuda.is_available():
        pytest.skip("vllm is installed but no CUDA GPU is available")
    backend = build_backend(
        "vllm", {"pretrained": str(tiny_llama), "max_model_len": 256, "gpu_memory_utilization": 0.3}
    )
    out = backend.generate(mixed_requests() + [req("long", "the paper proposes " * 200, **GREEDY)])
    assert [o.request_id for o in out] == ["a", "b", "c", "d", "e", "long"]
    assert all(o.error is None for o in out[:5])
    assert out[5].error.startswith("prompt_too_long")


def test_vllm_missing_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` fail
    with pytest.raises(ImportError, match=r"pip install vllm .*pip install -e '\.\[vllm\]'\); vllm needs a GPU"):
        build_backend("vllm", "pretrained=/nowhere")


class _FakeSamplingParams:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class _FakeLLM:
    instances: ClassVar[list[_FakeLLM]] = []
    tokenizer_path: ClassVar[str] = ""
    fail: ClassVar[bool] = False

    def __init__(self, **kwargs):
        from transformers import AutoTokenizer

        self.kwargs = kwargs
        self.calls = []
        self._tok = AutoTokenizer.from_pretrained(self.tokenizer_path)
        model_config = types.SimpleNamespace(max_model_len=kwargs.get("max_model_len", 2048))
        self.llm_engine = types.SimpleNamespace(model_config=model_config)
        _FakeLLM.instances.append(self)

    def get_tokenizer(self):
        return self._tok

    def chat(self, messages, sampling_params=None, use_tqdm=True):
        if self.fail:
            raise RuntimeError("CUDA out of memory")
        if any(m["content"] == "boom" for conv in messages for m in conv):
            raise ValueError("bad prompt")
        assert isinstance(messages, list) and all(isinstance(m, list) for m in messages)
        assert len(sampling_params) == len(messages) and use_tqdm is False
        self.calls.append((messages, sampling_params))
        return [
            types.SimpleNamespace(
                prompt_token_ids=[0] * 5,
                outputs=[types.SimpleNamespace(text=f"out {i}", finish_reason="stop", token_ids=[1, 2, 3])],
            )
            for i in range(len(messages))
        ]


def test_vllm_args_mapping_with_fake_module(monkeypatch, tiny_llama):
    fake = types.ModuleType("vllm")
    fake.LLM = _FakeLLM
    fake.SamplingParams = _FakeSamplingParams
    monkeypatch.setitem(sys.modules, "vllm", fake)
    monkeypatch.setattr(_FakeLLM, "tokenizer_path", str(tiny_llama))
    monkeypatch.setattr(_FakeLLM, "instances", [])

    backend = build_backend(
        "vllm",
        f"pretrained={tiny_llama},tensor_parallel_size=2,max_model_len=64,gpu_memory_utilization=0.5,"
        "dtype=bfloat16,enable_prefix_caching=true,seed=3",
    )
    llm = _FakeLLM.instances[-1]
    assert llm.kwargs == {
        "model": str(tiny_llama),
        "tensor_parallel_size": 2,
        "max_model_len": 64,
        "gpu_memory_utilization": 0.5,
        "dtype": "bfloat16",
        "enable_prefix_caching": True,
        "seed": 3,
        "trust_remote_code": False,
    }
    assert backend.max_model_len == 64
    assert "gpu_memory_utilization" not in backend.fingerprint and '"tensor_parallel_size": 2' in backend.fingerprint

    reqs = [
        req("a", "hello", temperature=0, max_tokens=8, stop=["\n\n"]),
        req("long", "the paper proposes a method " * 30, **GREEDY),
        req("b", "hi", system="Be brief.", temperature=0.7, top_p=0.9, max_tokens=500, seed=11),
        req("c", "defaults"),
    ]
    out = backend.generate(reqs)
    assert [o.request_id for o in out] == ["a", "long", "b", "c"]
    assert out[1].text is None and out[1].error.startswith("prompt_too_long: ") and out[1].error.endswith("> 64")
    assert [o.text for o in out] == ["out 0", None, "out 1", "out 2"]
    assert out[0].completion_tokens == 3 and out[0].prompt_tokens == 5 and out[0].finish_reason == "stop"

    ((conversations, params),) = llm.calls
    assert conversations[0] == [{"role": "user", "content": "hello"}]
    assert conversations[1][0] == {"role": "system", "content": "Be brief."}
    assert params[0].kwargs == {"temperature": 0.0, "top_p": 1.0, "max_tokens": 8, "stop": ["\n\n"]}
    room_b = 64 - backend._prompt_len(reqs[2])
    assert params[1].kwargs == {"temperature": 0.7, "top_p": 0.9, "max_tokens": room_b, "stop": None, "seed": 11}
    assert params[2].kwargs["temperature"] == 1.0 and params[2].kwargs["max_tokens"] <= 64

    # One bad conversation sinks vLLM's batch: the backend retries one by one and isolates it.
    llm.calls.clear()
    out = backend.generate([req("ok", "hello", **GREEDY), req("boom", "boom", **GREEDY), req("ok2", "hi", **GREEDY)])
    assert [o.text for o in out] == ["out 0", None, "out 0"]
    assert out[1].error == "generation_failed: ValueError: bad prompt"
    assert [len(conv) for conv, _ in llm.calls] == [1, 1]  # the batch call raised before recording

    # A tokenizer that cannot pre-count: the request goes through, vLLM's own count is reported.
    monkeypatch.setattr(backend.tokenizer, "apply_chat_template", lambda *a, **k: 1 / 0, raising=False)
    uncounted = backend.generate([req("u", "hello", temperature=0, max_tokens=500)])[0]
    assert uncounted.error is None and uncounted.prompt_tokens == 5
    assert llm.calls[-1][1][0].kwargs["max_tokens"] == 64

    monkeypatch.setattr(_FakeLLM, "fail", True)
    failed = backend.generate(reqs[:1])
    assert failed[0].error.startswith("generation_failed: RuntimeError: CUDA out of memory")

    with pytest.raises(ValueError, match="data-parallel-size"):
        build_backend("vllm", f"pretrained={tiny_llama},data_parallel_size=2")
