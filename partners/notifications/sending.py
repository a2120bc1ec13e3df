"""Telling partners what happened: `notify_partners` records who is to be told, a task sends the emails.

The apps above partners call `notify_partners` in the transaction that made the event (a referral, a
commission, a payout), once per set of events: one INSERT of notification rows, keyed by (workspace,
partner, kind, object) so a retried or repeated event adds nothing, and after the commit a pass of
the workspace is scheduled, one per PARTNER_EMAIL_DELAY_SECONDS. Only partners who want that kind get
a row. A pass sends each row once: it claims the row under a lock (with the partner's other waiting
rows of a kind told together), sends, and marks them sent in the same transaction (see `send_one`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
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
# Kinds told in one email per partner when several wait: a burst of two thousand sales is one email
# listing the first LISTED_AT_MOST of them and the count of the rest, not two thousand emails (which
# would also keep the workers from attributing the next sales).
COMBINED = (Kind.NEW_COMMISSION, Kind.NEW_REFERRAL)
LISTED_AT_MOST = 50


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


def _pass_key(workspace_id: int) -> str:
    return f"partner-emails:pass:{workspace_id}"


def _enqueue(workspace_id: int, *, countdown: float | None = None) -> None:
    """Send a little later (PARTNER_EMAIL_DELAY_SECONDS, 60 s): a burst of events is then told in a few
    emails rather than many, and the emails wait until the burst's attribution is done.

    One pass per workspace at a time: every set of a burst would otherwise schedule its own pass, and
    each pass would email every partner with something new since the one before, every few seconds.
    The pass forgets its key before it reads (`start_pass`), so a row committed after that read finds
    no key and schedules the next pass; the key expires soon after the pass was due in any case.
    """
    from partners.notifications.tasks import send_notifications

    delay = settings.PARTNER_EMAIL_DELAY_SECONDS if countdown is None else countdown
    try:
        first = cache.add(_pass_key(workspace_id), 1, timeout=delay + 5)
    except Exception:  # the cache is down: a pass too many sends nothing twice
        log.warning("Could not check for a scheduled email pass of workspace %s", workspace_id, exc_info=True)
        first = True
    if first:
        send_notifications.apply_async((workspace_id,), countdown=delay)


# While rows keep coming (an import, a backfill), a pass waits for the burst to end, up to this many
# delays after the oldest waiting row: partners get one email of the burst, and the workers attribute
# the burst instead of writing emails about its first half.
BURST_WAIT_AT_MOST = 10

_BURST = """
SELECT max(created_at) > now() - make_interval(secs => %(quiet)s),
       min(created_at) > now() - make_interval(secs => %(most)s)
FROM partners_notification WHERE workspace_id = %(ws)s AND sent_at IS NULL AND skipped = ''
"""


def _burst_going_on(workspace_id: int) -> bool:
    """Rows recorded within the last half delay, and none waiting for long (by the database's clock,
    which wrote them)."""
    delay = settings.PARTNER_EMAIL_DELAY_SECONDS
    if delay <= 0:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_BURST, {"ws": workspace_id, "quiet": delay / 2, "most": delay * BURST_WAIT_AT_MOST})
        recent, young = cursor.fetchone() or (None, None)
    return bool(recent and young)


def start_pass(*, workspace_id: int) -> int:
    """A scheduled pass: forget its key (so that what is recorded from now on schedules the next one),
    then send everything waiting, or, while a burst goes on, come back in half a delay."""
    try:
        cache.delete(_pass_key(workspace_id))
    except Exception:
        log.warning("Could not clear the email pass of workspace %s", workspace_id, exc_info=True)
    if _burst_going_on(workspace_id):
        _enqueue(workspace_id, countdown=settings.PARTNER_EMAIL_DELAY_SECONDS / 2)
        return 0
    return send_pending(workspace_id=workspace_id)


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
        reason = _why_not(partner, row.kind)
        if reason or partner is None:
            _settle_alike(row, skipped=reason or "partner gone")
            return False
        told = _settle_alike(row, sent_at=timezone.now())
        listed = told[:LISTED_AT_MOST]
        send_partner_email(
            partner=partner,
            kind=row.kind,
            subject=_subject(row, partner, count=len(told)),
            template=f"partners/email/notification_{row.kind}",
            context={
                "details": listed[0],
                "also": listed[1:],
                "unlisted": len(told) - len(listed),
                "count": len(told),
                "totals": _totals(told) if row.kind == Kind.NEW_COMMISSION and len(told) > 1 else [],
            },
        )
    return True


# The claimed row and, for the kinds told together, the partner's other rows of that kind still waiting
# that no other pass holds (by the partial index of waiting rows); then they are settled by their keys.
# Two statements, each on an index: one UPDATE joined to its own locking subquery was planned as a scan
# of the whole table once it held a million rows.
_WAITING_ALIKE = """
SELECT object_key, created_at, details FROM partners_notification
WHERE workspace_id = %(ws)s AND partner_id = %(partner)s AND kind = %(kind)s
  AND sent_at IS NULL AND skipped = '' AND (%(alike)s OR object_key = %(key)s)
FOR UPDATE SKIP LOCKED
"""
_SETTLE = """
UPDATE partners_notification SET sent_at = %(sent_at)s, skipped = %(skipped)s
WHERE workspace_id = %(ws)s AND partner_id = %(partner)s AND kind = %(kind)s AND object_key = ANY(%(keys)s)
"""


def _settle_alike(row: Notification, *, sent_at: datetime | None = None, skipped: str = "") -> list[dict[str, Any]]:
    """Mark the row, and the partner's other waiting rows of a kind told together, sent or skipped;
    returns their details, the claimed row's first and then by age."""
    where = {"ws": row.workspace_id, "partner": row.partner_id, "kind": row.kind, "key": row.object_key}
    with connection.cursor() as cursor:
        cursor.execute(_WAITING_ALIKE, {**where, "alike": row.kind in COMBINED})
        waiting = cursor.fetchall()
        cursor.execute(
            _SETTLE, {**where, "keys": [key for key, _, _ in waiting], "sent_at": sent_at, "skipped": skipped}
        )
    waiting.sort(key=lambda r: (r[0] != row.object_key, r[1]))
    return [details if isinstance(details, dict) else json.loads(details) for _, _, details in waiting]


def _totals(told: list[dict[str, Any]]) -> list[tuple[Decimal, str]]:
    """What the commissions told add up to, per currency (a program pays in one, so usually one)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for details in told:
        try:
            sums[str(details.get("currency") or "")] += Decimal(str(details.get("amount") or 0))
        except ArithmeticError:
            continue
    return [(amount, currency) for currency, amount in sorted(sums.items())]


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
