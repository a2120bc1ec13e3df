"""Shared by the statement verification tests: issued statements, and a ledger edited behind the database's back."""

from __future__ import annotations

from datetime import date

from django.db import connection

from attribution.models import LedgerEntry
from reporting.payouts.models import Statement
from reporting.payouts.statements import close_payout_period
from tests.partners.factories import PartnerFactory
from tests.reporting.payout_helpers import earn, refund


def issue_statement(workspace, *, name: str = "Jane Doe", company: str = "") -> Statement:
    partner = PartnerFactory(workspace=workspace, name=name, company=company)
    first = earn(partner, "1234.50", sale="6172.50")
    refund(first, "234.50", on="2026-09-25")
    earn(partner, "80.00")
    (statement,) = close_payout_period(workspace=workspace, end=date(2026, 9, 30), today=date(2026, 11, 24)).statements
    return statement


def tamper_with_entry(entry: LedgerEntry, *, amount: str) -> None:
    """What someone with database access could do: change an entry with the append-only trigger off."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute("UPDATE attribution_ledgerentry SET amount = %s WHERE id = %s", [amount, entry.pk])
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
