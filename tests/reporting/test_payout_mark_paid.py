from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from attribution.ledger import partner_balance
from attribution.models import Commission, LedgerEntry
from reporting.payouts.models import Payout, Statement
from reporting.payouts.statements import close_payout_period, mark_statement_paid, mark_statements_paid
from tests.partners.factories import PartnerFactory, with_payout_method
from tests.reporting.payout_helpers import earn


@pytest.fixture
def statement(workspace):
    partner = with_payout_method(PartnerFactory(workspace=workspace), "manual", instructions="Cheque to the office")
    earn(partner, "20.00")
    earn(partner, "15.00", on="2026-09-21")
    return close_payout_period(workspace=workspace, end=date(2026, 9, 30), today=date(2026, 11, 24)).statements[0]


def test_marking_a_statement_paid_posts_a_negative_payout_entry_and_the_ledger_still_verifies(
    workspace, statement, capsys
):
    mark_statement_paid(statement=statement)

    entry = LedgerEntry.objects.get(workspace=workspace, kind=LedgerEntry.Kind.PAYOUT)
    assert (entry.amount, entry.currency, entry.reference) == (Decimal("-35.0000"), "USD", f"statement:{statement.pk}")
    assert partner_balance(workspace=workspace, partner=statement.partner) == {"USD": Decimal("0")}
    call_command("verify_ledger")  # raises CommandError on a broken chain


def test_marking_paid_records_a_payout_with_the_frozen_payout_details(workspace, statement):
    mark_statement_paid(statement=statement, reference="batch 7")

    payout = Payout.objects.get(statement=statement)
    assert (payout.amount, payout.method, payout.details, payout.reference) == (
        Decimal("35.00"),
        "manual",
        "Cheque to the office",
        "batch 7",
    )


def test_the_statements_commissions_move_to_paid_only_when_it_is_paid(workspace, statement):
    commissions = Commission.objects.filter(workspace=workspace)
    assert set(commissions.values_list("status", flat=True)) == {Commission.Status.APPROVED}

    mark_statement_paid(statement=statement)

    assert set(commissions.values_list("status", flat=True)) == {Commission.Status.PAID}
    assert all(c.paid_at for c in commissions)


def test_marking_paid_twice_posts_one_payout(workspace, statement):
    assert mark_statement_paid(statement=statement) is True
    assert mark_statement_paid(statement=statement) is False

    assert LedgerEntry.objects.filter(workspace=workspace, kind=LedgerEntry.Kind.PAYOUT).count() == 1
    assert Payout.objects.filter(workspace=workspace).count() == 1


def test_bulk_marking_pays_every_issued_statement_once(workspace, statement):
    other = PartnerFactory(workspace=workspace)
    earn(other, "9.00", on="2026-10-02")
    october = close_payout_period(workspace=workspace, end=date(2026, 10, 31), today=date(2026, 11, 24)).statements[0]
    mark_statement_paid(statement=statement)

    paid = mark_statements_paid(workspace=workspace, statement_ids=[statement.pk, october.pk])

    assert [s.pk for s in paid] == [october.pk]
    assert set(Statement.objects.filter(workspace=workspace).values_list("status", flat=True)) == {"paid"}


def test_another_workspaces_statement_cannot_be_marked_paid_from_here(workspace, other_workspace, statement):
    assert mark_statements_paid(workspace=other_workspace, statement_ids=[statement.pk]) == []

    statement.refresh_from_db()
    assert statement.status == Statement.Status.ISSUED


def test_approving_a_statement_records_who_and_it_can_then_be_paid(workspace, statement, finance):
    from reporting.payouts.statements import approve_statements

    approve_statements(workspace=workspace, statement_ids=[statement.pk], by=finance)
    statement.refresh_from_db()
    assert (statement.status, statement.approved_by) == (Statement.Status.APPROVED, finance)

    assert mark_statement_paid(statement=statement) is True


def test_approving_twice_or_after_payment_changes_nothing(workspace, statement):
    from reporting.payouts.statements import approve_statements

    mark_statement_paid(statement=statement)

    assert approve_statements(workspace=workspace, statement_ids=[statement.pk]) == []
    assert Statement.objects.get(pk=statement.pk).status == Statement.Status.PAID
