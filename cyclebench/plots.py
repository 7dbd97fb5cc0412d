"""Charts for reports and the leaderboard, drawn with matplotlib: SVG for the page, PNG beside it for slides.

A chart is built as a :class:`Chart` (a matplotlib figure) and written with :meth:`Chart.write`, which puts
``name.svg`` and ``name.png`` side by side. Choices, and why:

- Every title carries a provenance line (:class:`About`: model, dataset build, split, n), so a plot copied
  into a paper or a slide still says what it shows.
- Same inputs, same bytes: matplotlib's default style (not the user's matplotlibrc), its bundled DejaVu fonts,
  a fixed ``svg.hashsalt``, no date in the metadata, and seeded jitter.
- Text stays text in the SVG (``svg.fonttype: none``): labels are searchable and never cut. Labels are never
  truncated, only wrapped at spaces (:func:`wrap`). matplotlib escapes markup; :func:`clean` replaces
  characters XML forbids outright and escapes ``$``, so a model name can neither break the file nor be read
  as mathtext.
- Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies); counts use ``cividis``.
- No pyplot: each figure gets its own Agg canvas, so no global backend is switched and nothing leaks between
  figures. matplotlib is imported only when a chart is drawn, so ``import cyclebench`` stays light.
"""

from __future__ import annotations

import functools
import io
import math
import re
import textwrap
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, vermillion, reddish purple, sky blue.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
PNG_DPI = 200
MAX_PNG_PIXELS = 30_000  # per side; Agg refuses images over 2**16 pixels
# Rows of a leaderboard chart's measured panel: the best ones (the table lists every run). A chart of
# 1,000 rows took ~16 s a format and 1.5 MB; the site draws several per table.
MAX_CHART_ROWS = 50
_FLOAT_MAX = 1e307  # axis limits stay below the float maximum, so matplotlib's tick arithmetic stays finite
LABEL_WIDTH = 48  # characters per line of a wrapped row label
_RC = {
    "svg.hashsalt": "cyclebench",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
}
# Characters XML 1.0 does not allow in a document at all (escaped or not): C0 controls other than tab, line
# feed and carriage return, lone surrogates, U+FFFE and U+FFFF. One of them in a label breaks the whole file.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PROLOGUE = re.compile(r"\A<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?")


def clean(text: Any) -> str:
    """``text`` safe to hand to matplotlib: XML-illegal characters as U+FFFD, ``$`` literal (no mathtext)."""
    return _NOT_XML.sub("\ufffd", str(text)).replace("$", r"\$")


def wrap(text: Any, width: int = LABEL_WIDTH) -> str:
    """``text`` cleaned and wrapped at spaces into lines of at most ``width`` characters; nothing is dropped
    but the spaces a line breaks at (a word longer than a line is split)."""
    lines = []
    for part in clean(text).splitlines() or [""]:
        lines += textwrap.wrap(part, width, break_on_hyphens=False) or [""]
    return "\n".join(lines)


def _finite(value: Any) -> float | None:
    """A plottable number, or None for None, NaN, infinities and anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class About:
    """What a chart shows, for its title: the model, the dataset build, the split and the number of papers."""

    model: str = ""
    dataset: str = ""
    split: str = ""
    n: int | None = None

    def parts(self) -> list[str]:
        parts = [f"model: {self.model}" if self.model else "", f"data: {self.dataset}" if self.dataset else "",
                 f"split: {self.split}" if self.split else "", f"n = {self.n}" if self.n is not None else ""]
        return [p for p in parts if p]

    def line(self, width: int = 0) -> str:
        """The parts joined by `` · ``; with ``width``, cleaned (:func:`clean`) and broken into lines between
        parts (within a part only when it is longer than a line)."""
        if not width:
            return " · ".join(self.parts())
        lines: list[str] = []
        for part in map(clean, self.parts()):
            if lines and len(lines[-1]) + 3 + len(part) <= width:
                lines[-1] += " · " + part
            else:
                lines += textwrap.wrap(part, width, break_on_hyphens=False)
        return "\n".join(lines)


def build_label(task: Mapping[str, Any]) -> str:
    """A dataset build as people name it, from a results.json ``task`` block: builder name, version and the
    first 12 hex digits of the build's fingerprint (``review-5k v1.3.0, build bfad6cdeb01c``)."""
    source = task.get("source") or {}
    name = source.get("builder") or task.get("name") or "dataset"
    version = f" v{source['builder_version']}" if source.get("builder_version") else ""
    fingerprint = str(task.get("dataset_fingerprint") or "").split(":", 1)[-1][:12]
    return f"{name}{version}" + (f", build {fingerprint}" if fingerprint else "")


