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
import time
from collections import Counter, defaultdict
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
from core.arrays import number_array, text_array
from core.sql import execute_rows
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
# listing the first LISTED_AT_MOST of them, their count and sum, and a link to the portal for the
# rest, not two thousand emails (which would also keep the workers from attributing the next sales).
COMBINED = (Kind.NEW_COMMISSION, Kind.NEW_REFERRAL)
LISTED_AT_MOST = 10


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
    if kind in COMBINED:
        items = _one_per_partner(items)
    if not items:
        return 0
    # A set's details (a megabyte) go as array literals bound server-side: Django's cursor would quote
    # them into the SQL text, and psycopg's list dumper escapes each element in Python.
    inserted = execute_rows(
        _INSERT.format(kind=kind.value),  # a column name from the closed Kind list, never input
        {
            "ws": workspace_id,
            "kind": kind.value,
            "partners": number_array(i.partner_id for i in items),
            "keys": text_array([i.object_key[:64] for i in items]),
            "details": text_array(_encoded_details(items)),
            "statuses": list(statuses or NOTIFIED_STATUSES),
            "default": DEFAULTS[kind],
        },
    )
    if inserted:
        transaction.on_commit(lambda: _enqueue(workspace_id))
    return inserted


def _one_per_partner(items: Sequence[NotifyItem]) -> list[NotifyItem]:
    """A set's items of a kind told together, one row per partner: the first LISTED_AT_MOST items'
    details, how many there are and, for money, their sum per currency. The row is keyed by its first
    and last items: the same set recorded again adds nothing, and a set that happens to start with an
    object already told alone is not taken for it."""
    by_partner: dict[int, list[NotifyItem]] = defaultdict(list)
    for item in items:
        by_partner[item.partner_id].append(item)
    rows = []
    for partner_id, mine in by_partner.items():
        if len(mine) == 1:
            rows.append(mine[0])
            continue
        details = {
            "items": [i.details for i in mine[:LISTED_AT_MOST]],
            "count": len(mine),
            "amounts": _amounts(i.details for i in mine),
        }
        key = f"{mine[0].object_key}..{mine[-1].object_key}"
        rows.append(NotifyItem(partner_id=partner_id, object_key=key, details=details))
    return rows


def _amounts(told: Iterable[dict[str, Any]]) -> dict[str, str]:
    """What the items add up to per currency, for those that are money (a commission's amount).
    Items often share one details object (alike commissions): each is read once and multiplied."""
    times: Counter[int] = Counter()
    shown: dict[int, dict[str, Any]] = {}
    for details in told:
        times[id(details)] += 1
        shown[id(details)] = details
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for key, details in shown.items():
        if "amount" in details and details.get("currency"):
            try:
                sums[str(details["currency"])] += Decimal(str(details["amount"])) * times[key]
            except ArithmeticError:
                continue
    return {currency: str(amount) for currency, amount in sums.items()}


def _gathered(told: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, list[tuple[Decimal, str]]]:
    """The settled rows as one email's content: the items (a set's row holds several), how many in all,
    and the money's sum per currency."""
    items: list[dict[str, Any]] = []
    count = 0
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for details in told:
        if "items" in details:
            items.extend(details["items"][: max(0, LISTED_AT_MOST - len(items))])
            count += int(details.get("count") or len(details["items"]))
            amounts = details.get("amounts") or {}
        else:
            if len(items) < LISTED_AT_MOST:
                items.append(details)
            count += 1
            amounts = _amounts([details])
        for currency, amount in amounts.items():
            sums[currency] += Decimal(amount)
    return items, count, [(amount, currency) for currency, amount in sorted(sums.items())]


def _encoded_details(items: Sequence[NotifyItem]) -> list[str]:
    """Each item's details as JSON; items sharing one details object share its encoding."""
    encoded: dict[int, str] = {}
    out = []
    for item in items:
        text = encoded.get(id(item.details))
        if text is None:
            text = encoded[id(item.details)] = json.dumps(item.details, default=str)
        out.append(text)
    return out


def _key(what: str, workspace_id: int) -> str:
    return f"partner-emails:{what}:{workspace_id}"


# While rows keep coming (an import, a backfill), a pass waits for the burst to end, up to this many
# delays after the burst began: partners get one email of the burst, and the workers attribute the
# burst instead of writing emails about its first half.
BURST_WAIT_AT_MOST = 10


