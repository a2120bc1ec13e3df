"""Time to conversion (median and 90th percentile): from the customers' rows for a narrow slice, else
from the running counts per time bucket."""

from __future__ import annotations

import math

from django.db import connection
from django.db.models import QuerySet

from accounts.models import Workspace
from reporting.metrics.daily import narrowed
from reporting.metrics.figures import (
    Filters,
    Timing,
)
from reporting.metrics.running import running_filters, running_sql
from reporting.rollups.models import (
    CustomerTiming,
    TimingRunningCount,
)


def timing(workspace: Workspace, filters: Filters) -> Timing:
    """Median and 90th percentile time to first sale of the range's new customers (exact, not bucketed).

    Without a partner or group filter the range's histogram comes from the running counts, and
    each percentile is then read from the customers of the one bucket it falls in."""
    if filters.needs_partner_grain:
        return _timing_from_customers(workspace, filters)
    histogram = _timing_histogram(workspace, filters)
    count = sum(histogram.values())
    if not count:
        return Timing(customers=0, median_seconds=None, p90_seconds=None)
    median, p90 = (_nth_seconds(workspace, filters, histogram, _percentile_rank(q, count)) for q in (0.5, 0.9))
    return Timing(customers=count, median_seconds=median, p90_seconds=p90)


def _percentile_rank(fraction: float, count: int) -> int:
    # PostgreSQL's percentile_disc: the first value whose cumulative share reaches the fraction,
    # computed in floating point like it does.
    return max(1, math.ceil(fraction * count))


def _timing_rows(workspace: Workspace, filters: Filters) -> QuerySet:
    rows = CustomerTiming.objects.for_workspace(workspace).filter(day__gte=filters.start, day__lte=filters.end)
    rows = rows.filter(currency=filters.currency)
    return narrowed(rows, filters)


def _timing_from_customers(workspace: Workspace, filters: Filters) -> Timing:
    """The percentiles straight from the customers' rows: few enough once a partner or group is chosen."""
    sql, params = _timing_rows(workspace, filters).values("seconds").query.sql_with_params()
    with connection.cursor() as cursor:
        # percentile_disc: an actual customer's time, the same figure a recount of the raw rows gives.
        cursor.execute(
            f"SELECT count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds), "
            f"percentile_disc(0.9) WITHIN GROUP (ORDER BY seconds) FROM ({sql}) t",
            params,
        )
        count, median, p90 = cursor.fetchone()
    return Timing(customers=count, median_seconds=median, p90_seconds=p90)


def _timing_histogram(workspace: Workspace, filters: Filters) -> dict[int, int]:
    """Customers of the range per time-to-conversion bucket, from the running counts."""
    where, params, _ = running_filters(filters)
    sql, lookup_params = running_sql(
        TimingRunningCount._meta.db_table,
        workspace,
        filters,
        ["t.bucket"],
        ["sum(t.customers * w.k) AS customers"],
        where,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql + " HAVING sum(t.customers * w.k) <> 0", lookup_params + params)
        return {bucket: customers for bucket, customers in cursor.fetchall()}


def _nth_seconds(workspace: Workspace, filters: Filters, histogram: dict[int, int], rank: int) -> int | None:
    """The `rank`-th smallest time (1-based) of the range: found in its bucket, then read from the
    customers of that bucket only."""
    before = 0
    for bucket in sorted(histogram):
        if before + histogram[bucket] >= rank:
            rows = _timing_rows(workspace, filters).filter(bucket=bucket).order_by("seconds")
            offset = rank - before - 1
            return rows.values_list("seconds", flat=True)[offset : offset + 1].first()
        before += histogram[bucket]
    return None
