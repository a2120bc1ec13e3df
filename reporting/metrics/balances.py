"""What a partner is owed now, whatever the report's range."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum

from partners.models import Partner
from reporting.metrics.figures import ZERO


@dataclass
class ExpectedPayout:
    amount: Decimal
    currency: str
    period_end: dt.date


def expected_payout(partner: Partner, *, today: dt.date) -> ExpectedPayout:
    """What the partner should be paid at the next period close: approved commissions not yet paid,
    net of reversals (current state, whatever the range), and the last day of that period."""
    from attribution.models import Commission
    from reporting.payouts.dates import month_end

    amount = (
        Commission.objects.for_workspace(partner.workspace)
        .filter(partner=partner, status=Commission.Status.APPROVED)
        .aggregate(total=Sum(F("amount") - F("reversed_amount")))["total"]
    )
    return ExpectedPayout(amount=amount or ZERO, currency=partner.program.currency, period_end=month_end(today))
