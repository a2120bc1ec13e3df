"""Telling partners what happened: `notify_partners` records who is to be told, a task sends the emails.

The apps above partners call `notify_partners` in the transaction that made the event (a referral, a
commission, a payout), once per set of events: one INSERT of notification rows, keyed by (workspace,
partner, kind, object) so a retried or repeated event adds nothing, and after the commit one task per
set. Only partners who want that kind get a row. The task sends each row once: it claims the row
under a lock, sends, and marks it sent in the same transaction (see `send_one`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.branding import brand_of
from accounts.models import Workspace
from partners.models import Partner
from partners.notifications.models import Kind, Notification
from partners.notifications.preferences import DEFAULTS, TOPICS, wants
from partners.notifications.unsubscribe import unsubscribe_url

log = logging.getLogger(__name__)

# Who is told about events: not a rejected applicant, nor one still waiting for review.
NOTIFIED_STATUSES = (Partner.Status.ACTIVE, Partner.Status.SUSPENDED, Partner.Status.INVITED)
SUBJECTS = {
    Kind.NEW_REFERRAL: "You have a new referral",
    Kind.NEW_COMMISSION: "You earned a commission",
    Kind.PAYOUT_MADE: "Your payout is on its way",
    Kind.WEEKLY_DIGEST: "Your last 7 days",
}
SEND_CHUNK = 200
# Kinds told in one email per partner when several wait: a burst of fifty sales is one email listing
# them, not fifty emails (which would also keep the workers from attributing the next sales).
COMBINED = (Kind.NEW_COMMISSION, Kind.NEW_REFERRAL)
COMBINE_AT_MOST = 50


@dataclass(frozen=True)
class NotifyItem:
    """One partner to tell about one thing; `details` is what the email says, frozen now."""

    partner_id: int
    object_key: str
    details: dict[str, Any] = field(default_factory=dict)


_INSERT = """
INSERT INTO partners_notification (workspace_id, partner_id, kind, object_key, details, created_at, skipped)
SELECT %(ws)s, v.partner_id, %(kind)s, v.object_key, v.details::jsonb, now(), ''
FROM unnest(%(partners)s::bigint[], %(keys)s::text[], %(details)s::text[]) AS v(partner_id, object_key, details)
JOIN partners_partner p ON p.id = v.partner_id AND p.workspace_id = %(ws)s
LEFT JOIN partners_notificationpreference np ON np.workspace_id = %(ws)s AND np.partner_id = v.partner_id
WHERE p.status = ANY(%(statuses)s::text[]) AND p.email <> '' AND COALESCE(np.{kind}, %(default)s)
ON CONFLICT DO NOTHING
"""


def notify_partners(*, workspace_id: int, kind: str, items: Sequence[NotifyItem], statuses: Iterable[str] = ()) -> int:
    """Record that each partner is to be told about its object, and send after the commit.

    Set-based: one INSERT for the whole set, one task after the commit. Partners who turned the kind
    off, and rows already recorded (a retry), are skipped. Returns how many rows are new.
    """
    kind = Kind(kind)
    if not items:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT.format(kind=kind.value),  # a column name from the closed Kind list, never input
            {
                "ws": workspace_id,
                "kind": kind.value,
                "partners": [i.partner_id for i in items],
                "keys": [i.object_key[:64] for i in items],
                "details": [json.dumps(i.details, default=str) for i in items],
                "statuses": list(statuses or NOTIFIED_STATUSES),
                "default": DEFAULTS[kind],
            },
        )
        inserted = cursor.rowcount
    if inserted:
        transaction.on_commit(lambda: _enqueue(workspace_id))
    return inserted


def _enqueue(workspace_id: int) -> None:
    """Send a little later (PARTNER_EMAIL_DELAY_SECONDS, 60 s): a burst of events is then told in a few
    emails rather than many, and the emails wait until the burst's attribution is done."""
    from partners.notifications.tasks import send_notifications

    send_notifications.apply_async((workspace_id,), countdown=settings.PARTNER_EMAIL_DELAY_SECONDS)


def send_pending(*, workspace_id: int, limit: int = 10_000) -> int:
    """Send the workspace's unsent notifications, oldest first; returns how many were sent now."""
    sent = 0
    for _ in range(limit):
        outcome = send_one(workspace_id=workspace_id)
        if outcome is None:
            break
        sent += outcome
    return sent


