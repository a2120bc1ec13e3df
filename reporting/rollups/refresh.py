"""Keeping the daily rollups (reporting/rollup_models.py) equal to the raw rows.

A day is rebuilt whole, in one transaction: its rows are deleted and re-derived from clicks,
referrals, conversions and commissions by one SQL statement per table. That makes every refresh
idempotent and lets the same function serve three callers:

- `refresh_days(workspace_id=…, dates=…)`: what the apps upstream call (or the beat task, for
  them) once they have written rows of those days;
- `refresh_recent()`: the beat task, every 15 seconds, for every day the clicks and rows stored
  since the last run touched (a sale changes the cohort counts of its lead's day);
- `rebuild(…)`: `manage.py rebuild_rollups` for a range.

Days are UTC days, like every date range of the reports.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Workspace
from reporting.rollups.models import RollupState

log = logging.getLogger(__name__)

# The slice a referral belongs to: its click's link, its code, and the channel/campaign of the link
# (else of the code). Used by every measure that hangs off a referral.
_REFERRAL_SLICE_JOINS = """
    JOIN referrals_referral r ON r.id = {ref}
    LEFT JOIN referrals_click rk ON rk.id = r.click_id
    LEFT JOIN referrals_link rl ON rl.id = rk.link_id
    LEFT JOIN referrals_referralcode rcode ON rcode.id = r.code_id
