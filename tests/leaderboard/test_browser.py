"""The built leaderboard in a real browser (Debian's chromium driven by Playwright).

The site is served from a local ``http.server`` thread. The tests check that the index loads with its plots,
that clicking a column header sorts the table (and clicking again reverses it) without touching the
published table, that a model named with an HTML/script injection payload shows as literal text on the
index and on its own page, and the layout: at 1,400 px and at 390 px (a phone) no page scrolls sideways,
the default view of the widest table fits 1,400 px, its header row and first column stay in view while its
box scrolls, and the column picker shows the figures of one view. Screenshots of the index, a submission's
page and the "how to submit" page at both widths are written to ``$CYCLEBENCH_TEST_ARTIFACTS`` (or the
test's tmp folder). ``playwright`` is part of the ``dev`` extra; the tests skip (with the reason) only when
``/usr/bin/chromium`` is missing, and never download a browser.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest
from cyclebench.leaderboard.columns import COLUMNS
from cyclebench.leaderboard.site import build_site

from .test_leaderboard import INJECTION, datasets_for, edit_results, submit_run

LONG_NAME = "TF-IDF ridge regression, alpha 3, trained on the Review-5K sample's training split (a long name)"
WIDTHS = {"desktop": (1400, 900), "phone": (390, 844)}

COLUMN_VALUES = """([tableId, label]) => {
  const table = document.getElementById(tableId);
  const heads = [...table.tHead.rows[0].cells].map(c => c.querySelector("button").textContent.trim());
  const index = heads.indexOf(label);
  if (index < 0) { throw new Error("no column " + label + " in " + heads.join(" | ")); }
  return [...table.tBodies[0].rows].map(r => [r.cells[0].textContent.trim(), r.cells[index].getAttribute("data-value")]);
}"""
VISIBLE_KEYS = """(tableId) => [...document.getElementById(tableId).tHead.rows[0].cells]
  .filter(c => c.dataset.key && getComputedStyle(c).display !== "none").map(c => c.dataset.key)"""
NO_PAGE_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"
# Scroll a table's box right and down (its height capped so it scrolls at any width); the header row and the
# first column must stay at the box's edges: position sticky, checked by where they are, not by the CSS.
STICKY = """(tableId) => {
  const table = document.getElementById(tableId), box = table.parentElement;
  box.style.maxHeight = "7em";
  box.scrollTop = 0; box.scrollLeft = 0;
  const scrolls = {x: box.scrollWidth > box.clientWidth, y: box.scrollHeight > box.clientHeight};
  box.scrollTop = box.scrollHeight; box.scrollLeft = box.scrollWidth;
  const edge = box.getBoundingClientRect(), head = table.tHead.rows[0].cells[0].getBoundingClientRect();
  const first = table.tBodies[0].rows[table.tBodies[0].rows.length - 1].cells[0].getBoundingClientRect();
  const out = {scrolls, headTop: head.top - edge.top - box.clientTop, firstLeft: first.left - edge.left - box.clientLeft,
               position: getComputedStyle(table.tHead.rows[0].cells[1]).position,
               firstPosition: getComputedStyle(first.width ? table.tBodies[0].rows[0].cells[0] : box).position};
  box.style.maxHeight = ""; box.scrollTop = 0; box.scrollLeft = 0;
  return out;
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def served_site(sync_api, lb_sample, tmp_path_factory):
    """Three runs on the sample build (one named with the injection payload, one with a long name), one
    excluded (its reasons hold 64-character hashes: a phone must wrap them) and the published rows; yields
    the server's base URL, the measured and published table ids and a page name."""
    root = tmp_path_factory.mktemp("served-site")
    subs = root / "subs"
    submit_run(lb_sample, "constant", subs, model_name="Training mean")
    submit_run(lb_sample, "tfidf", subs, model_name=INJECTION)
    submit_run(lb_sample, "tfidf-alpha", subs, model_name=LONG_NAME)
    other = submit_run(lb_sample, "constant", subs, name="other-build", model_name="Elsewhere")
    edit_results(other, lambda r: r["task"].update(dataset_fingerprint="sha256:" + "f" * 64))
    report = build_site(root / "site", subs, datasets_for(lb_sample))
    assert report.counts == {"submissions": 4, "verified": 3, "excluded": 1}
    assert any(len(word) >= 64 for v in report.verifications for p in v.problems for word in p.message.split())
    [measured] = [t for t in report.tables if t.task == "review-5k" and t.fingerprint]
    [published] = [t for t in report.tables if t.task == "review-5k" and not t.fingerprint]
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root / "site")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{server.server_port}", "measured": f"table-{measured.slug}",
               "published": f"table-{published.slug}", "page": "submissions/2026-01-15_tfidf-alpha/index.html"}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)



