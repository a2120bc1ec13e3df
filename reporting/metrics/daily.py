"""Figures read from the daily rollups: totals, time to conversion and the day-by-day series."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from accounts.models import Workspace
from reporting.metrics.figures import (
    MEASURES,
    ZERO,
    DayPoint,
    Filters,
    Totals,
)
from reporting.rollups.models import (
    DailyRollup,
    DailySummary,
)


def narrowed(rows: QuerySet, filters: Filters) -> QuerySet:
    """Rollup-shaped rows (program, partner, channel columns) narrowed to the filter's slice."""
    if filters.program_id is not None:
        rows = rows.filter(program_id=filters.program_id)
    if filters.partner_id is not None:
        rows = rows.filter(partner_id=filters.partner_id)
    if filters.group_id is not None:
        rows = rows.filter(partner__group_id=filters.group_id)
    if filters.channel is not None:
        rows = rows.filter(channel=filters.channel)
    return rows


def rollup_rows(workspace: Workspace, filters: Filters, *, fine: bool = False) -> QuerySet:
    """The rollup rows a report reads: the small summary unless the filter or the breakdown needs partners."""
    model = DailyRollup if (fine or filters.needs_partner_grain) else DailySummary
    rows = model.objects.for_workspace(workspace).filter(
        day__gte=filters.start, day__lte=filters.end, currency=filters.currency
    )
    return narrowed(rows, filters)


def measure_sums() -> dict[str, Any]:
    return {m: Sum(m) for m in MEASURES}


def totals(workspace: Workspace, filters: Filters) -> Totals:
    return Totals.from_row(rollup_rows(workspace, filters).aggregate(**measure_sums()), filters.currency)


def timeseries(workspace: Workspace, filters: Filters) -> list[DayPoint]:
    """One point per day of the range, zeros included, so the chart's x axis is true time."""
    rows = (
        rollup_rows(workspace, filters)
        .values("day")
        .annotate(
            clicks=Sum("clicks"),
            leads=Sum("leads"),
            customers=Sum("customers"),
            sales_amount=Sum("sales_amount"),
            refunds_amount=Sum("refunds_amount"),
        )
    )
    by_day = {row["day"]: row for row in rows}
    points = []
    for offset in range(filters.days):
        day = filters.start + dt.timedelta(days=offset)
        row = by_day.get(day)
        if row is None:
            points.append(DayPoint(day, 0, 0, 0, ZERO))
        else:
            points.append(
                DayPoint(
                    day,
                    row["clicks"],
                    row["leads"],
                    row["customers"],
                    Decimal(row["sales_amount"]) - Decimal(row["refunds_amount"]),
                )
            )
    return points
