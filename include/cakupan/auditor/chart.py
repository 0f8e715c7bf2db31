"""The geometry of one regency's chart (promised, enrolled and protected per month); templates/chart.svg draws it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cakupan.auditor.formatting import missing

SERIES = (("promised", "#e67e22", "6 4"), ("enrolled", "#7f8c9a", ""), ("protected", "#1a7f37", ""))
WIDTH, HEIGHT = 680, 250
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60, 130, 14, 42
LABEL_GAP = 13  # px between the end labels of two series


@dataclass
class Point:
    x: float
    y: float
    month: dt.date
    value: float


@dataclass
class Series:
    name: str
    colour: str
    dash: str
    segments: list[list[Point]] = field(default_factory=list)  # a gap (no data) starts a new segment


@dataclass
class Chart:
    regency: str
    name: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = MARGIN_LEFT
    top: int = MARGIN_TOP
    plot_width: int = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height: int = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    ticks: list[tuple[float, float]] = field(default_factory=list)         # (y, value)
    month_labels: list[tuple[float, dt.date]] = field(default_factory=list)  # (x, month)
    series: list[Series] = field(default_factory=list)
    end_labels: list[tuple[float, Series, float]] = field(default_factory=list)  # (y, series, latest value)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every first of the month from first to last."""
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def nice_max(v: float) -> tuple[float, float]:
    """Return (axis max, tick step) for values up to v, with about five ticks."""
    if v <= 0:
        return 1.0, 1.0
    raw = v / 5
    mag = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    step = next((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), 10 * mag)
    step = max(step, 1)
    top = step * (int(v / step) + (0 if v % step == 0 else 1))
    return float(top), float(step)


def chart(regency: str, name: str, rows: list[dict]) -> Chart | None:
    """The chart of one regency's coverage rows; None when no row has a month."""
    pts = {r["month_start"]: r for r in rows if isinstance(r.get("month_start"), dt.date)}
    if not pts:
        return None
    c = Chart(regency, name)
    months = months_between(min(pts), max(pts))
    values = [float(pts[m][s]) for m in months if m in pts for s, _, _ in SERIES if not missing(pts[m].get(s))]
    top, step = nice_max(max(values) if values else 0)

    def x(i: int) -> float:
        return c.left + (c.plot_width / 2 if len(months) == 1 else c.plot_width * i / (len(months) - 1))

    def y(v: float) -> float:
        return c.top + c.plot_height - c.plot_height * v / top

    t = 0.0
    while t <= top + 1e-9:
        c.ticks.append((y(t), t))
        t += step
    label_every = max(1, len(months) // 8)
    c.month_labels = [(x(i), m) for i, m in enumerate(months) if i % label_every == 0 or i == len(months) - 1]
    for series, colour, dash in SERIES:
        s = Series(series, colour, dash)
        cur: list[Point] = []
        for i, m in enumerate(months):
            v = pts.get(m, {}).get(series)
            if missing(v):
                if cur:
                    s.segments.append(cur)
                cur = []
            else:
                cur.append(Point(x(i), y(float(v)), m, float(v)))
        if cur:
            s.segments.append(cur)
        c.series.append(s)
    c.end_labels = _end_labels(c.series)
    return c


def _end_labels(series: list[Series]) -> list[tuple[float, Series, float]]:
    """The latest value of each series, labelled at the right edge, pushed apart so that small figures stay
    readable next to large ones (bottom label first, the others pushed up)."""
    labels = [[s.segments[-1][-1].y, s, s.segments[-1][-1].value] for s in series if s.segments]
    labels.sort(key=lambda lb: (lb[0], lb[1].name), reverse=True)
    for k in range(1, len(labels)):
        labels[k][0] = min(labels[k][0], labels[k - 1][0] - LABEL_GAP)
    return [(yy, s, v) for yy, s, v in labels]
