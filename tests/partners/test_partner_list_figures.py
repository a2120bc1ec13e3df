"""The partner list's figures (clicks, customers, revenue, owed), sorting by them, and the CSV export."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attribution.models import Commission
from reporting import rollups
from reporting.filters import today
from tests.attribution.factories import CommissionFactory, ConversionFactory
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import ClickFactory, LinkFactory, ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy(workspace, program):
    """Clicker: 3 clicks, no sale. Seller: 1 click, a 250.00 sale, 50.00 approved and 9.00 pending. Quiet: nothing."""
    clicker = PartnerFactory(workspace=workspace, program=program, name="Clicker")
    seller = PartnerFactory(workspace=workspace, program=program, name="Seller")
    PartnerFactory(workspace=workspace, program=program, name="Quiet")
    ClickFactory.create_batch(3, link=LinkFactory(workspace=workspace, partner=clicker))
    ClickFactory(link=LinkFactory(workspace=workspace, partner=seller))
    sale = ConversionFactory(
        workspace=workspace,
        referral=ReferralFactory(workspace=workspace, partner=seller),
        amount=Decimal("250.00"),
        currency=program.currency,
    )
    CommissionFactory(
        workspace=workspace, conversion=sale, amount=Decimal("50.00"), currency=program.currency, status="approved"
    )
    bonus_sale = ConversionFactory(
        workspace=workspace, referral=sale.referral, amount=Decimal("0.00"), currency=program.currency
    )
    CommissionFactory(workspace=workspace, conversion=bonus_sale, amount=Decimal("9.00"), currency=program.currency)
    rollups.refresh_days(workspace_id=workspace.pk, dates=[today()])
    return workspace


def _rows(response) -> list:
    return list(response.context["page"].object_list)


def test_each_partner_shows_its_clicks_customers_revenue_and_what_it_is_owed(manager_client, busy, program):
    response = manager_client.get(f"/w/{busy.slug}/partners/")

    figures = {p.name: (p.click_count, p.customer_count, p.revenue_total, p.commissions_due) for p in _rows(response)}
    assert figures["Clicker"] == (3, 0, 0, 0)
    assert figures["Seller"] == (1, 1, Decimal("250"), Decimal("50"))
    assert figures["Quiet"] == (0, 0, 0, 0)
    assert f"50.00 {program.currency}" in response.content.decode()


def test_the_page_says_the_figures_are_all_time(manager_client, busy):
    assert b"Figures are all time" in manager_client.get(f"/w/{busy.slug}/partners/").content


@pytest.mark.parametrize(
    ("sort", "first"), [("-clicks", "Clicker"), ("-revenue", "Seller"), ("-due", "Seller"), ("-customers", "Seller")]
)
def test_the_list_sorts_by_a_figure_largest_first(manager_client, busy, sort, first):
    names = [p.name for p in _rows(manager_client.get(f"/w/{busy.slug}/partners/", {"sort": sort}))]

    assert names[0] == first


def test_sorting_by_a_figure_the_other_way_puts_the_smallest_first(manager_client, busy):
    names = [p.name for p in _rows(manager_client.get(f"/w/{busy.slug}/partners/", {"sort": "clicks"}))]

    assert names == ["Quiet", "Seller", "Clicker"]


def test_an_unknown_sort_falls_back_to_the_name(manager_client, busy):
    names = [p.name for p in _rows(manager_client.get(f"/w/{busy.slug}/partners/", {"sort": "password"}))]

    assert names == ["Clicker", "Quiet", "Seller"]


def test_a_column_heading_sorts_and_keeps_the_filters(manager_client, busy):
    content = manager_client.get(f"/w/{busy.slug}/partners/", {"status": "active"}).content.decode()

    assert 'href="?status=active&amp;sort=-clicks"' in content


def test_the_figures_cost_the_same_queries_for_5_or_25_partners(manager_client, workspace, program):
    PartnerFactory.create_batch(5, workspace=workspace, program=program)
    with CaptureQueriesContext(connection) as few:
        manager_client.get(f"/w/{workspace.slug}/partners/", {"sort": "-revenue"})
    PartnerFactory.create_batch(20, workspace=workspace, program=program)
    with CaptureQueriesContext(connection) as many:
        manager_client.get(f"/w/{workspace.slug}/partners/", {"sort": "-revenue"})

    assert len(many) == len(few)


def test_the_export_is_the_filtered_partners_with_their_figures(manager_client, busy, program):
    PartnerFactory(workspace=busy, program=program, name="Suspended one", status="suspended")

    response = manager_client.get(f"/w/{busy.slug}/partners/export/", {"status": "active", "sort": "-revenue"})

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["name"] for r in rows][0] == "Seller"
    assert "Suspended one" not in {r["name"] for r in rows}
    seller = rows[0]
    assert (seller["clicks"], seller["customers"], seller["revenue"], seller["commissions_due"]) == (
        "1",
        "1",
        "250.00",
        "50.00",
    )


def test_the_export_never_holds_another_workspaces_partners(manager_client, busy, other_workspace):
    PartnerFactory(workspace=other_workspace, name="Globex Partner")

    body = b"".join(manager_client.get(f"/w/{busy.slug}/partners/export/").streaming_content)

    assert b"Globex" not in body


def test_figures_of_another_workspace_never_count(manager_client, busy, other_workspace):
    assert Commission.objects.filter(workspace=other_workspace).count() == 0
    foreign = PartnerFactory(workspace=other_workspace)
    ClickFactory.create_batch(2, link=LinkFactory(workspace=other_workspace, partner=foreign))
    rollups.refresh_days(workspace_id=other_workspace.pk, dates=[today()])

    figures = {p.name: p.click_count for p in _rows(manager_client.get(f"/w/{busy.slug}/partners/"))}

    assert figures["Clicker"] == 3


def test_an_outsider_gets_404_on_the_partner_export(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/partners/export/").status_code == 404
