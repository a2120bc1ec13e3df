"""Each partner's sales and refunds by UTC day: what the refund-rate and spike signals judge.

The days are read from ConversionDay, which PostgreSQL's triggers keep equal to the conversions
(attribution/models/conversions.py); `fold_conversion_days` keeps it small.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from django.db import transaction

from attribution.models import ConversionDay
from core.sql import fetch_rows

_TABLE = ConversionDay._meta.db_table

_DAILY = f"""
SELECT partner_id, day, sum(sales), sum(sold), sum(refunds), sum(refunded)
FROM {_TABLE}
WHERE workspace_id = %s AND partner_id = ANY(%s::bigint[]) AND day >= %s AND day <= %s
GROUP BY 1, 2"""


@dataclass
class Series:
    """One partner's sales per day, and running totals (index i+1 holds the sum of days 0..i)."""

    daily: list[int]
    sales: list[int]
    sold: list[float]
    refunds: list[int]
    refunded: list[float]


@dataclass
class Daily:
    start: date
    partners: dict[int, Series]


def daily_conversions(workspace_id: int, partner_ids: set[int], days: list[date]) -> Daily:
    """Each partner's sales and refunds by UTC day, over the 30 days up to each of `days`."""
    first, last = min(days) - timedelta(days=29), max(days)
    length = (last - first).days + 1
    rows: dict[int, list[list[Any]]] = defaultdict(lambda: [[0] * length, [0.0] * length, [0] * length, [0.0] * length])
    for partner, day, sales, sold, refunds, refunded in fetch_rows(
        _DAILY, [workspace_id, sorted(partner_ids), first, last]
    ):
        i = (day - first).days
        per_day = rows[partner]
        per_day[0][i], per_day[1][i], per_day[2][i], per_day[3][i] = sales, float(sold), refunds, float(refunded)
    return Daily(
        first,
        {
            partner: Series(counts, _running(counts), _running(sold), _running(refunds), _running(refunded))
            for partner, (counts, sold, refunds, refunded) in rows.items()
        },
    )


def _running(values: list[Any]) -> list[Any]:
    return [0, *accumulate(values)]


# A day's rows (the triggers' additions and an earlier fold's row) become one folded row. Rows a
# transaction still open adds are not seen, so they stay for the next fold; a fold running at the
# same time waits for these rows and then finds them gone, so nothing is counted twice.
_FOLD = f"""
WITH days AS (
    SELECT DISTINCT workspace_id, partner_id, day FROM {_TABLE} WHERE NOT folded LIMIT %s
), gone AS (
    DELETE FROM {_TABLE} AS d USING days
    WHERE d.workspace_id = days.workspace_id AND d.partner_id = days.partner_id AND d.day = days.day
    RETURNING d.workspace_id, d.partner_id, d.day, d.sales, d.sold, d.refunds, d.refunded
), kept AS (
    INSERT INTO {_TABLE} (workspace_id, partner_id, day, batch, sales, sold, refunds, refunded, folded)
    SELECT workspace_id, partner_id, day, nextval('attribution_conversionday_batch'),
           sum(sales), sum(sold), sum(refunds), sum(refunded), true
    FROM gone
    GROUP BY workspace_id, partner_id, day
    HAVING sum(sales) <> 0 OR sum(sold) <> 0 OR sum(refunds) <> 0 OR sum(refunded) <> 0
)
SELECT count(*) FROM days"""

FOLD_DAYS_AT_ONCE = 5000


def fold_conversion_days(*, days_at_once: int = FOLD_DAYS_AT_ONCE) -> int:
    """Fold each partner's day that has additions into one row (none if they cancel out), in short
    transactions; returns how many days were folded."""
    folded = 0
    while True:
        with transaction.atomic():
            ((count,),) = fetch_rows(_FOLD, [days_at_once])
        folded += count
        if count < days_at_once:
            return folded
