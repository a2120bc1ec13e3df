"""The partners' weekly summary: on Mondays (UTC), each partner who asked for it gets its clicks,
new referrals and commissions of the last 7 days (partners.notifications sends it).

The figures come from referrals and attribution, so the summary is put together here, the app that
reads them all; one grouped query per figure for every partner at once. The notification key is the
week, so the beat's hourly reruns on a Monday add nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from celery import shared_task
from django.db.models import Count, Sum
from django.utils import timezone

from attribution.models import Commission
from partners.models import NotificationPreference, Partner
from partners.notifications.models import Kind
from partners.notifications.sending import NotifyItem, notify_partners
from referrals.models import Click, Referral

DIGEST_STATUSES = (Partner.Status.ACTIVE,)
# Earned in the week: what was since rejected or reversed is not counted.
COUNTED = (Commission.Status.PENDING, Commission.Status.APPROVED, Commission.Status.PAID)


def _day(value: dt.date) -> str:
    return f"{value.day} {value:%b %Y}"


def queue_weekly_digests(*, now: dt.datetime) -> int:
    """On a Monday, record a summary of the last 7 days for every partner who wants one; returns how many
    are new. Any other day, nothing."""
    today = now.astimezone(dt.UTC).date()
    if today.weekday() != 0:
        return 0
    end = dt.datetime.combine(today, dt.time.min, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=7)
    wanted = (
        NotificationPreference.objects.across_workspaces("the Monday summary goes to every workspace's partners")
        .filter(weekly_digest=True, partner__status__in=DIGEST_STATUSES)
        .values_list("workspace_id", "partner_id")
    )
    by_workspace: dict[int, list[int]] = defaultdict(list)
    for workspace_id, partner_id in wanted:
        by_workspace[workspace_id].append(partner_id)
    created = 0
    for workspace_id, partner_ids in by_workspace.items():
        clicks = dict(
            Click.objects.filter(
                workspace_id=workspace_id,
                partner_id__in=partner_ids,
                is_bot=False,
                clicked_at__gte=start,
                clicked_at__lt=end,
            )
            .values_list("partner_id")
            .annotate(n=Count("pk"))
        )
        referrals = dict(
            Referral.objects.filter(
                workspace_id=workspace_id, partner_id__in=partner_ids, created_at__gte=start, created_at__lt=end
            )
            .values_list("partner_id")
            .annotate(n=Count("pk"))
        )
        earned: dict[int, list[dict[str, str]]] = defaultdict(list)
        for partner_id, currency, amount in (
            Commission.objects.filter(
                workspace_id=workspace_id,
                partner_id__in=partner_ids,
                status__in=COUNTED,
                created_at__gte=start,
                created_at__lt=end,
            )
            .values_list("partner_id", "currency")
            .annotate(total=Sum("amount"))
            .order_by("partner_id", "currency")
        ):
            earned[partner_id].append({"amount": str(amount), "currency": currency})
        items = [
            NotifyItem(
                partner_id=pk,
                object_key=f"week:{today.isoformat()}",
                details={
                    "start": _day(start.date()),
                    "end": _day((end - dt.timedelta(days=1)).date()),
                    "clicks": clicks.get(pk, 0),
                    "referrals": referrals.get(pk, 0),
                    "commissions": earned.get(pk, []),
                },
            )
            for pk in partner_ids
        ]
        created += notify_partners(
            workspace_id=workspace_id, kind=Kind.WEEKLY_DIGEST, items=items, statuses=DIGEST_STATUSES
        )
    return created


@shared_task(acks_late=True)
def send_weekly_digests() -> int:
    """The beat runs this hourly; only on Mondays does it find anything to do, and only once per partner."""
    return queue_weekly_digests(now=timezone.now())