def model_label(model: Mapping[str, Any]) -> str:
    """A model as a title names it, from a results.json ``model`` (or ``generator``) block: the backend and
    the checkpoint or served model (``hf HuggingFaceTB/SmolLM2-135M-Instruct``; ``baseline-tfidf``)."""
    args = model.get("model_args") or {}
    name = args.get("pretrained") or args.get("model") or args.get("name")  # hf/vllm, openai, imported
    if name and args.get("gguf_file"):
        name = f"{name}/{args['gguf_file']}"
    return f"{model.get('backend', 'model')}" + (f" {name}" if name else "")


@dataclass(frozen=True)
class Estimate:
    """One row of an interval chart: a figure with its 95% interval (any part may be missing)."""

    label: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None


@dataclass(frozen=True)
class Chart:
    """A drawn figure; :meth:`write` saves it as SVG and PNG."""

    figure: Any  # matplotlib.figure.Figure, laid out and frozen
    bbox: Any = "tight"  # what to save: the figure's tight box, measured once when it was laid out

    def svg(self) -> str:
        """The SVG document, starting at ``<svg`` (no XML prologue, so it can also be inlined in HTML)."""
        buffer = io.StringIO()
        with _style():
            self.figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches=self.bbox)
        return _PROLOGUE.sub("", buffer.getvalue())

    def png(self, dpi: int = PNG_DPI) -> bytes:
        """The PNG at ``dpi``, lowered for a very tall chart (hundreds of rows) to stay within ``MAX_PNG_PIXELS``."""
        size = self.figure.get_size_inches() if isinstance(self.bbox, str) else (self.bbox.width, self.bbox.height)
        dpi = min(dpi, int(MAX_PNG_PIXELS / max(*size, 1.0)))
        buffer = io.BytesIO()
        with _style():
            self.figure.savefig(buffer, format="png", dpi=dpi, bbox_inches=self.bbox, metadata={"Software": None})
        return buffer.getvalue()

    def write(self, path: str | Path) -> tuple[Path, Path]:
        """``path`` with suffix ``.svg`` and the same name with ``.png``; returns both paths."""
        svg, png = Path(path).with_suffix(".svg"), Path(path).with_suffix(".png")
        svg.write_text(self.svg(), encoding="utf-8")
        png.write_bytes(self.png())
        return svg, png


@contextmanager
def _style() -> Iterator[None]:
    """matplotlib's defaults (whatever the user's matplotlibrc says) with our settings on top."""
    import matplotlib
    import matplotlib.style
    from cycler import cycler

    with matplotlib.style.context("default"), matplotlib.rc_context({**_RC, "axes.prop_cycle": cycler(color=PALETTE)}), \
            warnings.catch_warnings():
        # A name in a script DejaVu lacks still shows in the SVG (the viewer's fonts draw it); the PNG has boxes.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        yield


def _styled(draw: Callable[..., Chart]) -> Callable[..., Chart]:
    """Build a chart under :func:`_style`: sizes and fonts are read when artists are created."""

    @functools.wraps(draw)
    def inner(*args: Any, **kwargs: Any) -> Chart:
        with _style():
            chart = draw(*args, **kwargs)
            # Lay out once and freeze: constrained layout run again on every save moves things by fractions
            # of a point, and the SVG and PNG of one chart (or two saves of it) should agree to the byte.
            figure = chart.figure
            figure.draw_without_rendering()
            figure.set_layout_engine("none")
            return Chart(figure, figure.get_tightbbox(figure.canvas.get_renderer()).padded(0.1))

    return inner