"""
_REFERRAL_SLICE = """rk.link_id, r.code_id, COALESCE(rl.channel, rcode.channel, ''),
    COALESCE(rl.campaign, rcode.campaign, ''), r.source"""

# One row of `facts` per measure source; the final GROUP BY adds them up per slice.
# Measure order: clicks, unique_clicks, bot_clicks, clicked_leads, clicked_customers, leads, converted_leads,
# customers, sales, sales_amount, refunds, refunds_amount, pending, approved, paid, rejected,
# reversed, net.
_FACTS = f"""
WITH first_sales AS (
    SELECT s.id, s.referral_id, s.occurred_at FROM attribution_conversion s
    WHERE s.workspace_id = %(ws)s AND s.kind = 'sale' AND s.occurred_at >= %(a)s AND s.occurred_at < %(b)s
      AND NOT EXISTS (
        SELECT 1 FROM attribution_conversion e
        WHERE e.workspace_id = %(ws)s AND e.referral_id = s.referral_id AND e.kind = 'sale'
          AND (e.occurred_at < s.occurred_at OR (e.occurred_at = s.occurred_at AND e.id < s.id)))
),
facts (day, program_id, partner_id, link_id, code_id, channel, campaign, source,
       clicks, unique_clicks, bot_clicks, clicked_leads, clicked_customers, leads, converted_leads, customers,
       sales, sales_amount, refunds, refunds_amount,
       commission_pending, commission_approved, commission_paid, commission_rejected,
       commission_reversed, commission_net) AS (
    SELECT (c.clicked_at AT TIME ZONE 'UTC')::date, l.program_id, c.partner_id, c.link_id, NULL::bigint,
           l.channel, l.campaign, 'link',
           count(*) FILTER (WHERE NOT c.is_bot), count(*) FILTER (WHERE NOT c.is_bot AND c.is_unique),
           count(*) FILTER (WHERE c.is_bot), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM referrals_click c JOIN referrals_link l ON l.id = c.link_id
    WHERE c.workspace_id = %(ws)s AND c.clicked_at >= %(a)s AND c.clicked_at < %(b)s
    GROUP BY 1, 2, 3, 4, 6, 7
  UNION ALL
    SELECT (c.clicked_at AT TIME ZONE 'UTC')::date, l.program_id, c.partner_id, c.link_id, NULL::bigint,
           l.channel, l.campaign, 'link', 0, 0, 0, count(*),
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM attribution_conversion s WHERE s.workspace_id = %(ws)s
                                          AND s.referral_id = r.id AND s.kind = 'sale')),
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM referrals_click c JOIN referrals_link l ON l.id = c.link_id
    JOIN referrals_referral r ON r.click_id = c.id AND r.workspace_id = %(ws)s
    WHERE c.workspace_id = %(ws)s AND c.clicked_at >= %(a)s AND c.clicked_at < %(b)s AND NOT c.is_bot
    GROUP BY 1, 2, 3, 4, 6, 7
  UNION ALL
    SELECT (r.created_at AT TIME ZONE 'UTC')::date, r.program_id, r.partner_id, {_REFERRAL_SLICE},
           0, 0, 0, 0, 0, count(*),
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM attribution_conversion s WHERE s.workspace_id = %(ws)s
                                          AND s.referral_id = r.id AND s.kind = 'sale')),
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM referrals_referral r
    LEFT JOIN referrals_click rk ON rk.id = r.click_id
    LEFT JOIN referrals_link rl ON rl.id = rk.link_id
    LEFT JOIN referrals_referralcode rcode ON rcode.id = r.code_id
    WHERE r.workspace_id = %(ws)s AND r.created_at >= %(a)s AND r.created_at < %(b)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  UNION ALL
    SELECT (f.occurred_at AT TIME ZONE 'UTC')::date, r.program_id, r.partner_id, {_REFERRAL_SLICE},
           0, 0, 0, 0, 0, 0, 0, count(*), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM first_sales f {_REFERRAL_SLICE_JOINS.format(ref="f.referral_id")}
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  UNION ALL
    SELECT (v.occurred_at AT TIME ZONE 'UTC')::date, v.program_id, v.partner_id, {_REFERRAL_SLICE},
           0, 0, 0, 0, 0, 0, 0, 0,
           count(*) FILTER (WHERE v.kind = 'sale'), COALESCE(sum(v.amount) FILTER (WHERE v.kind = 'sale'), 0),
           count(*) FILTER (WHERE v.kind = 'refund'), COALESCE(sum(v.amount) FILTER (WHERE v.kind = 'refund'), 0),
           0, 0, 0, 0, 0, 0
    FROM attribution_conversion v {_REFERRAL_SLICE_JOINS.format(ref="v.referral_id")}
    WHERE v.workspace_id = %(ws)s AND v.occurred_at >= %(a)s AND v.occurred_at < %(b)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  UNION ALL
    SELECT (m.occurred_at AT TIME ZONE 'UTC')::date, m.program_id, m.partner_id, {_REFERRAL_SLICE},
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           COALESCE(sum(m.amount - m.reversed_amount) FILTER (WHERE m.status = 'pending'), 0),
           COALESCE(sum(m.amount - m.reversed_amount) FILTER (WHERE m.status = 'approved'), 0),
           COALESCE(sum(m.amount - m.reversed_amount) FILTER (WHERE m.status = 'paid'), 0),
           COALESCE(sum(m.amount) FILTER (WHERE m.status = 'rejected'), 0),
           COALESCE(sum(m.reversed_amount) FILTER (WHERE m.status <> 'rejected'), 0),
           COALESCE(sum(m.amount - m.reversed_amount) FILTER (WHERE m.status <> 'rejected'), 0)
    FROM attribution_commission m {_REFERRAL_SLICE_JOINS.format(ref="m.referral_id")}
    WHERE m.workspace_id = %(ws)s AND m.occurred_at >= %(a)s AND m.occurred_at < %(b)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
)
"""

_MEASURES = (
    "clicks, unique_clicks, bot_clicks, clicked_leads, clicked_customers, leads, converted_leads, customers, sales, sales_amount, "
    "refunds, refunds_amount, commission_pending, commission_approved, commission_paid, commission_rejected, "
    "commission_reversed, commission_net"
)
_SUMS = ", ".join(f"sum({m.strip()})" for m in _MEASURES.split(","))

_INSERT_ROLLUP = _FACTS + f"""
INSERT INTO reporting_dailyrollup (workspace_id, day, program_id, partner_id, link_id, code_id, channel, campaign,
                                   source, currency, {_MEASURES})
