"""Geometry for the reports' server-rendered SVG charts; the templates in
templates/reporting/components/ draw it. No JavaScript: the page is complete as the server sends it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from core.currency import format_money
from reporting.metrics import DayPoint

WIDTH = 560
HEIGHT = 180
LEFT = 44  # room for the y axis labels
RIGHT = 8
TOP = 10
BOTTOM = 24  # room for the date labels


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class SeriesChart:
    key: str
    title: str
    total_label: str
    width: int
    height: int
    line: str  # the polyline's points
    area: str  # the polygon under it
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    # One <circle> per point with its tooltip, drawn here rather than in a template loop: a year has
    # 4 × 53 of them, and the loop cost more than the rest of the dashboard's template.
    dots: SafeString
    summary: str  # what a screen reader hears instead of the picture
    empty: bool


def _nice_ceiling(value: float) -> float:
    """The next round number at or above `value` (1, 2, 2.5, 5 × a power of ten), for the axis maximum."""
    if value <= 0:
        return 1
    power = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _compact(value: float) -> str:
    if value < 0:
        return "−" + _compact(-value)
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if value >= 1_000:
        return f"{value / 1_000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{value:g}"


# What a chart plots: a count (int) or an amount of money (Decimal).
Amount = float | Decimal


@dataclass(frozen=True)
class Bucket:
    start: dt.date
    end: dt.date
    value: Amount


def bucket_points(points: Sequence[DayPoint], value: Callable[[DayPoint], Amount]) -> tuple[list[Bucket], str]:
    """Days for up to 92 days, else weeks: a year of daily points is noise at this width."""
    if len(points) <= 92:
        return [Bucket(p.day, p.day, value(p)) for p in points], "day"
    # Weeks end on the range's last day, so the latest week (the one people look at) is whole.
    buckets: list[Bucket] = []
    for stop in range(len(points), 0, -7):
        week = points[max(0, stop - 7) : stop]
        buckets.append(Bucket(week[0].day, week[-1].day, sum(value(p) for p in week)))
    return buckets[::-1], "week"


def series_chart(
    key: str,
    title: str,
    points: Sequence[DayPoint],
    value: Callable[[DayPoint], Amount],
    fmt: Callable[[Amount], str],
    total_label: str,
) -> SeriesChart:
    buckets, grain = bucket_points(points, value)
    peak = max((b.value for b in buckets), default=0)
    trough = min((b.value for b in buckets), default=0)
    top = _nice_ceiling(float(peak))  # floats for geometry only; values and labels keep their type
    # A day of refunds can take revenue below zero: the axis then reaches down to a round number too.
    low = -_nice_ceiling(-float(trough)) if trough < 0 else 0.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(buckets) - 1, 1)

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / (top - low))

    xy = [(LEFT + plot_w * i / n, y_of(float(b.value))) for i, b in enumerate(buckets)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    base = TOP + plot_h
    zero = y_of(0)
    area = f"{LEFT:.1f},{zero:.1f} {line} {xy[-1][0]:.1f},{zero:.1f}" if xy else ""
    values = (0, top / 2, top) if low == 0 else (low, 0, top)
    # Labels closer than a line of text would overprint each other: the zero line then goes unlabelled.
    y_ticks = [Tick(y_of(v), "" if v == 0 != low and y_of(low) - y_of(0) < 12 else _compact(v)) for v in values]
    x_ticks = []
    if buckets:
        for i in sorted({0, len(buckets) // 2, len(buckets) - 1}):
            # The last tick names the range's last day, whatever the bucket.
            day = buckets[i].end if i == len(buckets) - 1 else buckets[i].start
            x_ticks.append(Tick(xy[i][0], day.strftime("%-d %b")))
    dots = (
        format_html_join(
            "",
            '<circle class="dot" cx="{}" cy="{}" r="4"><title>{}</title></circle>',
            (
                (
                    f"{x:.1f}",
                    f"{y:.1f}",
                    f"{b.start:%-d %b}{'' if b.start == b.end else f' – {b.end:%-d %b}'}: {fmt(b.value)}",
                )
                for (x, y), b in zip(xy, buckets, strict=True)
            ),
        )
        if len(buckets) <= 120
        else mark_safe("")
    )
    summary = (
        f"{title} per {grain}, {points[0].day:%-d %b %Y} to {points[-1].day:%-d %b %Y}: total {total_label}, peak {fmt(peak)}."
        if points
        else title
    )
    return SeriesChart(
        key=key,
        title=title,
        total_label=total_label,
        width=WIDTH,
        height=HEIGHT,
        line=line,
        area=area,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=int(base),
        dots=dots,
        summary=summary,
        empty=peak == 0 and trough == 0,
    )


def money_label(amount: Amount, currency: str) -> str:
    return format_money(amount, currency)


def funnel_series(points: Sequence[DayPoint], currency: str) -> list[SeriesChart]:
    """The dashboard's four small charts: clicks, leads, customers and revenue over the range."""
    count_fmt = lambda v: f"{int(v):,}"  # noqa: E731
    charts = [
        series_chart(
            "clicks", "Clicks", points, lambda p: p.clicks, count_fmt, count_fmt(sum(p.clicks for p in points))
        ),
        series_chart("leads", "Leads", points, lambda p: p.leads, count_fmt, count_fmt(sum(p.leads for p in points))),
        series_chart(
            "customers",
            "Customers",
            points,
            lambda p: p.customers,
            count_fmt,
            count_fmt(sum(p.customers for p in points)),
        ),
        series_chart(
            "revenue",
            f"Revenue ({currency})",
            points,
            lambda p: p.revenue,
            lambda v: money_label(v, currency),
            money_label(sum((p.revenue for p in points), Decimal("0")), currency),
        ),
    ]
    return charts


@dataclass(frozen=True)
class FunnelStep:
    label: str
    value: int
    width: float  # share of the widest step, 0..100
    rate_label: str  # conversion from the step before


def funnel_steps(
    clicks: int, leads: int, customers: int, click_to_lead: Decimal | None, lead_to_customer: Decimal | None
) -> list[FunnelStep]:
    peak = max(clicks, leads, customers, 1)
    pct = lambda r: "—" if r is None else f"{r * 100:.1f}%"  # noqa: E731
    return [
        FunnelStep("Clicks", clicks, 100 * clicks / peak, ""),
        FunnelStep("Leads", leads, 100 * leads / peak, f"{pct(click_to_lead)} of clicks"),
        FunnelStep("Customers", customers, 100 * customers / peak, f"{pct(lead_to_customer)} of leads"),
    ]