def _figure(width: float, height: float, title: str, about: About | None) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    width_chars = max(int(width * 12), 40)  # about 12 characters of 10 pt DejaVu Sans per inch
    line = about.line(width_chars) if about else ""
    figure.suptitle(wrap(title, width_chars) + ("\n" + line if line else ""), fontsize=10, x=0.02, ha="left")
    return figure


def _nice_ticks(axis: Any, integer: bool = False) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10], integer=integer))


def _empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, clean(message), transform=ax.transAxes, ha="center", va="center", color="#555555")


def _step(values: Sequence[float]) -> float | None:
    """The smallest gap between distinct values, when they lie on a grid (ratings), else None."""
    distinct = sorted(set(values))
    if len(distinct) < 2 or len(distinct) == len(values):
        return None
    return min(b - a for a, b in zip(distinct, distinct[1:]))


@_styled
def scatter_chart(points: Sequence[tuple[Any, Any]], *, title: str, xlabel: str, ylabel: str,
                  about: About | None = None, lo: float = 0.0, hi: float = 10.0, seed: int = 0) -> Chart:
    """Predicted against human ratings with the y = x line. Ratings sit on a grid, so repeated values are
    jittered (seeded; a quarter of the grid step, at most 1/40 of the scale; said in the legend); points
    without two numbers are left out and counted in the legend."""
    import numpy as np

    kept = [(x, y) for x, y in ((_finite(a), _finite(b)) for a, b in points) if x is not None and y is not None]
    figure = _figure(5.2, 5.0, title, about)
    ax = figure.add_subplot()
    low, high = (lo, hi) if hi > lo else (lo, lo + 1)
    ax.plot([low, high], [low, high], linestyle="--", color="#777777", linewidth=1, label="y = x")
    if kept:
        xs, ys = np.array([p[0] for p in kept]), np.array([p[1] for p in kept])
        rng = np.random.default_rng(seed)
        notes = []
        for name, values in (("x", xs), ("y", ys)):
            step = _step(values.tolist())
            if step is not None:
                amount = min(step / 4, (high - low) / 40)
                values += rng.uniform(-amount, amount, size=len(values))
                notes.append(f"{name} ±{amount:.2g}")
        label = f"{len(kept)} papers" + (f" (jittered {', '.join(notes)})" if notes else "")
        ax.scatter(xs, ys, s=16, alpha=0.55, color=PALETTE[0], edgecolors="none", label=clean(label))
        low, high = min(low, float(xs.min()), float(ys.min())), max(high, float(xs.max()), float(ys.max()))
    else:
        _empty(ax, "no paper with both ratings")
    dropped = len(points) - len(kept)
    if dropped:
        ax.plot([], [], linestyle="none", label=f"{dropped} without a rating, not drawn")
    pad = (high - low) * 0.04
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(low - pad, high + pad)
    ax.set_aspect("equal")
    ax.set_xlabel(clean(xlabel))
    ax.set_ylabel(clean(ylabel))
    integer = high - low >= 4
    _nice_ticks(ax.xaxis, integer)
    _nice_ticks(ax.yaxis, integer)
    ax.legend(loc="upper left", fontsize=8)
    return Chart(figure)