def send_one(*, workspace_id: int) -> bool | None:
    """Claim the oldest unsent notification, send it and mark it sent, in one transaction.

    None when there is nothing left. Another worker skips the locked row, so a row is sent once; if
    the commit fails after the send, the row is sent again — a duplicate beats an email never sent.
    """
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(workspace_id=workspace_id, sent_at__isnull=True, skipped="")
            .order_by("created_at")
            .first()
        )
        if row is None:
            return None
        partner = (
            Partner.objects.select_related("workspace", "program")
            .filter(workspace_id=workspace_id, pk=row.partner_id)
            .first()
        )
        rows = [row, *_waiting_alike(row)]
        reason = _why_not(partner, row.kind)
        if reason or partner is None:
            _rows(rows).update(skipped=reason or "partner gone")
            return False
        send_partner_email(
            partner=partner,
            kind=row.kind,
            subject=_subject(row, partner, count=len(rows)),
            template=f"partners/email/notification_{row.kind}",
            context={"details": row.details, "also": [other.details for other in rows[1:]]},
        )
        _rows(rows).update(sent_at=timezone.now())
    return True


def _waiting_alike(row: Notification) -> list[Notification]:
    """The partner's other unsent notifications of a kind told together, locked like the first."""
    if row.kind not in COMBINED:
        return []
    return list(
        Notification.objects.select_for_update(skip_locked=True)
        .filter(
            workspace_id=row.workspace_id, partner_id=row.partner_id, kind=row.kind, sent_at__isnull=True, skipped=""
        )
        .exclude(object_key=row.object_key)
        .order_by("created_at")[: COMBINE_AT_MOST - 1]
    )


def _rows(rows: list[Notification]) -> QuerySet[Notification]:
    first = rows[0]
    return Notification.objects.filter(
        workspace_id=first.workspace_id,
        partner_id=first.partner_id,
        kind=first.kind,
        object_key__in=[row.object_key for row in rows],
    )


def _why_not(partner: Partner | None, kind: str) -> str:
    if partner is None:
        return "partner gone"
    if not partner.email:
        return "no email address"
    if not wants(workspace_id=partner.workspace_id, partner_id=partner.pk, kind=kind):
        return "turned off by the partner"
    return ""


PLURAL_SUBJECTS = {
    Kind.NEW_REFERRAL: "You have {count} new referrals",
    Kind.NEW_COMMISSION: "You earned {count} commissions",
}


def _subject(row: Notification, partner: Partner, *, count: int = 1) -> str:
    if row.kind == Kind.ANNOUNCEMENT:
        return str(row.details.get("title") or "News from your partner program")
    subject = SUBJECTS.get(Kind(row.kind), "An update on your partnership")
    if count > 1:
        subject = PLURAL_SUBJECTS[Kind(row.kind)].format(count=count)
    return f"{subject} · {partner.workspace.name}"


def send_partner_email(
    *,
    partner: Partner,
    kind: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    attachments: Sequence[tuple[str, bytes, str]] = (),
    to: str = "",
) -> None:
    """Send a partner an email in its business's brand, with a one-click unsubscribe from `kind`.

    The sender's name is the business's, replies go to its support address, and both the
    RFC 8058 headers and the footer link turn off this kind of email without signing in.
    """
    workspace: Workspace = partner.workspace
    brand = brand_of(workspace)
    unsubscribe = unsubscribe_url(workspace_id=workspace.pk, partner_id=partner.pk, kind=kind)
    full_context = {
        **context,
        "partner": partner,
        "workspace": workspace,
        "brand": brand,
        "kind_label": TOPICS[kind],
        "unsubscribe_url": unsubscribe,
        "preferences_url": settings.SITE_URL.rstrip("/") + reverse("portal_profile", args=[workspace.slug]),
        "portal_url": settings.SITE_URL.rstrip("/") + reverse("portal_home", args=[workspace.slug]),
    }
    sender = formataddr((brand.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", full_context),
        from_email=sender,
        to=[to or partner.email],
        reply_to=[brand.support_email] if brand.support_email else None,
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(render_to_string(f"{template}.html", full_context), "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()


def workspaces_with_unsent(*, limit: int = 500) -> list[int]:
    """Workspaces with notifications still unsent (a task lost, a worker killed): for the sweeper."""
    return list(
        Notification.objects.across_workspaces("the beat's sweep finds every workspace with unsent emails")
        .filter(sent_at__isnull=True, skipped="")
        .values_list("workspace_id", flat=True)
        .distinct()[:limit]
    )
