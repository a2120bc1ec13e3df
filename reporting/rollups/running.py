"""The running totals (PartnerRunningTotal, TimingRunningCount), kept in line with the daily rollups.

Month-to-date rows (grain d) are the cumulative sums of a month's daily figures; year-to-date
rows (grain m) the cumulative sums of a year's month totals, which are the month-to-date rows of
each month's last day. Both are dense: every key with a row in the period gets one for every
step from its first active one through the period's last active one (the same for all keys), so
a reader finds the total through any date as the row on the last stored date at or before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from reporting.rollups.daily import MEASURE_NAMES


@dataclass(frozen=True)
class _Running:
    table: str
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    daily: str  # the figures of each day of [lo, hi] per key: columns day, *keys, *measures


_RUNNING = (
    _Running(
        "reporting_partnerrunningtotal",
        ("program_id", "partner_id", "currency"),
        MEASURE_NAMES,
        f"""SELECT day, program_id, partner_id, currency, {", ".join(f"sum({m}) AS {m}" for m in MEASURE_NAMES)}
            FROM reporting_dailyrollup WHERE workspace_id = %(ws)s AND day >= %(lo)s AND day <= %(hi)s
            GROUP BY day, program_id, partner_id, currency""",
    ),
    _Running(
        "reporting_timingrunningcount",
        ("program_id", "channel", "currency", "bucket"),
        ("customers",),
        """SELECT day, program_id, channel, currency, bucket, count(*) AS customers
           FROM reporting_customertiming WHERE workspace_id = %(ws)s AND day >= %(lo)s AND day <= %(hi)s
           GROUP BY day, program_id, channel, currency, bucket""",
    ),
)


def _running_insert(spec: _Running, source: str, step: str) -> str:
    """Dense cumulative rows of `source`'s period from its keys' first active step, kept from %(from)s on."""
    keys = ", ".join(spec.keys)
    grid_keys = ", ".join(f"g.{k}" for k in spec.keys)
    joined = " AND ".join(f"s.{k} = g.{k}" for k in spec.keys)
    running = ", ".join(f"sum(COALESCE(s.{m}, 0)) OVER w AS {m}" for m in spec.measures)
    measures = ", ".join(spec.measures)
    return f"""
    WITH s AS ({source}),
    firsts AS (SELECT {keys}, min(day) AS f FROM s GROUP BY {keys}),
    grid AS (SELECT {", ".join(f"firsts.{k}" for k in spec.keys)}, step::date AS day
             FROM firsts CROSS JOIN (SELECT max(day) AS l FROM s) last
             CROSS JOIN generate_series(firsts.f, last.l, interval '{step}') step),
    running AS (SELECT g.day, {grid_keys}, {running} FROM grid g LEFT JOIN s ON s.day = g.day AND {joined}
                WINDOW w AS (PARTITION BY {grid_keys} ORDER BY g.day))
    INSERT INTO {spec.table} (workspace_id, grain, date, {keys}, {measures})
    SELECT %(ws)s, %(grain)s, day, {keys}, {measures} FROM running WHERE day >= %(from)s
    """


def _month_totals(spec: _Running) -> str:
    """Each month's totals of a year: its month-to-date rows on the last date stored for it."""
    keys = ", ".join(f"t.{k}" for k in spec.keys)
    measures = ", ".join(f"t.{m}" for m in spec.measures)
    return f"""SELECT date_trunc('month', t.date)::date AS day, {keys}, {measures}
               FROM {spec.table} t WHERE t.workspace_id = %(ws)s AND t.grain = 'd' AND t.date IN (
                 SELECT (SELECT max(u.date) FROM {spec.table} u WHERE u.workspace_id = %(ws)s AND u.grain = 'd'
                           AND u.date >= m::date AND u.date < (m + interval '1 month')::date)
                 FROM generate_series(%(lo)s::date, %(hi)s::date, interval '1 month') m)"""


def _replace_running(
    cursor: Any,
    spec: _Running,
    *,
    workspace_id: int,
    grain: str,
    changed: dt.date,
    period: tuple[dt.date, dt.date],
    step: str,
    source: str,
) -> None:
    """Rewrite the running rows of one period (a month for grain d, a year for m) from `changed` on."""
    lo, hi = period
    params = {"ws": workspace_id, "grain": grain, "lo": lo, "hi": hi}
    cursor.execute(
        f"SELECT max(date) FROM {spec.table} WHERE workspace_id = %(ws)s AND grain = %(grain)s "
        "AND date >= %(lo)s AND date <= %(hi)s",
        params,
    )
    (last,) = cursor.fetchone()
    # The rows after the old last date were never written: keys dense up to it must now be extended.
    after_last = last + (dt.timedelta(days=1) if grain == "d" else dt.timedelta(days=31)) if last else lo
    if grain == "m" and last:
        after_last = after_last.replace(day=1)
    start = min(changed, after_last)
    params["from"] = start
    cursor.execute(
        f"DELETE FROM {spec.table} WHERE workspace_id = %(ws)s AND grain = %(grain)s "
        "AND date >= %(from)s AND date <= %(hi)s",
        params,
    )
    if start > lo:
        # Carry on from the stored total of the step before instead of re-adding the period from
        # its start: every key active before `start` has a row there (the rows are dense).
        params["lo"] = start
        params["base"] = start - dt.timedelta(days=1) if grain == "d" else (start - dt.timedelta(days=1)).replace(day=1)
        keys, measures = ", ".join(spec.keys), ", ".join(spec.measures)
        source = (
            f"SELECT %(base)s::date AS day, {keys}, {measures} FROM {spec.table} WHERE workspace_id = %(ws)s "
            f"AND grain = %(grain)s AND date = %(base)s UNION ALL {source}"
        )
    cursor.execute(_running_insert(spec, source, step), params)


def refresh_running(cursor: Any, *, workspace_id: int, start: dt.date, end: dt.date) -> None:
    """Bring the running totals in line after the daily rollups of [start, end] were rebuilt: the
    month-to-date rows of those days' months from `start` on, then the year-to-date rows of their
    years from the first changed month on."""
    for spec in _RUNNING:
        years: dict[int, dt.date] = {}
        month = start.replace(day=1)
        while month <= end:
            following = (month + dt.timedelta(days=32)).replace(day=1)
            _replace_running(
                cursor,
                spec,
                workspace_id=workspace_id,
                grain="d",
                changed=max(start, month),
                period=(month, following - dt.timedelta(days=1)),
                step="1 day",
                source=spec.daily,
            )
            years.setdefault(month.year, month)
            month = following
        for year, first in years.items():
            _replace_running(
                cursor,
                spec,
                workspace_id=workspace_id,
                grain="m",
                changed=first,
                period=(dt.date(year, 1, 1), dt.date(year, 12, 1)),
                step="1 month",
                source=_month_totals(spec),
            )
