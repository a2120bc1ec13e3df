"""The SVG chart geometry: true time on the x axis, round numbers on the y axis, whole recent weeks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from reporting import charts
from reporting.metrics import DayPoint


def points(days: int, clicks: int = 3) -> list[DayPoint]:
    start = dt.date(2026, 1, 1)
    return [DayPoint(start + dt.timedelta(days=i), clicks, 1, 0, Decimal("10")) for i in range(days)]


def test_up_to_92_days_the_chart_has_a_point_a_day():
    buckets, grain = charts.bucket_points(points(90), lambda p: p.clicks)
    assert grain == "day" and len(buckets) == 90


def test_a_year_is_drawn_by_weeks_ending_on_the_last_day():
    series = points(365)
    buckets, grain = charts.bucket_points(series, lambda p: p.clicks)
    assert grain == "week"
    assert buckets[-1].end == series[-1].day and buckets[-1].value == 21
    assert sum(b.value for b in buckets) == 365 * 3


def test_the_y_axis_tops_at_a_round_number_above_the_peak():
    chart = charts.series_chart("clicks", "Clicks", points(10, clicks=37), lambda p: p.clicks, str, "370")
    assert [t.label for t in chart.y_ticks] == ["0", "25", "50"]
    assert not chart.empty and chart.summary.startswith("Clicks per day")


def test_an_empty_series_is_marked_empty():
    chart = charts.series_chart("clicks", "Clicks", points(10, clicks=0), lambda p: p.clicks, str, "0")
    assert chart.empty


def test_each_point_has_a_dot_with_its_date_and_value_as_tooltip():
    chart = charts.series_chart(
        "clicks", "Clicks", points(3, clicks=5), lambda p: p.clicks, lambda v: f"{v} <clicks>", "15"
    )
    assert str(chart.dots).count("<circle") == 3
    # Coordinates always use a decimal point (SVG), and the tooltip text is escaped.
    assert 'cx="44.0"' in chart.dots and "<title>1 Jan: 5 &lt;clicks&gt;</title>" in chart.dots


def test_a_day_below_zero_stays_inside_the_plot_with_zero_on_the_axis():
    series = points(10, clicks=0)
    series[3] = DayPoint(series[3].day, 0, 0, 0, Decimal("-40"))
    series[5] = DayPoint(series[5].day, 0, 0, 0, Decimal("90"))
    chart = charts.series_chart("revenue", "Revenue", series, lambda p: p.revenue, str, "50")
    assert [t.label for t in chart.y_ticks] == ["−50", "0", "100"]
    ys = [float(pair.split(",")[1]) for pair in chart.line.split()]
    assert all(charts.TOP <= y <= chart.plot_bottom for y in ys)
    assert not chart.empty


def test_a_small_dip_below_zero_does_not_overprint_the_zero_label():
    series = points(10, clicks=0)
    series[2] = DayPoint(series[2].day, 0, 0, 0, Decimal("-30"))
    series[6] = DayPoint(series[6].day, 0, 0, 0, Decimal("900"))
    chart = charts.series_chart("revenue", "Revenue", series, lambda p: p.revenue, str, "870")
    assert [t.label for t in chart.y_ticks] == ["−50", "", "1k"]  # the zero line stays, unlabelled
