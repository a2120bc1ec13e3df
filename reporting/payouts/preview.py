"""A dry run of closing a payout period: who would be paid, carried over and blocked, with totals.

It runs the very plan `close_payout_period` runs (`plan_period`), so the preview and the close agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal

from django.utils import timezone

from accounts.models import Workspace
from partners.models import Partner
from partners.payout_methods import PayoutMethodDetails, payout_methods_for
from reporting.payouts.models import PayoutPeriod
from reporting.payouts.statements import ZERO, Draft, period_start, plan_period


@dataclass(frozen=True)
class PreviewRow:
    """One partner and currency in the preview of a close."""

    partner: Partner
    currency: str
    amount: Decimal
    minimum: Decimal | None  # the program's minimum payout, when it applies to this currency
    payout_method: PayoutMethodDetails | None = None

    @property
    def has_payout_details(self) -> bool:
        return self.payout_method is not None


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    partners: int
    amount: Decimal


def _totals(rows: list[PreviewRow]) -> list[CurrencyTotal]:
    by_currency: dict[str, list[PreviewRow]] = {}
    for row in rows:
        by_currency.setdefault(row.currency, []).append(row)
    return [
        CurrencyTotal(currency, len({r.partner.pk for r in group}), sum((r.amount for r in group), ZERO))
        for currency, group in sorted(by_currency.items())
    ]


@dataclass(frozen=True)
class PeriodPreview:
    """What closing the period ending on `end` would issue, computed by the same plan the close uses."""

    end: date
    start: date | None
    paid: list[PreviewRow]
    carried: list[PreviewRow]
    blocked: list[PreviewRow]
    already_closed: PayoutPeriod | None = None

    @property
    def paid_totals(self) -> list[CurrencyTotal]:
        return _totals(self.paid)

    @property
    def carried_totals(self) -> list[CurrencyTotal]:
        return _totals(self.carried)

    @property
    def blocked_totals(self) -> list[CurrencyTotal]:
        return _totals(self.blocked)


def preview_payout_period(*, workspace: Workspace, end: date, today: date | None = None) -> PeriodPreview:
    """A dry run of `close_payout_period`: who would be paid, carried over and blocked, writing nothing.

    Raises the same ValidationError the close would (a day not over yet, an overlap). An end already
    closed answers that period with empty lists: closing it again changes nothing.
    """
    today = today or timezone.now().astimezone(UTC).date()
    existing = PayoutPeriod.objects.for_workspace(workspace).filter(end=end).first()
    if existing is not None:
        return PeriodPreview(end=end, start=existing.start, paid=[], carried=[], blocked=[], already_closed=existing)
    plan = plan_period(workspace, end=end, start=period_start(workspace, end=end, today=today))
    methods = payout_methods_for(workspace, plan.partners)

    def rows(drafts: list[Draft]) -> list[PreviewRow]:
        out = []
        for draft in drafts:
            partner = plan.partners[draft.partner_id]
            applies = draft.currency == partner.program.currency
            minimum = partner.program.minimum_payout if applies else None
            out.append(PreviewRow(partner, draft.currency, draft.total, minimum, methods.get(partner.pk)))
        return out

    return PeriodPreview(
        end=end, start=plan.start, paid=rows(plan.payable), carried=rows(plan.carried), blocked=rows(plan.blocked)
    )