@_styled
def histogram_chart(series: Mapping[str, Sequence[Any]], *, title: str, xlabel: str, about: About | None = None,
                    lo: float = 0.0, hi: float = 10.0, bins: int = 20, ylabel: str = "papers") -> Chart:
    """Histograms on shared bins, drawn as outlined steps so overlapping series stay readable; each
    legend entry gives its n, and how many values were missing (not drawn)."""
    import numpy as np

    figure = _figure(6.0, 3.8, title, about)
    ax = figure.add_subplot()
    high = hi if hi > lo else lo + 1
    edges = np.linspace(lo, high, max(1, int(bins)) + 1)
    drawn = 0
    for i, (name, values) in enumerate(series.items()):
        kept = [v for v in (_finite(x) for x in values) if v is not None]
        missing = len(values) - len(kept)
        label = f"{clean(name)} (n = {len(kept)}" + (f", {missing} missing)" if missing else ")")
        color = PALETTE[i % len(PALETTE)]
        clipped = np.clip(np.array(kept, dtype=float), lo, high)
        ax.hist(clipped, bins=edges, histtype="stepfilled", alpha=0.25, color=color)
        ax.hist(clipped, bins=edges, histtype="step", linewidth=1.6, color=color, label=label)
        drawn += len(kept)
    if not drawn:
        _empty(ax, "no values")
    ax.set_xlim(lo, high)
    ax.set_xlabel(clean(xlabel))
    ax.set_ylabel(clean(ylabel))
    _nice_ticks(ax.xaxis, high - lo >= 4)
    _nice_ticks(ax.yaxis, True)
    if series:
        ax.legend(fontsize=8)
    return Chart(figure)


@_styled
def matrix_chart(rows: Sequence[str], cols: Sequence[str], values: Sequence[Sequence[Any]], *, title: str,
                 xlabel: str, ylabel: str, about: About | None = None) -> Chart:
    """A labelled count matrix (a confusion matrix), shaded by count (``cividis``), each cell written out."""
    import numpy as np

    if len(values) != len(rows) or any(len(row) != len(cols) for row in values):
        raise ValueError(f"matrix chart: {len(rows)} x {len(cols)} labels but values of rows "
                         f"{[len(row) for row in values]}")
    counts = np.array([[_finite(v) or 0 for v in row] for row in values], dtype=float).reshape(len(rows), len(cols))
    figure = _figure(1.6 + 1.3 * max(len(cols), 1), 1.6 + 0.9 * max(len(rows), 1), title, about)
    ax = figure.add_subplot()
    ax.grid(False)
    if counts.size:
        top = max(float(counts.max()), 1.0)
        ax.imshow(counts, cmap="cividis", vmin=0, vmax=top, aspect="auto")
        for (i, j), n in np.ndenumerate(counts):
            ax.text(j, i, f"{n:g}", ha="center", va="center", fontsize=11,
                    color="white" if n < top * 0.55 else "black")
    else:
        _empty(ax, "no rows")
    ax.set_xticks(range(len(cols)), [wrap(c, 16) for c in cols])
    ax.set_yticks(range(len(rows)), [wrap(r, 24) for r in rows])
    ax.set_xlabel(clean(xlabel))
    ax.set_ylabel(clean(ylabel))
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    return Chart(figure)


