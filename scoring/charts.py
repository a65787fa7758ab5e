"""Server-side SVG charts for the manager pages: a column chart of units' totals and a line chart
of a unit's scores over time.

The SVG is written inline in the page: no script, no internet asset, no ``style`` attribute
(colours come from classes in static/css/scoring.css, so the CSP needs no 'unsafe-inline').
Every label is escaped. Each chart has a <title> and <desc> for screen readers; the tables
next to the charts carry the exact values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Number = Decimal | float | int

# Geometry of the drawing (user units of the viewBox; the SVG scales to its container).
WIDTH = 960
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28
Y_TICKS = 4


@dataclass(frozen=True)
class Bar:
    label: str
    value: Number | None
    href: str = ""
    band: str = ""
    highlight: bool = False


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: Sequence[Number | None]  # one per date, None where nothing was published


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x % 1 else str(int(x))


def _y_axis(y_max: float, height: int) -> list[str]:
    """Horizontal grid lines with their values, from 0 to y_max."""
    plot_h = height - TOP - BOTTOM
    parts = []
    for i in range(Y_TICKS + 1):
        value = y_max * i / Y_TICKS
        y = TOP + plot_h - plot_h * i / Y_TICKS
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_fmt(value)}</text>"
        )
    return parts


def _svg(chart_id: str, title: str, description: str, height: int, body: list[str]) -> SafeString:
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every label is escaped


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    y_max: Number = 100,
    height: int = 300,
) -> SafeString:
    """Columns in the given order (callers pass them ranked), each with its value as a tooltip
    and, when given, a link to the unit's page."""
    y_max = float(y_max) or 1.0
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = height - TOP - BOTTOM
    body = _y_axis(y_max, height)
    slot = plot_w / max(len(bars), 1)
    width = max(slot * 0.8, 1.0)
    for i, bar in enumerate(bars):
        value = 0.0 if bar.value is None else min(float(bar.value), y_max)
        h = plot_h * value / y_max
        x = LEFT + i * slot + (slot - width) / 2
        classes = " ".join(c for c in ("bar", bar.band, "highlight" if bar.highlight else "") if c)
        shown = "—" if bar.value is None else f"{float(bar.value):.2f}"
        rect = (
            f'<rect class="{classes}" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" '
            f'width="{width:.1f}" height="{max(h, 0.5):.1f}">'
            f"<title>{escape(bar.label)}: {shown}</title></rect>"
        )
        if bar.href:
            rect = f'<a href="{escape(bar.href)}">{rect}</a>'
        body.append(rect)
    # Rank marks under the columns every tenth unit, so a reader can find a position.
    step = 10 if len(bars) > 20 else 1
    for i in range(0, len(bars), step):
        x = LEFT + i * slot + slot / 2
        body.append(
            f'<text class="tick" x="{x:.1f}" y="{height - 8}" text-anchor="middle">{i + 1}</text>'
        )
    return _svg(chart_id, title, description, height, body)


def _date_ticks(dates: Sequence[date], count: int = 6) -> list[int]:
    """Indexes of the dates to label: about ``count`` of them, spread over the period."""
    if len(dates) <= count:
        return list(range(len(dates)))
    first, span = dates[0], (dates[-1] - dates[0]).days
    wanted = [first.toordinal() + span * i / (count - 1) for i in range(count)]
    return sorted(
        {min(range(len(dates)), key=lambda j: abs(dates[j].toordinal() - w)) for w in wanted}
    )


def line_chart(
    dates: Sequence[date],
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    description: str,
    y_max: Number,
    height: int = 260,
) -> SafeString:
    """One line per series over the dates (a gap where a value is missing); the last point of
    each line is marked. Series are coloured by position: classes ``series-0`` … ``series-6``."""
    y_max = float(y_max) or 1.0
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = height - TOP - BOTTOM
    body = _y_axis(y_max, height)
    # Days are placed by date, so a gap in publication shows as a gap on the axis.
    span = max((dates[-1] - dates[0]).days, 1) if dates else 1

    def x_of(i: int) -> float:
        if len(dates) < 2:
            return LEFT + plot_w / 2
        return LEFT + plot_w * (dates[i] - dates[0]).days / span

    def y_of(v: Number) -> float:
        return TOP + plot_h - plot_h * min(float(v), y_max) / y_max

    ticks = _date_ticks(dates)
    for i in ticks:
        # The first and last labels align inwards so they stay inside the drawing.
        anchor = (
            "start" if i == 0 and len(dates) > 1 else "end" if i == len(dates) - 1 else "middle"
        )
        body.append(
            f'<text class="tick" x="{x_of(i):.1f}" y="{height - 8}" text-anchor="{anchor}">'
            f"{dates[i]:%d/%m}</text>"
        )
    for n, s in enumerate(series):
        css = f"series-{n}"
        runs: list[list[str]] = [[]]
        last = None
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{x_of(i):.1f},{y_of(value):.1f}")
            last = (i, value)
        body.append(f'<g class="line {css}"><title>{escape(s.label)}</title>')
        for points in runs:
            if len(points) > 1:
                body.append(f'<polyline points="{" ".join(points)}"/>')
            elif points:
                x, y = points[0].split(",")
                body.append(f'<circle cx="{x}" cy="{y}" r="3"/>')
        if last is not None:
            i, value = last
            body.append(
                f'<circle class="end" cx="{x_of(i):.1f}" cy="{y_of(value):.1f}" r="3.5">'
                f"<title>{escape(s.label)} {dates[i]:%d/%m/%Y}: {float(value):.2f}</title>"
                "</circle>"
            )
        body.append("</g>")
    return _svg(chart_id, title, description, height, body)
