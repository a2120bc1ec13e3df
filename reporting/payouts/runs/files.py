"""The files finance hands to its bank and to PayPal: a SEPA credit transfer (pain.001.001.03) and a
PayPal Payouts batch (CSV in PayPal's mass-payment layout)."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from sepaxml import SepaTransfer

from core.currency import plain_amount
from partners.payout_methods import payout_methods_for
from reporting.payouts.runs import rules
from reporting.payouts.runs.models import PayoutRun, PayoutRunItem, SepaDebtor
from reporting.payouts.runs.services import items_of
from reporting.payouts.runs.transfers import amount_in_minor_units

SEPA_SCHEMA = "pain.001.001.03"
IN_FILE = (PayoutRunItem.Status.AWAITING_CONFIRMATION, PayoutRunItem.Status.PAID)


def file_items(run: PayoutRun, method: str) -> list[PayoutRunItem]:
    """The run's items of `method` that were sent by file (waiting for confirmation, or confirmed)."""
    return list(
        items_of(run).filter(method=method, status__in=IN_FILE).select_related("statement").order_by("statement_id")
    )


def sepa_debtor(run: PayoutRun) -> SepaDebtor:
    debtor = SepaDebtor.objects.filter(workspace_id=run.workspace_id).first()
    if debtor is None:
        raise ValidationError(
            "Set the bank account SEPA payouts are paid from (name, IBAN and BIC) on the payout runs page first."
        )
    return debtor


def sepa_xml(run: PayoutRun, *, execution_date: date | None = None) -> bytes:
    """One SEPA credit transfer file for the run's SEPA items, validated against the pain.001.001.03 schema.

    Raises ValidationError when the workspace's own account is not set or the run has no SEPA items.
    """
    items = file_items(run, rules.SEPA)
    if not items:
        raise ValidationError("This run pays no one by SEPA transfer (or has not been executed yet).")
    debtor = sepa_debtor(run)
    methods = payout_methods_for(run.workspace, {item.partner_id for item in items})
    sepa = SepaTransfer(
        {"name": debtor.name, "IBAN": debtor.iban, "BIC": debtor.bic, "batch": True, "currency": "EUR"},
        schema=SEPA_SCHEMA,
    )
    when = execution_date or timezone.now().date()
    for item in items:
        method = methods.get(item.partner_id)
        if method is None or method.type != rules.SEPA:
            raise ValidationError(
                f"The partner of statement {item.statement.number} no longer has a bank account on file: "
                "take it out of the run or ask the partner for its details."
            )
        payment = {
            "name": method.fields["account_holder"],
            "IBAN": method.fields["iban"],
            "amount": amount_in_minor_units(item.amount, item.currency),
            "execution_date": when,
            "description": f"{item.statement.number} {run.workspace.name}"[:140],
            "endtoend_id": f"TANDEM-{item.statement_id}"[:35],
        }
        if method.fields.get("bic"):
            payment["BIC"] = method.fields["bic"]
        sepa.add_payment(payment)
    return bytes(sepa.export(validate=True))


def paypal_csv(run: PayoutRun) -> str:
    """PayPal's mass-payment layout, one payment a line, no header: email, amount, currency, unique id, note."""
    items = file_items(run, rules.PAYPAL)
    if not items:
        raise ValidationError("This run pays no one by PayPal (or has not been executed yet).")
    methods = payout_methods_for(run.workspace, {item.partner_id for item in items})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for item in items:
        method = methods.get(item.partner_id)
        if method is None or method.type != rules.PAYPAL:
            raise ValidationError(
                f"The partner of statement {item.statement.number} no longer has a PayPal account on file."
            )
        writer.writerow(
            [
                method.fields["email"],
                plain_amount(item.amount, item.currency),
                item.currency,
                f"tandem-statement-{item.statement_id}",
                f"{run.workspace.name} statement {item.statement.number}"[:4000],
            ]
        )
    return out.getvalue()
