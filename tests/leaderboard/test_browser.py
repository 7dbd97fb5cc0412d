"""The built leaderboard in a real browser (Debian's chromium driven by Playwright).

The site is served from a local ``http.server`` thread; the test checks that the page loads with its
plots, that clicking a column header sorts the table (and clicking again reverses it), and that a model
named with an HTML/script injection payload shows as literal text on the index and on its own page.
A full-page screenshot is written to ``$CYCLEBENCH_TEST_ARTIFACTS`` (or the test's tmp folder).
``playwright`` is part of the ``dev`` extra; the test skips (with the reason) only when ``/usr/bin/chromium``
is missing, and never downloads a browser.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from cyclebench.leaderboard.site import build_site

from .test_leaderboard import INJECTION, datasets_for, submit_run

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]

COLUMN_VALUES = """([tableId, label]) => {
  const table = document.getElementById(tableId);
  const heads = [...table.tHead.rows[0].cells].map(c => c.querySelector("button").textContent.trim());
  const index = heads.indexOf(label);
  if (index < 0) { throw new Error("no column " + label + " in " + heads.join(" | ")); }
  return [...table.tBodies[0].rows].map(r => [r.cells[0].textContent.trim(), r.cells[index].getAttribute("data-value")]);
}"""


def _playwright():
    from playwright import sync_api  # in the dev extra: a missing package is a broken install, not a skip

    if not CHROMIUM.is_file():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium); this test never downloads a browser")
    return sync_api


@pytest.fixture(scope="session")
def sync_api():
    """The Playwright sync API, or a skip (requested before the site fixtures, so nothing is built first)."""
    return _playwright()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture()
def served_site(sync_api, lb_sample, tmp_path):
    subs = tmp_path / "subs"
    submit_run(lb_sample, "constant", subs, model_name="Training mean")
    submit_run(lb_sample, "tfidf", subs, model_name=INJECTION)
    submit_run(lb_sample, "tfidf-alpha", subs, model_name="TF-IDF alpha 3")
    report = build_site(tmp_path / "site", subs, datasets_for(lb_sample))
    [table] = [t for t in report.tables if t.task == "review-5k" and t.fingerprint]
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(tmp_path / "site")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", f"table-{table.slug}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CYCLEBENCH_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _assert_inert(page) -> None:
    payload = page.get_by_text(INJECTION, exact=True)
    assert payload.count() >= 1 and payload.first.is_visible()
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("script:not([src])").count() == 0


def _ordered(values: list[str | None], descending: bool = False) -> bool:
    numbers = [float(v) for v in values if v]
    blanks_last = all(not v for v in values[len(numbers):])
    return blanks_last and numbers == sorted(numbers, reverse=descending)


def test_site_loads_sorts_and_renders_injection_as_text(sync_api, served_site, tmp_path):
    base, table_id = served_site
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            dialogs, errors = [], []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.on("pageerror", lambda error: errors.append(str(error)))

            response = page.goto(f"{base}/index.html")
            assert response is not None and response.ok
            assert page.title() == "cyclebench leaderboard"
            assert page.locator(f"#{table_id} tbody tr").count() >= 7
            assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
            assert page.locator("img").count() >= 3

            before = page.evaluate(COLUMN_VALUES, [table_id, "Decision accuracy"])
            assert not _ordered([v for _, v in before])  # published rows come unsorted after the measured ones
            header = page.locator(f"#{table_id} thead th", has_text="Decision accuracy")
            header.get_by_role("button").click()
            after = page.evaluate(COLUMN_VALUES, [table_id, "Decision accuracy"])
            assert sorted(after) == sorted(before) and after != before
            assert _ordered([v for _, v in after])
            assert header.get_attribute("aria-sort") == "ascending"
            header.get_by_role("button").click()
            reverse = page.evaluate(COLUMN_VALUES, [table_id, "Decision accuracy"])
            assert _ordered([v for _, v in reverse], descending=True)
            assert header.get_attribute("aria-sort") == "descending"

            _assert_inert(page)
            screenshot = _artifacts(tmp_path) / "leaderboard-index.png"
            page.screenshot(path=str(screenshot), full_page=True)

            page.get_by_role("link", name=INJECTION, exact=True).click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text() == INJECTION
            _assert_inert(page)
            assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
            page.screenshot(path=str(_artifacts(tmp_path) / "leaderboard-submission.png"), full_page=True)

            assert dialogs == [] and errors == []
        finally:
            browser.close()
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
