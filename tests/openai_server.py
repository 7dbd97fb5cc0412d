"""A small OpenAI-compatible chat server for tests, backed by any cyclebench ``Backend`` (e.g. ``HFBackend``).

    with OpenAIServer(backend, model="tiny", fail_first=2, fail_status=503) as server:
        client = OpenAIBackend(base_url=server.base_url, model="tiny")

Serves ``POST /v1/chat/completions`` and ``GET /v1/models`` on 127.0.0.1 (a free port) from a daemon thread.
Failure injection for retry tests: the first ``fail_first`` chat requests are answered ``fail_status`` (with a
``Retry-After: retry_after`` header when given); ``delay`` seconds are slept before each answer. Backend errors
(e.g. ``prompt_too_long``) and invalid bodies are answered 400, an unknown model 404, as vLLM does.
``seen`` counts chat requests, ``bodies`` keeps their JSON, ``auth`` their ``Authorization`` headers and
``max_in_flight`` the most requests handled at once.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Any

from cyclebench.backends.base import Backend, GenerationRequest

_SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "stop", "seed")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: OpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:  # clients that time out and hang up
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error", "code": status}}, headers)

    def do_GET(self) -> None:
        owner = self.server.owner
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": owner.model, "object": "model", "owned_by": "test"}]})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"no route {self.path}")
            return
        with owner.lock:
            owner.seen += 1
            number = owner.seen
            owner.auth.append(self.headers.get("Authorization"))
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            if number <= owner.fail_first:
                headers = {"Retry-After": str(owner.retry_after)} if owner.retry_after is not None else None
                self._error(owner.fail_status, f"injected failure {number}", headers)
                return
            if owner.delay:
                time.sleep(owner.delay)
            try:
                body = json.loads(raw)
                messages = body["messages"]
                if not isinstance(messages, list) or not messages:
                    raise ValueError("messages must be a non-empty list")
            except (ValueError, KeyError, TypeError) as exc:
                self._error(400, f"bad request: {exc}")
                return
            owner.bodies.append(body)
            if body.get("model") != owner.model:
                self._error(404, f"The model `{body.get('model')}` does not exist.")
                return
            max_tokens = body.get("max_tokens")
            if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
                self._error(400, f"max_tokens must be at least 1, got {max_tokens}")
                return
            sampling = {k: body[k] for k in _SAMPLING_KEYS if body.get(k) is not None}
            request = GenerationRequest(
                request_id=f"srv-{number}",
                messages=tuple({"role": m["role"], "content": m["content"]} for m in messages),
                sampling=sampling,
            )
            with owner.backend_lock:
                (resp,) = owner.backend.generate([request])
            if resp.error is not None:
                self._error(400, resp.error)
                return
            self._send(
                200,
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": owner.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": resp.text},
                            "finish_reason": resp.finish_reason,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": resp.prompt_tokens,
                        "completion_tokens": resp.completion_tokens,
                        "total_tokens": (resp.prompt_tokens or 0) + (resp.completion_tokens or 0),
                    },
                },
            )
        finally:
            with owner.lock:
                owner.in_flight -= 1


class OpenAIServer:
    """Context manager running the server; ``base_url`` ends in ``/v1``."""

    def __init__(
        self,
        backend: Backend,
        model: str = "tiny",
        *,
        fail_first: int = 0,
        fail_status: int = 503,
        retry_after: float | None = None,
        delay: float = 0.0,
    ):
        self.backend = backend
        self.model = model
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.retry_after = retry_after
        self.delay = delay
        self.lock = threading.Lock()
        self.backend_lock = threading.Lock()  # one generate at a time: the model is not shared across threads
        self.seen = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.bodies: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> OpenAIServer:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class ScriptedServer:
    """A local HTTP server for hostile-server tests: every GET or POST is answered by ``answer(handler, body)``
    (settable after start); ``seen`` records ``(method, path, Authorization)`` of each, ``bodies`` their JSON,
    ``done`` is set whenever an answer returns, and ``closed`` is for an answer to set when it finds the client
    gone (a dripping answer whose socket was shut down)."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler, bytes], None] | None = None):
        owner = self
        self.answer = answer
        self.closed = threading.Event()
        self.seen: list[tuple[str, str, str | None]] = []
        self.bodies: list[Any] = []
        self.done = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.seen.append((self.command, self.path, self.headers.get("Authorization")))
                try:
                    owner.bodies.append(json.loads(raw) if raw else None)
                    assert owner.answer is not None
                    owner.answer(self, raw)
                finally:
                    owner.done.set()

            do_GET = do_POST = _any

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)

    def __enter__(self) -> ScriptedServer:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def host(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{host}:{port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}/v1"


def send_answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