SELECT %(ws)s, f.day, f.program_id, f.partner_id, f.link_id, f.code_id, f.channel, f.campaign, f.source, p.currency,
       {_SUMS}
FROM facts f JOIN partners_program p ON p.id = f.program_id
GROUP BY f.day, f.program_id, f.partner_id, f.link_id, f.code_id, f.channel, f.campaign, f.source, p.currency
"""

_INSERT_SUMMARY = f"""
INSERT INTO reporting_dailysummary (workspace_id, day, program_id, channel, source, currency, {_MEASURES})
SELECT workspace_id, day, program_id, channel, source, currency, {_SUMS}
FROM reporting_dailyrollup
WHERE workspace_id = %(ws)s AND day >= %(da)s AND day < %(db)s
GROUP BY workspace_id, day, program_id, channel, source, currency
"""

# The first touch is the winning click, else the deal registration, else the lead itself.
_INSERT_TIMING = """
WITH first_sales AS (
    SELECT s.id, s.referral_id, s.occurred_at FROM attribution_conversion s
    WHERE s.workspace_id = %(ws)s AND s.kind = 'sale' AND s.occurred_at >= %(a)s AND s.occurred_at < %(b)s
      AND NOT EXISTS (
        SELECT 1 FROM attribution_conversion e
        WHERE e.workspace_id = %(ws)s AND e.referral_id = s.referral_id AND e.kind = 'sale'
          AND (e.occurred_at < s.occurred_at OR (e.occurred_at = s.occurred_at AND e.id < s.id)))
)
INSERT INTO reporting_customertiming (workspace_id, referral_id, day, program_id, partner_id, channel, source, currency,
                                      seconds, bucket)
SELECT t.*, width_bucket(t.seconds, %(buckets)s::bigint[]) FROM (
  SELECT %(ws)s, r.id, (f.occurred_at AT TIME ZONE 'UTC')::date, r.program_id, r.partner_id,
         COALESCE(rl.channel, rcode.channel, ''), r.source, p.currency,
         GREATEST(0, FLOOR(EXTRACT(EPOCH FROM f.occurred_at - COALESCE(rk.clicked_at, dr.created_at, r.created_at))))::bigint
           AS seconds
  FROM first_sales f
  JOIN referrals_referral r ON r.id = f.referral_id
  JOIN partners_program p ON p.id = r.program_id
  LEFT JOIN referrals_click rk ON rk.id = r.click_id
  LEFT JOIN referrals_link rl ON rl.id = rk.link_id
  LEFT JOIN referrals_referralcode rcode ON rcode.id = r.code_id
  LEFT JOIN referrals_dealregistration dr ON dr.id = r.deal_registration_id
) t
ON CONFLICT (referral_id) DO UPDATE SET day = EXCLUDED.day, seconds = EXCLUDED.seconds, program_id = EXCLUDED.program_id,
    partner_id = EXCLUDED.partner_id, channel = EXCLUDED.channel, source = EXCLUDED.source, currency = EXCLUDED.currency,
    bucket = EXCLUDED.bucket
