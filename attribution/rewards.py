"""What a sale or a lead earns under a reward rule. Pure: no database, so it is tested directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from dateutil.relativedelta import relativedelta

from core.currency import format_money, round_money


@dataclass(frozen=True)
class RuleTerms:
    name: str
    sale_type: str  # "percent" | "flat"
    sale_value: Decimal
    duration: str  # "one_time" | "months" | "lifetime"
    duration_months: int | None = None
    lead_amount: Decimal = Decimal("0")
    cap_per_customer: Decimal | None = None
    min_sale_amount: Decimal | None = None

    def describe(self, currency: str) -> str:
        return _describe(self, currency)


# Every sale's explanation quotes its rule; a rule's terms never change (an edit is a new version).
@lru_cache(maxsize=1024)
def _describe(terms: RuleTerms, currency: str) -> str:
    what = (
        f"{terms.sale_value.normalize():f}% of each sale"
        if terms.sale_type == "percent"
        else f"{format_money(terms.sale_value, currency)} per sale"
    )
    when = {"one_time": "on the first sale", "lifetime": "for the customer's lifetime"}.get(
        terms.duration, f"for {terms.duration_months} months from the customer's first sale"
    )
    return f"{what} {when}"


# relativedelta is exact about month ends but slow; a customer's period end is asked for at each sale.
@lru_cache(maxsize=16384)
def _months_after(start: datetime, months: int) -> datetime:
    return start + relativedelta(months=months)


@dataclass(frozen=True)
class Award:
    amount: Decimal
    explanation: str


@dataclass(frozen=True)
class NoAward:
    reason: str


def sale_reward(
    terms: RuleTerms,
    *,
    sale_amount: Decimal,
    currency: str,
    occurred_at: datetime,
    customer_first_sale_at: datetime | None,
    is_first_sale: bool,
    earned_for_customer: Decimal,
) -> Award | NoAward:
    """The commission one sale earns. `earned_for_customer` is what earlier sales of this customer already earned."""
    if sale_amount <= 0:
        return NoAward("The sale amount is zero.")
    if terms.min_sale_amount is not None and sale_amount < terms.min_sale_amount:
        return NoAward(f"The sale is below the rule's minimum of {format_money(terms.min_sale_amount, currency)}.")
    if terms.duration == "one_time" and not is_first_sale:
        return NoAward("The rule pays on the customer's first sale only.")
    if terms.duration == "months" and customer_first_sale_at is not None and terms.duration_months:
        ends = _months_after(customer_first_sale_at, terms.duration_months)
        if occurred_at >= ends:
            return NoAward(f"The rule's {terms.duration_months}-month period ended on {ends:%Y-%m-%d}.")
    if terms.sale_type == "percent":
        amount = sale_amount * terms.sale_value / Decimal(100)
    else:
        amount = terms.sale_value
    amount = round_money(amount, currency)
    explanation = (
        f"{terms.name}: {terms.describe(currency)} — {amount} {currency} on a sale of {sale_amount} {currency}"
    )
    if terms.cap_per_customer is not None:
        room = terms.cap_per_customer - earned_for_customer
        if room <= 0:
            return NoAward(f"The cap of {format_money(terms.cap_per_customer, currency)} per customer is reached.")
        if amount > room:
            amount = round_money(room, currency)
            explanation += f", capped at {format_money(terms.cap_per_customer, currency)} per customer"
    if amount <= 0:
        return NoAward("The rule pays nothing for this sale.")
    return Award(amount=amount, explanation=explanation)


def refund_reversal(
    *,
    commission_amount: Decimal,
    sale_amount: Decimal,
    refund_amount: Decimal,
    already_reversed: Decimal,
    currency: str,
) -> Decimal:
    """How much of a commission a refund takes back: in proportion, never more than is left."""
    if sale_amount <= 0:
        return Decimal("0")
    share = min(refund_amount, sale_amount) / sale_amount
    reversal = round_money(commission_amount * share, currency)
    return max(Decimal("0"), min(reversal, commission_amount - already_reversed))
