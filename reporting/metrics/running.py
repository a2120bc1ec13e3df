"""Figures read from the running totals: partners ranked by a measure over any range, and active partners."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q

from accounts.models import Workspace
from partners.models import Partner
from reporting.metrics.daily import rollup_rows
from reporting.metrics.figures import (
    MEASURES,
    Filters,
)
from reporting.rollups.models import (
    PartnerRunningTotal,
    RunningGrain,
)

# --- Running totals -------------------------------------------------------------------------


def _prefix_lookups(day: dt.date, sign: int) -> list[tuple[str, dt.date, dt.date, int]]:
    """The running rows whose sum is everything from the start of `day`'s year through `day`:
    (grain, first date of the period, the date wanted, sign)."""
    month = day.replace(day=1)
    lookups = [(RunningGrain.MONTH_TO_DATE.value, month, day, sign)]
    if day.month > 1:
        previous = (month - dt.timedelta(days=1)).replace(day=1)
        lookups.append((RunningGrain.YEAR_TO_DATE.value, day.replace(month=1, day=1), previous, sign))
    return lookups


def _range_lookups(start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date, int]]:
    """[start, end] as running rows with signs: through `end`, less through the day before `start`,
    plus the whole years between the two."""
    before = start - dt.timedelta(days=1)
    lookups = _prefix_lookups(end, 1) + _prefix_lookups(before, -1)
    for year in range(before.year, end.year):
        lookups.append((RunningGrain.YEAR_TO_DATE.value, dt.date(year, 1, 1), dt.date(year, 12, 1), 1))
    return lookups


def running_filters(filters: Filters) -> tuple[list[str], list[Any], str]:
    """The WHERE terms, their parameters and the join a running-total table (alias t) needs for
    `filters`: a group is the partner's current one, as everywhere else in the reports."""
    where: list[str] = ["t.currency = %s"]
    params: list[Any] = [filters.currency]
    join = ""
    for column, value in (
        ("program_id", filters.program_id),
        ("partner_id", filters.partner_id),
        ("channel", filters.channel),
    ):
        if value is not None:
            where.append(f"t.{column} = %s")
            params.append(value)
    if filters.group_id is not None:
        join = "JOIN partners_partner p ON p.id = t.partner_id"
        where.append("p.group_id = %s")
        params.append(filters.group_id)
    return where, params, join


def running_sql(
    table: str,
    workspace: Workspace,
    filters: Filters,
    group_by: list[str],
    sums: list[str],
    where: list[str],
    *,
    join: str = "",
) -> tuple[str, list[Any]]:
    """SELECT … GROUP BY over a running-total table, each row weighted by its lookup's sign (w.k).

    A lookup reads the last date stored at or before the one wanted within its period: the rows
    are dense up to there, and nothing happened after it."""
    values, params = [], []
    for grain, first, wanted, sign in _range_lookups(filters.start, filters.end):
        values.append(
            f"(%s, (SELECT max(date) FROM {table} WHERE workspace_id = %s AND grain = %s "
            "AND date >= %s AND date <= %s), %s)"
        )
        params += [grain, workspace.pk, grain, first, wanted, sign]
    columns = ", ".join(group_by)
    sql = (
        f"SELECT {columns}, {', '.join(sums)} FROM {table} t {join} "
        f"JOIN (VALUES {', '.join(values)}) AS w(grain, date, k) ON t.grain = w.grain AND t.date = w.date "
        f"WHERE t.workspace_id = %s AND {' AND '.join(where)} GROUP BY {columns}"
    )
    return sql, params + [workspace.pk]


def _partner_running_sql(
    workspace: Workspace,
    filters: Filters,
    sums: list[str],
    *,
    having: str,
    order_by: str | None = None,
    limit: int | None = None,
    partner_ids: list[int] | None = None,
) -> tuple[str, list[Any]]:
    """Per-partner sums of the range from the running totals. Each of `sums` is a measure's name
    (summed with its lookup's sign) or a ready SQL select item."""
    where, params, join = running_filters(filters)
    if partner_ids is not None:
        where.append("t.partner_id = ANY(%s)")
        params.append(partner_ids)
    selected = [f"sum(t.{m} * w.k) AS {m}" if m in MEASURES else m for m in sums]
    sql, lookup_params = running_sql(
        PartnerRunningTotal._meta.db_table, workspace, filters, ["t.partner_id"], selected, where, join=join
    )
    sql += f" HAVING {having}"
    if order_by:
        sql += f" ORDER BY {order_by} DESC, t.partner_id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql, lookup_params + params


def _partner_running(
    workspace: Workspace,
    filters: Filters,
    sums: list[str],
    *,
    having: str,
    order_by: str | None = None,
    limit: int | None = None,
    partner_ids: list[int] | None = None,
) -> list[dict[str, Any]]:
    sql, params = _partner_running_sql(
        workspace, filters, sums, having=having, order_by=order_by, limit=limit, partner_ids=partner_ids
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _signed(measure: str) -> str:
    return f"sum(t.{measure} * w.k)"


def ranked_partners(
    workspace: Workspace, filters: Filters, *, order_by: str, limit: int | None
) -> list[dict[str, Any]]:
    """Every measure of the range per partner with any figure, best `order_by` first."""
    if order_by not in MEASURES:
        raise ValueError(order_by)
    any_figure = " OR ".join(f"{_signed(m)} <> 0" for m in MEASURES)
    if limit:
        # Rank on the one measure first (every measure is a count or an amount, never negative),
        # then add up everything for the winners only: a fraction of the sums.
        top = _partner_running(
            workspace, filters, [order_by], having=f"{_signed(order_by)} > 0", order_by=order_by, limit=limit
        )
        if len(top) == limit:
            full = {
                row["partner_id"]: row
                for row in _partner_running(
                    workspace, filters, list(MEASURES), having=any_figure, partner_ids=[r["partner_id"] for r in top]
                )
            }
            return [full[row["partner_id"]] for row in top]
    return _partner_running(workspace, filters, list(MEASURES), having=any_figure, order_by=order_by, limit=limit)


def active_partners(workspace: Workspace, filters: Filters) -> int:
    if filters.channel is None:
        active = " OR ".join(f"{_signed(m)} > 0" for m in ("clicks", "leads", "sales"))
        sql, params = _partner_running_sql(workspace, filters, ["1 AS active"], having=active)
        with connection.cursor() as cursor:  # counted in the database: thousands of partners
            cursor.execute(f"SELECT count(*) FROM ({sql}) active", params)
            return int(cursor.fetchone()[0])
    # One index probe per partner (workspace, partner, day) rather than a DISTINCT over a year of
    # rows: a workspace has thousands of partners but millions of partner-days.
    activity = (
        rollup_rows(workspace, filters, fine=True)
        .filter(partner_id=OuterRef("pk"))
        .filter(Q(clicks__gt=0) | Q(leads__gt=0) | Q(sales__gt=0))
    )
    partners = Partner.objects.for_workspace(workspace)
    if filters.partner_id is not None:
        partners = partners.filter(pk=filters.partner_id)
    if filters.group_id is not None:
        partners = partners.filter(group_id=filters.group_id)
    if filters.program_id is not None:
        partners = partners.filter(program_id=filters.program_id)
    return partners.filter(Exists(activity)).count()
