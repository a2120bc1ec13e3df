"""Signed deliveries as Stripe and HubSpot send them, and the fixtures the integration tests share."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from django.test import Client

from attribution.integrations.models import IntegrationSettings

STRIPE_SECRET = "whsec_test_0123456789abcdefABCDEF"
HUBSPOT_SECRET = "hubspot-client-secret-0123456789"


def stripe_signature(payload: str, secret: str = STRIPE_SECRET, *, timestamp: int | None = None) -> str:
    """The v1 signature exactly as Stripe computes it: HMAC-SHA256 of "<t>.<body>", hex."""
    ts = int(time.time()) if timestamp is None else timestamp
    return hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()


def stripe_header(payload: str, secret: str = STRIPE_SECRET, *, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={stripe_signature(payload, secret, timestamp=ts)}"


def stripe_event(
    event_id: str,
    kind: str,
    obj: dict[str, Any],
    *,
    created: int = 1_750_000_000,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "livemode": False,
        "type": kind,
        "data": data,
    }


def checkout_completed(
    event_id: str = "evt_checkout",
    *,
    session_id: str = "cs_test_1",
    customer: str | None = "cus_1",
    amount_total: int = 10000,
    currency: str = "usd",
    payment_intent: str | None = "pi_1",
    mode: str = "payment",
    invoice: str | None = None,
    client_reference_id: str | None = None,
    metadata: dict[str, str] | None = None,
    email: str = "buyer@example.com",
    payment_status: str = "paid",
) -> dict[str, Any]:
    return stripe_event(
        event_id,
        "checkout.session.completed",
        {
            "id": session_id,
            "object": "checkout.session",
            "mode": mode,
            "customer": customer,
            "customer_details": {"email": email},
            "amount_total": amount_total,
            "currency": currency,
            "payment_intent": payment_intent,
            "invoice": invoice,
            "client_reference_id": client_reference_id,
            "metadata": metadata or {},
            "payment_status": payment_status,
            "status": "complete",
        },
    )


def invoice_paid(
    event_id: str = "evt_invoice",
    *,
    invoice_id: str = "in_1",
    customer: str = "cus_1",
    amount_paid: int = 10000,
    currency: str = "usd",
    payment_intent: str | None = "pi_2",
    billing_reason: str = "subscription_cycle",
    paid_at: int = 1_750_000_100,
    subscription_metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    invoice: dict[str, Any] = {
        "id": invoice_id,
        "object": "invoice",
        "customer": customer,
        "amount_paid": amount_paid,
        "currency": currency,
        "billing_reason": billing_reason,
        "status": "paid",
        "status_transitions": {"paid_at": paid_at},
        "customer_email": "buyer@example.com",
        "subscription_details": {"metadata": subscription_metadata or {}},
    }
    if payment_intent is not None:
        invoice["payment_intent"] = payment_intent
    return stripe_event(event_id, "invoice.paid", invoice)


def charge_refunded(
    event_id: str = "evt_refund",
    *,
    charge_id: str = "ch_1",
    payment_intent: str = "pi_1",
    amount: int = 10000,
    currency: str = "usd",
    refunds: list[tuple[str, int]] | None = None,
    amount_refunded: int | None = None,
    previous_refunded: int | None = None,
    customer: str = "cus_1",
) -> dict[str, Any]:
    """A charge.refunded event; `refunds` lists (refund id, amount) when the payload includes them."""
    listed = refunds or []
    total = amount_refunded if amount_refunded is not None else sum(a for _, a in listed)
    charge: dict[str, Any] = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_refunded": total,
        "currency": currency,
        "customer": customer,
        "payment_intent": payment_intent,
        "refunded": total >= amount,
    }
    if refunds is not None:
        charge["refunds"] = {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": rid,
                    "object": "refund",
                    "amount": ramount,
                    "currency": currency,
                    "status": "succeeded",
                    "created": 1_750_000_200 + i,
                    "charge": charge_id,
                    "payment_intent": payment_intent,
                }
                for i, (rid, ramount) in enumerate(refunds)
            ],
        }
    previous = {"amount_refunded": previous_refunded, "refunded": False} if previous_refunded is not None else None
    return stripe_event(event_id, "charge.refunded", charge, previous=previous)


def post_stripe(
    client: Client,
    slug: str,
    event: dict[str, Any] | str,
    *,
    secret: str = STRIPE_SECRET,
    timestamp: int | None = None,
    header: str | None = "sign",
    tamper: bool = False,
):
    body = event if isinstance(event, str) else json.dumps(event)
    extra = {}
    if header == "sign":
        extra["HTTP_STRIPE_SIGNATURE"] = stripe_header(body, secret, timestamp=timestamp)
    elif header is not None:
        extra["HTTP_STRIPE_SIGNATURE"] = header
    if tamper:
        body = body.replace("10000", "99999", 1) if "10000" in body else body + " "
    return client.post(f"/webhooks/stripe/{slug}/", data=body, content_type="application/json", **extra)


def hubspot_signature(*, method: str, uri: str, body: str, timestamp: str, secret: str = HUBSPOT_SECRET) -> str:
    """The v3 signature as HubSpot documents it: base64(HMAC-SHA256(secret, method + URI + body + timestamp))."""
    digest = hmac.new(secret.encode(), f"{method}{uri}{body}{timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def post_hubspot(
    client: Client,
    slug: str,
    events: list[dict[str, Any]],
    *,
    secret: str = HUBSPOT_SECRET,
    timestamp_ms: int | None = None,
    signature: str | None = "sign",
    host: str = "testserver",
    tamper: bool = False,
):
    body = json.dumps(events)
    ts = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    uri = f"http://{host}/webhooks/hubspot/{slug}/"
    headers = {"HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": ts}
    if signature == "sign":
        headers["HTTP_X_HUBSPOT_SIGNATURE_V3"] = hubspot_signature(
            method="POST", uri=uri, body=body, timestamp=ts, secret=secret
        )
    elif signature is not None:
        headers["HTTP_X_HUBSPOT_SIGNATURE_V3"] = signature
    if tamper:
        body = body.replace("closedwon", "closedwoN")
    return client.post(f"/webhooks/hubspot/{slug}/", data=body, content_type="application/json", **headers)


def deal_won(
    deal_id: int = 42,
    *,
    event_id: int = 1001,
    stage: str = "closedwon",
    occurred_at: int = 1_750_000_000_000,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "subscriptionId": 7,
        "portalId": 62515,
        "appId": 1234,
        "occurredAt": occurred_at,
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": deal_id,
        "propertyName": "dealstage",
        "propertyValue": stage,
        "changeSource": "CRM",
        **extra,
    }


@pytest.fixture
def stripe_connected(workspace):
    IntegrationSettings.objects.update_or_create(workspace=workspace, defaults={"stripe_signing_secret": STRIPE_SECRET})
    return workspace


@pytest.fixture
def hubspot_connected(workspace):
    IntegrationSettings.objects.update_or_create(
        workspace=workspace,
        defaults={"hubspot_client_secret": HUBSPOT_SECRET, "hubspot_closed_won_stages": ["closedwon"]},
    )
    return workspace