@_styled
def interval_chart(panels: Sequence[tuple[str, Sequence[Estimate]]], *, title: str, xlabel: str,
                   about: About | None = None) -> Chart:
    """Horizontal point-ranges: one row per estimate (full label, wrapped), the point and its 95% interval
    as an error bar, the value written beside it. Each panel has its own axis, so rows in different panels
    (measured runs and published numbers) are never drawn as comparable. A row without a value says so."""
    heights = [max(len(rows), 1) * 0.42 + sum(wrap(r.label).count("\n") for r in rows) * 0.16 + 0.7
               for _, rows in panels] or [1.0]
    figure = _figure(7.2, 0.9 + sum(heights), title, about)
    grid = figure.add_gridspec(max(len(panels), 1), 1, height_ratios=heights)
    if not panels:
        _empty(figure.add_subplot(grid[0]), "no rows")
    for k, (heading, rows) in enumerate(panels):
        ax = figure.add_subplot(grid[k])
        ax.grid(axis="y", visible=False)
        color = PALETTE[k % len(PALETTE)]
        finite, ranged, alone = [], [], []  # ranged: (row, value, minus, plus); alone: (row, value)
        for i, row in enumerate(rows):
            value, low, high = _finite(row.value), _finite(row.ci_low), _finite(row.ci_high)
            finite += [v for v in (value, low, high) if v is not None]
            if value is not None and low is not None and high is not None:
                ranged.append((i, value, max(value - low, 0.0), max(high - value, 0.0)))
            elif value is not None:
                alone.append((i, value))
        if ranged:  # one call for all rows: a leaderboard of hundreds of rows stays quick
            ys, xs, minus, plus = zip(*ranged)
            ax.errorbar(xs, ys, xerr=[minus, plus], fmt="o", color=color, ecolor=color, capsize=3, markersize=5,
                        elinewidth=1.4)
        if alone:
            ys, xs = zip(*alone)
            ax.plot(xs, ys, "o", color=color, markersize=5)
        left, right = (min(finite), max(finite)) if finite else (0.0, 1.0)
        # Halves, so the span of values near the float limit (1e308 and -1e308) stays finite.
        pad = (right / 2 - left / 2) * 0.16 or abs(right) * 0.1 or 0.1
        ax.set_xlim(max(left - pad, -_FLOAT_MAX), min(right + pad * 3, _FLOAT_MAX))
        for i, row in enumerate(rows):
            value, high = _finite(row.value), _finite(row.ci_high)
            text = "no value" if value is None else f"{value:.3g}"
            at = (high if high is not None and value is not None else value) if value is not None else left - pad
            ax.annotate(text, (at, i), xytext=(5, 0), textcoords="offset points", va="center", fontsize=8,
                        color="#333333" if value is not None else "#888888")
        labels = [wrap(r.label) + (f"\n(n = {r.n})" if r.n is not None else "") for r in rows]
        ax.set_yticks(range(len(rows)), labels)
        ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)  # first row on top
        ax.set_title(wrap(heading, 90), loc="left", fontsize=9)
        _nice_ticks(ax.xaxis)
        ax.set_xlabel(clean(xlabel))
        if not rows:
            _empty(ax, "no rows")
    return Chart(figure)


def leaderboard_chart(*, figure: str, better: str, task: str, split: str, build: str,
                      measured: Sequence[Estimate], published: Sequence[Estimate] = ()) -> Chart:
    """One headline figure of one leaderboard table: the runs measured on ``build`` in one panel, the
    published numbers (other papers, other builds, usually no interval) in a separate panel below."""
    heading = f"measured on {build}" if build else "measured"
    if len(measured) > MAX_CHART_ROWS:
        heading += f": the best {MAX_CHART_ROWS} of {len(measured):,} runs (the table lists all)"
        measured = best_rows(measured, better, MAX_CHART_ROWS)
    panels = [(heading, measured)]
    if published:
        panels.append(("published numbers (their own papers and builds; not comparable with the panel above)",
                       published))
    return interval_chart(panels, title=f"{figure} ({better} is better)", xlabel=figure,
                          about=About(dataset=f"{task}" + (f" ({build})" if build else ""), split=split))


def best_rows(rows: Sequence[Estimate], better: str, keep: int) -> list[Estimate]:
    """The ``keep`` rows with the best finite values (``better``: "lower" or "higher"), in their given order;
    rows without a value come last."""
    sign = 1.0 if better == "lower" else -1.0
    ranked = sorted(range(len(rows)), key=lambda i: (0, sign * v) if (v := _finite(rows[i].value)) is not None
                    else (1, 0.0))
    return [rows[i] for i in sorted(ranked[:keep])]


# Text-returning forms of the charts above (the SVG alone), kept for callers that write one file.


def scatter(points: Sequence[tuple[Any, Any]], *, title: str, xlabel: str, ylabel: str, lo: float = 0.0,
            hi: float = 10.0, about: About | None = None) -> str:
    return scatter_chart(points, title=title, xlabel=xlabel, ylabel=ylabel, lo=lo, hi=hi, about=about).svg()


def bars(labels: Sequence[str], values: Sequence[Any], lows: Sequence[Any], highs: Sequence[Any], *, title: str,
         ylabel: str, about: About | None = None) -> str:
    """One row per label with its 95% interval (the figure's name is ``ylabel``)."""
    rows = [Estimate(str(label), v, lo, hi) for label, v, lo, hi in zip(labels, values, lows, highs)]
    return interval_chart([("", rows)], title=title, xlabel=ylabel, about=about).svg()
