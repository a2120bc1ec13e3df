"""GET /api/v1/partners/{id}/stats: exactly its keys, the pages' numbers, 404 for a foreign partner, 422 for bad dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from partners.models import Partner
from reporting import rollups
from reporting.metrics import Filters
from tests.partners.factories import PartnerFactory
from tests.reporting.metrics_data import TODAY, make_funnel, recompute

pytestmark = pytest.mark.django_db

KEYS = {
    "clicks",
    "unique_clicks",
    "leads",
    "customers",
    "sales",
    "revenue",
    "average_deal_size",
    "click_to_lead_rate",
    "lead_to_customer_rate",
    "median_time_to_conversion_seconds",
    "commissions",
    "currency",
}


@pytest.fixture
def funnel(workspace):
    make_funnel(workspace, seed=41, clicks=300)
    rollups.rebuild(workspace_id=workspace.pk, start=TODAY - dt.timedelta(days=90), end=TODAY + dt.timedelta(days=30))
    return workspace


def stats(client, partner_id, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/api/v1/partners/{partner_id}/stats?{query}")


def test_stats_have_exactly_the_documented_keys(funnel, api_client):
    partner = Partner.objects.filter(workspace=funnel).first()
    body = stats(api_client, partner.pk, start="2026-05-01", end="2026-06-30").json()
    assert set(body) == KEYS
    assert set(body["commissions"]) == {"pending", "approved", "paid", "reversed", "rejected", "net"}


def test_stats_equal_a_recount_of_the_raw_rows(funnel, api_client):
    for partner in Partner.objects.filter(workspace=funnel)[:4]:
        start, end = TODAY - dt.timedelta(days=45), TODAY
        body = stats(api_client, partner.pk, start=start.isoformat(), end=end.isoformat()).json()
        raw = recompute(
            funnel,
            Filters(
                start=start,
                end=end,
                currency=partner.program.currency,
                program_id=partner.program_id,
                partner_id=partner.pk,
            ),
        )
        assert body["clicks"] == raw.get("clicks", 0)
        assert body["unique_clicks"] == raw.get("unique_clicks", 0)
        assert body["leads"] == raw.get("leads", 0)
        assert body["customers"] == raw.get("customers", 0)
        assert body["sales"] == raw.get("sales", 0)
        assert Decimal(body["revenue"]) == (raw["sales_amount"] - raw["refunds_amount"]).quantize(Decimal("0.01"))
        assert Decimal(body["commissions"]["net"]) == raw["commission_net"].quantize(Decimal("0.01"))
        assert Decimal(body["commissions"]["paid"]) == raw["commission_paid"].quantize(Decimal("0.01"))
        assert body["median_time_to_conversion_seconds"] == raw["median_seconds"]
        assert body["currency"] == partner.program.currency
        if raw.get("clicks"):
            assert body["click_to_lead_rate"] == pytest.approx(raw.get("clicked_leads", 0) / raw["clicks"])
        for rate in ("click_to_lead_rate", "lead_to_customer_rate"):
            assert body[rate] is None or 0 <= body[rate] <= 1


def test_amounts_are_decimal_strings(funnel, api_client):
    partner = Partner.objects.filter(workspace=funnel).first()
    body = stats(api_client, partner.pk, start="2026-01-01", end="2026-12-31").json()
    assert isinstance(body["revenue"], str) and Decimal(body["revenue"]) >= Decimal("-1e9")


def test_a_partner_without_data_gets_zeros_and_nulls(workspace, api_client):
    partner = PartnerFactory(workspace=workspace)
    body = stats(api_client, partner.pk, start="2026-01-01", end="2026-01-31").json()
    assert body["clicks"] == 0 and body["revenue"] == "0.00"
    assert body["click_to_lead_rate"] is None and body["median_time_to_conversion_seconds"] is None


def test_another_workspaces_partner_is_a_404(api_client, other_workspace):
    foreign = PartnerFactory(workspace=other_workspace)
    response = stats(api_client, foreign.pk, start="2026-01-01", end="2026-01-31")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_partner_is_a_404(api_client):
    assert stats(api_client, 999999999).status_code == 404


def test_bad_dates_are_a_422_naming_the_field(workspace, api_client):
    partner = PartnerFactory(workspace=workspace)
    response = stats(api_client, partner.pk, start="2026-13-01", end="2026-01-31")
    assert response.status_code == 422
    assert "start" in response.json()["error"]["fields"]
    response = stats(api_client, partner.pk, start="2026-02-01", end="2026-01-31")
    assert response.status_code == 422
    assert "end" in response.json()["error"]["fields"]


def test_without_a_key_it_is_a_401(workspace, client):
    partner = PartnerFactory(workspace=workspace)
    assert client.get(f"/api/v1/partners/{partner.pk}/stats").status_code == 401
