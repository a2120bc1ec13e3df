"""Keeping the daily rollups (reporting/rollups/models.py) equal to the raw rows.

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
from typing import Any, cast

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Workspace
from reporting.rollups import daily
from reporting.rollups.daily import TIMING_BUCKET_BOUNDS
from reporting.rollups.models import RollupState
from reporting.rollups.running import refresh_running

log = logging.getLogger(__name__)


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
    # Days whose raw clicks retention has deleted (reporting/privacy/retention.py) keep their rollups as
    # they were: rebuilt from the clicks left, they would lose the history they hold.
    settled = (Workspace.objects.filter(pk=workspace_id).values_list("settings", flat=True).first() or {}).get(
        "clicks_pruned_through"
    )
    if settled:
        start = max(start, dt.date.fromisoformat(settled) + dt.timedelta(days=1))
        if start > end:
            return
    a, b = _bounds(start, end)
    params: dict[str, Any] = {
        "ws": workspace_id,
        "a": a,
        "b": b,
        "da": start,
        "db": end + dt.timedelta(days=1),
        "buckets": TIMING_BUCKET_BOUNDS,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # One refresher per workspace at a time: two would delete each other's fresh rows.
        cursor.execute("SELECT pg_advisory_xact_lock(727, %s)", [workspace_id])
        for table in ("reporting_dailyrollup", "reporting_dailysummary", "reporting_customertiming"):
            cursor.execute(
                f"DELETE FROM {table} WHERE workspace_id = %(ws)s AND day >= %(da)s AND day < %(db)s", params
            )
        cursor.execute(daily.INSERT_ROLLUP, params)
        cursor.execute(daily.INSERT_SUMMARY, params)
        cursor.execute(daily.INSERT_TIMING, params)
        # The months these days belong to are summed again whole, from the daily rows of every day in them.
        ma, mb = _month_bounds(start, end)
        months = {**params, "ma": ma, "mb": mb}
        cursor.execute(
            "DELETE FROM reporting_monthlypartnerrollup WHERE workspace_id = %(ws)s AND month >= %(ma)s "
            "AND month < %(mb)s",
            months,
        )
        cursor.execute(daily.INSERT_MONTHS, months)
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
        cursor.execute(daily.DATA_SPAN, {"ws": workspace_id})
        low, high = cursor.fetchone()
    if low is None:
        return None
    return low.astimezone(dt.UTC).date(), high.astimezone(dt.UTC).date()


def touched_days(*, workspace_id: int, since: dt.datetime) -> set[dt.date]:
    """Days whose rollups rows created since `since` changed: their own day, and the days of the
    lead and click they hang off (the cohort counts live there). Commission status changes are
    found by their approval, payment and rejection times."""
    with connection.cursor() as cursor:
        cursor.execute(daily.TOUCHED_DAYS, {"ws": workspace_id, "s": since})
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
        cursor.execute(daily.NEWEST_CLICK_ID)
        newest = cursor.fetchone()[0]
        try:
            marks = cache.get(_click_marks_key())
        except Exception:
            marks = None
        days: dict[int, set[dt.date]] | None = None
        if marks and marks[0] is not None:
            cursor.execute(daily.NEW_CLICK_DAYS, [marks[0]])
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
