from __future__ import annotations

import pytest

from reporting.payouts.models import PayoutPeriod
from tests.partners.factories import PartnerFactory
from tests.reporting.isolation_payouts import foreign_statement
from tests.reporting.payout_helpers import earn


@pytest.fixture
def partners(workspace):
    alpha = PartnerFactory(workspace=workspace, name="Alpha Agency")
    beta = PartnerFactory(workspace=workspace, name="Beta Blog")
    earn(alpha, "20.00")
    earn(alpha, "5.25", on="2026-09-29")
    earn(beta, "7.00")
    return alpha, beta


def close(api_client, end="2026-09-30"):
    return api_client.post("/api/v1/payout-periods", {"end": end}, content_type="application/json")


def test_closing_a_period_answers_201_with_its_statements(api_client, partners):
    response = close(api_client)

    assert response.status_code == 201
    body = response.json()
    assert body["end"] == "2026-09-30" and len(body["statements"]) == 2
    assert body["totals"] == [{"currency": "USD", "statements": 2, "total": "32.25", "paid": "0.00"}]


def test_closing_the_same_end_again_answers_200_with_the_same_period(api_client, partners):
    first = close(api_client).json()

    again = close(api_client)

    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert PayoutPeriod.objects.count() == 1


def test_a_bad_end_is_a_422_naming_the_field(api_client):
    response = close(api_client, end="2999-01-31")

    assert response.status_code == 422
    assert "end" in response.json()["error"]["fields"]


def test_statements_are_listed_with_a_cursor_and_filtered_by_partner(api_client, partners):
    close(api_client)
    alpha, _ = partners

    body = api_client.get(f"/api/v1/statements?partner_id={alpha.pk}").json()

    assert [item["partner_name"] for item in body["items"]] == ["Alpha Agency"] and body["next"] is None
    assert body["items"][0]["total"] == "25.25"


def test_statements_filter_by_period_id_or_end_date(api_client, partners):
    period_id = close(api_client).json()["id"]

    by_id = api_client.get(f"/api/v1/statements?period={period_id}").json()["items"]
    by_end = api_client.get("/api/v1/statements?period=2026-09-30").json()["items"]

    assert len(by_id) == len(by_end) == 2


def test_an_unknown_period_filter_is_a_422(api_client):
    assert api_client.get("/api/v1/statements?period=2020-01-31").status_code == 422


def test_a_statement_answers_its_lines_and_totals_as_decimal_strings(api_client, partners):
    close(api_client)
    alpha, _ = partners
    statement_id = api_client.get(f"/api/v1/statements?partner_id={alpha.pk}").json()["items"][0]["id"]

    body = api_client.get(f"/api/v1/statements/{statement_id}").json()

    assert body["totals"] == {
        "commissions": "25.25",
        "reversals": "0.00",
        "adjustments": "0.00",
        "total": "25.25",
        "currency": "USD",
    }
    assert [line["amount"] for line in body["lines"]] == ["20.00", "5.25"]
    assert len(body["ledger"]["hash"]) == 64


def test_a_statement_pdf_is_application_pdf(api_client, partners):
    statement_id = close(api_client).json()["statements"][0]["id"]

    response = api_client.get(f"/api/v1/statements/{statement_id}/pdf")

    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_another_workspaces_statement_is_a_404_with_an_error_body(api_client, other_workspace):
    stranger = foreign_statement(other_workspace)

    for url in (f"/api/v1/statements/{stranger.pk}", f"/api/v1/statements/{stranger.pk}/pdf"):
        response = api_client.get(url)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_the_statement_list_never_shows_another_workspaces_statements(api_client, other_workspace):
    foreign_statement(other_workspace)

    assert api_client.get("/api/v1/statements").json()["items"] == []


def test_the_payout_endpoints_are_in_the_openapi_document(api_client):
    paths = api_client.get("/api/v1/openapi.json").json()["paths"]

    assert {
        "/api/v1/payout-periods",
        "/api/v1/statements",
        "/api/v1/statements/{statement_id}",
        "/api/v1/statements/{statement_id}/pdf",
    } <= set(paths)
