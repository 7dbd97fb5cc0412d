"""Any OpenAI-compatible chat endpoint (``vllm serve``, SGLang, TGI, llama.cpp server, OpenAI itself).

model_args (``--model-args k=v,...``):

``base_url``     e.g. ``http://127.0.0.1:8000/v1`` (default: env ``OPENAI_BASE_URL``); requests go to
                 ``{base_url}/chat/completions``.
``model``        the served model name (required; ``vllm serve`` uses the path/id it was started with unless
                 ``--served-model-name`` says otherwise). Sent exactly as given (``model=007`` stays "007").
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
``max_response_bytes``  the most bytes read of one answer (default 8 MiB); a longer one is the error
                 ``bad_response: too large`` and reading stops at the limit, so a server streaming gigabytes
                 cannot fill the memory. Error bodies are read up to 64 KiB.

Redirects are never followed: a 3xx answer is the error ``http_<status>: redirect to '<host>' not followed``,
not retried. Following one would send the prompt and the API key to whatever host ``Location`` names and
score that host's answer as the model's; the key only ever goes to ``base_url``.

Sampling keys are sent as they are (``max_tokens``, ``temperature``, ``top_p``, ``stop``, ``seed`` are the
OpenAI names; anything else the protocol adds, e.g. vLLM's ``top_k``, passes through unchanged).

A request that still fails after the retries comes back with ``error`` set: ``http_<status>: <body>``,
``timeout``, ``connection_error: ...``, ``bad_response: ...`` (also when the message content is not a string:
null, a list, a number, or text holding a lone surrogate) or ``empty_response`` (blank content is no review:
a counted failure, never cached). A Ctrl-C during ``generate`` shuts every open request down and ends the
retry waits, so the command stops at once. Only the standard library is used (no ``openai``/``httpx``).
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
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cyclebench.backends.base import (
    Backend,
    GenerationRequest,
    GenerationResponse,
    float_arg,
    int_arg,
    text_arg,
    token_count,
    usable,
)

log = logging.getLogger(__name__)

_RETRY_STATUS = {408, 409, 425, 429}
_MAX_BACKOFF = 60.0
_MAX_RETRY_AFTER = 300.0
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_ERROR_BODY_BYTES = 64 * 1024
_READ_CHUNK = 64 * 1024
_KNOWN = "api_key, backoff, base_url, concurrency, max_response_bytes, max_retries, model, timeout"
_NAME = "openai backend"


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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        **extra: Any,
    ):
        if extra:
            raise ValueError(f"{_NAME}: unknown model_args {sorted(extra)}; known: {_KNOWN}")
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise ValueError(f"{_NAME} needs model_args base_url=... (or env OPENAI_BASE_URL)")
        base_url = text_arg(_NAME, "base_url", base_url).strip().rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"{_NAME}: base_url must start with http:// or https://, not {base_url[:80]!r}")
        if model is None or model == "":
            raise ValueError(f"{_NAME} needs model_args model=<served model name>")
        model = text_arg(_NAME, "model", model)
        concurrency = int_arg(_NAME, "concurrency", concurrency, low=1)
        max_retries = int_arg(_NAME, "max_retries", max_retries, low=0)
        backoff = float_arg(_NAME, "backoff", backoff)
        timeout = float_arg(_NAME, "timeout", timeout, low_open=True)
        max_response_bytes = int_arg(_NAME, "max_response_bytes", max_response_bytes, low=1)
        # The key is deliberately not part of model_args: those end up in fingerprints and run records.
        super().__init__(
            base_url=base_url,
            model=model,
            concurrency=concurrency,
            max_retries=max_retries,
            backoff=backoff,
            timeout=timeout,
            max_response_bytes=max_response_bytes,
        )
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self._api_key: str | None = text_arg(_NAME, "api_key", key) if key else None
        self.base_url = base_url
        self.model = model
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff = backoff
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.url = f"{self.base_url}/chat/completions"
        self._stop = threading.Event()  # set on Ctrl-C: retry waits end, open requests are shut down
        self._live: set[_Deadline] = set()
        self._live_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAIBackend(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def fingerprint(self) -> str:
        # Only what changes the answers: where and which model. Not the key, concurrency, retries or limits.
        return json.dumps({"backend": self.name, "base_url": self.base_url, "model": self.model}, sort_keys=True)

    # ------------------------------------------------------------------ generate

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        if not requests:
            return []
        self._stop.clear()
        if self.concurrency == 1 or len(requests) == 1:
            return [self._one(r) for r in requests]
        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests)))
        try:
            return list(pool.map(self._one, requests))
        except BaseException:  # Ctrl-C: do not wait for the requests in flight (up to `timeout` each)
            self._abort()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _abort(self) -> None:
        """End the retry waits and shut every open request's socket down, so the worker threads end now."""
        self._stop.set()
        with self._live_lock:
            live = list(self._live)
        for deadline in live:
            deadline.expire()

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
                if self._stop.is_set():
                    return GenerationResponse(request.request_id, None, error="interrupted")
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
                if self._stop.wait(delay):
                    return GenerationResponse(request.request_id, None, error="interrupted")
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
        with self._live_lock:
            self._live.add(deadline)
        try:
            with deadline.opener().open(req, timeout=self.timeout) as resp:
                raw = _read_capped(resp, self.max_response_bytes)
        except urllib.error.HTTPError as exc:
            raise _http_error(exc) from None
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
            with self._live_lock:
                self._live.discard(deadline)
        if deadline.expired:  # the watchdog fired just as the last bytes arrived: the answer may be cut
            raise _Retryable("timeout")
        try:
            return json.loads(raw)
        except ValueError:
            raise _Permanent(f"bad_response: not JSON: {_short(raw.decode('utf-8', 'replace'))}") from None
        except RecursionError:  # "[[[[..." nested deeper than the parser goes
            raise _Permanent("bad_response: JSON nested too deeply") from None

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
        # usable(): blank text -> empty_response, a lone surrogate -> bad_response, unwritable fields dropped.
        return usable(GenerationResponse(
            request_id=request_id,
            text=text,
            finish_reason=finish if isinstance(finish, str) else None,
            prompt_tokens=token_count(usage.get("prompt_tokens")),
            completion_tokens=token_count(usage.get("completion_tokens")),
        ))

    def _redact(self, text: str) -> str:
        if self._api_key and self._api_key in text:
            text = text.replace(self._api_key, "***")
        return text


