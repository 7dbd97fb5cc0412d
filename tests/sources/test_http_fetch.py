"""The shared download: Retry-After, what is retried and what is not, whole files only, reconciled manifests."""

from __future__ import annotations

import email.utils

import pytest

from cyclebench.sources.http_fetch import (
    FetchError,
    FetchManifest,
    HttpPolicy,
    Throttle,
    http_get,
    retry_after_seconds,
    write_atomic,
)
from tests.fetch_servers import FetchServer, Reply

FAST = HttpPolicy(min_interval=0, timeout=5, retries=3, backoff=0.01)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


def test_retry_after_as_seconds_or_http_date():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(email.utils.formatdate(1000.0 + 30, usegmt=True), now=1000.0) == pytest.approx(30, abs=1)
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_429_waits_what_the_server_says_and_5xx_backs_off():
    waits = []
    with FetchServer() as server:
        server.route("/x", lambda p, q: Reply(200, b"ok"))
        server.script("/x", [Reply(429, headers={"Retry-After": "42"}), Reply(503), Reply(500)])
        assert http_get(server.base_url + "/x", FAST, Throttle(0), sleep=waits.append) == b"ok"
    assert waits == [42.0, 0.02, 0.04]  # Retry-After, then the doubling backoff


def test_404_fails_at_once_and_persistent_5xx_gives_up():
    with FetchServer() as server:
        server.route("/gone", lambda p, q: Reply(404, b"no"))
        server.route("/down", lambda p, q: Reply(502, b"bad gateway"))
        with pytest.raises(FetchError) as info:
            http_get(server.base_url + "/gone", FAST, Throttle(0), sleep=lambda s: None)
        assert info.value.reason == "http_404" and len(server.hits("/gone")) == 1
        with pytest.raises(FetchError) as info:
            http_get(server.base_url + "/down", FAST, Throttle(0), sleep=lambda s: None)
        assert info.value.reason == "gave_up" and len(server.hits("/down")) == FAST.retries + 1


def test_a_cut_body_is_retried_not_returned():
    with FetchServer() as server:
        server.route("/f", lambda p, q: Reply(200, b"0123456789" * 100))
        server.script("/f", [Reply(200, b"0123456789" * 100, cut=37)])
        assert http_get(server.base_url + "/f", FAST, Throttle(0), sleep=lambda s: None) == b"0123456789" * 100
        assert len(server.hits("/f")) == 2


def test_write_atomic_leaves_nothing_when_interrupted(tmp_path, monkeypatch):
    import os

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "a.pdf", b"%PDF")
    assert list(tmp_path.iterdir()) == []


def test_manifest_refuses_counts_that_do_not_reconcile(tmp_path):
    manifest = FetchManifest("t", inputs=2)
    manifest.failed("a", "no_pdf")
    with pytest.raises(AssertionError):
        manifest.write(tmp_path / "m.json")
    manifest.skipped("b")
    assert manifest.write(tmp_path / "m.json")["failed_reasons"] == {"no_pdf": 1}


def test_a_silent_server_times_out_instead_of_hanging():
    import time

    def silent(path, query):
        time.sleep(1.0)
        return Reply(200, b"late")

    policy = HttpPolicy(min_interval=0, timeout=0.2, retries=1, backoff=0)
    with FetchServer() as server:
        server.route("/slow", silent)
        start = time.monotonic()
        with pytest.raises(FetchError) as info:
            http_get(server.base_url + "/slow", policy, Throttle(0), sleep=lambda s: None)
        assert time.monotonic() - start < 0.9 and info.value.reason == "gave_up"
        assert "timed out" in str(info.value).lower()
