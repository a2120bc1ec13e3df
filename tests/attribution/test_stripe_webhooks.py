"""POST /webhooks/stripe/<workspace>/: signed Stripe events become inbound leads, sales and refunds."""

from __future__ import annotations

import json
import random
import time

import pytest
from django.test import Client

from attribution.models import InboundEvent
from tests.attribution.integration_helpers import (
    charge_refunded,
    checkout_completed,
    invoice_paid,
    post_stripe,
    stripe_connected,  # noqa: F401 - fixture
    stripe_event,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def _events(workspace):
    return {e.event_id: e for e in InboundEvent.objects.for_workspace(workspace)}


def test_checkout_with_a_tclid_records_the_lead_and_the_first_sale(client, stripe_connected):
    response = post_stripe(client, "acme", checkout_completed(client_reference_id="clk_abc123"))
    assert response.status_code == 200
    assert response.json()["events"] == [
        {"event_id": "stripe:evt_checkout:lead", "status": "accepted"},
        {"event_id": "stripe:evt_checkout", "status": "accepted"},
    ]
    lead, sale = _events(stripe_connected)["stripe:evt_checkout:lead"], _events(stripe_connected)["stripe:evt_checkout"]
    assert (lead.kind, lead.source, lead.payload["customer_external_id"], lead.payload["click_id"]) == (
        "lead",
        "stripe",
        "cus_1",
        "clk_abc123",
    )
    assert (sale.kind, sale.payload["amount"], sale.payload["currency"], sale.payload["processor_ref"]) == (
        "sale",
        "100.00",
        "USD",
        "stripe:pi_1",
    )


def test_a_referral_code_in_the_metadata_reaches_the_lead_as_a_code(client, stripe_connected):
    post_stripe(client, "acme", checkout_completed(metadata={"referral_code": "ANNA20"}))
    lead = InboundEvent.objects.get(workspace=stripe_connected, kind="lead")
    assert lead.payload["code"] == "ANNA20"
    assert "click_id" not in lead.payload


def test_a_checkout_without_a_customer_object_uses_the_email(client, stripe_connected):
    post_stripe(
        client, "acme", checkout_completed(customer=None, email="Guest@Example.com", metadata={"tclid": "clk_1"})
    )
    lead = InboundEvent.objects.get(workspace=stripe_connected, kind="lead")
    assert lead.payload["customer_external_id"] == "guest@example.com"


def test_a_zero_decimal_currency_keeps_its_amount_whole(client, stripe_connected):
    post_stripe(client, "acme", checkout_completed(amount_total=5000, currency="jpy"))
    sale = InboundEvent.objects.get(workspace=stripe_connected, kind="sale")
    assert (sale.payload["amount"], sale.payload["currency"]) == ("5000", "JPY")


def test_a_three_decimal_currency_divides_by_a_thousand(client, stripe_connected):
    post_stripe(client, "acme", checkout_completed(amount_total=12345, currency="kwd"))
    assert InboundEvent.objects.get(workspace=stripe_connected, kind="sale").payload["amount"] == "12.345"


def test_a_subscription_checkout_records_the_lead_and_leaves_the_money_to_its_invoice(client, stripe_connected):
    post_stripe(
        client,
        "acme",
        checkout_completed(mode="subscription", payment_intent=None, invoice="in_first", metadata={"tclid": "clk_1"}),
    )
    assert [e.kind for e in InboundEvent.objects.for_workspace(stripe_connected)] == ["lead"]


def test_a_subscriptions_checkout_and_first_invoice_are_one_sale(client, stripe_connected):
    post_stripe(
        client,
        "acme",
        invoice_paid("evt_inv", invoice_id="in_first", payment_intent="pi_first", billing_reason="subscription_create"),
    )
    post_stripe(
        client,
        "acme",
        checkout_completed(
            "evt_cs", mode="subscription", payment_intent=None, invoice="in_first", metadata={"tclid": "clk_1"}
        ),
    )
    sales = InboundEvent.objects.for_workspace(stripe_connected).filter(kind="sale")
    assert [(s.event_id, s.payload["processor_ref"]) for s in sales] == [("stripe:evt_inv", "stripe:pi_first")]


def test_an_unpaid_checkout_records_the_lead_only(client, stripe_connected):
    post_stripe(client, "acme", checkout_completed(payment_status="unpaid", metadata={"tclid": "clk_1"}))
    assert [e.kind for e in InboundEvent.objects.for_workspace(stripe_connected)] == ["lead"]


def test_an_invoice_paid_is_a_sale_keyed_by_its_payment_intent(client, stripe_connected):
    post_stripe(client, "acme", invoice_paid(amount_paid=2999, payment_intent="pi_sub"))
    sale = InboundEvent.objects.get(workspace=stripe_connected)
    assert (sale.event_id, sale.kind, sale.payload["amount"], sale.payload["processor_ref"]) == (
        "stripe:evt_invoice",
        "sale",
        "29.99",
        "stripe:pi_sub",
    )
    assert sale.payload["occurred_at"].startswith("2025-06-15")


def test_an_invoice_that_names_no_payment_intent_is_keyed_by_the_invoice(client, stripe_connected):
    post_stripe(client, "acme", invoice_paid(invoice_id="in_new", payment_intent=None))
    assert InboundEvent.objects.get(workspace=stripe_connected).payload["processor_ref"] == "stripe:in_new"


def test_a_free_invoice_records_nothing(client, stripe_connected):
    response = post_stripe(client, "acme", invoice_paid(amount_paid=0))
    assert response.status_code == 200 and "ignored" in response.json()
    assert not InboundEvent.objects.exists()


def test_each_refund_object_is_one_refund_event_pointing_at_the_payment_intent(client, stripe_connected):
    post_stripe(client, "acme", charge_refunded("evt_r1", refunds=[("re_1", 3000)]))
    post_stripe(client, "acme", charge_refunded("evt_r2", refunds=[("re_2", 2000), ("re_1", 3000)]))
    refunds = InboundEvent.objects.for_workspace(stripe_connected).order_by("event_id")
    assert [(r.event_id, r.payload["amount"], r.related_event_id, r.payload["processor_ref"]) for r in refunds] == [
        ("stripe:re_1", "30.00", "stripe:pi_1", "stripe:re_1"),
        ("stripe:re_2", "20.00", "stripe:pi_1", "stripe:re_2"),
    ]


def test_a_refund_event_without_the_refund_list_refunds_the_growth_of_amount_refunded(client, stripe_connected):
    post_stripe(client, "acme", charge_refunded("evt_r3", amount_refunded=7500, previous_refunded=2500))
    refund = InboundEvent.objects.get(workspace=stripe_connected)
    assert (refund.event_id, refund.payload["amount"], refund.related_event_id) == (
        "stripe:evt_r3",
        "50.00",
        "stripe:pi_1",
    )


def test_the_same_stripe_event_twice_is_one_inbound_event(client, stripe_connected):
    event = invoice_paid()
    assert post_stripe(client, "acme", event).json()["events"][0]["status"] == "accepted"
    second = post_stripe(client, "acme", event)
    assert second.status_code == 200
    assert second.json()["events"] == [{"event_id": "stripe:evt_invoice", "status": "duplicate"}]
    assert InboundEvent.objects.count() == 1


def test_shuffled_and_repeated_deliveries_leave_exactly_the_expected_events(client, stripe_connected):
    deliveries = [
        checkout_completed("evt_a", metadata={"tclid": "clk_1"}, payment_intent="pi_a", amount_total=10000),
        invoice_paid("evt_b", invoice_id="in_b", payment_intent="pi_b", amount_paid=4900),
        charge_refunded("evt_c", payment_intent="pi_a", refunds=[("re_c", 2500)]),
        charge_refunded("evt_d", payment_intent="pi_a", refunds=[("re_d", 7500), ("re_c", 2500)]),
    ]
    sends = deliveries + deliveries[1:3]  # two of them delivered twice
    random.Random(7).shuffle(sends)
    for event in sends:
        assert post_stripe(client, "acme", event).status_code == 200
    found = {
        (e.event_id, e.kind, e.payload.get("amount"), e.payload.get("processor_ref"), e.related_event_id)
        for e in InboundEvent.objects.for_workspace(stripe_connected)
    }
    assert found == {
        ("stripe:evt_a:lead", "lead", None, None, ""),
        ("stripe:evt_a", "sale", "100.00", "stripe:pi_a", ""),
        ("stripe:evt_b", "sale", "49.00", "stripe:pi_b", ""),
        ("stripe:re_c", "refund", "25.00", "stripe:re_c", "stripe:pi_a"),
        ("stripe:re_d", "refund", "75.00", "stripe:re_d", "stripe:pi_a"),
    }


@pytest.mark.parametrize("how", ["tampered", "stale", "future", "wrong secret", "missing header"])
def test_a_delivery_that_does_not_verify_is_a_400_and_writes_nothing(client, stripe_connected, how):
    event = checkout_completed(metadata={"tclid": "clk_1"})
    kwargs = {
        "tampered": {"tamper": True},
        "stale": {"timestamp": int(time.time()) - 600},
        "future": {"timestamp": int(time.time()) + 600},
        "wrong secret": {"secret": "whsec_not_the_right_one_1234567"},
        "missing header": {"header": None},
    }[how]
    response = post_stripe(client, "acme", event, **kwargs)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not InboundEvent.objects.exists()


def test_an_unknown_workspace_is_a_404(client, stripe_connected):
    response = post_stripe(client, "nobody", invoice_paid())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_workspace_without_a_signing_secret_refuses_events(client, workspace):
    response = post_stripe(client, "acme", invoice_paid())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_configured"
    assert not InboundEvent.objects.exists()


def test_an_event_type_tandem_does_not_use_is_acknowledged_and_ignored(client, stripe_connected):
    response = post_stripe(client, "acme", stripe_event("evt_x", "customer.updated", {"id": "cus_1"}))
    assert response.status_code == 200
    assert response.json()["ignored"].startswith("Tandem does not use customer.updated")
    assert not InboundEvent.objects.exists()


def test_a_signed_event_tandem_cannot_map_is_acknowledged_and_kept_failed_with_its_reason(client, stripe_connected):
    # Issue 11: Stripe would resend the same signed payload for three days; the events page says why.
    response = post_stripe(client, "acme", checkout_completed(currency="zzz"))
    assert response.status_code == 200
    kept = InboundEvent.objects.get()
    assert (kept.status, kept.reason_code) == ("failed", "unusable_webhook")
    assert "ISO 4217" in kept.reason


def test_a_body_that_is_not_an_event_is_a_400(client, stripe_connected):
    response = post_stripe(client, "acme", json.dumps(["not", "an", "event"]))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"


def test_get_is_not_allowed(client, stripe_connected):
    response = client.get("/webhooks/stripe/acme/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_events_land_in_the_workspace_of_the_url_only(client, stripe_connected, other_workspace):
    post_stripe(client, "acme", invoice_paid())
    assert InboundEvent.objects.for_workspace(other_workspace).count() == 0
    assert InboundEvent.objects.for_workspace(stripe_connected).count() == 1