"""

# Time-to-conversion buckets: eight per doubling of the seconds, so that the bucket a percentile
# falls in holds a small share of the customers. Integer bounds keep the buckets in seconds order.
TIMING_BUCKET_BOUNDS: list[int] = sorted({int(2 ** (i / 8)) for i in range(8 * 40)})


_INSERT_MONTHS = f"""
INSERT INTO reporting_monthlypartnerrollup (workspace_id, month, program_id, partner_id, channel, currency, {_MEASURES})
SELECT workspace_id, date_trunc('month', day)::date, program_id, partner_id, channel, currency, {_SUMS}
FROM reporting_dailyrollup
WHERE workspace_id = %(ws)s AND day >= %(ma)s AND day < %(mb)s
GROUP BY workspace_id, date_trunc('month', day), program_id, partner_id, channel, currency
"""


# --- Running totals (PartnerRunningTotal, TimingRunningCount) -------------------------------
#
# Month-to-date rows (grain d) are the cumulative sums of a month's daily figures; year-to-date
# rows (grain m) the cumulative sums of a year's month totals, which are the month-to-date rows of
# each month's last day. Both are dense: every key with a row in the period gets one for every
# step from its first active one through the period's last active one (the same for all keys), so
# a reader finds the total through any date as the row on the last stored date at or before it.


@dataclass(frozen=True)
class _Running:
    table: str
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    daily: str  # the figures of each day of [lo, hi] per key: columns day, *keys, *measures


_MEASURE_NAMES = tuple(m.strip() for m in _MEASURES.split(","))
_RUNNING = (
    _Running(
        "reporting_partnerrunningtotal", ("program_id", "partner_id", "currency"), _MEASURE_NAMES,
        f"""SELECT day, program_id, partner_id, currency, {", ".join(f"sum({m}) AS {m}" for m in _MEASURE_NAMES)}
            FROM reporting_dailyrollup WHERE workspace_id = %(ws)s AND day >= %(lo)s AND day <= %(hi)s
            GROUP BY day, program_id, partner_id, currency""",
    ),
    _Running(
        "reporting_timingrunningcount", ("program_id", "channel", "currency", "bucket"), ("customers",),
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


def _replace_running(cursor: Any, spec: _Running, *, workspace_id: int, grain: str, changed: dt.date,
                     period: tuple[dt.date, dt.date], step: str, source: str) -> None:
    """Rewrite the running rows of one period (a month for grain d, a year for m) from `changed` on."""
    lo, hi = period
    params = {"ws": workspace_id, "grain": grain, "lo": lo, "hi": hi}
    cursor.execute(f"SELECT max(date) FROM {spec.table} WHERE workspace_id = %(ws)s AND grain = %(grain)s "
                   "AND date >= %(lo)s AND date <= %(hi)s", params)
    (last,) = cursor.fetchone()
    # The rows after the old last date were never written: keys dense up to it must now be extended.
    after_last = last + (dt.timedelta(days=1) if grain == "d" else dt.timedelta(days=31)) if last else lo
    if grain == "m" and last:
        after_last = after_last.replace(day=1)
    start = min(changed, after_last)
    params["from"] = start
    cursor.execute(f"DELETE FROM {spec.table} WHERE workspace_id = %(ws)s AND grain = %(grain)s "
                   "AND date >= %(from)s AND date <= %(hi)s", params)
    if start > lo:
        # Carry on from the stored total of the step before instead of re-adding the period from
        # its start: every key active before `start` has a row there (the rows are dense).
        params["lo"] = start
        params["base"] = start - dt.timedelta(days=1) if grain == "d" else (start - dt.timedelta(days=1)).replace(day=1)
        keys, measures = ", ".join(spec.keys), ", ".join(spec.measures)
        source = (f"SELECT %(base)s::date AS day, {keys}, {measures} FROM {spec.table} WHERE workspace_id = %(ws)s "
                  f"AND grain = %(grain)s AND date = %(base)s UNION ALL {source}")
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
            _replace_running(cursor, spec, workspace_id=workspace_id, grain="d", changed=max(start, month),
                             period=(month, following - dt.timedelta(days=1)), step="1 day", source=spec.daily)
            years.setdefault(month.year, month)
            month = following
        for year, first in years.items():
            _replace_running(cursor, spec, workspace_id=workspace_id, grain="m", changed=first,
                             period=(dt.date(year, 1, 1), dt.date(year, 12, 1)), step="1 month",
                             source=_month_totals(spec))


def _month_bounds(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of `start`'s month and the first day after `end`'s month."""
    first = start.replace(day=1)
    after = (end.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first, after


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end] as UTC instants [a, b)."""
    a = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    return a, dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def _runs(dates: Iterable[dt.date]) -> Iterator[tuple[dt.date, dt.date]]:
    """Consecutive dates as (first, last) runs, so that each run is one indexed range scan."""
    ordered = sorted(set(dates))
    if not ordered:
        return
    first = last = ordered[0]
    for day in ordered[1:]:
        if day == last + dt.timedelta(days=1):
            last = day
            continue
        yield first, last
        first = last = day
    yield first, last


def refresh_range(*, workspace_id: int, start: dt.date, end: dt.date) -> None:
    """Rebuild the rollups of the days `start`..`end` (inclusive) of one workspace from the raw rows."""
    a, b = _bounds(start, end)
    params: dict[str, Any] = {"ws": workspace_id, "a": a, "b": b, "da": start, "db": end + dt.timedelta(days=1),
                              "buckets": TIMING_BUCKET_BOUNDS}
    with transaction.atomic(), connection.cursor() as cursor:
        # One refresher per workspace at a time: two would delete each other's fresh rows.
        cursor.execute("SELECT pg_advisory_xact_lock(727, %s)", [workspace_id])
        for table in ("reporting_dailyrollup", "reporting_dailysummary", "reporting_customertiming"):
            cursor.execute(f"DELETE FROM {table} WHERE workspace_id = %(ws)s AND day >= %(da)s AND day < %(db)s", params)
        cursor.execute(_INSERT_ROLLUP, params)
        cursor.execute(_INSERT_SUMMARY, params)
        cursor.execute(_INSERT_TIMING, params)
        # The months these days belong to are summed again whole, from the daily rows of every day in them.
        ma, mb = _month_bounds(start, end)
        months = {**params, "ma": ma, "mb": mb}
        cursor.execute("DELETE FROM reporting_monthlypartnerrollup WHERE workspace_id = %(ws)s AND month >= %(ma)s "
                       "AND month < %(mb)s", months)
        cursor.execute(_INSERT_MONTHS, months)
        refresh_running(cursor, workspace_id=workspace_id, start=start, end=end)
    # Once now, so that this process's next report is fresh, and again at commit, so that no report
    # cached from the old rows in between survives.
    _bump_generation(workspace_id)
    transaction.on_commit(lambda: _bump_generation(workspace_id))


def _generation_key(workspace_id: int) -> str:
    return f"rollup-generation:{workspace_id}"


def generation(workspace_id: int) -> int:
    """A number that changes whenever the workspace's rollups do: the reports' cache key."""
    from django.core.cache import cache

    try:
        # Never None: the key holds only ints, and get_or_set returns the default when it is missing.
        return cast(int, cache.get_or_set(_generation_key(workspace_id), 1, timeout=None))
    except Exception:  # without the cache every report is computed afresh
        return 0


def _bump_generation(workspace_id: int) -> None:
    from django.core.cache import cache

    try:
        try:
            cache.incr(_generation_key(workspace_id))
        except ValueError:
            cache.set(_generation_key(workspace_id), 2, timeout=None)
    except Exception:
        log.warning("could not move the report cache of workspace %s on", workspace_id, exc_info=True)


def refresh_days(*, workspace_id: int, dates: Iterable[dt.date]) -> None:
    """The hook for the apps upstream: call it (on commit) with the days whose rows you wrote."""
    for first, last in _runs(dates):
        refresh_range(workspace_id=workspace_id, start=first, end=last)


def rebuild(*, workspace_id: int, start: dt.date, end: dt.date, chunk_days: int = 31) -> int:
    """Rebuild a long range month by month, so that no transaction holds a year of rows. Returns days done."""
    day = start
    while day <= end:
        last = min(end, day + dt.timedelta(days=chunk_days - 1))
        refresh_range(workspace_id=workspace_id, start=day, end=last)
        day = last + dt.timedelta(days=1)
    return (end - start).days + 1


def rebuild_workspace(*, workspace_id: int) -> int:
    """Rebuild every day that has raw rows (for seed_demo, imports, a first deploy). Returns days done."""
    span = data_span(workspace_id=workspace_id)
    return rebuild(workspace_id=workspace_id, start=span[0], end=span[1]) if span else 0


def data_span(*, workspace_id: int) -> tuple[dt.date, dt.date] | None:
    """The first and last day with any raw row, for a rebuild without a range."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT min(d), max(d) FROM (
                 SELECT min(clicked_at) d FROM referrals_click WHERE workspace_id = %(ws)s UNION ALL
                 SELECT max(clicked_at) FROM referrals_click WHERE workspace_id = %(ws)s UNION ALL
                 SELECT min(created_at) FROM referrals_referral WHERE workspace_id = %(ws)s UNION ALL
                 SELECT max(created_at) FROM referrals_referral WHERE workspace_id = %(ws)s UNION ALL
                 SELECT min(occurred_at) FROM attribution_conversion WHERE workspace_id = %(ws)s UNION ALL
                 SELECT max(occurred_at) FROM attribution_conversion WHERE workspace_id = %(ws)s UNION ALL
                 SELECT min(occurred_at) FROM attribution_commission WHERE workspace_id = %(ws)s UNION ALL
                 SELECT max(occurred_at) FROM attribution_commission WHERE workspace_id = %(ws)s) t""",
            {"ws": workspace_id},
        )
        low, high = cursor.fetchone()
    if low is None:
        return None
    return low.astimezone(dt.UTC).date(), high.astimezone(dt.UTC).date()


def touched_days(*, workspace_id: int, since: dt.datetime) -> set[dt.date]:
    """Days whose rollups rows created since `since` changed: their own day, and the days of the
    lead and click they hang off (the cohort counts live there). Commission status changes are
    found by their approval, payment and rejection times."""
    sql = """
        SELECT DISTINCT (d AT TIME ZONE 'UTC')::date FROM (
          SELECT r.created_at d FROM referrals_referral r WHERE r.workspace_id = %(ws)s AND r.created_at >= %(s)s
          UNION ALL
          SELECT k.clicked_at FROM referrals_referral r JOIN referrals_click k ON k.id = r.click_id
            WHERE r.workspace_id = %(ws)s AND r.created_at >= %(s)s
          UNION ALL
          SELECT v.occurred_at FROM attribution_conversion v WHERE v.workspace_id = %(ws)s AND v.created_at >= %(s)s
          UNION ALL
          SELECT r.created_at FROM attribution_conversion v JOIN referrals_referral r ON r.id = v.referral_id
            WHERE v.workspace_id = %(ws)s AND v.created_at >= %(s)s
          UNION ALL
          SELECT k.clicked_at FROM attribution_conversion v JOIN referrals_referral r ON r.id = v.referral_id
            JOIN referrals_click k ON k.id = r.click_id
            WHERE v.workspace_id = %(ws)s AND v.created_at >= %(s)s
          UNION ALL
          -- A sale dated before the customer's first one takes its place: the day that counted the
          -- customer (its timing row, not yet refreshed) must drop it.
          SELECT t.day::timestamp AT TIME ZONE 'UTC' FROM attribution_conversion v
            JOIN reporting_customertiming t ON t.referral_id = v.referral_id
            WHERE v.workspace_id = %(ws)s AND v.created_at >= %(s)s AND t.workspace_id = %(ws)s
          UNION ALL
          -- A lead backfilled into the past is dated by when it happened, not when it arrived, so
          -- it is found through its event's processing time (the lead's day and its click's day).
          SELECT (e.payload->>'occurred_at')::timestamptz FROM attribution_inboundevent e
            WHERE e.workspace_id = %(ws)s AND e.status = 'attributed' AND e.kind = 'lead'
              AND e.received_at >= %(s)s - interval '7 days' AND e.processed_at >= %(s)s
              AND e.payload ? 'occurred_at'
          UNION ALL
          SELECT k.clicked_at FROM attribution_inboundevent e JOIN referrals_click k ON k.click_id = e.payload->>'click_id'
            WHERE e.workspace_id = %(ws)s AND e.status = 'attributed' AND e.kind = 'lead'
              AND e.received_at >= %(s)s - interval '7 days' AND e.processed_at >= %(s)s
          UNION ALL
          SELECT m.occurred_at FROM attribution_commission m WHERE m.workspace_id = %(ws)s
            AND (m.created_at >= %(s)s OR m.approved_at >= %(s)s OR m.paid_at >= %(s)s OR m.rejected_at >= %(s)s)
          UNION ALL
          SELECT m.occurred_at FROM attribution_commissionreversal x JOIN attribution_commission m ON m.id = x.commission_id
            WHERE x.workspace_id = %(ws)s AND x.created_at >= %(s)s
        ) t
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ws": workspace_id, "s": since})
        return {row[0] for row in cursor.fetchall()}