def _open(browser, url: str, width: int, height: int):
    """A page at ``url`` that records dialogs and script errors (both must stay empty)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    response = page.goto(url)
    assert response is not None and response.ok
    return page


def _artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CYCLEBENCH_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _screenshot(page, tmp_path: Path, name: str) -> None:
    path = _artifacts(tmp_path) / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _assert_inert(page) -> None:
    payload = page.get_by_text(INJECTION, exact=True)
    assert payload.count() >= 1 and payload.first.is_visible()
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("script:not([src])").count() == 0


def _ordered(values: list[str | None], descending: bool = False) -> bool:
    numbers = [float(v) for v in values if v]
    blanks_last = all(not v for v in values[len(numbers):])
    return blanks_last and numbers == sorted(numbers, reverse=descending)


def test_site_loads_sorts_and_renders_injection_as_text(browser, served_site):
    measured, published = served_site["measured"], served_site["published"]
    page = _open(browser, f"{served_site['base']}/index.html", *WIDTHS["desktop"])
    assert page.title() == "cyclebench leaderboard"
    assert page.locator(f"#{measured} tbody tr").count() == 4  # three runs and the human proxy row
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator("img").count() >= 3

    untouched = page.evaluate(COLUMN_VALUES, [published, "Decision accuracy"])
    before = page.evaluate(COLUMN_VALUES, [measured, "Decision accuracy"])
    header = page.locator(f"#{measured} thead th", has_text="Decision accuracy")
    header.get_by_role("button").click()
    after = page.evaluate(COLUMN_VALUES, [measured, "Decision accuracy"])
    assert sorted(after) == sorted(before) and _ordered([v for _, v in after])
    assert header.get_attribute("aria-sort") == "ascending"
    header.get_by_role("button").click()
    reverse = page.evaluate(COLUMN_VALUES, [measured, "Decision accuracy"])
    assert _ordered([v for _, v in reverse], descending=True) and reverse != after
    assert header.get_attribute("aria-sort") == "descending"
    assert page.evaluate(COLUMN_VALUES, [published, "Decision accuracy"]) == untouched  # never sorted together

    _assert_inert(page)
    page.get_by_role("link", name=INJECTION, exact=True).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == INJECTION
    _assert_inert(page)
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert page.dialogs == [] and page.errors == []


def test_measured_and_published_rows_are_separate_labelled_tables(browser, served_site):
    page = _open(browser, f"{served_site['base']}/index.html", *WIDTHS["desktop"])
    measured, published = page.locator(f"#{served_site['measured']}"), page.locator(f"#{served_site['published']}")
    assert "measured" in measured.get_attribute("class") and "published" in published.get_attribute("class")
    labels = {name: page.locator(f"#{served_site[name]} tbody .label").all_inner_texts()
              for name in ("measured", "published")}
    assert sorted(labels["measured"]) == ["baseline", "baseline", "baseline", "human"]
    assert set(labels["published"]) == {"reported"} and len(labels["published"]) >= 3
    task = page.locator("section.task", has=measured)
    assert task.locator("h3 .kind").all_inner_texts() == ["MEASURED", "PUBLISHED"]  # text-transform: uppercase
    assert task.locator("table.published").count() == 1 and task.locator("table.measured").count() == 1
    assert "Not comparable with the measured table above" in task.inner_text()


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_pages_fit_the_screen_and_tables_keep_header_and_first_column(browser, served_site, device, tmp_path):
    width, height = WIDTHS[device]
    base, measured = served_site["base"], served_site["measured"]
    page = _open(browser, f"{base}/index.html", width, height)
    assert page.evaluate(NO_PAGE_OVERFLOW), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    picker = page.locator(f'.views[data-table="{measured}"]')
    assert picker.is_visible() and picker.locator('[aria-pressed="true"]').inner_text() == "Headline"
    headline = [c.key for c in COLUMNS["review"] if c.headline]
    assert page.evaluate(VISIBLE_KEYS, measured) == headline
    box = "(id) => { const b = document.getElementById(id).parentElement; return [b.scrollWidth, b.clientWidth]; }"
    scroll_width, client_width = page.evaluate(box, measured)
    if device == "desktop":
        assert scroll_width <= client_width  # the default view fits 1,400 px: nothing to scroll
    else:
        assert scroll_width > client_width  # a phone scrolls the table's own box, not the page
    sticky = page.evaluate(STICKY, measured)
    assert sticky["position"] == sticky["firstPosition"] == "sticky"
    assert sticky["scrolls"]["y"] and abs(sticky["headTop"]) <= 1
    if sticky["scrolls"]["x"]:
        assert abs(sticky["firstLeft"]) <= 1
    _screenshot(page, tmp_path, f"leaderboard-index-{width}")

    picker.get_by_role("button", name="All", exact=True).click()
    assert len(page.evaluate(VISIBLE_KEYS, measured)) == page.locator(f"#{measured} thead th[data-key]").count() == 11  # all but the published-only F1
    assert page.evaluate(NO_PAGE_OVERFLOW)
    assert page.evaluate(STICKY, measured)["scrolls"]["x"] and abs(page.evaluate(STICKY, measured)["firstLeft"]) <= 1
    picker.get_by_role("button", name="Ratings", exact=True).click()
    assert page.evaluate(VISIBLE_KEYS, measured) == ["rating_mae", "rating_mse", "proxy_mae", "proxy_mse"]
    assert page.locator(f"#{measured} tbody td.fig:visible").count() == 4 * 4

    for path, name in ((served_site["page"], "submission"), ("submit.html", "submit")):
        page = _open(browser, f"{base}/{path}", width, height)
        assert page.evaluate(NO_PAGE_OVERFLOW), (path, page.evaluate("[document.documentElement.scrollWidth, innerWidth]"))
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        _screenshot(page, tmp_path, f"leaderboard-{name}-{width}")
        assert page.dialogs == [] and page.errors == []


def test_submission_page_shows_figures_provenance_and_plot(browser, served_site):
    page = _open(browser, f"{served_site['base']}/{served_site['page']}", *WIDTHS["desktop"])
    assert page.locator("h1").inner_text() == LONG_NAME
    facts = dict(zip(page.locator("table.facts th").all_inner_texts(), page.locator("table.facts td").all_inner_texts()))
    assert facts["Backend"].startswith("baseline-tfidf") and '"alpha": 3.0' in facts["Backend"]
    assert facts["Dataset build"].startswith("sha256:") and facts["Code version"].startswith("cyclebench ")
    assert facts["Model"] == LONG_NAME and "Model fingerprint" in facts
    assert page.locator(".status-verified").inner_text() == "verified"
    assert page.locator("ul.headline li").count() >= 4
    assert page.locator('img[src="pred_vs_human.svg"]').count() == 1
    page.get_by_role("link", name="← review-5k, split test").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"index.html#{served_site['measured'].removeprefix('table-')}")
