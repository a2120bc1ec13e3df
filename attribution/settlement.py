"""The upstream side of paying partners: what reporting's payout statements need from attribution.

Reporting decides *what* goes on a statement and when it is paid; the commission rows and the
ledger are attribution's, so every change to them goes through this module.

Carrying balances needs no write here. A statement takes only commissions, reversals and ledger
adjustments that no earlier statement took (reporting enforces that with unique constraints), so
whatever a close leaves out — a balance under the program's minimum, or a refund of an already
paid commission that makes the balance negative — simply stays open in the ledger and is picked up
by the next close, as a line marked as carried.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet, Sum

from accounts.models import Workspace
from attribution.ledger import GENESIS_HASH, NewEntry, post_entries
from attribution.models import Commission, CommissionReversal, LedgerEntry


@dataclass(frozen=True)
class LedgerHead:
    sequence: int
    entry_hash: str


def ledger_head(workspace: Workspace) -> LedgerHead:
    """The workspace's last ledger entry: what a statement issued now accounts for."""
    last = LedgerEntry.objects.for_workspace(workspace).order_by("-sequence").values("sequence", "entry_hash").first()
    if last is None:
        return LedgerHead(0, GENESIS_HASH)
    return LedgerHead(last["sequence"], last["entry_hash"])


def balances_up_to(
    *, workspace: Workspace, sequence: int, partner_ids: Iterable[int] | None = None
) -> dict[tuple[int, str], Decimal]:
    """Each partner's ledger balance per currency, counting entries up to `sequence` inclusive."""
    rows = LedgerEntry.objects.for_workspace(workspace).filter(sequence__lte=sequence)
    if partner_ids is not None:
        rows = rows.filter(partner_id__in=list(partner_ids))
    totals = rows.values("partner_id", "currency").annotate(total=Sum("amount")).order_by()
    return {(row["partner_id"], row["currency"]): row["total"] for row in totals}


def payable_commissions(*, workspace: Workspace, occurred_before: datetime) -> QuerySet[Commission]:
    """Approved commissions of sales and leads before the cut-off; the caller excludes those already on a statement."""
    return (
        Commission.objects.for_workspace(workspace)
        .filter(status=Commission.Status.APPROVED, occurred_at__lt=occurred_before)
        .select_related("conversion", "referral", "reward_rule")
    )


def reversals_before(*, workspace: Workspace, created_before: datetime) -> QuerySet[CommissionReversal]:
    return (
        CommissionReversal.objects.for_workspace(workspace)
        .filter(created_at__lt=created_before)
        .select_related("commission", "commission__referral", "refund")
    )


def adjustments_up_to(*, workspace: Workspace, sequence: int) -> QuerySet[LedgerEntry]:
    """Manual ledger adjustments (positive or negative) a statement should show as lines."""
    return LedgerEntry.objects.for_workspace(workspace).filter(kind=LedgerEntry.Kind.ADJUSTMENT, sequence__lte=sequence)


def rejections_up_to(*, workspace: Workspace, sequence: int) -> QuerySet[LedgerEntry]:
    """Ledger entries of rejected commissions; one matters to payouts when its commission was already
    on a statement (the statement is frozen, so the next one takes the amount back)."""
    return LedgerEntry.objects.for_workspace(workspace).filter(
        kind=LedgerEntry.Kind.COMMISSION_REJECTED, sequence__lte=sequence
    )


def commission_id_of(entry: LedgerEntry) -> int | None:
    """The commission a ledger entry is about (`commission:<id>` references), or None."""
    prefix, _, value = entry.reference.partition(":")
    return int(value) if prefix == "commission" and value.isdigit() else None


def mark_commissions_paid(*, workspace: Workspace, commission_ids: Iterable[int], paid_at: datetime) -> int:
    """Move the statement's approved commissions to paid. Commissions reversed since stay reversed:
    their refund is a line of a later statement. Returns how many changed (0 the second time)."""
    return (
        Commission.objects.for_workspace(workspace)
        .filter(pk__in=list(commission_ids), status=Commission.Status.APPROVED)
        .update(status=Commission.Status.PAID, paid_at=paid_at)
    )


@dataclass(frozen=True)
class PayoutPosting:
    partner_id: int
    amount: Decimal  # what was sent to the partner, positive
    currency: str
    reference: str  # e.g. statement:17 — one payout entry per reference
    memo: str = ""


@transaction.atomic
def post_payouts(*, workspace: Workspace, payouts: Iterable[PayoutPosting]) -> dict[str, LedgerEntry]:
    """Post one PAYOUT entry (a negative amount on the partner's balance) per reference, once.

    A reference that already has a payout entry is not posted again, so a retried "mark paid" cannot
    take the money off the balance twice. Returns the entry of every reference, old or new.
    """
    payouts = list(payouts)
    references = [payout.reference for payout in payouts]
    # Callers hold a lock on the statements being paid, so two requests cannot both pass this check.
    existing = {
        entry.reference: entry
        for entry in LedgerEntry.objects.for_workspace(workspace).filter(
            kind=LedgerEntry.Kind.PAYOUT, reference__in=references
        )
    }
    new = [
        NewEntry(
            partner_id=p.partner_id,
            kind=LedgerEntry.Kind.PAYOUT,
            amount=-abs(p.amount),
            currency=p.currency,
            reference=p.reference,
            memo=p.memo,
        )
        for p in payouts
        if p.reference not in existing
    ]
    for entry in post_entries(workspace=workspace, entries=new):
        existing[entry.reference] = entry
    return existing
