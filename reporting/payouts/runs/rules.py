"""What may be paid in a run, and what blocks a partner, in words finance and the partner understand.

A statement is paid by its partner's current payout method. It is blocked, with the reason, when the
partner has no method, is under fraud review, owes a tax form its program requires, is below the
program's minimum, or when the method has no rail for the statement's currency (SEPA pays euros
only; an amount is never converted).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from accounts.models import Workspace
from attribution.fraud import flagged_partner_ids
from core.currency import format_money
from partners.models import Partner
from partners.payout_methods import PayoutMethodDetails, payout_methods_for
from partners.tax_forms import tax_form_on_file
from reporting.payouts.models import Statement

STRIPE_CONNECT, PAYPAL, SEPA, MANUAL = "stripe_connect", "paypal", "sepa", "manual"
METHOD_LABELS = {STRIPE_CONNECT: "Stripe", PAYPAL: "PayPal", SEPA: "SEPA bank transfer", MANUAL: "Paid outside Tandem"}

# PayPal Payouts' currencies (developer.paypal.com, "Currency codes"); SEPA credit transfers are in euros.
PAYPAL_CURRENCIES = frozenset(
    "AUD BRL CAD CNY CZK DKK EUR HKD HUF ILS JPY MYR MXN TWD NZD NOK PHP PLN GBP SGD SEK CHF THB USD".split()
)
RAILS: dict[str, frozenset[str] | None] = {
    SEPA: frozenset({"EUR"}),
    PAYPAL: PAYPAL_CURRENCIES,
    STRIPE_CONNECT: None,  # Stripe says for itself which currencies the platform can transfer
    MANUAL: None,
}


@dataclass(frozen=True)
class Decision:
    """How one statement would be paid: its method (empty: none) and, when it cannot be, why."""

    method: str
    destination: str
    blocked_reason: str = ""


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, "No payout method")


def rail_problem(method: str, currency: str) -> str:
    """Why `method` cannot pay `currency`, or an empty string when it can."""
    rail = RAILS.get(method)
    if rail is None or currency in rail:
        return ""
    if method == SEPA:
        return (
            f"SEPA transfers are in euros only and this statement is in {currency}: "
            "the partner needs another payout method (amounts are never converted)."
        )
    return f"PayPal does not pay out in {currency}: the partner needs another payout method."


def decide(
    statement: Statement,
    *,
    partner: Partner,
    method: PayoutMethodDetails | None,
    flagged: bool,
    tax_form_missing: bool,
) -> Decision:
    method_type = method.type if method is not None else ""
    destination = method.label if method is not None else ""
    program = partner.program

    def blocked(reason: str) -> Decision:
        return Decision(method_type, destination, reason)

    if method is None:
        return blocked("No payout method: the partner has not said how it wants to be paid.")
    if flagged:
        return blocked("Under fraud review: payouts to this partner wait until the review is closed.")
    if tax_form_missing:
        return blocked("No tax form on file: this program needs a W-9 or W-8BEN before the first payout.")
    if statement.currency == program.currency and statement.total < program.minimum_payout:
        return blocked(
            f"Below the program's minimum payout of {format_money(program.minimum_payout, program.currency)}."
        )
    if problem := rail_problem(method_type, statement.currency):
        return blocked(problem)
    return Decision(method_type, destination)


def decide_all(workspace: Workspace, statements: Iterable[Statement]) -> dict[int, Decision]:
    """The decision for each statement, by statement id, with a handful of queries whatever the count."""
    rows = list(statements)
    partner_ids = {s.partner_id for s in rows}
    partners = Partner.objects.for_workspace(workspace).select_related("program").in_bulk(partner_ids)
    methods = payout_methods_for(workspace, partner_ids)
    flagged = flagged_partner_ids(workspace, partner_ids)
    needs_form = {pid for pid, p in partners.items() if p.program.requires_tax_form}
    on_file = set(tax_form_on_file(workspace, needs_form)) if needs_form else set()
    return {
        s.pk: decide(
            s,
            partner=partners[s.partner_id],
            method=methods.get(s.partner_id),
            flagged=s.partner_id in flagged,
            tax_form_missing=s.partner_id in needs_form and s.partner_id not in on_file,
        )
        for s in rows
    }
