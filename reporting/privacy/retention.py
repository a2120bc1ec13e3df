"""Raw clicks older than the workspace's retention are deleted; the daily rollups keep their history.

A day's clicks go only once the rollups hold that day (its rolled-up clicks, human and bot, equal
the raw ones), and the day is then marked settled (`clicks_pruned_through` in the workspace's
settings) so that no later rebuild of the rollups recounts it from the few clicks left. Clicks that
won a referral stay: they are the evidence of the commission they earned.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Workspace
from referrals.models import Click, Referral
from reporting.rollups.models import DailySummary

RETENTION_SETTING = "click_retention_months"
PRUNED_SETTING = "clicks_pruned_through"
DEFAULT_RETENTION_MONTHS = 25
BATCH_SIZE = 5000


def retention_months(workspace: Workspace) -> int:
    try:
        months = int((workspace.settings or {}).get(RETENTION_SETTING, DEFAULT_RETENTION_MONTHS))
    except (TypeError, ValueError):
        return DEFAULT_RETENTION_MONTHS
    return max(1, months)


def months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def retention_cutoff(workspace: Workspace, *, now: dt.datetime | None = None) -> dt.date:
    """The first day whose clicks are kept."""
    today = (now or timezone.now()).astimezone(dt.UTC).date()
    return months_before(today, retention_months(workspace))


def pruned_through(workspace: Workspace) -> dt.date | None:
    value = (workspace.settings or {}).get(PRUNED_SETTING)
    return dt.date.fromisoformat(value) if value else None


def _rolled_up_days(workspace: Workspace, *, before: dt.date) -> list[dt.date]:
    """Days before `before` with clicks, whose rollups count every one of them."""
    start = dt.datetime.combine(before, dt.time.min, tzinfo=dt.UTC)
    raw = dict(
        Click.objects.for_workspace(workspace)
        .filter(clicked_at__lt=start)
        .annotate(day=TruncDate("clicked_at", tzinfo=dt.UTC))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    if not raw:
        return []
    rolled = dict(
        DailySummary.objects.for_workspace(workspace)
        .filter(day__in=list(raw))
        .values("day")
        .annotate(n=Sum("clicks") + Sum("bot_clicks"))
        .values_list("day", "n")
    )
    settled = pruned_through(workspace)
    return sorted(day for day, n in raw.items() if rolled.get(day) == n or (settled and day <= settled))


def _mark_pruned_through(workspace: Workspace, day: dt.date) -> None:
    # jsonb_set, not a save of the whole dict: an owner may be changing another setting meanwhile.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_workspace SET settings = jsonb_set(COALESCE(settings, '{}'::jsonb), %s, to_jsonb(%s::text)) "
            "WHERE id = %s AND (settings->>%s IS NULL OR settings->>%s < %s)",
            [[PRUNED_SETTING], day.isoformat(), workspace.pk, PRUNED_SETTING, PRUNED_SETTING, day.isoformat()],
        )
    workspace.refresh_from_db(fields=["settings"])


def delete_expired_clicks(*, workspace: Workspace, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Delete the workspace's raw clicks older than its retention, in batches. Returns how many went."""
    days = _rolled_up_days(workspace, before=retention_cutoff(workspace, now=now))
    if not days:
        return 0
    # Settled first: from here on the rollups of these days are never rebuilt from what is left.
    _mark_pruned_through(workspace, days[-1])
    deleted = 0
    for day in days:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        while True:
            with transaction.atomic():
                ids = list(
                    Click.objects.for_workspace(workspace)
                    .filter(clicked_at__gte=start, clicked_at__lt=start + dt.timedelta(days=1))
                    .filter(~Q(pk__in=_winning_clicks(workspace)))
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not ids:
                    break
                count, _ = Click.objects.for_workspace(workspace).filter(pk__in=ids).delete()
                deleted += count
    return deleted


def _winning_clicks(workspace: Workspace) -> QuerySet[Referral, Any]:
    return Referral.objects.for_workspace(workspace).filter(click__isnull=False).values("click_id")


def delete_expired_clicks_everywhere(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The beat's sweep: every workspace, one after the other."""
    results: dict[str, int] = {}
    for workspace in Workspace.objects.order_by("pk"):
        count = delete_expired_clicks(workspace=workspace, now=now)
        if count:
            results[workspace.slug] = count
    return results
