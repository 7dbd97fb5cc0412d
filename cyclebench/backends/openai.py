"""Any OpenAI-compatible chat endpoint (``vllm serve``, SGLang, TGI, llama.cpp server, OpenAI itself).

model_args (``--model-args k=v,...``):

``base_url``     e.g. ``http://127.0.0.1:8000/v1`` (default: env ``OPENAI_BASE_URL``); requests go to
                 ``{base_url}/chat/completions``.
``model``        the served model name (required; ``vllm serve`` uses the path/id it was started with unless
                 ``--served-model-name`` says otherwise).
``api_key``      sent as ``Authorization: Bearer ...`` (default: env ``OPENAI_API_KEY``; may be absent for local
                 servers). It is kept out of ``model_args``, the fingerprint, ``repr`` and every error text.
``concurrency``  requests in flight at once (default 8), from a thread pool inside ``generate``.
``max_retries``  retries after the first attempt (default 5) on HTTP 429/5xx, connection errors and timeouts,
                 with exponential backoff and full jitter (``backoff * 2**attempt``, at most 60 s); a
                 ``Retry-After`` header (seconds or HTTP date) is honoured, up to 300 s; one that cannot be
                 read (garbage, negative, NaN) falls back to the backoff.
``backoff``      base backoff in seconds (default 1.0).
``timeout``      wall-clock seconds per attempt (default 600), from connecting to the last byte of the answer.
                 A per-read socket timeout alone would let a server that drips a byte now and then hold a
                 request forever, so a watchdog shuts the attempt's socket down at the deadline.

Sampling keys are sent as they are (``max_tokens``, ``temperature``, ``top_p``, ``stop``, ``seed`` are the
OpenAI names; anything else the protocol adds, e.g. vLLM's ``top_k``, passes through unchanged).

A request that still fails after the retries comes back with ``error`` set: ``http_<status>: <body>``,
``timeout``, ``connection_error: ...`` or ``bad_response: ...`` (also when the message content is not a
string: null, a list, a number). Only the standard library is used (no ``openai``/``httpx`` dependency).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import math
import os
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cyclebench.backends.base import Backend, GenerationRequest, GenerationResponse

log = logging.getLogger(__name__)

_RETRY_STATUS = {408, 409, 425, 429}
_MAX_BACKOFF = 60.0
_MAX_RETRY_AFTER = 300.0


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Permanent(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        concurrency: int = 8,
        max_retries: int = 5,
        backoff: float = 1.0,
        timeout: float = 600,
        **extra: Any,
    ):
        if extra:
            raise ValueError(f"openai backend: unknown model_args {sorted(extra)}; known: api_key, backoff, base_url, "
                             "concurrency, max_retries, model, timeout")
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise ValueError("openai backend needs model_args base_url=... (or env OPENAI_BASE_URL)")
        if not str(base_url).startswith(("http://", "https://")):
            raise ValueError(f"openai backend: base_url must start with http:// or https://, not {str(base_url)[:80]!r}")
        if not model:
            raise ValueError("openai backend needs model_args model=<served model name>")
        concurrency = _number("concurrency", concurrency, int, 1)
        max_retries = _number("max_retries", max_retries, int, 0)
        backoff = _number("backoff", backoff, float, 0)
        timeout = _number("timeout", timeout, float, 0)
        if timeout <= 0:
            raise ValueError(f"openai backend: timeout must be > 0 seconds, not {timeout!r}")
        # The key is deliberately not part of model_args: those end up in fingerprints and run records.
        super().__init__(
            base_url=str(base_url).rstrip("/"),
            model=str(model),
            concurrency=int(concurrency),
            max_retries=int(max_retries),
            backoff=float(backoff),
            timeout=float(timeout),
        )
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self._api_key: str | None = str(key) if key else None
        self.base_url = str(base_url).rstrip("/")
        self.model = str(model)
        self.concurrency = int(concurrency)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.timeout = float(timeout)
        self.url = f"{self.base_url}/chat/completions"

    def __repr__(self) -> str:
        return f"OpenAIBackend(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def fingerprint(self) -> str:
        # Only what changes the answers: where and which model. Not the key, concurrency, retries or timeouts.
        return json.dumps({"backend": self.name, "base_url": self.base_url, "model": self.model}, sort_keys=True)

    # ------------------------------------------------------------------ generate

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        if not requests:
            return []
        if self.concurrency == 1 or len(requests) == 1:
            return [self._one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(self._one, requests))

    def _one(self, request: GenerationRequest) -> GenerationResponse:
        body = {"model": self.model, "messages": [dict(m) for m in request.messages]}
        for key, value in request.sampling.items():
            if value is not None:
                body[key] = value
        payload = json.dumps(body).encode()
        attempt = 0
        while True:
            try:
                data = self._post(payload)
                return self._parse(request.request_id, data)
            except _Permanent as exc:
                return GenerationResponse(request.request_id, None, error=self._redact(exc.reason))
            except _Retryable as exc:
                if attempt >= self.max_retries:
                    return GenerationResponse(request.request_id, None, error=self._redact(exc.reason))
                delay = self._delay(attempt, exc.retry_after)
                log.info(
                    "openai backend: %s for %s, retry %d/%d in %.1fs",
                    self._redact(exc.reason)[:200],
                    request.request_id,
                    attempt + 1,
                    self.max_retries,
                    delay,
                )
                time.sleep(delay)
                attempt += 1
            except Exception as exc:  # noqa: BLE001 - never let one request take the batch down
                return GenerationResponse(
                    request.request_id, None, error=self._redact(f"client_error: {type(exc).__name__}: {exc}")
                )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), _MAX_RETRY_AFTER)
        return random.uniform(0, min(_MAX_BACKOFF, self.backoff * (2 ** min(attempt, 64))))

    def _post(self, payload: bytes) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        req = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")
        deadline = _Deadline(self.timeout)
        try:
            with deadline.opener().open(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            try:
                text = exc.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                text = ""
            reason = f"http_{status}: {_short(text) or exc.reason}"
            if status in _RETRY_STATUS or status >= 500:
                raise _Retryable(reason, _retry_after(exc.headers.get("Retry-After") if exc.headers else None))
            raise _Permanent(reason) from None
        except TimeoutError:
            raise _Retryable("timeout") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError) or deadline.expired:
                raise _Retryable("timeout") from None
            raise _Retryable(f"connection_error: {exc.reason}") from None
        except (ConnectionError, OSError, http.client.HTTPException) as exc:  # reset, remote closed, short read
            if deadline.expired:
                raise _Retryable("timeout") from None
            raise _Retryable(f"connection_error: {type(exc).__name__}: {exc}") from None
        finally:
            deadline.cancel()
        if deadline.expired:  # the watchdog fired just as the last bytes arrived: the answer may be cut
            raise _Retryable("timeout")
        try:
            return json.loads(raw)
        except ValueError:
            raise _Permanent(f"bad_response: not JSON: {_short(raw.decode('utf-8', 'replace'))}") from None

    def _parse(self, request_id: str, data: Any) -> GenerationResponse:
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            return GenerationResponse(request_id, None, error=f"bad_response: {_short(json.dumps(data))}")
        if text is None:
            return GenerationResponse(request_id, None, error="bad_response: empty message content")
        if not isinstance(text, str):
            # A list (content parts), a number or an object is not a review; never cache it as one.
            return GenerationResponse(
                request_id, None, error=f"bad_response: message content is {type(text).__name__}, not a string")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        finish = choice.get("finish_reason") if isinstance(choice, dict) else None
        return GenerationResponse(
            request_id=request_id,
            text=text,
            finish_reason=finish if isinstance(finish, str) else None,
            prompt_tokens=_count(usage.get("prompt_tokens")),
            completion_tokens=_count(usage.get("completion_tokens")),
        )

    def _redact(self, text: str) -> str:
        if self._api_key and self._api_key in text:
            text = text.replace(self._api_key, "***")
        return text


def _short(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), or None when it cannot be
    read: garbage, NaN, a negative number or a date that does not parse fall back to the backoff. The
    caller caps the wait."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()[:100]
    try:
        seconds = float(value)
    except ValueError:
        seconds = _seconds_until(value)
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return None
    return seconds


def _seconds_until(date: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(date)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError, IndexError, AttributeError):
        return None


def _count(value: Any) -> int | None:
    """A token count from ``usage``, or None for anything that is not a non-negative integer."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _number(name: str, value: Any, cast: type, low: float) -> Any:
    """A model_arg as ``cast``, finite and >= ``low``; else one ``ValueError`` line naming it."""
    try:
        number = cast(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"openai backend: {name} must be a number >= {low}, not {value!r}") from None
    fractional = cast is int and isinstance(value, float) and not value.is_integer()
    if isinstance(value, bool) or not math.isfinite(number) or number < low or fractional:
        raise ValueError(f"openai backend: {name} must be a finite {'whole ' if cast is int else ''}number >= {low}, "
                         f"not {value!r}")
    return number


class _Deadline:
    """A wall-clock limit on one attempt: at the deadline every socket the attempt opened is shut down.

    urllib's ``timeout`` bounds each blocking call, not the attempt, so a server that sends a byte every
    half second would hold the request forever. The opener built here records each connection's socket;
    a timer shuts them down (which wakes a blocked read at once) and marks the attempt expired.
    """

    def __init__(self, seconds: float):
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shutdown(sock)

    def cancel(self) -> None:
        self._timer.cancel()

    def opener(self) -> urllib.request.OpenerDirector:
        """An opener like ``urlopen``'s (proxies from the environment, redirects), whose sockets are watched."""
        deadline = self

        class _HTTPConnection(http.client.HTTPConnection):
            def connect(self) -> None:
                super().connect()
                deadline.watch(self.sock)

        class _HTTPSConnection(http.client.HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                deadline.watch(self.sock)

        class _HTTPHandler(urllib.request.HTTPHandler):
            def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
                return super().do_open(_HTTPConnection, req, **kwargs)

        class _HTTPSHandler(urllib.request.HTTPSHandler):
            def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
                return super().do_open(_HTTPSConnection, req, **kwargs)

        return urllib.request.build_opener(_HTTPHandler(), _HTTPSHandler())


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed
