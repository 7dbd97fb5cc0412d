"""Adversarial servers for the OpenAI-compatible backend (issue 11).

A server that drips a byte every so often must not hold a request past its deadline; any ``Retry-After``
form is read without crashing and capped; a message content that is not a string is a counted failure that
is never cached; nonsense model_args are one clear line. Servers are local and every wait is short.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyclebench.backends import GenerationRequest, build_backend
from cyclebench.backends.cache import CachedBackend
from cyclebench.backends.fake import FakeBackend
from cyclebench.backends.openai import OpenAIBackend, _retry_after

from tests.openai_server import OpenAIServer, ScriptedServer

DRIP_SECONDS = 8.0  # how long a drip server keeps going: far past the client's deadline, never forever


def _drip(data: bytes, owner: ScriptedServer) -> Callable[[BaseHTTPRequestHandler, bytes], None]:
    def answer(handler: BaseHTTPRequestHandler, raw: bytes = b"") -> None:
        end = time.monotonic() + DRIP_SECONDS
        try:
            for i in range(len(data)):
                if time.monotonic() > end:
                    break
                handler.wfile.write(data[i : i + 1])
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            owner.closed.set()  # the client shut the connection down
            return
        handler.close_connection = True

    return answer


def _request(rid: str = "r1") -> GenerationRequest:
    return GenerationRequest(rid, ({"role": "user", "content": "review this"},), {"temperature": 0.0, "seed": 0})


BODY = json.dumps({"choices": [{"message": {"role": "assistant", "content": "x" * 400}}]}).encode()
DRIPS = {
    "body": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY,
    "headers": b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 400 + b"\r\n\r\n",
}


@pytest.mark.parametrize("where", sorted(DRIPS))
def test_a_dripping_server_cannot_hold_a_request_past_the_deadline(where):
    with ScriptedServer() as server:
        server.answer = _drip(DRIPS[where], server)
        client = OpenAIBackend(base_url=server.base_url, model="m", timeout=0.5, max_retries=0)
        start = time.monotonic()
        (out,) = client.generate([_request()])
        elapsed = time.monotonic() - start
        assert out.text is None and out.error == "timeout"
        assert elapsed < DRIP_SECONDS / 2  # a per-read timeout alone waits for the whole drip
        assert server.closed.wait(DRIP_SECONDS / 2)  # the socket was shut down, not left reading


def test_the_deadline_is_per_attempt_and_retried():
    with ScriptedServer() as server:
        answers = iter(["drip", "ok"])

        def answer(handler: BaseHTTPRequestHandler, raw: bytes = b"") -> None:
            if next(answers) == "drip":
                _drip(DRIPS["body"], server)(handler)
                return
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(BODY)))
            handler.end_headers()
            handler.wfile.write(BODY)

        server.answer = answer
        client = OpenAIBackend(base_url=server.base_url, model="m", timeout=0.5, max_retries=1, backoff=0.01)
        (out,) = client.generate([_request()])
        assert out.error is None and out.text == "x" * 400 and len(server.seen) == 2


# ---------------------------------------------------------------------------------------------
# Retry-After in every form


RETRY_AFTER_FORMS = ["120", "0", "-5", "nan", "NaN", "inf", "-inf", "1e308", "1e999", "99999999999999999999",
                     "soon", "", "   ", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
                     "Mon, 99 Foo 2020 99:99:99 GMT", "Tue, 01 Jan 0001 00:00:00 GMT", "12, 13", "\x00\xff"]


@pytest.mark.parametrize("value", RETRY_AFTER_FORMS)
def test_retry_after_forms_give_a_capped_finite_wait(value):
    seconds = _retry_after(value)
    assert seconds is None or (seconds >= 0 and not math.isnan(seconds))
    backend = OpenAIBackend(base_url="http://127.0.0.1:9/v1", model="m", backoff=0.5)
    delay = backend._delay(3, seconds)
    assert 0 <= delay <= 300


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=60), st.floats().map(str), st.integers().map(str)))
def test_retry_after_never_raises(value):
    seconds = _retry_after(value)
    assert seconds is None or seconds >= 0


@pytest.mark.parametrize("header", ["garbage", "-1", "nan", "Mon, 99 Foo 2020 99:99:99 GMT"])
def test_unreadable_retry_after_falls_back_to_the_backoff(header):
    with OpenAIServer(FakeBackend(text="answer"), model="m", fail_first=1, fail_status=429,
                      retry_after=header) as server:  # type: ignore[arg-type]
        client = OpenAIBackend(base_url=server.base_url, model="m", max_retries=2, backoff=0.01)
        (out,) = client.generate([_request()])
    assert out.error is None and out.text == "answer" and server.seen == 2


# ---------------------------------------------------------------------------------------------
# Message content that is not a string


def _json_server(payload: Any) -> ScriptedServer:
    def answer(handler: BaseHTTPRequestHandler, raw: bytes = b"") -> None:
        data = json.dumps(payload).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return ScriptedServer(answer)


@pytest.mark.parametrize("content", [None, ["a", "b"], [{"type": "text", "text": "hi"}], 7, 6.5, {"text": "x"}, True])
def test_non_string_content_is_a_counted_failure_never_cached(tmp_path, content):
    payload = {"choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}
    with _json_server(payload) as server:
        cached = CachedBackend(OpenAIBackend(base_url=server.base_url, model="m", max_retries=0), tmp_path)
        (first,) = cached.generate([_request()])
        (again,) = cached.generate([_request()])
    assert first.text is None and first.error.startswith("bad_response")
    assert again.text is None and not again.cached and len(server.seen) == 2  # asked again: nothing was cached
    assert not cached.path.exists() or cached.path.read_text() == ""


@pytest.mark.parametrize("payload", [
    {"choices": [{"message": {"content": "fine"}, "finish_reason": 5}], "usage": "lots"},
    {"choices": [{"message": {"content": "fine"}}], "usage": {"prompt_tokens": "12", "completion_tokens": -3}},
    {"choices": [{"message": {"content": "fine"}}], "usage": {"prompt_tokens": 10**30}},
])
def test_odd_usage_and_finish_fields_do_not_spoil_a_good_answer(payload):
    with _json_server(payload) as server:
        (out,) = OpenAIBackend(base_url=server.base_url, model="m", max_retries=0).generate([_request()])
    assert out.error is None and out.text == "fine"
    assert out.finish_reason is None or isinstance(out.finish_reason, str)
    assert all(v is None or (isinstance(v, int) and v >= 0) for v in (out.prompt_tokens, out.completion_tokens))


def test_a_cache_line_with_non_string_text_is_not_a_hit(tmp_path):
    backend = FakeBackend(text="fresh")
    cached = CachedBackend(backend, tmp_path)
    key = _request().cache_key(backend.fingerprint)
    cached.path.write_text(json.dumps({"key": key, "response": {"text": ["poisoned"], "error": None}}) + "\n")
    reopened = CachedBackend(FakeBackend(text="fresh"), tmp_path)
    (out,) = reopened.generate([_request()])
    assert out.text == "fresh" and not out.cached and reopened.torn_lines == 1


# ---------------------------------------------------------------------------------------------
# model_args


@pytest.mark.parametrize(("args", "says"), [
    ("timeout=nan", "timeout"), ("timeout=inf", "timeout"), ("timeout=0", "timeout"), ("timeout=-1", "timeout"),
    ("concurrency=inf", "concurrency"), ("concurrency=0", "concurrency"), ("concurrency=2.5", "concurrency"),
    ("max_retries=-1", "max_retries"), ("backoff=nan", "backoff"), ("timeout=" + "9" * 5000, "timeout"),
])
def test_bad_model_args_are_one_clear_value_error(args, says):
    with pytest.raises(ValueError, match=says) as info:
        build_backend("openai", f"base_url=http://127.0.0.1:9/v1,model=m,{args}")
    assert "\n" not in str(info.value)


def test_a_key_given_twice_is_refused():
    with pytest.raises(ValueError, match="'timeout' is given twice"):
        build_backend("openai", "base_url=http://127.0.0.1:9/v1,model=m,timeout=5,timeout=500")


def test_a_hand_edited_cache_line_with_extra_keys_is_read(tmp_path):
    backend = FakeBackend(text="fresh")
    key = _request().cache_key(backend.fingerprint)
    cache = CachedBackend(backend, tmp_path)
    cache.path.write_text(json.dumps({"key": key, "response": {"text": "kept", "error": None, "note": "x"}}) + "\n")
    (out,) = CachedBackend(FakeBackend(text="fresh"), tmp_path).generate([_request()])
    assert out.text == "kept" and out.cached


@pytest.mark.parametrize("url", ["ftp://host/v1", "localhost:8000/v1", "127.0.0.1:8000"])
def test_base_url_without_a_scheme_is_refused(url):
    with pytest.raises(ValueError, match="http:// or https://"):
        OpenAIBackend(base_url=url, model="m")
