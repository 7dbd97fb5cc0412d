"""The leaderboard site built from hostile and careless submissions, in Chromium at 320 px (the narrowest
phone) and 1,400 px: a 200-character model name with no space, a name of right-to-left and zero-width
characters, and a run whose every figure is None (every answer unparsed; made with the test-only backend, so
it is excluded with that reason). No page scrolls sideways and the names show as written.
"""

from __future__ import annotations

import functools
import http.server
import threading

import pytest
from cyclebench.leaderboard.site import build_site
from cyclebench.leaderboard.submit import SubmitError, submit

from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

from .test_browser import NO_PAGE_OVERFLOW, _open, _QuietHandler, _screenshot
from .test_leaderboard import DATE, datasets_for, submit_run

UNBROKEN = "Qwen2.5-72B-Instruct_" + "x" * 179  # 200 characters, no space to wrap at
# Right-to-left letters (Arabic, Hebrew) and zero-width joiners (which scripts need) are a name; bidi overrides
# and isolates are refused at submit (the metadata schema).
BIDI = "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd model (\u0661\u0662\u0663) zero\u200bwidth\u200d"
CONTROLS = ("\u202eledom", "\u2066isolate\u2069", "bell\u0007")
WIDTHS = {"narrow": (320, 640), "desktop": (1400, 900)}


@pytest.fixture(scope="module")
def hostile_site(sync_api, lb_sample, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-site")
    subs = root / "subs"
    submit_run(lb_sample, "constant", subs, name="unbroken", model_name=UNBROKEN)
    submit_run(lb_sample, "tfidf", subs, name="bidi", model_name=BIDI)
    for i, name in enumerate(CONTROLS):
        with pytest.raises(SubmitError, match="control character"):
            submit_run(lb_sample, "tfidf", root / "refused", name=f"refused-{i}", model_name=name)
    config = ReviewRunConfig(task="review-5k", data=str(lb_sample.data), protocol="cyclereviewer", backend="fake",
                             model_args={"text": "I cannot review this paper."}, n_resamples=50)
    run_review_evaluation(config, root / "runs" / "unparsed", progress=False)
    submit(root / "runs" / "unparsed", "unparsed", out=subs, date=DATE, model_name="Every figure None")
    report = build_site(root / "site", subs, datasets_for(lb_sample))
    assert report.counts == {"submissions": 3, "verified": 2, "excluded": 1}
    [excluded] = [v for v in report.verifications if v.problems]
    assert str(excluded.folder).endswith("_unparsed") and "test-only backend" in excluded.problems[0].message
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root / "site")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)



@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_hostile_names_and_a_run_without_figures_fit_every_width(browser, hostile_site, device, tmp_path):
    width, height = WIDTHS[device]
    page = _open(browser, f"{hostile_site}/index.html", width, height)
    assert page.evaluate(NO_PAGE_OVERFLOW), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    text = page.inner_text("body")
    assert UNBROKEN in text.replace("\n", "").replace("\u00ad", "")
    assert BIDI in text and "test-only backend" in text
    _screenshot(page, tmp_path, f"leaderboard-hostile-index-{width}")
    for name in ("unbroken", "bidi"):
        page = _open(browser, f"{hostile_site}/submissions/{DATE}_{name}/index.html", width, height)
        assert page.evaluate(NO_PAGE_OVERFLOW), (name, page.evaluate("[document.documentElement.scrollWidth, innerWidth]"))
        assert page.errors == [] and page.dialogs == []
        _screenshot(page, tmp_path, f"leaderboard-hostile-{name}-{width}")
