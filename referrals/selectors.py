"""Reads of the referrals app. Every function takes the workspace first and narrows by it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Workspace
from partners.models import Partner
from referrals.models import Click, DealRegistration, Link, Referral, ReferralCode

HUMAN = Q(is_bot=False)


def links(
    workspace: Workspace,
    *,
    partner: Partner | None = None,
    partner_id: int | None = None,
    channel: str = "",
    search: str = "",
    archived: bool = False,
) -> QuerySet[Link]:
    """Links newest first; `search` matches the code, destination, campaign or partner name."""
    rows = Link.objects.for_workspace(workspace).select_related("partner")
    if partner is not None:
        rows = rows.filter(partner=partner)
    if partner_id:
        rows = rows.filter(partner_id=partner_id)
    if channel:
        rows = rows.filter(channel__iexact=channel)
    if search:
        rows = rows.filter(
            Q(code__icontains=search)
            | Q(destination_url__icontains=search)
            | Q(campaign__icontains=search)
            | Q(partner__name__icontains=search)
        )
    return rows.filter(archived_at__isnull=not archived)


def channels(workspace: Workspace) -> list[str]:
    return list(
        Link.objects.for_workspace(workspace)
        .exclude(channel="")
        .order_by("channel")
        .values_list("channel", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class ClickCounts:
    clicks: int = 0
    unique_clicks: int = 0
    bots: int = 0


def link_click_counts(workspace: Workspace, link_ids: list[int]) -> dict[int, ClickCounts]:
    """Human, unique and bot clicks per link, for one page of links (not the whole table)."""
    rows = (
        Click.objects.for_workspace(workspace)
        .filter(link_id__in=link_ids)
        .values("link_id")
        .annotate(
            clicks=Count("id", filter=HUMAN),
            unique=Count("id", filter=HUMAN & Q(is_unique=True)),
            bots=Count("id", filter=Q(is_bot=True)),
        )
    )
    return {row["link_id"]: ClickCounts(row["clicks"], row["unique"], row["bots"]) for row in rows}


def with_click_counts(workspace: Workspace, page: list[Link]) -> list[Link]:
    counts = link_click_counts(workspace, [link.pk for link in page])
    for link in page:
        link.counts = counts.get(link.pk, ClickCounts())  # type: ignore[attr-defined]
    return page


def referral_codes(
    workspace: Workspace, *, partner: Partner | None = None, search: str = "", archived: bool = False
) -> QuerySet[ReferralCode]:
    rows = (
        ReferralCode.objects.for_workspace(workspace)
        .select_related("partner")
        .annotate(referral_count=Count("referrals"))
        .order_by("-created_at", "-id")
    )
    if partner is not None:
        rows = rows.filter(partner=partner)
    if search:
        rows = rows.filter(Q(code__icontains=search) | Q(partner__name__icontains=search))
    return rows.filter(archived_at__isnull=not archived)


def referrals(workspace: Workspace, *, partner: Partner | None = None) -> QuerySet[Referral]:
    rows = Referral.objects.for_workspace(workspace).select_related("partner", "code", "click__link")
    if partner is not None:
        rows = rows.filter(partner=partner)
    return rows


def deal_registrations(
    workspace: Workspace, *, partner: Partner | None = None, status: str = ""
) -> QuerySet[DealRegistration]:
    rows = DealRegistration.objects.for_workspace(workspace).select_related("partner", "decided_by")
    if partner is not None:
        rows = rows.filter(partner=partner)
    if status:
        rows = rows.filter(status=status)
    return rows


def deals_awaiting_review(workspace: Workspace) -> int:
    return DealRegistration.objects.for_workspace(workspace).filter(status=DealRegistration.Status.SUBMITTED).count()


@dataclass(frozen=True)
class DailyClicks:
    day: date
    clicks: int
    unique_clicks: int


def daily_clicks(
    workspace: Workspace,
    *,
    partner: Partner | None = None,
    link: Link | None = None,
    days: int = 90,
    today: date | None = None,
) -> list[DailyClicks]:
    """Human clicks per UTC day for the last `days` days, oldest first, with empty days as zero."""
    today = today or timezone.now().date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=UTC)
    rows = Click.objects.for_workspace(workspace).filter(clicked_at__gte=start, is_bot=False)
    if partner is not None:
        rows = rows.filter(partner=partner)
    if link is not None:
        rows = rows.filter(link=link)
    per_day = {
        row["day"]: row
        for row in rows.annotate(day=TruncDate("clicked_at"))
        .values("day")
        .annotate(clicks=Count("id"), unique=Count("id", filter=Q(is_unique=True)))
    }
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = per_day.get(day)
        series.append(DailyClicks(day, row["clicks"] if row else 0, row["unique"] if row else 0))
    return series


def partner_funnel_counts(workspace: Workspace, partner: Partner, *, since: datetime | None = None) -> dict[str, int]:
    """The portal home's figures: human clicks, unique clicks, leads and registered deals."""
    clicks = Click.objects.for_workspace(workspace).filter(partner=partner, is_bot=False)
    leads = Referral.objects.for_workspace(workspace).filter(partner=partner)
    deals = DealRegistration.objects.for_workspace(workspace).filter(partner=partner)
    if since is not None:
        clicks = clicks.filter(clicked_at__gte=since)
        leads = leads.filter(created_at__gte=since)
        deals = deals.filter(created_at__gte=since)
    click_counts = clicks.aggregate(clicks=Count("id"), unique=Count("id", filter=Q(is_unique=True)))
    return {
        "clicks": click_counts["clicks"],
        "unique_clicks": click_counts["unique"],
        "leads": leads.count(),
        "deals": deals.count(),
    }
