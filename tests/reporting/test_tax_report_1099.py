"""GET /api/v1/reports/1099-nec?year=: the US partners a business must file a Form 1099-NEC for."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
import time_machine

from partners.tax_forms.services import save_tax_form
from reporting.payouts.models import Statement
from reporting.payouts.statements import close_payout_period, mark_statement_paid
from tests.partners.factories import PartnerFactory
from tests.reporting.payout_helpers import earn

pytestmark = pytest.mark.django_db

W9 = {
    "kind": "w9",
    "legal_name": "Paula Park LLC",
    "tin": "12-3456789",
    "address_line1": "1 Main St",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62701",
    "signature_name": "Paula Park",
}


def _pay(workspace, amounts, *, paid_at):
    """Each (partner, amount) earned in November 2026, on one statement, paid at `paid_at`."""
    for partner, amount in amounts:
        earn(partner, amount, on="2026-11-10")
    close_payout_period(workspace=workspace, end=date(2026, 11, 30), today=date(2026, 12, 1))
    with time_machine.travel(paid_at, tick=False):
        for statement in Statement.objects.for_workspace(workspace):
            mark_statement_paid(statement=statement)


def _report(api_client, year):
    response = api_client.get(f"/api/v1/reports/1099-nec?year={year}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_a_us_partner_paid_600_is_listed_and_one_paid_599_99_is_not(api_client, workspace):
    at_600 = PartnerFactory(workspace=workspace, name="Six Hundred", country="US")
    at_599 = PartnerFactory(workspace=workspace, name="Just Under", country="US")
    _pay(workspace, [(at_600, "600.00"), (at_599, "599.99")], paid_at=datetime(2026, 12, 15, tzinfo=UTC))

    rows = _report(api_client, 2026)

    assert [(row["partner_name"], row["total_paid_usd"]) for row in rows] == [("Six Hundred", "600.00")]


def test_payments_count_in_the_year_they_were_paid(api_client, workspace):
    partner = PartnerFactory(workspace=workspace, name="Late Payee", country="US")
    _pay(workspace, [(partner, "900.00")], paid_at=datetime(2027, 1, 2, 9, tzinfo=UTC))

    assert _report(api_client, 2026) == []
    assert [row["partner_name"] for row in _report(api_client, 2027)] == ["Late Payee"]


def test_the_w9_gives_legal_name_full_tin_and_address(api_client, workspace):
    partner = PartnerFactory(workspace=workspace, name="Paula", country="DE")
    save_tax_form(partner=partner, data=W9, by=None)
    _pay(workspace, [(partner, "1000.00")], paid_at=datetime(2026, 12, 15, tzinfo=UTC))

    [row] = _report(api_client, 2026)

    assert (row["tax_form"], row["legal_name"], row["tin"]) == ("w9", "Paula Park LLC", "123456789")
    assert (row["address_line1"], row["city"], row["state"], row["postal_code"]) == (
        "1 Main St",
        "Springfield",
        "IL",
        "62701",
    )


def test_partners_outside_the_us_are_left_out(api_client, workspace):
    abroad = PartnerFactory(workspace=workspace, name="Berlin Blog", country="DE")
    certified_foreign = PartnerFactory(workspace=workspace, name="Says Foreign", country="US")
    save_tax_form(
        partner=certified_foreign,
        data={**W9, "kind": "w8ben", "country": "CA", "tin": "123456789"},
        by=None,
    )
    _pay(workspace, [(abroad, "5000.00"), (certified_foreign, "5000.00")], paid_at=datetime(2026, 12, 15, tzinfo=UTC))

    assert _report(api_client, 2026) == []


def test_the_csv_has_its_header_row_even_when_empty(api_client):
    response = api_client.get("/api/v1/reports/1099-nec?year=2026")

    assert response.content.decode().splitlines() == [
        "partner_id,partner_name,partner_email,tax_form,legal_name,business_name,tin,address_line1,"
        "address_line2,city,state,postal_code,country,payments,total_paid_usd"
    ]


@pytest.mark.parametrize("query", ["", "?year=", "?year=26", "?year=abcd", "?year=1999"])
def test_a_missing_or_invalid_year_is_a_400_naming_the_year(api_client, query):
    response = api_client.get(f"/api/v1/reports/1099-nec{query}")

    assert response.status_code == 400
    assert "year" in response.json()["error"]["fields"]


def test_another_workspaces_payouts_are_not_in_the_report(api_client, other_workspace):
    stranger = PartnerFactory(workspace=other_workspace, country="US")
    _pay(other_workspace, [(stranger, "5000.00")], paid_at=datetime(2026, 12, 15, tzinfo=UTC))

    assert _report(api_client, 2026) == []
