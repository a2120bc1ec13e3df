"""Commissions, refunds and adjustments as attribution records them, for the payout tests.

They write the rows and ledger entries attribution's processing writes (earned when the commission
is made, reversed on a refund), with dates the tests choose, without running the whole inbox.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from attribution.ledger import post_entry
from attribution.models import Commission, CommissionReversal, Conversion, LedgerEntry, RewardRule
from partners.models import Partner
from tests.referrals.factories import ReferralFactory


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def _rule(partner: Partner) -> RewardRule:
    rule = RewardRule.objects.filter(workspace=partner.workspace, program=partner.program).first()
    if rule is None:
        rule = RewardRule.objects.create(
            workspace=partner.workspace,
            program=partner.program,
            rule_key=uuid.uuid4(),
            name="20% of sales",
            sale_value=Decimal("20"),
            effective_from=at("2020-01-01"),
        )
    return rule


def earn(
    partner: Partner,
    amount: str = "20.00",
    *,
    on: str = "2026-09-15",
    sale: str | None = None,
    status: str = Commission.Status.APPROVED,
    currency: str | None = None,
) -> Commission:
    """An approved (by default) sale commission, with its commission_earned ledger entry."""
    workspace = partner.workspace
    currency = currency or partner.program.currency
    referral = ReferralFactory(workspace=workspace, partner=partner, program=partner.program)
    occurred = at(on)
    conversion = Conversion.objects.create(
        workspace=workspace,
        program=partner.program,
        referral=referral,
        partner=partner,
        kind=Conversion.Kind.SALE,
        event_id=f"sale-{uuid.uuid4().hex[:12]}",
        amount=Decimal(sale or Decimal(amount) * 5),
        currency=currency,
        occurred_at=occurred,
    )
    commission = Commission.objects.create(
        workspace=workspace,
        program=partner.program,
        partner=partner,
        referral=referral,
        conversion=conversion,
        reward_rule=_rule(partner),
        kind=Commission.Kind.SALE,
        amount=Decimal(amount),
        currency=currency,
        status=status,
        occurred_at=occurred,
        hold_until=occurred,
        approved_at=occurred if status == Commission.Status.APPROVED else None,
    )
    if status in (Commission.Status.PENDING, Commission.Status.APPROVED):
        # As attribution does: earned when the commission is made, whether or not it is approved yet.
        post_entry(
            workspace=workspace,
            partner=partner,
            kind=LedgerEntry.Kind.COMMISSION_EARNED,
            amount=commission.amount,
            currency=currency,
            reference=f"commission:{commission.pk}",
        )
    return commission


def refund(commission: Commission, amount: str, *, on: str = "2026-10-10") -> CommissionReversal:
    """A refund of the commission's sale taking `amount` of the commission back, as attribution records it."""
    workspace = commission.workspace
    sale = commission.conversion
    refund_row = Conversion.objects.create(
        workspace=workspace,
        program=commission.program,
        referral=commission.referral,
        partner=commission.partner,
        kind=Conversion.Kind.REFUND,
        event_id=f"refund-{uuid.uuid4().hex[:12]}",
        amount=sale.amount,
        currency=sale.currency,
        occurred_at=at(on),
        sale=sale,
    )
    reversal = CommissionReversal.objects.create(
        workspace=workspace,
        commission=commission,
        refund=refund_row,
        amount=Decimal(amount),
        currency=commission.currency,
        created_at=at(on),
    )
    commission.reversed_amount += Decimal(amount)
    fields = ["reversed_amount"]
    if commission.reversed_amount == commission.amount:
        commission.status = Commission.Status.REVERSED
        fields.append("status")
    commission.save(update_fields=fields)
    post_entry(
        workspace=workspace,
        partner=commission.partner,
        kind=LedgerEntry.Kind.COMMISSION_REVERSED,
        amount=-Decimal(amount),
        currency=commission.currency,
        reference=f"commission:{commission.pk}",
    )
    return reversal


def adjust(partner: Partner, amount: str, memo: str = "Bonus for the launch campaign") -> LedgerEntry:
    return post_entry(
        workspace=partner.workspace,
        partner=partner,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        amount=Decimal(amount),
        currency=partner.program.currency,
        reference="manual",
        memo=memo,
    )