def _enqueue(workspace_id: int, *, countdown: float | None = None) -> None:
    """Send a little later (PARTNER_EMAIL_DELAY_SECONDS, 60 s): a burst of events is then told in a few
    emails rather than many, and the emails wait until the burst's attribution is done.

    One pass per workspace at a time: every set of a burst would otherwise schedule its own pass, and
    each pass would email every partner with something new since the one before, every few seconds.
    The pass forgets its key before it reads (`start_pass`), so a row committed after that read finds
    no key and schedules the next pass; the key expires soon after the pass was due in any case.
    When rows were last recorded, and since when they wait, are kept beside it for `_burst_going_on`.
    """
    from partners.notifications.tasks import send_notifications

    delay = settings.PARTNER_EMAIL_DELAY_SECONDS
    try:
        if countdown is None:
            now, keep = time.time(), delay * (BURST_WAIT_AT_MOST + 1) + 60
            cache.set(_key("last", workspace_id), now, timeout=keep)
            cache.add(_key("since", workspace_id), now, timeout=keep)
        first = cache.add(_key("pass", workspace_id), 1, timeout=(delay if countdown is None else countdown) + 5)
    except Exception:  # the cache is down: a pass too many sends nothing twice
        log.warning("Could not check for a scheduled email pass of workspace %s", workspace_id, exc_info=True)
        first = True
    if first:
        send_notifications.apply_async((workspace_id,), countdown=delay if countdown is None else countdown)


def _burst_going_on(workspace_id: int) -> bool:
    """Rows recorded within the last half delay, and the burst younger than BURST_WAIT_AT_MOST delays."""
    delay = settings.PARTNER_EMAIL_DELAY_SECONDS
    if delay <= 0:
        return False
    try:
        marks = cache.get_many([_key("last", workspace_id), _key("since", workspace_id)])
    except Exception:
        return False
    last, since, now = marks.get(_key("last", workspace_id)), marks.get(_key("since", workspace_id)), time.time()
    return (
        last is not None and since is not None and now - last < delay / 2 and now - since < delay * BURST_WAIT_AT_MOST
    )


def start_pass(*, workspace_id: int) -> int:
    """A scheduled pass: forget its key (so that what is recorded from now on schedules the next one),
    then send everything waiting, or, while a burst goes on, come back in half a delay."""
    try:
        cache.delete(_key("pass", workspace_id))
    except Exception:
        log.warning("Could not clear the email pass of workspace %s", workspace_id, exc_info=True)
    if _burst_going_on(workspace_id):
        _enqueue(workspace_id, countdown=settings.PARTNER_EMAIL_DELAY_SECONDS / 2)
        return 0
    try:
        cache.delete(_key("since", workspace_id))  # what comes from now on is a new burst
    except Exception:
        log.warning("Could not clear the email burst of workspace %s", workspace_id, exc_info=True)
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
        listed, count, totals = _gathered(_settle_alike(row, sent_at=timezone.now()))
        send_partner_email(
            partner=partner,
            kind=row.kind,
            subject=_subject(row, partner, count=count),
            template=f"partners/email/notification_{row.kind}",
            context={
                "details": listed[0],
                "also": listed[1:],
                # Counts written as numbers are read: 2,000 and 1,990, not 2000.
                "unlisted": f"{count - len(listed):,}" if count > len(listed) else "",
                "more": f"{count - 1:,}",
                "count": f"{count:,}",
                "totals": totals if row.kind == Kind.NEW_COMMISSION and count > 1 else [],
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
    where: dict[str, Any] = {"ws": row.workspace_id, "partner": row.partner_id, "kind": row.kind, "key": row.object_key}
    with connection.cursor() as cursor:
        cursor.execute(_WAITING_ALIKE, {**where, "alike": row.kind in COMBINED})
        waiting = cursor.fetchall()
        cursor.execute(
            _SETTLE, {**where, "keys": [key for key, _, _ in waiting], "sent_at": sent_at, "skipped": skipped}
        )
    waiting.sort(key=lambda r: (r[0] != row.object_key, r[1]))
    return [details if isinstance(details, dict) else json.loads(details) for _, _, details in waiting]


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
        subject = PLURAL_SUBJECTS[Kind(row.kind)].format(count=f"{count:,}")
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