def _short(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _read_capped(resp: Any, limit: int) -> bytes:
    """The body, read in chunks and abandoned as soon as it passes ``limit`` bytes (``bad_response``)."""
    declared = (resp.headers.get("Content-Length") or "").strip() if resp.headers is not None else ""
    if declared.isdigit() and len(declared) < 30 and int(declared) > limit:
        raise _Permanent(f"bad_response: too large: the server announces {declared} bytes, more than "
                         f"max_response_bytes={limit}")
    body = bytearray()
    while True:
        chunk = resp.read(min(_READ_CHUNK, limit + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise _Permanent(f"bad_response: too large: more than max_response_bytes={limit} bytes")


def _http_error(exc: urllib.error.HTTPError) -> Exception:
    """An HTTP error status as a retryable or a permanent failure; a redirect is never followed (permanent).
    At most 64 KiB of the body is read, then the connection is closed."""
    try:
        return _classify(exc.code, exc.headers, exc)
    finally:
        exc.close()


def _classify(status: int, headers: Any, body: Any) -> Exception:
    if 300 <= status < 400:
        location = headers.get("Location") if headers else None
        if not location:
            return _Permanent(f"http_{status}: a redirect without a Location, not followed")
        host = urllib.parse.urlsplit(location).netloc or location
        return _Permanent(f"http_{status}: redirect to {_short(host, 100)!r} not followed "
                          "(requests and the API key go only to base_url)")
    try:
        text = body.read(_ERROR_BODY_BYTES).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError):
        text = ""
    reason = f"http_{status}: {_short(text) or body.reason}"
    if status in _RETRY_STATUS or status >= 500:
        return _Retryable(reason, _retry_after(headers.get("Retry-After") if headers else None))
    return _Permanent(reason)


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
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True
        self._timer.start()

    def expire(self) -> None:
        """Shut the attempt's sockets down now (the timer, or a Ctrl-C)."""
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
        """An opener like ``urlopen``'s (proxies from the environment) whose sockets are watched and which
        follows no redirect."""
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

        return urllib.request.build_opener(_HTTPHandler(), _HTTPSHandler(), _NoRedirect())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Answers every redirect with "do not follow", so urllib raises the 3xx as an ``HTTPError``."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed
