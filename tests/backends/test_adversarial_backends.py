"""Hostile servers and odd arguments against the backends and ``cyclebench train`` (issue 11 follow-up).

A redirect never carries the API key to another host; a switch is true or false, never ``bool("no")``; a lone
surrogate, an empty completion or an endless body is a counted failure of one request; a hand-edited cache line
is regenerated; bad devices, bad recipes and a Ctrl-C are one line. Servers are local and every wait is short.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyclebench.backends import (
    GenerationRequest,
    GenerationResponse,
    build_backend,
    parse_model_args,
)
from cyclebench.backends.base import TEXT_ARGS, bool_arg
from cyclebench.backends.cache import CachedBackend
from cyclebench.backends.fake import FakeBackend
from cyclebench.backends.openai import OpenAIBackend
from cyclebench.cli import main

from tests.openai_server import OpenAIServer, ScriptedServer, send_answer

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "trainers" / "recipes" / "cyclereviewer-8b-lora.yaml"
SECRET = "sk-SECRET123"
GOOD = "## Summary\nok\n## Rating\n6\n"


# ---------------------------------------------------------------------------------------------
# Helpers: a scripted local server, one CLI call


def _chat(content: Any, finish: Any = "stop") -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": content},
                                    "finish_reason": finish}]}).encode()


def _answers(content: Any) -> Callable[[BaseHTTPRequestHandler, bytes], None]:
    return lambda handler, raw: send_answer(handler, 200, _chat(content), {"Content-Type": "application/json"})


def _raw_answer(body: bytes) -> Callable[[BaseHTTPRequestHandler, bytes], None]:
    return lambda handler, raw: send_answer(handler, 200, body, {"Content-Type": "application/json"})


def _request(rid: str = "r1", text: str = "review this") -> GenerationRequest:
    return GenerationRequest(rid, ({"role": "user", "content": text},), {"temperature": 0.0, "seed": 0})


def _client(server: ScriptedServer, **args: Any) -> OpenAIBackend:
    return OpenAIBackend(base_url=server.base_url, model="m", max_retries=0, timeout=10, **args)


def cli(argv: list[Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one CLI call; never a traceback."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def _evaluate(data: Path, out: Path, *extra: Any) -> list[Any]:
    return ["evaluate", "model", "--task", "review-5k", "--data", data, "--protocol", "cyclereviewer",
            "--output", out, "--bootstrap", "20", "--limit", "2", *extra]


# ---------------------------------------------------------------------------------------------
# 1. Redirects are never followed; the key never leaves base_url


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_refused_and_the_key_stays_home(status):
    with ScriptedServer(_answers("## Rating\n8\n")) as thief:
        target = f"http://{thief.host}/steal"
        with ScriptedServer(lambda h, raw: send_answer(h, status, b"", {"Location": target})) as server:
            client = OpenAIBackend(base_url=server.base_url, model="m", api_key=SECRET, max_retries=3, backoff=0)
            (out,) = client.generate([_request()])
    assert out.text is None and out.error.startswith(f"http_{status}: redirect to '{thief.host}' not followed")
    assert thief.seen == []  # nothing, and so no key, reached the other host
    assert len(server.seen) == 1 and server.seen[0][2] == f"Bearer {SECRET}"  # not retried
    assert SECRET not in out.error


def test_a_redirect_without_location_is_a_counted_error(tmp_path):
    with ScriptedServer(lambda h, raw: send_answer(h, 302, b"")) as server:
        cached = CachedBackend(_client(server), tmp_path)
        (out,) = cached.generate([_request()])
    assert out.error == "http_302: a redirect without a Location, not followed" and len(cached) == 0


# ---------------------------------------------------------------------------------------------
# 2. Switches: true or false, never bool("no")


class _FakeLLM:
    """Just enough of ``vllm.LLM`` to build the backend: records the engine arguments."""

    last: ClassVar[dict[str, Any]] = {}

    def __init__(self, **kwargs: Any):
        _FakeLLM.last = kwargs
        self.llm_engine = types.SimpleNamespace(model_config=types.SimpleNamespace(max_model_len=64))

    def get_tokenizer(self) -> None:
        return None


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM = _FakeLLM
    module.SamplingParams = dict
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


@pytest.mark.parametrize("value", ["no", "off", "maybe", "2", "-1", "nein", "yes please", "[]"])
@pytest.mark.parametrize("backend", ["hf", "vllm"])
def test_trust_remote_code_is_true_or_false(tiny_llama, fake_vllm, backend, value):
    args = f"pretrained={tiny_llama},trust_remote_code={value}"
    if value == "no":  # an accepted spelling of false: it must turn remote code off, not on
        built = build_backend(backend, args)
        assert built.model_args["trust_remote_code"] is False
        if backend == "vllm":
            assert _FakeLLM.last["trust_remote_code"] is False
        return
    with pytest.raises(ValueError, match="trust_remote_code must be true or false") as info:
        build_backend(backend, args)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", ["off", "maybe", "2"])
def test_vllm_prefix_caching_is_true_or_false(fake_vllm, value):
    with pytest.raises(ValueError, match="enable_prefix_caching must be true or false"):
        build_backend("vllm", f"pretrained=some/model,enable_prefix_caching={value}")


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=12), st.integers(-3, 3), st.floats(), st.none(), st.lists(st.booleans())))
def test_bool_arg_reads_only_true_false_words(value):
    words_true, words_false = ("true", "1", "yes"), ("false", "0", "no")
    try:
        result = bool_arg("b", "flag", value)
    except ValueError as exc:
        assert "flag must be true or false" in str(exc)
        return
    if isinstance(value, str):
        assert value.strip().lower() in words_true + words_false
        assert result is (value.strip().lower() in words_true)
    else:
        assert value in (0, 1) and result is bool(value)


# ---------------------------------------------------------------------------------------------
# 3. A lone surrogate fails one request; the rest of the batch is kept and cached


def _surrogate_for_bad(handler: BaseHTTPRequestHandler, raw: bytes) -> None:
    bad = b"bad" in raw
    body = b'{"choices":[{"message":{"content":"a\\ud800b ## Rating 6"},"finish_reason":"stop"}]}' if bad else \
        _chat(GOOD)
    send_answer(handler, 200, body, {"Content-Type": "application/json"})


def test_a_lone_surrogate_fails_one_request_and_the_batch_is_cached(tmp_path):
    requests = [_request("good1", "one"), _request("bad", "bad paper"), _request("good2", "two")]
    with ScriptedServer(_surrogate_for_bad) as server:
        cached = CachedBackend(_client(server, concurrency=3), tmp_path)
        first = cached.generate(requests)
        again = CachedBackend(_client(server, concurrency=3), tmp_path).generate(requests)
    assert [r.text for r in first] == [GOOD, None, GOOD]
    assert first[1].error.startswith("bad_response") and "surrogate" in first[1].error
    assert [r.cached for r in again] == [True, False, True] and again[1].error.startswith("bad_response")
    assert len(cached.path.read_text(encoding="utf-8").splitlines()) == 2


class _Odd(FakeBackend):
    """A backend whose answers hold what a careless one might return."""

    def generate(self, requests):
        return [GenerationResponse(r.request_id, "fine\ud800", finish_reason="stop") if "text" in r.request_id
                else GenerationResponse(r.request_id, "fine", finish_reason="st\udcffop", prompt_tokens=True)
                for r in requests]


def test_any_backend_unwritable_text_is_one_failure_and_unwritable_fields_are_dropped(tmp_path):
    cached = CachedBackend(_Odd(), tmp_path)
    bad_text, bad_finish = cached.generate([_request("text"), _request("finish", "other")])
    assert bad_text.text is None and bad_text.error.startswith("bad_response")
    assert bad_finish.text == "fine" and bad_finish.finish_reason is None and bad_finish.prompt_tokens is None
    (back,) = CachedBackend(_Odd(), tmp_path).generate([_request("finish", "other")])
    assert back.cached and back.text == "fine"


# ---------------------------------------------------------------------------------------------
# 4. Response size: read up to max_response_bytes, then stop


STREAM_TOTAL = 64 * 1024 * 1024


def _stream(status: int, with_length: bool, written: list[int]) -> Callable[[BaseHTTPRequestHandler, bytes], None]:
    def answer(handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        handler.send_response(status)
        if with_length:
            handler.send_header("Content-Length", str(STREAM_TOTAL))
        handler.end_headers()
        chunk = b"x" * (1 << 20)
        try:
            for _ in range(STREAM_TOTAL // len(chunk)):
                handler.wfile.write(chunk)
                written[0] += len(chunk)
        except OSError:
            pass  # the client hung up: what we want
        handler.close_connection = True

    return answer


@pytest.mark.parametrize("status", [200, 500])
def test_an_endless_body_is_cut_at_the_limit(status):
    written = [0]
    with ScriptedServer(_stream(status, False, written)) as server:
        (out,) = _client(server, max_response_bytes=1 << 20).generate([_request()])
        assert server.done.wait(10)
    assert out.text is None
    if status == 200:
        assert out.error.startswith("bad_response: too large")
    else:  # an error body is read up to 64 KiB for the message
        assert out.error.startswith("http_500: xxx") and len(out.error) < 1000
    assert written[0] < STREAM_TOTAL // 2  # reading stopped early: the server could not send it all


def test_an_announced_huge_body_is_refused_before_reading():
    written = [0]
    with ScriptedServer(_stream(200, True, written)) as server:
        (out,) = _client(server, max_response_bytes=1000).generate([_request()])
    assert out.error.startswith("bad_response: too large: the server announces")


def test_an_answer_at_the_limit_is_read():
    body = _chat(GOOD)
    with ScriptedServer(_raw_answer(body)) as server:
        (ok,) = _client(server, max_response_bytes=len(body)).generate([_request()])
        (cut,) = _client(server, max_response_bytes=len(body) - 1).generate([_request()])
    assert ok.text == GOOD and cut.error.startswith("bad_response: too large")


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "abc", "nan", "true"])
def test_max_response_bytes_is_a_positive_whole_number(value):
    with pytest.raises(ValueError, match="max_response_bytes must be a whole number >= 1"):
        build_backend("openai", f"base_url=http://127.0.0.1:9/v1,model=m,max_response_bytes={value}")


# ---------------------------------------------------------------------------------------------
# 5. An empty completion is a counted failure, never cached


@pytest.mark.parametrize("content", ["", "   ", "\n\t\n"])
def test_an_empty_completion_is_a_counted_failure_never_cached(tmp_path, content):
    with ScriptedServer(_answers(content)) as server:
        cached = CachedBackend(_client(server), tmp_path)
        (first,) = cached.generate([_request()])
        (again,) = cached.generate([_request()])
    assert first.text is None and first.error.startswith("empty_response")
    assert not again.cached and len(server.seen) == 2 and len(cached) == 0


def test_a_run_whose_answers_are_all_empty_fails(review5k_sample_build, tmp_path, capsys):
    with ScriptedServer(_answers("")) as server:
        code, _, err = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--backend", "openai", "--model-args",
                                     f"base_url={server.base_url},model=m,max_retries=0"), capsys)
    line = one_line(err)
    assert code == 1 and "2 of 2 requests failed" in line and "empty_response" in line


def test_a_run_with_one_surrogate_answer_keeps_the_other(review5k_sample_build, tmp_path, capsys):
    def answer(handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        first = len([s for s in server.seen if s[0] == "POST"]) == 1
        _surrogate_for_bad(handler, b"good" if first else b"bad")

    with ScriptedServer(answer) as server:
        code, _, _ = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--backend", "openai", "--model-args",
                                     f"base_url={server.base_url},model=m,max_retries=0,concurrency=1"), capsys)
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert code == 0 and results["counts"]["generation_errors"] == {"bad_response": 1}
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert sorted(r["output"] is None for r in rows) == [False, True]


# ---------------------------------------------------------------------------------------------
# 6. One line instead of a traceback: devices, recipes, Ctrl-C


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "cpu:0", "CUDA", "tpu", "cuda:99", "mps", " "])
def test_hf_device_is_checked_before_loading(tiny_llama, device):
    with pytest.raises(ValueError, match="device") as info:
        build_backend("hf", f"pretrained={tiny_llama},device={device}")
    assert "\n" not in str(info.value)


def test_hf_cuda_only_when_torch_sees_a_gpu(tiny_llama):
    import torch

    if torch.cuda.is_available():
        backend = build_backend("hf", f"pretrained={tiny_llama},device=cuda,max_length=64")
        assert backend.device.type == "cuda"
    else:
        with pytest.raises(ValueError, match="torch sees no CUDA GPU"):
            build_backend("hf", f"pretrained={tiny_llama},device=cuda")


def test_a_bad_device_at_the_cli_is_one_line(review5k_sample_build, tiny_llama, tmp_path, capsys):
    code, _, err = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--backend", "hf", "--model-args",
                                 f"pretrained={tiny_llama},device=gpu"), capsys)
    assert code == 2 and "device must be cpu, cuda, cuda:N or mps" in one_line(err)


@pytest.mark.parametrize(("content", "says"), [
    ("a: [\n", "invalid YAML at line 2"),
    ("trainer: sft\n\tlearning_rate: 1.0\n", "invalid YAML at line 2"),
    ("!!python/object:os.system\nx: 1\n", "invalid YAML"),
    ("a: !!python/object/apply:os.system [\"echo owned\"]\n", "invalid YAML"),
    ("1: 2\n", "key 1 is not a field name"),
    ("trainer: sft\nnull: 3\n", "key None is not a field name"),
    ("[" * 5000 + "]" * 5000 + "\n", "invalid YAML: nested too deeply"),
    ("lora_r: 1" + "0" * 5000 + "\n", "cannot be read"),
])
def test_a_broken_recipe_is_one_line(tmp_path, capsys, content, says):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(content)
    code, _, err = cli(["train", recipe], capsys)
    assert code == 2 and says in one_line(err)


def test_a_binary_recipe_and_a_folder_are_one_line(tmp_path, capsys):
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00junk")
    code, _, err = cli(["train", tmp_path / "bin.yaml"], capsys)
    assert code == 2 and "not a UTF-8 text file" in one_line(err)
    code, _, err = cli(["train", tmp_path], capsys)
    assert code == 2 and "is a folder" in one_line(err)


def test_a_build_config_nested_too_deeply_is_one_line(tmp_path, capsys):
    config = tmp_path / "build.yaml"
    config.write_text("[" * 5000 + "]" * 5000 + "\n")
    code, _, err = cli(["build", "review-5k", "--sample", "--config", config, "--out", tmp_path / "out"], capsys)
    assert code == 2 and "invalid YAML: nested too deeply" in one_line(err) and not (tmp_path / "out").exists()


@pytest.mark.parametrize(("override", "says"), [
    ("x=[", "not valid YAML"),
    ("learning_rate={a: [", "not valid YAML"),
    ("model_name_or_path=!!python/object:os.system", "not valid YAML"),
    ("lora_r=2", "given twice"),
    ("learning_rate=" + "[" * 5000, "not valid YAML"),
    ("lora_r=1" + "0" * 5000, "cannot be read"),
])
def test_a_broken_override_is_one_line(capsys, override, says):
    extra = ["--set", "lora_r=1"] if "twice" in says else []
    code, out, err = cli(["train", RECIPE, *extra, "--set", override], capsys)
    assert code == 2 and says in one_line(err) and out == ""


def test_ctrl_c_is_one_line_and_exit_130(review5k_sample_build, tmp_path, capsys, monkeypatch):
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("cyclebench.evaluate_reviews.run_review_evaluation", interrupted)
    try:
        code, _, err = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--backend", "fake"), capsys)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped main() as a traceback")
    assert code == 130
    assert one_line(err) == "cyclebench evaluate: interrupted; run the same command again to resume from the cache"


def test_ctrl_c_during_a_real_run_ends_it_at_once(review5k_sample_build, tmp_path):
    stop = threading.Event()

    def hang(handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        stop.wait(30)  # a server that never answers: the run waits on the pool when Ctrl-C comes

    with ScriptedServer(hang) as server:
        argv = [sys.executable, "-m", "cyclebench", *map(str, _evaluate(
            review5k_sample_build, tmp_path / "run", "--backend", "openai", "--model-args",
            f"base_url={server.base_url},model=m,concurrency=2,timeout=60,max_retries=5"))]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        try:
            deadline = time.monotonic() + 60
            while len(server.seen) < 2 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            assert len(server.seen) == 2, proc.communicate(timeout=5)
            started = time.monotonic()
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=20)
            elapsed = time.monotonic() - started
        finally:
            stop.set()
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err
    assert one_line(err).endswith("interrupted; run the same command again to resume from the cache")
    assert elapsed < 15  # not the 60 s request timeout: the open requests were shut down


# ---------------------------------------------------------------------------------------------
# 7. Garbage refused: train numbers, backend numbers, names kept exact, chat templates, cache lines


@pytest.mark.parametrize(("override", "says"), [
    ("learning_rate=abc", "learning_rate: 'abc' is a string"),
    ("learning_rate=.nan", "learning_rate: nan is not a finite number"),
    ("learning_rate=0", "learning_rate: 0 must be > 0"),
    ("num_train_epochs=1e999", "num_train_epochs: '1e999' is a string"),
    ("num_train_epochs=1.0e+999", "num_train_epochs: inf is not a finite number"),
    ("lora_r=-1", "lora_r: -1 must be > 0"),
    ("lora_r=2.5", "lora_r: 2.5 is not a whole number"),
    ("lora_dropout=1.5", "lora_dropout: 1.5 must be in [0, 1)"),
    ("weight_decay=-0.1", "weight_decay: -0.1 must be >= 0"),
    ("per_device_train_batch_size=true", "per_device_train_batch_size: True is not a number"),
    ("bf16=maybe", "bf16: 'maybe' is not true or false"),
])
def test_bad_override_values_are_refused(capsys, override, says):
    code, out, err = cli(["train", RECIPE, "--set", override], capsys)
    assert code == 2 and says in one_line(err) and out == ""


def test_bad_numbers_in_a_recipe_file_are_refused(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("trainer: sft\nlearning_rate: .nan\nlora_r: -1\nnum_train_epochs: 1.0e+999\n"
                      "model_name_or_path: 007\n")
    code, _, err = cli(["train", recipe], capsys)
    line = one_line(err)
    assert code == 2
    for says in ("learning_rate: nan", "lora_r: -1 must be > 0", "num_train_epochs: inf",
                 "model_name_or_path: 7 is read as int; write a name or path in quotes"):
        assert says in line


def test_good_overrides_and_exact_names_pass(capsys):
    code, out, _ = cli(["train", RECIPE, "--set", "learning_rate=2.0e-06", "--set", "lora_r=8", "--set",
                        "max_steps=-1", "--set", "model_name_or_path=007", "--set", "recipe_name=true"], capsys)
    assert code == 0
    launch = out.splitlines()[0]
    assert "--model_name_or_path 007" in launch and "--recipe_name true" in launch and "--lora_r 8" in launch


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**6, 10**6))
def test_recipe_number_check_matches_its_rule(value):
    from cyclebench.trainers.configs import recipe_fields, value_problem

    field_, hint = recipe_fields("sft")["learning_rate"]
    assert (value_problem("learning_rate", hint, field_.default, value) is None) == (
        math.isfinite(value) and value > 0)
    field_, hint = recipe_fields("sft")["lora_r"]
    assert (value_problem("lora_r", hint, field_.default, value) is None) == (isinstance(value, int) and value > 0)


@pytest.mark.parametrize("args", ["max_length=-5", "max_length=0", "max_length=1.5", "max_length=abc",
                                  "batch_size=0", "batch_size=true", "max_length=nan"])
def test_hf_numbers_are_checked(tiny_llama, args):
    with pytest.raises(ValueError, match=args.split("=")[0]):
        build_backend("hf", f"pretrained={tiny_llama},{args}")


@pytest.mark.parametrize("args", ["tensor_parallel_size=0", "max_model_len=-1", "gpu_memory_utilization=0",
                                  "gpu_memory_utilization=1.5", "gpu_memory_utilization=nan", "seed=-1",
                                  "seed=1.5", "data_parallel_size=abc"])
def test_vllm_numbers_are_checked(fake_vllm, args):
    with pytest.raises(ValueError, match=args.split("=")[0]):
        build_backend("vllm", f"pretrained=some/model,{args}")


def test_fake_and_baseline_numbers_are_checked():
    for backend, args in (("fake", "delay=nan"), ("fake", "delay=-1"), ("baseline-tfidf", "seed=-1")):
        with pytest.raises(ValueError, match=args.split("=")[0]):
            build_backend(backend, args)


@pytest.mark.parametrize("value", ["007", "true", "None", "1e3", "nan", "0x10", "-0"])
def test_names_and_keys_are_sent_exactly_as_given(value):
    with ScriptedServer(_answers(GOOD)) as server:
        backend = build_backend("openai", f"base_url={server.base_url},model={value},api_key=00{value}")
        (out,) = backend.generate([_request()])
    assert out.text == GOOD
    assert server.bodies[0]["model"] == value and server.seen[0][2] == f"Bearer 00{value}"


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(TEXT_ARGS)), st.text(st.characters(blacklist_characters=","), min_size=1, max_size=20))
def test_text_args_are_never_coerced(key, value):
    if not value.strip():
        return
    assert parse_model_args(f"{key}={value}") == {key: value.strip()}


def test_a_chat_template_folder_is_one_line_about_the_template(review5k_sample_build, tiny_llama, tmp_path, capsys):
    folder = tmp_path / "template-folder"
    folder.mkdir()
    code, _, err = cli(_evaluate(review5k_sample_build, tmp_path / "run", "--backend", "hf", "--model-args",
                                 f"pretrained={tiny_llama},chat_template={folder}"), capsys)
    line = one_line(err)
    assert code == 2 and "chat_template" in line and "is a folder" in line and "could not write" not in line
    with pytest.raises(FileNotFoundError, match="chat_template file not found"):
        build_backend("hf", f"pretrained={tiny_llama},chat_template={tmp_path / 'missing.jinja'}")


@pytest.mark.parametrize("edit", [
    {"finish_reason": {"a": 1}}, {"finish_reason": 5}, {"prompt_tokens": "abc"}, {"completion_tokens": -3},
    {"prompt_tokens": True}, {"text": ""}, {"text": "  "}, {"text": "a\ud800b"}, {"error": "boom"},
    {"finish_reason": "st\udcffop"},
])
def test_a_hand_edited_cache_line_is_regenerated(tmp_path, edit):
    backend = FakeBackend(text="fresh")
    key = _request().cache_key(backend.fingerprint)
    cache = CachedBackend(backend, tmp_path)
    row = {"key": key, "response": {"text": "kept", "error": None, "finish_reason": "stop", "prompt_tokens": 3,
                                    "completion_tokens": 1, **edit}}
    cache.path.write_text(json.dumps(row) + "\n", encoding="utf-8")  # ensure_ascii: a surrogate as \ud800
    reopened = CachedBackend(FakeBackend(text="fresh"), tmp_path)
    (out,) = reopened.generate([_request()])
    assert out.text == "fresh" and not out.cached and reopened.torn_lines == 1
    assert isinstance(out.finish_reason, str) and isinstance(out.prompt_tokens, int)


# ---------------------------------------------------------------------------------------------
# Credentials never reach what a run writes (results.json travels to the leaderboard)


def test_api_key_is_never_written_by_a_run(review5k_sample_build, tmp_path):
    from cyclebench.backends.base import REDACTED
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

    secret = "sk-NEVER-WRITE-THIS-123"
    with OpenAIServer(FakeBackend(text="## Rating\n\n6\n")) as server:
        results = run_review_evaluation(
            ReviewRunConfig(task="review-5k", data=str(review5k_sample_build), protocol="cyclereviewer", backend="openai",
                            model_args={"base_url": server.base_url, "model": "tiny", "api_key": secret},
                            limit=2, n_resamples=50),
            tmp_path / "run", progress=False)
    assert results["model"]["model_args"]["api_key"] == REDACTED
    written = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert written
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
