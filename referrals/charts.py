"""Geometry for the small server-rendered SVG bar chart of daily clicks (no JavaScript needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from referrals.selectors import DailyClicks

WIDTH = 720
HEIGHT = 160
TOP = 4
BOTTOM = 1


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    unique_y: float
    unique_height: float
    title: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    peak: int
    total: int
    total_unique: int
    first_label: str
    last_label: str
    summary: str  # what a screen reader says instead of the picture


def bar_chart(series: Sequence[DailyClicks]) -> BarChart:
    peak = max((point.clicks for point in series), default=0)
    plot = HEIGHT - TOP - BOTTOM
    slot = WIDTH / max(len(series), 1)
    gap = min(2.0, slot * 0.2)
    bars = []
    for index, point in enumerate(series):
        height = plot * point.clicks / peak if peak else 0
        unique_height = plot * point.unique_clicks / peak if peak else 0
        bars.append(
            Bar(
                x=round(index * slot + gap / 2, 2),
                y=round(TOP + plot - height, 2),
                width=round(slot - gap, 2),
                height=round(height, 2),
                unique_y=round(TOP + plot - unique_height, 2),
                unique_height=round(unique_height, 2),
                title=f"{point.day:%a %d %b}: {point.clicks} clicks, {point.unique_clicks} unique",
            )
        )
    total = sum(point.clicks for point in series)
    total_unique = sum(point.unique_clicks for point in series)
    first = f"{series[0].day:%d %b}" if series else ""
    last = f"{series[-1].day:%d %b}" if series else ""
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        baseline=TOP + plot,
        bars=bars,
        peak=peak,
        total=total,
        total_unique=total_unique,
        first_label=first,
        last_label=last,
        summary=f"{total} clicks ({total_unique} unique) from {first} to {last}; busiest day {peak}.",
    )