def _click_marks_key() -> str:
    """Where the highest click ids the last two refreshes saw are kept: per database, as click ids are."""
    return f"rollups:click-marks:{connection.settings_dict['NAME']}"


def _new_click_days() -> dict[int, set[dt.date]] | None:
    """The days of the clicks stored since the refresh before the last one, per workspace; None
    when that is unknown (first runs, cache lost), and every workspace's today and yesterday are
    refreshed instead.

    Click ids come from a sequence when the flusher inserts them, so a flush that took its ids
    before one refresh may commit after it: reading from two refreshes back still finds those,
    for any flush shorter than the refresh interval."""
    from django.core.cache import cache

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM referrals_click")
        newest = cursor.fetchone()[0]
        try:
            marks = cache.get(_click_marks_key())
        except Exception:
            marks = None
        days: dict[int, set[dt.date]] | None = None
        if marks and marks[0] is not None:
            cursor.execute(
                "SELECT workspace_id, (clicked_at AT TIME ZONE 'UTC')::date FROM referrals_click WHERE id > %s "
                "GROUP BY 1, 2", [marks[0]])
            days = {}
            for workspace_id, day in cursor.fetchall():
                days.setdefault(workspace_id, set()).add(day)
    try:
        cache.set(_click_marks_key(), (marks[1] if marks else None, newest), timeout=None)
    except Exception:
        log.warning("could not keep the click marks of the rollup refresh", exc_info=True)
    return days


