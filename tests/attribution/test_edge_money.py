"""Money as sent or refused: amounts are never rounded or reinterpreted, and a changed repeat is a conflict."""

from __future__ import annotations

import json

import pytest

from attribution.models import InboundEvent

pytestmark = pytest.mark.django_db

SALE = {"event_id": "ord_1", "customer_external_id": "cus_1", "amount": "49.99", "currency": "USD"}


def post(client, path, body):
    return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    "amount, currency",
    [
        ("49.999", "USD"),
        ("1.5", "JPY"),
        ("５", "USD"),
        ("1e3", "USD"),
        (" 49.99", "USD"),
        ("49.99 ", "USD"),
        ("+49.99", "USD"),
        ("-1", "USD"),
        (49.99, "USD"),
        (50, "USD"),
        ("12.3456", "KWD"),
    ],
)
def test_an_amount_that_is_not_exactly_money_in_its_currency_is_a_422_naming_amount(api_client, amount, currency):
    response = post(api_client, "/track/sale", {**SALE, "amount": amount, "currency": currency})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["amount"]
    assert not InboundEvent.objects.exists()


def test_more_decimals_than_the_currency_has_says_so(api_client):
    response = post(api_client, "/track/sale", {**SALE, "amount": "49.999"})
    assert "USD amounts have 2 decimal places" in response.json()["error"]["fields"]["amount"][0]


@pytest.mark.parametrize(
    "amount, currency, stored", [("49.990", "USD", "49.990"), ("5000", "JPY", "5000"), ("12.345", "KWD", "12.345")]
)
def test_an_amount_the_currency_can_hold_is_stored_as_sent(api_client, workspace, amount, currency, stored):
    response = post(api_client, "/track/sale", {**SALE, "amount": amount, "currency": currency})
    assert response.status_code == 202
    assert InboundEvent.objects.for_workspace(workspace).get().payload["amount"] == stored


def test_a_refund_with_more_decimals_than_its_currency_is_refused(api_client):
    response = post(
        api_client,
        "/track/refund",
        {"event_id": "re_1", "sale_event_id": "ord_1", "amount": "1.005", "currency": "EUR"},
    )
    assert response.status_code == 422 and list(response.json()["error"]["fields"]) == ["amount"]


def test_a_batch_refuses_a_rounded_amount_by_index_on_either_path(api_client, workspace):
    events = [
        {"type": "sale", **SALE, "amount": "49.999"},
        {"type": "sale", **SALE, "event_id": "ord_2"},
        {"type": "sale", **SALE, "event_id": "ord_3", "amount": "1e3"},
    ]
    body = post(api_client, "/events/batch", {"events": events}).json()
    assert [e["index"] for e in body["errors"]] == [0, 2]
    assert all(list(e["fields"]) == ["amount"] for e in body["errors"])
    assert [r["event_id"] for r in body["results"]] == ["ord_2"]


def test_the_same_event_id_with_another_amount_is_a_409_naming_the_fields_that_differ(api_client, workspace):
    post(api_client, "/track/sale", SALE)
    response = post(api_client, "/track/sale", {**SALE, "amount": "59.99", "customer_external_id": "cus_2"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "event_conflict"
    assert sorted(error["fields"]) == ["amount", "customer_external_id"]
    assert InboundEvent.objects.for_workspace(workspace).get().payload["amount"] == "49.99"


def test_the_same_event_id_with_the_same_amount_written_differently_is_still_a_duplicate(api_client):
    post(api_client, "/track/sale", SALE)
    response = post(api_client, "/track/sale", {**SALE, "amount": "49.990", "currency": "usd"})
    assert (response.status_code, response.json()["status"]) == (200, "duplicate")


def test_a_batch_reports_a_changed_repeat_by_index(api_client):
    post(api_client, "/track/sale", SALE)
    body = post(api_client, "/events/batch", {"events": [{"type": "sale", **SALE, "amount": "1.00"}]}).json()
    assert body["results"] == []
    assert body["errors"] == [{"index": 0, "fields": {"amount": [body["errors"][0]["fields"]["amount"][0]]}}]


@pytest.mark.parametrize("ids", [[False], [True], ["1"], [0]])
def test_commission_ids_are_json_integers_from_1(api_client, ids):
    response = post(api_client, "/commissions/approve", {"ids": ids})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["ids.0"]


def test_a_partner_id_of_true_is_not_partner_1(api_client):
    response = post(api_client, "/links", {"partner_id": True, "destination_url": "https://shop.example/"})
    assert response.status_code == 422 and "partner_id" in response.json()["error"]["fields"]


@pytest.mark.parametrize("value", ["0", "1700000000", "2026-1-5", "yesterday"])
def test_a_date_filter_that_is_not_yyyy_mm_dd_is_a_422(api_client, value):
    response = api_client.get("/api/v1/exchange-rates", {"date": value})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["date"]


def test_a_payout_period_end_of_0_is_refused(api_client):
    response = post(api_client, "/payout-periods", {"end": 0})
    assert response.status_code == 422 and list(response.json()["error"]["fields"]) == ["end"]
