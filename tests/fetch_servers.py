"""A scripted HTTP server for the fetch tests, on 127.0.0.1 at a free port, from a daemon thread.

    with FetchServer() as server:
        server.route("/attachment", lambda path, query: Reply(200, b"%PDF-1.4 ..."))
        server.script("/attachment", [Reply(429, headers={"Retry-After": "1"})])   # answered first, once each

``route`` answers a path (exact match) with a function of the query; ``script`` queues one-off replies
answered before the route (429s, 5xx, a body cut mid-way with ``cut``: a Content-Length for the whole
body, then only ``cut`` bytes and a closed connection). ``log`` keeps (monotonic time, path, query).
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut: int | None = None  # send only this many bytes of the body, then hang up


Route = Callable[[str, dict[str, str]], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FetchServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        path = urllib.parse.unquote(parts.path)
        with owner.lock:
            owner.log.append((time.monotonic(), path, query))
            queued = owner.queued[path].popleft() if owner.queued[path] else None
        route = owner.routes.get(path) or next((f for p, f in owner.prefixes.items() if path.startswith(p)), None)
        reply = queued or (route(path, query) if route else Reply(404, b'{"name":"NotFoundError","message":"no route"}',
                                                                   {"Content-Type": "application/json"}))
        self.send_response(reply.status)
        self.send_header("Content-Length", str(len(reply.body)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if reply.cut is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if reply.cut is not None:
            self.wfile.write(reply.body[: reply.cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(reply.body)

    do_POST = do_GET


class FetchServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.prefixes: dict[str, Route] = {}
        self.queued: dict[str, deque[Reply]] = defaultdict(deque)
        self.log: list[tuple[float, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def route(self, path: str, reply: Route, *, prefix: bool = False) -> None:
        (self.prefixes if prefix else self.routes)[path] = reply

    def script(self, path: str, replies: list[Reply]) -> None:
        with self.lock:
            self.queued[path].extend(replies)

    def hits(self, path: str) -> list[dict[str, str]]:
        return [q for _, p, q in self.log if p == path]

    def __enter__(self) -> FetchServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
