"""Writes of the attribution app: processing the inbox, the commission lifecycle, reward rules,
and exchange rates.

The inbox itself (`accept_events`) is in attribution/inbox.py, the set-based processor in
attribution/processing/; both are re-exported here so callers have one place to look.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit
from attribution.inbox import EventReceipt, IncomingEvent, InvalidEvents, accept_events, enqueue_on_commit  # noqa: F401 - re-exported
from attribution.ledger import NewEntry, post_entries
from attribution.models import Commission, ExchangeRate, InboundEvent, LedgerEntry
from attribution.outbound import emit_commissions
from attribution.processing import ProcessResult, process_events, process_pending  # noqa: F401 - re-exported
from attribution.rules import RuleInput, add_reward_rule_version, ensure_default_reward_rule  # noqa: F401 - re-exported
from core.iso import CURRENCIES

# --- Commission lifecycle ------------------------------------------------------------------


def _actor(by: User | None, actor_label: str | None) -> str:
    return actor_label or (by.email if by else "system")


@transaction.atomic
def approve_commissions(
    *,
    workspace: Workspace,
    ids: Iterable[int] | None = None,
    due: bool = False,
    by: User | None,
    actor_label: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Approve pending commissions: these ids (whether or not their hold has ended: a manager's call),
    or with `due`, every one whose hold has ended. Returns the ids approved; others are left alone."""
    now = now or timezone.now()
    pending = Commission.objects.for_workspace(workspace).filter(status=Commission.Status.PENDING)
    if due:
        pending = pending.filter(hold_until__lte=now)
    elif ids is not None:
        pending = pending.filter(pk__in=list(ids))
    else:
        raise ValidationError({"ids": ["Name the commissions to approve, or ask for every due one."]})
    approved = list(pending.select_for_update().order_by("id").values_list("id", flat=True))
    if not approved:
        return []
    Commission.objects.for_workspace(workspace).filter(pk__in=approved).update(
        status=Commission.Status.APPROVED,
        approved_at=now,
        approved_by=by,
    )
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=_actor(by, actor_label),
        action="commission.approved",
        changes={"count": len(approved), "ids": approved[:50], "due": due},
    )
    emit_commissions(workspace.pk, "commission.approved", approved)
    return approved


def approve_due_commissions(*, now: datetime | None = None) -> int:
    """Approve every pending commission whose hold has ended, workspace by workspace (beat)."""
    now = now or timezone.now()
    total = 0
    # Every workspace with something due (this runs from beat); the EXISTS uses each workspace's
    # (workspace, status, hold_until) index, and each approval is scoped to its own workspace.
    due = Commission.objects.filter(workspace=OuterRef("pk"), status=Commission.Status.PENDING, hold_until__lte=now)
    for workspace in Workspace.objects.filter(Exists(due)).order_by("pk"):
        total += len(
            approve_commissions(workspace=workspace, due=True, by=None, actor_label="system (hold ended)", now=now)
        )
    return total


# A commission held for fraud review is rejected like a pending one (the review queue's "reject").
_REJECTABLE = (Commission.Status.PENDING, Commission.Status.IN_REVIEW, Commission.Status.APPROVED)


