"""Text PostgreSQL cannot store (NUL, control characters) is refused at the edge of /api/v1/ and /webhooks/."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from django.test import Client

from attribution.models import InboundEvent
from tests.attribution.integration_helpers import (
    STRIPE_SECRET,
    checkout_completed,
    deal_won,
    hubspot_connected,  # noqa: F401 - fixture
    invoice_paid,
    post_hubspot,
    stripe_connected,  # noqa: F401 - fixture
)
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

SALE = {"event_id": "ord_1", "customer_external_id": "cus_1", "amount": "49.99", "currency": "USD"}


def post(client, path, body, **headers):
    return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers)


def post_signed_stripe(body: str):
    # Stripe's own library signs it, as Stripe's servers would.
    header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET, timestamp=int(time.time()))
    return Client().post(
        "/webhooks/stripe/acme/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/track/sale", {**SALE, "customer_external_id": "cus\u0000"}, "customer_external_id"),
        ("/track/lead", {"customer_external_id": "c1", "code": "A\u0000", "event_id": "l1"}, "code"),
        ("/partners", {"name": "Anna\u0000", "email": "anna@example.com"}, "name"),
        ("/links", {"partner_id": 1, "destination_url": "https://shop.example/\u0000"}, "destination_url"),
        ("/domains", {"domain": "shop\u0007.example"}, "domain"),
    ],
)
def test_a_nul_or_control_character_in_a_body_is_a_422_naming_the_field(api_client, path, body, field):
    response = post(api_client, path, body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unusable_text"
    assert list(error["fields"]) == [field]
    assert not InboundEvent.objects.exists()


def test_a_nul_in_a_query_string_is_a_422_naming_the_parameter(api_client):
    response = api_client.get("/api/v1/partners", {"email": "a\u0000@example.com"})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["email"]


def test_a_nul_in_a_path_is_a_422(api_client):
    response = api_client.get("/api/v1/events/ord%00x")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unusable_text"


def test_a_batch_refuses_only_the_event_with_a_nul_and_accepts_the_others(api_client, workspace):
    events = [
        {"type": "sale", **SALE},
        {"type": "sale", **SALE, "event_id": "ord_2", "customer_external_id": "c\u0000"},
        {"type": "sale", **SALE, "event_id": "ord_3"},
    ]
    response = post(api_client, "/events/batch", {"events": events})
    assert response.status_code == 202
    body = response.json()
    assert [r["index"] for r in body["results"]] == [0, 2]
    assert body["errors"] == [
        {"index": 1, "fields": {"customer_external_id": [body["errors"][0]["fields"]["customer_external_id"][0]]}}
    ]
    assert "NUL" in body["errors"][0]["fields"]["customer_external_id"][0]
    assert sorted(InboundEvent.objects.for_workspace(workspace).values_list("event_id", flat=True)) == [
        "ord_1",
        "ord_3",
    ]


def test_a_signed_stripe_event_with_a_nul_in_its_metadata_is_acknowledged_and_kept_as_failed(stripe_connected):
    response = post_signed_stripe(json.dumps(checkout_completed(metadata={"tclid": "clk\u0000"})))
    assert response.status_code == 200
    kept = InboundEvent.objects.for_workspace(stripe_connected).get()
    assert (kept.event_id, kept.status, kept.reason_code) == ("stripe:evt_checkout", "failed", "unusable_webhook")
    assert "metadata.tclid" in kept.reason


@pytest.mark.parametrize("shape", ["data", "customer_details", "payments", "status_transitions"])
def test_a_signed_but_oddly_shaped_stripe_event_is_acknowledged_with_the_reason_kept(stripe_connected, shape):
    event = checkout_completed() if shape == "customer_details" else invoice_paid()
    if shape == "data":
        event["data"] = [1]
    elif shape == "customer_details":
        event["data"]["object"]["customer_details"] = [1]
    elif shape == "payments":
        del event["data"]["object"]["payment_intent"]
        event["data"]["object"]["payments"] = [1]
    else:
        event["data"]["object"]["status_transitions"] = "x"
    response = post_signed_stripe(json.dumps(event))
    assert response.status_code == 200
    kept = InboundEvent.objects.for_workspace(stripe_connected).get()
    assert (kept.status, kept.reason_code) == ("failed", "unusable_webhook")
    assert kept.reason.startswith("Tandem cannot use this")


def test_a_signed_stripe_event_tandem_cannot_use_is_not_retried_when_sent_again(stripe_connected):
    body = json.dumps(checkout_completed(currency="zzz"))
    assert post_signed_stripe(body).status_code == 200
    second = post_signed_stripe(body)
    assert second.status_code == 200
    assert second.json()["events"] == [{"event_id": "stripe:evt_checkout", "status": "duplicate"}]


def test_a_hubspot_deal_with_a_nul_is_kept_as_failed_and_its_neighbours_are_accepted(hubspot_connected):
    response = post_hubspot(
        Client(),
        "acme",
        [
            deal_won(1, event_id=1, contact_email="a\u0000@x.test"),
            deal_won(2, event_id=2, amount="10.00", currency="USD"),
        ],
    )
    assert response.status_code == 200
    statuses = dict(InboundEvent.objects.for_workspace(hubspot_connected).values_list("status", "reason_code"))
    assert statuses == {"failed": "unusable_webhook", "received": ""}


def test_a_hubspot_deal_won_at_an_impossible_time_is_acknowledged(hubspot_connected):
    response = post_hubspot(Client(), "acme", [deal_won(1, occurred_at=10**20, amount="10.00", currency="USD")])
    assert response.status_code == 200
    assert InboundEvent.objects.for_workspace(hubspot_connected).count() == 1


def test_a_partner_name_with_a_tab_and_newline_is_still_accepted(api_client, workspace):
    response = post(api_client, "/partners", {"name": "Anna\tB", "email": "anna@example.com"})
    assert response.status_code == 201


def test_links_refuse_a_nul_even_for_an_existing_partner(api_client, workspace):
    partner = PartnerFactory(workspace=workspace)
    response = post(
        api_client,
        "/links",
        {"partner_id": partner.pk, "destination_url": "https://shop.example/", "campaign": "x\u0000"},
    )
    assert response.status_code == 422 and list(response.json()["error"]["fields"]) == ["campaign"]
