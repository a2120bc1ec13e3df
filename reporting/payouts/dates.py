"""The dates of payout periods: where a period ends by default, and the instant that closes it."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta

from accounts.models import Workspace
from reporting.payouts.models import PayoutPeriod


def default_period_end(today: date) -> date:
    """The last day of the month before `today`: periods are monthly unless finance says otherwise."""
    return today.replace(day=1) - timedelta(days=1)


def suggested_period_end(*, workspace: Workspace, today: date) -> date | None:
    """The end date the close form proposes: the end of the last full month, unless a period already
    reaches it (then None: the next month is not over yet, so finance picks a day on purpose)."""
    candidate = default_period_end(today)
    last_closed = PayoutPeriod.objects.for_workspace(workspace).order_by("-end").values_list("end", flat=True).first()
    if last_closed is not None and last_closed >= candidate:
        return None
    return candidate


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def cutoff_of(end: date) -> datetime:
    """The first instant after a period: everything strictly before it belongs to the period (UTC days)."""
    return datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
