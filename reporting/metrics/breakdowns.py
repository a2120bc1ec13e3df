"""A range's figures per partner, group, program, channel, campaign, link, code or source type."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django.db.models import F, QuerySet

from accounts.models import Workspace
from partners.models import Partner
from reporting.metrics.daily import measure_sums, narrowed, rollup_rows
from reporting.metrics.figures import (
    FINE_DIMENSIONS,
    MEASURES,
    BreakdownRow,
    Dimension,
    Filters,
    Totals,
)
from reporting.metrics.running import ranked_partners
from reporting.rollups.models import (
    MonthlyPartnerRollup,
)

_DIMENSION_FIELDS: dict[str, tuple[str, ...]] = {
    "partner": ("partner_id", "partner__name"),
    "group": ("partner__group_id", "partner__group__name"),
    "program": ("program_id", "program__name"),
    "channel": ("channel",),
    "campaign": ("campaign",),
    "link": ("link_id", "link__code"),
    "code": ("code_id", "code__code"),
    "source": ("source",),
}
_SOURCE_LABELS = {
    "link": "Link",
    "code": "Referral code",
    "deal_registration": "Deal registration",
    "manual": "Added by a manager",
}


def _full_months(filters: Filters) -> tuple[dt.date, dt.date] | None:
    """The first and last day of the whole calendar months inside the range, if there are any."""
    first = (
        filters.start
        if filters.start.day == 1
        else (filters.start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    )
    after_end = filters.end + dt.timedelta(days=1)
    last = after_end - dt.timedelta(days=1) if after_end.day == 1 else after_end.replace(day=1) - dt.timedelta(days=1)
    return (first, last) if first <= last else None


def _by_partner_from_months(
    workspace: Workspace, filters: Filters, months: tuple[dt.date, dt.date]
) -> dict[int, dict[str, Any]]:
    """Per-partner sums of a range: its whole months from the monthly rollup, the days around them
    from the daily one. The same numbers as summing the daily rows, from a fraction of the rows."""
    first, last = months
    monthly: QuerySet[MonthlyPartnerRollup] = MonthlyPartnerRollup.objects.for_workspace(workspace).filter(
        month__gte=first, month__lte=last, currency=filters.currency
    )
    monthly = narrowed(monthly, filters)
    parts: list[QuerySet[Any, Any]] = [monthly.values("partner_id").annotate(**measure_sums())]
    for start, end in ((filters.start, first - dt.timedelta(days=1)), (last + dt.timedelta(days=1), filters.end)):
        if start <= end:
            edge = replace(filters, start=start, end=end)
            parts.append(rollup_rows(workspace, edge, fine=True).values("partner_id").annotate(**measure_sums()))
    sums: dict[int, dict[str, Any]] = {}
    for part in parts:
        for row in part:
            into = sums.setdefault(row["partner_id"], {m: 0 for m in MEASURES})
            for m in MEASURES:
                into[m] += row[m] or 0
    return sums


def _partner_breakdown(
    workspace: Workspace, filters: Filters, *, order_by: str, limit: int | None
) -> list[BreakdownRow] | None:
    """Per-partner rows from the partner-grain rollups: the running totals for all channels, else the
    channel's whole months and the days around them. None when the range has no whole month."""
    if filters.channel is None:
        ranked = [
            (row["partner_id"], row) for row in ranked_partners(workspace, filters, order_by=order_by, limit=limit)
        ]
    else:
        months = _full_months(filters)
        if months is None:
            return None
        sums = _by_partner_from_months(workspace, filters, months)
        ranked = sorted(sums.items(), key=lambda item: (-item[1][order_by], item[0]))
    if limit:
        ranked = ranked[:limit]
    names = dict(
        Partner.objects.for_workspace(workspace).filter(pk__in=[k for k, _ in ranked]).values_list("pk", "name")
    )
    return [
        BreakdownRow(key=k, label=names.get(k, str(k)), totals=Totals.from_row(row, filters.currency))
        for k, row in ranked
    ]


def breakdown(
    workspace: Workspace, filters: Filters, by: Dimension, *, order_by: str = "sales_amount", limit: int | None = None
) -> list[BreakdownRow]:
    """The range's measures per partner, group, program, channel, campaign, link, code or source type."""
    if by == "partner":
        partner_rows = _partner_breakdown(workspace, filters, order_by=order_by, limit=limit)
        if partner_rows is not None:
            return partner_rows
    fields = _DIMENSION_FIELDS[by]
    rows = rollup_rows(workspace, filters, fine=by in FINE_DIMENSIONS)
    if by == "link":
        rows = rows.filter(link_id__isnull=False)
    if by == "code":
        rows = rows.filter(code_id__isnull=False)
    rows = rows.values(*fields).annotate(**measure_sums()).order_by(F(order_by).desc(nulls_last=True), *fields)
    if limit:
        rows = rows[:limit]
    result = []
    for row in rows:
        key = row[fields[0]]
        if by == "source":
            label = _SOURCE_LABELS.get(key, key)
        elif by == "channel":
            label = key or "No channel"
        elif by == "campaign":
            label = key or "No campaign"
        elif by == "group" and key is None:
            label = "No group"
        else:
            label = row[fields[-1]] if len(fields) > 1 else str(key)
        result.append(BreakdownRow(key=key, label=label, totals=Totals.from_row(row, filters.currency)))
    return result