@transaction.atomic
def reject_commissions(
    *, workspace: Workspace, ids: Iterable[int], reason: str, by: User | None, actor_label: str | None = None
) -> list[int]:
    """Reject pending, held or approved commissions with a reason the partner will read.

    What the partner still had of each (amount less refunds) goes back out of the ledger; paid
    commissions cannot be rejected (a refund after payout reverses them instead).
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Tell the partner why; they will see this reason."]})
    now = timezone.now()
    rows = list(
        Commission.objects.for_workspace(workspace)
        .filter(pk__in=list(ids), status__in=_REJECTABLE)
        .select_for_update()
        .order_by("id")
    )
    if not rows:
        return []
    Commission.objects.for_workspace(workspace).filter(pk__in=[c.pk for c in rows]).update(
        status=Commission.Status.REJECTED,
        rejection_reason=reason,
        rejected_at=now,
        rejected_by=by,
    )
    post_entries(
        workspace=workspace,
        entries=[
            NewEntry(
                partner_id=c.partner_id,
                kind=LedgerEntry.Kind.COMMISSION_REJECTED,
                amount=-(c.amount - c.reversed_amount),
                currency=c.currency,
                reference=f"commission:{c.pk}",
                memo=f"Rejected: {reason}"[:255],
            )
            for c in rows
            if c.amount - c.reversed_amount > 0
        ],
    )
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=_actor(by, actor_label),
        action="commission.rejected",
        changes={"count": len(rows), "ids": [c.pk for c in rows][:50], "reason": reason},
    )
    return [c.pk for c in rows]


# --- Inbox upkeep -------------------------------------------------------------------------------

RETRYABLE = (InboundEvent.Status.UNATTRIBUTED, InboundEvent.Status.FAILED)


@transaction.atomic
def retry_events(
    *,
    workspace: Workspace,
    ids: Iterable[int] | None = None,
    reason_code: str | None = None,
    by: User | None,
    actor_label: str | None = None,
) -> int:
    """Send unattributed or failed events through attribution again (after a fix: a partner
    reactivated, a code created, a rate added). Returns how many were queued."""
    events = InboundEvent.objects.for_workspace(workspace).filter(status__in=RETRYABLE)
    if ids is not None:
        events = events.filter(pk__in=list(ids))
    if reason_code is not None:
        events = events.filter(reason_code=reason_code)
    picked = list(events.select_for_update().values_list("id", flat=True))
    if not picked:
        return 0
    InboundEvent.objects.for_workspace(workspace).filter(pk__in=picked).update(
        status=InboundEvent.Status.RECEIVED,
        reason="Sent for attribution again.",
        reason_code="",
        processed_at=None,
    )
    if by is not None or actor_label:
        record_audit(
            workspace=workspace,
            actor=by,
            actor_label=_actor(by, actor_label),
            action="inbound_event.retried",
            changes={"count": len(picked), "reason_code": reason_code},
        )
    enqueue_on_commit(workspace.pk, picked)
    return len(picked)


# --- Exchange rates ------------------------------------------------------------------------------


@transaction.atomic
def add_exchange_rate(
    *,
    workspace: Workspace,
    day: date,
    from_currency: str,
    to_currency: str,
    rate: Decimal,
    by: User | None,
    actor_label: str | None = None,
) -> tuple[ExchangeRate, bool]:
    """Record the workspace's rate for a day (1 from = rate to). Returns (rate, created).

    Sales that waited for this rate are sent through attribution again. A day's rate, once used,
    is not changed: an existing different rate for the same day is refused.
    """
    source, target = from_currency.strip().upper(), to_currency.strip().upper()
    errors: dict[str, list[str]] = {}
    if source not in CURRENCIES:
        errors["from_currency"] = [f"“{from_currency}” is not an ISO 4217 currency code, such as EUR."]
    if target not in CURRENCIES:
        errors["to_currency"] = [f"“{to_currency}” is not an ISO 4217 currency code, such as USD."]
    if source == target and not errors:
        errors["to_currency"] = ["Choose two different currencies."]
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        errors["rate"] = ["Enter a rate above zero, such as 1.0842."]
    elif rate.as_tuple().exponent < -10 or rate >= Decimal("1e10"):  # type: ignore[operator]
        errors["rate"] = ["Use at most 10 digits after the decimal point."]
    if errors:
        raise ValidationError(errors)
    existing = (
        ExchangeRate.objects.for_workspace(workspace).filter(date=day, from_currency=source, to_currency=target).first()
    )
    if existing is not None:
        if existing.rate != rate:
            raise ValidationError(
                {
                    "rate": [
                        f"The {source}→{target} rate for {day:%Y-%m-%d} is already {existing.rate.normalize():f}; "
                        f"rates already used are not changed."
                    ]
                }
            )
        return existing, False
    row = ExchangeRate.objects.create(
        workspace=workspace, date=day, from_currency=source, to_currency=target, rate=rate, created_by=by
    )
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=_actor(by, actor_label),
        action="exchange_rate.added",
        target=row,
        changes={"rate": str(rate)},
    )
    retry_events(workspace=workspace, reason_code="no_exchange_rate", by=None)
    return row, True