# Session-level advisory lock: one refresh_recent at a time (beat may start one while another runs).
_REFRESH_LOCK = (728, 0)


def refresh_recent(*, lookback: dt.timedelta = dt.timedelta(minutes=10)) -> dict[int, int]:
    """Refresh, for every workspace, the days touched by the clicks and rows stored since the previous
    run. A workspace where nothing happened is left alone, so its cached reports stay valid.
    Returns how many days it rebuilt per workspace refreshed; nothing while another run is busy,
    as two at once would move the click marks past clicks neither has read."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", _REFRESH_LOCK)
        if not cursor.fetchone()[0]:
            return {}
    try:
        return _refresh_recent(lookback)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", _REFRESH_LOCK)


def _refresh_recent(lookback: dt.timedelta) -> dict[int, int]:
    now = timezone.now()
    today = now.astimezone(dt.UTC).date()
    click_days = _new_click_days()
    done: dict[int, int] = {}
    for workspace_id in Workspace.objects.values_list("id", flat=True):
        state = RollupState.objects.filter(workspace_id=workspace_id).first()
        # Read a little before the watermark: a transaction that began earlier may commit late.
        since = (state.refreshed_through if state else now - dt.timedelta(days=2)) - lookback
        days = touched_days(workspace_id=workspace_id, since=since)
        if click_days is None:
            days |= {today, today - dt.timedelta(days=1)}
        else:
            days |= click_days.get(workspace_id, set())
        if days:
            refresh_days(workspace_id=workspace_id, dates=days)
            done[workspace_id] = len(days)
        RollupState.objects.update_or_create(workspace_id=workspace_id, defaults={"refreshed_through": now})
    return done
