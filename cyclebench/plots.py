"""Small SVG charts written as text: a scatter, overlaid histograms, a labelled matrix, bars with intervals.

Plain SVG strings instead of matplotlib: a report or a leaderboard page draws in milliseconds (matplotlib's
rendering cost several times a small run's whole harness), the files are crisp at any size, and every
label is escaped text (:func:`escape`), so a model name cannot inject markup nor, with a control character,
make the file invalid XML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

WIDTH, HEIGHT = 440, 340
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 34, 46
COLORS = ("#3b6ea8", "#d9822b", "#5a9e5a", "#b04a5a")
# Characters XML 1.0 does not allow in a document at all (escaped or not): C0 controls other than tab, line
# feed and carriage return, lone surrogates, U+FFFE and U+FFFF. One of them in a label breaks the whole file.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape(text: str) -> str:
    """``text`` as SVG character data: markup escaped, XML-illegal characters replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", html.escape(str(text)))


def _frame(title: str, xlabel: str, ylabel: str, body: list[str], legend: Sequence[str] = ()) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="13">{escape(title)}</text>',
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 8}" text-anchor="middle">{escape(xlabel)}</text>',
        f'<text x="14" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(TOP + HEIGHT - BOTTOM) / 2})">{escape(ylabel)}</text>',
        *body,
    ]
    for i, name in enumerate(legend):
        y = TOP + 6 + 14 * i
        parts.append(f'<rect x="{WIDTH - RIGHT - 110}" y="{y - 8}" width="10" height="10" fill="{COLORS[i % len(COLORS)]}"/>')
        parts.append(f'<text x="{WIDTH - RIGHT - 96}" y="{y + 1}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


class _Axes:
    def __init__(self, x0: float, x1: float, y0: float, y1: float):
        self.x0, self.x1 = x0, x1 if x1 > x0 else x0 + 1
        self.y0, self.y1 = y0, y1 if y1 > y0 else y0 + 1

    def x(self, v: float) -> float:
        return LEFT + (v - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def y(self, v: float) -> float:
        return HEIGHT - BOTTOM - (v - self.y0) / (self.y1 - self.y0) * (HEIGHT - TOP - BOTTOM)

    def grid(self, xticks: Sequence[float], yticks: Sequence[float], xlabels: Sequence[str] | None = None) -> list[str]:
        out = [f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
               'fill="none" stroke="#888"/>']
        for i, t in enumerate(xticks):
            label = xlabels[i] if xlabels else f"{t:g}"
            out.append(f'<text x="{self.x(t):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{escape(label)}</text>')
        for t in yticks:
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{self.y(t):.1f}" y2="{self.y(t):.1f}" stroke="#eee"/>')
            out.append(f'<text x="{LEFT - 4}" y="{self.y(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
        return out


def scatter(points: Sequence[tuple[float, float]], *, title: str, xlabel: str, ylabel: str,
            lo: float = 0.0, hi: float = 10.0) -> str:
    """Points with the y = x diagonal (predicted vs human)."""
    ax = _Axes(lo, hi, lo, hi)
    ticks = [lo + (hi - lo) * i / 5 for i in range(6)]
    body = ax.grid(ticks, ticks)
    body.append(f'<line x1="{ax.x(lo):.1f}" y1="{ax.y(lo):.1f}" x2="{ax.x(hi):.1f}" y2="{ax.y(hi):.1f}" '
                'stroke="#999" stroke-dasharray="4 3"/>')
    for x, y in points:
        body.append(f'<circle cx="{ax.x(x):.1f}" cy="{ax.y(y):.1f}" r="3" fill="{COLORS[0]}" fill-opacity="0.6"/>')
    return _frame(title, xlabel, ylabel, body)


def histograms(series: dict[str, Sequence[float]], *, title: str, xlabel: str, lo: float = 0.0, hi: float = 10.0,
               bins: int = 20) -> str:
    """Overlaid histograms with shared bins."""
    width = (hi - lo) / bins
    counts = {}
    for name, values in series.items():
        c = [0] * bins
        for v in values:
            c[min(bins - 1, max(0, int((v - lo) / width)))] += 1
        counts[name] = c
    top = max([max(c) for c in counts.values()] + [1])
    ax = _Axes(lo, hi, 0, top * 1.1)
    body = ax.grid([lo + (hi - lo) * i / 5 for i in range(6)], sorted({0, top // 2, top}))
    for k, (name, c) in enumerate(counts.items()):
        for i, n in enumerate(c):
            if n:
                x0, x1 = ax.x(lo + i * width), ax.x(lo + (i + 1) * width)
                body.append(f'<rect x="{x0:.1f}" y="{ax.y(n):.1f}" width="{x1 - x0 - 1:.1f}" height="{ax.y(0) - ax.y(n):.1f}" '
                            f'fill="{COLORS[k % len(COLORS)]}" fill-opacity="0.55"><title>{escape(name)}: {n}</title></rect>')
    return _frame(title, xlabel, "papers", body, legend=list(series))


def matrix(rows: Sequence[str], cols: Sequence[str], values: Sequence[Sequence[int]], *, title: str,
           xlabel: str, ylabel: str) -> str:
    """A labelled count matrix (a confusion matrix), shaded by count."""
    top = max([max(r) for r in values] + [1])
    cw = (WIDTH - LEFT - RIGHT - 40) / len(cols)
    ch = (HEIGHT - TOP - BOTTOM) / len(rows)
    body = []
    for i, row in enumerate(values):
        body.append(f'<text x="{LEFT + 36}" y="{TOP + ch * (i + 0.5) + 4:.1f}" text-anchor="end">{escape(rows[i])}</text>')
        for j, n in enumerate(row):
            shade = 0.1 + 0.8 * n / top
            x, y = LEFT + 40 + cw * j, TOP + ch * i
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{cw - 2:.1f}" height="{ch - 2:.1f}" '
                        f'fill="{COLORS[0]}" fill-opacity="{shade:.2f}"/>')
            body.append(f'<text x="{x + cw / 2:.1f}" y="{y + ch / 2 + 4:.1f}" text-anchor="middle" font-size="14">{n}</text>')
    for j, name in enumerate(cols):
        body.append(f'<text x="{LEFT + 40 + cw * (j + 0.5):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{escape(name)}</text>')
    return _frame(title, xlabel, ylabel, body)


def bars(labels: Sequence[str], values: Sequence[float | None], lows: Sequence[float | None],
         highs: Sequence[float | None], *, title: str, ylabel: str) -> str:
    """One bar per model with its 95% interval as a whisker; missing values are left blank."""
    finite = [v for v in [*values, *lows, *highs] if v is not None]
    top = max(finite + [1e-9]) * 1.15
    ax = _Axes(0, max(len(labels), 1), min(0.0, min(finite + [0.0])), top)
    body = ax.grid([i + 0.5 for i in range(len(labels))], [round(top * i / 4, 3) for i in range(5)],
                   xlabels=[label[:14] for label in labels])
    for i, (value, low, high) in enumerate(zip(values, lows, highs)):
        if value is None:
            continue
        x0, x1 = ax.x(i + 0.15), ax.x(i + 0.85)
        body.append(f'<rect x="{x0:.1f}" y="{ax.y(value):.1f}" width="{x1 - x0:.1f}" height="{ax.y(0) - ax.y(value):.1f}" '
                    f'fill="{COLORS[0]}"><title>{escape(labels[i])}: {value:.4g}</title></rect>')
        if low is not None and high is not None:
            xm = ax.x(i + 0.5)
            body.append(f'<line x1="{xm:.1f}" x2="{xm:.1f}" y1="{ax.y(low):.1f}" y2="{ax.y(high):.1f}" stroke="black"/>')
    return _frame(title, "", ylabel, body)
