"""A program's reward in one plain sentence, for the partner deciding whether to join or to share a link:
"20% of every payment for 12 months, paid monthly once you pass 50.00 USD".

Written from the reward rule in effect (the partner group's override if it has one, else the program's)
and the program's payout minimum. Payout periods are monthly (reporting/payouts/statements.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from attribution.models import RewardRule
from attribution.rewards import RuleTerms
from attribution.rules import DEFAULT_RULE_NAME, terms_of
from core.currency import format_money
from partners.models import PartnerGroup, Program

# What a program without any rule yet earns: the default rule attribution gives it on its first sale.
_DEFAULT_TERMS = RuleTerms(
    name=DEFAULT_RULE_NAME, sale_type="percent", sale_value=Decimal("20"), duration="months", duration_months=12
)


def rule_in_effect(program: Program, *, group: PartnerGroup | None = None, at: datetime | None = None) -> RuleTerms:
    """The terms a partner of `group` (or of no group) earns under at `at` (now by default)."""
    at = at or timezone.now()
    rules = (
        RewardRule.objects.for_workspace(program.workspace)
        .filter(program=program, effective_from__lte=at)
        .order_by("-effective_from", "-version", "-pk")
    )
    if group is not None:
        override = rules.filter(group=group).first()
        if override is not None:
            return terms_of(override)
    rule = rules.filter(group__isnull=True).first()
    return terms_of(rule) if rule is not None else _DEFAULT_TERMS


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def describe_terms(terms: RuleTerms, *, currency: str) -> str:
    """What one rule pays, without the payout part: "20% of every payment for 12 months"."""
    if terms.sale_value > 0:
        if terms.sale_type == "percent":
            first, every = (
                f"{_number(terms.sale_value)}% of the first payment",
                f"{_number(terms.sale_value)}% of every payment",
            )
        else:
            first, every = (
                f"{format_money(terms.sale_value, currency)} for the first payment",
                f"{format_money(terms.sale_value, currency)} for every payment",
            )
        if terms.duration == "one_time":
            sale = f"{first} of each customer you refer"
        elif terms.duration == "months" and terms.duration_months:
            months = terms.duration_months
            sale = f"{every} for {months} month{'s' if months != 1 else ''}"
        else:
            sale = f"{every} for as long as the customer pays"
        if terms.min_sale_amount:
            sale += f", on payments of {format_money(terms.min_sale_amount, currency)} or more"
        if terms.cap_per_customer is not None:
            sale += f", up to {format_money(terms.cap_per_customer, currency)} per customer"
    else:
        sale = ""
    lead = f"{format_money(terms.lead_amount, currency)} for each new customer you refer" if terms.lead_amount else ""
    if sale and lead:
        return f"{lead}, plus {sale}"
    return sale or lead or "No reward is set yet"


def describe_payout(program: Program) -> str:
    if program.minimum_payout and program.minimum_payout > 0:
        return f"paid monthly once you pass {format_money(program.minimum_payout, program.currency)}"
    return "paid monthly"


def reward_sentence(program: Program, *, group: PartnerGroup | None = None, at: datetime | None = None) -> str:
    """The whole reward, said plainly: "20% of every payment for 12 months, paid monthly once you pass 50.00 USD"."""
    terms = rule_in_effect(program, group=group, at=at)
    if not (terms.sale_value or terms.lead_amount):
        return "No reward is set yet"
    return f"{describe_terms(terms, currency=program.currency)}, {describe_payout(program)}"
