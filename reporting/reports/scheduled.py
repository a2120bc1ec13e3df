"""Scheduled reports: the partner performance report (weekly or monthly per program, with a PDF) and
the managers' weekly digest.

The beat runs `enqueue_due_reports` every hour; it works out which periods closed today (UTC) and hands
each recipient to its own task. Sending claims a ReportDelivery row under a lock first, so however often
the beat or a task runs, a recipient gets one email per period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User, Workspace
from accounts.services import send_templated_email
from attribution.models import Commission
from partners.models import Partner, Program
from partners.selectors import pending_application_count
from referrals.selectors import deals_awaiting_review
from reporting import charts, metrics
from reporting.payouts.pdf import html_to_pdf
from reporting.reports.models import ReportDelivery

DIGEST_ROLES = (Role.OWNER, Role.MANAGER)
# Partners whose reports still go out: an invited, pending or rejected partner has nothing to report.
REPORTED_STATUSES = (Partner.Status.ACTIVE,)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive


def previous_week(today: dt.date) -> Period:
    """The last whole ISO week (Monday to Sunday) before `today`."""
    this_monday = today - dt.timedelta(days=today.weekday())
    return Period(this_monday - dt.timedelta(days=7), this_monday - dt.timedelta(days=1))


def previous_month(today: dt.date) -> Period:
    end = today.replace(day=1) - dt.timedelta(days=1)
    return Period(end.replace(day=1), end)


def due_partner_periods(today: dt.date) -> dict[str, Period]:
    """Report frequency → the period whose report is due today: weekly on Mondays, monthly on the 1st."""
    due: dict[str, Period] = {}
    if today.weekday() == 0:
        due[Program.ReportFrequency.WEEKLY] = previous_week(today)
    if today.day == 1:
        due[Program.ReportFrequency.MONTHLY] = previous_month(today)
    return due


def due_digest_period(today: dt.date) -> Period | None:
    return previous_week(today) if today.weekday() == 0 else None


# --- Who is due ------------------------------------------------------------------------------------


def partners_due(*, frequency: str, period: Period) -> list[int]:
    """Ids of the opted-in partners of programs on `frequency` with no report sent for `period` yet."""
    already = ReportDelivery.objects.filter(
        kind=ReportDelivery.Kind.PARTNER_REPORT,
        period_start=period.start,
        sent_at__isnull=False,
        partner__isnull=False,
    ).values("partner_id")
    return list(
        Partner.objects.across_workspaces("beat: scheduled reports of every workspace")
        .filter(program__report_frequency=frequency, receives_reports=True, status__in=REPORTED_STATUSES)
        .exclude(email="")
        .exclude(pk__in=already)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def digest_recipients_due(*, period: Period) -> list[tuple[int, int]]:
    """(workspace id, user id) of every owner and manager without a digest for `period` yet."""
    already = (
        ReportDelivery.objects.across_workspaces("beat: digests of every workspace")
        .filter(
            kind=ReportDelivery.Kind.MANAGER_DIGEST,
            period_start=period.start,
            sent_at__isnull=False,
            user__isnull=False,
        )
        .values_list("workspace_id", "user_id")
    )
    sent = set(already)
    rows = (
        Membership.objects.across_workspaces("beat: digests of every workspace")
        .filter(role__in=DIGEST_ROLES, user__is_active=True)
        .order_by("workspace_id", "user_id")
        .values_list("workspace_id", "user_id")
    )
    return [row for row in rows if row not in sent]


def enqueue_due_reports(
    *,
    now: dt.datetime,
    enqueue_partner_report: Callable[[int, str, str], Any],
    enqueue_manager_digest: Callable[[int, int, str, str], Any],
) -> int:
    """Hand every recipient due at `now` (UTC) to its task; returns how many were handed over."""
    today = now.astimezone(dt.UTC).date()
    count = 0
    for frequency, period in due_partner_periods(today).items():
        for partner_id in partners_due(frequency=frequency, period=period):
            enqueue_partner_report(partner_id, period.start.isoformat(), period.end.isoformat())
            count += 1
    digest = due_digest_period(today)
    if digest is not None:
        for workspace_id, user_id in digest_recipients_due(period=digest):
            enqueue_manager_digest(workspace_id, user_id, digest.start.isoformat(), digest.end.isoformat())
            count += 1
    return count


# --- Building and sending --------------------------------------------------------------------------


def _claim(
    *,
    workspace: Workspace,
    kind: str,
    period: Period,
    email: str,
    partner: Partner | None = None,
    user: User | None = None,
) -> ReportDelivery | None:
    """The delivery row, locked, or None when it was already sent. Call inside a transaction."""
    recipient = {"partner": partner} if partner is not None else {"user": user}
    ReportDelivery.objects.get_or_create(
        workspace=workspace,
        kind=kind,
        period_start=period.start,
        **recipient,
        defaults={"period_end": period.end, "recipient_email": email},
    )
    delivery = ReportDelivery.objects.select_for_update().get(
        workspace=workspace, kind=kind, period_start=period.start, **recipient
    )
    return None if delivery.sent_at is not None else delivery


def _mark_sent(delivery: ReportDelivery) -> None:
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=["sent_at"])


def partner_report_context(partner: Partner, period: Period) -> dict[str, Any]:
    workspace = partner.workspace
    filters = metrics.Filters(
        start=period.start, end=period.end, currency=partner.program.currency, partner_id=partner.pk
    )
    comparison = metrics.compare(workspace, filters)
    points = metrics.timeseries(workspace, filters)
    count_fmt = lambda v: f"{int(v):,}"  # noqa: E731
    totals = comparison.current.totals
    chart = charts.series_chart("clicks", "Clicks", points, lambda p: p.clicks, count_fmt, count_fmt(totals.clicks))
    return {
        "partner": partner,
        "workspace": workspace,
        "program": partner.program,
        "period": period,
        "totals": totals,
        "previous": comparison.previous.totals,
        "changes": [comparison.change(key) for key in ("clicks", "leads", "customers", "revenue", "commission_earned")],
        "chart": chart,
        "portal_url": settings.SITE_URL + reverse("portal_home", args=[workspace.slug]),
        "profile_url": settings.SITE_URL + reverse("portal_profile", args=[workspace.slug]),
        "generated_at": timezone.now(),
    }


def render_partner_report_pdf(context: dict[str, Any]) -> bytes:
    return html_to_pdf(render_to_string("reporting/pdf/partner_report.html", context))


def send_partner_report(*, partner_id: int, period: Period) -> bool:
    """Email the partner its performance report for `period`, PDF attached, once. Returns whether it was sent now.

    The delivery row stays locked while sending: two workers handed the same report send it once. If the
    commit fails after the send, a retry sends again — a duplicate beats a report never sent.
    """
    partner = (
        Partner.objects.across_workspaces("the task names its partner by id")
        .select_related("workspace", "program")
        .filter(pk=partner_id)
        .first()
    )
    if (
        partner is None
        or not partner.receives_reports
        or partner.program.report_frequency == Program.ReportFrequency.OFF
    ):
        return False
    with transaction.atomic():
        delivery = _claim(
            workspace=partner.workspace,
            kind=ReportDelivery.Kind.PARTNER_REPORT,
            period=period,
            email=partner.email,
            partner=partner,
        )
        if delivery is None:
            return False
        context = partner_report_context(partner, period)
        send_templated_email(
            to=partner.email,
            subject=f"Your {partner.workspace.name} performance report, {period.start:%-d %b} – {period.end:%-d %b %Y}",
            template="reporting/email/partner_report",
            context=context,
            from_business=partner.workspace,
            attachments=[
                (
                    f"performance-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}.pdf",
                    render_partner_report_pdf(context),
                    "application/pdf",
                )
            ],
        )
        _mark_sent(delivery)
    return True


@dataclass(frozen=True)
class AwaitingApproval:
    count: int
    amount: Any
    currency: str


def manager_digest_context(workspace: Workspace, period: Period) -> dict[str, Any]:
    currency = metrics.default_currency(workspace)
    filters = metrics.Filters(start=period.start, end=period.end, currency=currency)
    comparison = metrics.compare(workspace, filters)
    awaiting = [
        AwaitingApproval(row["n"], row["total"] - row["back"], row["currency"])
        for row in Commission.objects.for_workspace(workspace)
        .filter(status__in=[Commission.Status.PENDING, Commission.Status.IN_REVIEW])
        .values("currency")
        .annotate(n=Count("id"), total=Sum("amount"), back=Sum("reversed_amount"))
        .order_by("currency")
    ]
    return {
        "workspace": workspace,
        "period": period,
        "previous_period": Period(filters.previous().start, filters.previous().end),
        "currency": currency,
        "changes": [
            comparison.change(key)
            for key in ("clicks", "leads", "customers", "revenue", "commission_cost", "active_partners")
        ],
        "top_partners": metrics.breakdown(workspace, filters, "partner", order_by="sales_amount", limit=5),
        "pending_applications": pending_application_count(workspace=workspace),
        "deals_awaiting_review": deals_awaiting_review(workspace),
        "awaiting_approval": awaiting,
        "dashboard_url": settings.SITE_URL + reverse("dashboard", args=[workspace.slug]),
    }


def send_manager_digest(*, workspace_id: int, user_id: int, period: Period) -> bool:
    """Email one owner or manager the workspace's weekly digest, once. Returns whether it was sent now."""
    membership = (
        Membership.objects.select_related("workspace", "user")
        .filter(workspace_id=workspace_id, user_id=user_id, role__in=DIGEST_ROLES, user__is_active=True)
        .first()
    )
    if membership is None:
        return False
    workspace, user = membership.workspace, membership.user
    with transaction.atomic():
        delivery = _claim(
            workspace=workspace, kind=ReportDelivery.Kind.MANAGER_DIGEST, period=period, email=user.email, user=user
        )
        if delivery is None:
            return False
        context = {**manager_digest_context(workspace, period), "user": user}
        send_templated_email(
            to=user.email,
            subject=f"{workspace.name} weekly digest, {period.start:%-d %b} – {period.end:%-d %b %Y}",
            template="reporting/email/manager_digest",
            context=context,
        )
        _mark_sent(delivery)
    return True
