"""POST /webhooks/hubspot/<workspace>/: v3-signed deal-stage changes to closed-won become sales."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from django.test import Client

from attribution.integrations.hubspot import normalize_uri, verify_signature
from attribution.integrations.models import IntegrationSettings
from attribution.integrations.webhooks import WebhookRejected
from attribution.models import InboundEvent
from referrals.models import DealRegistration
from tests.attribution.integration_helpers import (
    HUBSPOT_SECRET,
    deal_won,
    hubspot_connected,  # noqa: F401 - fixture
    hubspot_signature,
    post_hubspot,
)
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def test_a_deal_moved_to_closed_won_becomes_a_sale(client, hubspot_connected):
    response = post_hubspot(
        client, "acme", [deal_won(42, amount="1500.00", currency="eur", contact_email="Ann@Buyer.com")]
    )
    assert response.status_code == 200
    sale = InboundEvent.objects.get(workspace=hubspot_connected)
    assert (sale.kind, sale.source, sale.status) == ("sale", "hubspot", "received")
    assert sale.event_id == "hubspot:deal:42:won:1750000000000"
    assert (sale.payload["amount"], sale.payload["currency"], sale.payload["processor_ref"]) == (
        "1500.00",
        "EUR",
        "hubspot:deal:42",
    )
    assert sale.payload["customer_email"] == "ann@buyer.com"


def test_amount_and_currency_may_come_as_hubspot_properties(client, hubspot_connected):
    post_hubspot(client, "acme", [deal_won(7, properties={"amount": {"value": "99.5"}, "deal_currency_code": "USD"})])
    sale = InboundEvent.objects.get(workspace=hubspot_connected)
    assert (sale.payload["amount"], sale.payload["currency"]) == ("99.5", "USD")


def test_a_deal_without_an_amount_is_kept_unattributed_with_the_reason(client, hubspot_connected):
    response = post_hubspot(client, "acme", [deal_won(9, currency="USD")])
    assert response.json()["events"][0]["status"] == "accepted"
    sale = InboundEvent.objects.get(workspace=hubspot_connected)
    assert (sale.status, sale.reason) == ("unattributed", "deal amount unknown")
    assert sale.payload["processor_ref"] == "hubspot:deal:9"


def test_other_stage_changes_are_ignored(client, hubspot_connected):
    response = post_hubspot(client, "acme", [deal_won(1, stage="appointmentscheduled", amount="10")])
    assert response.status_code == 200 and "ignored" in response.json()
    assert not InboundEvent.objects.exists()


def test_the_closed_won_stages_are_the_workspaces_own(client, hubspot_connected):
    IntegrationSettings.objects.filter(workspace=hubspot_connected).update(hubspot_closed_won_stages=["9876543"])
    post_hubspot(
        client,
        "acme",
        [deal_won(1, amount="10", currency="USD"), deal_won(2, stage="9876543", amount="20", currency="USD")],
    )
    assert list(InboundEvent.objects.values_list("payload__processor_ref", flat=True)) == ["hubspot:deal:2"]


def test_the_same_delivery_twice_is_one_sale(client, hubspot_connected):
    events = [deal_won(42, amount="10", currency="USD")]
    post_hubspot(client, "acme", events)
    again = post_hubspot(client, "acme", events)
    assert again.json()["events"][0]["status"] == "duplicate"
    assert InboundEvent.objects.count() == 1


def test_a_deal_registered_by_company_domain_is_matched_through_its_contact(client, hubspot_connected):
    partner = PartnerFactory(workspace=hubspot_connected)
    DealRegistration.objects.create(
        workspace=hubspot_connected,
        program=partner.program,
        partner=partner,
        company="Buyer Inc",
        contact_name="Ann",
        contact_email="ann@buyer.com",
        company_domain="buyer.com",
        estimated_value=Decimal("1000"),
        currency="USD",
        status=DealRegistration.Status.APPROVED,
    )
    post_hubspot(client, "acme", [deal_won(5, amount="800", currency="USD", company_domain="www.Buyer.com")])
    assert InboundEvent.objects.get().payload["customer_email"] == "ann@buyer.com"


def test_events_of_another_app_are_ignored_when_the_app_id_is_set(client, hubspot_connected):
    IntegrationSettings.objects.filter(workspace=hubspot_connected).update(hubspot_app_id="999")
    post_hubspot(client, "acme", [deal_won(5, amount="10", currency="USD")])  # appId 1234
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    "how, code",
    [
        ("tampered", "invalid_signature"),
        ("wrong secret", "invalid_signature"),
        ("stale", "stale_request"),
        ("missing signature", "invalid_signature"),
    ],
)
def test_a_delivery_that_does_not_verify_is_refused_and_writes_nothing(client, hubspot_connected, how, code):
    kwargs = {
        "tampered": {"tamper": True},
        "wrong secret": {"secret": "not-the-app-secret-000000"},
        "stale": {"timestamp_ms": int(time.time() * 1000) - 6 * 60 * 1000},
        "missing signature": {"signature": None},
    }[how]
    response = post_hubspot(client, "acme", [deal_won(42, amount="10", currency="USD")], **kwargs)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert not InboundEvent.objects.exists()


def test_a_request_signed_for_the_public_site_url_verifies_behind_a_proxy(client, hubspot_connected, settings):
    # HubSpot signed https://tandem.example.com/…; behind the proxy Django sees http://testserver/….
    settings.SITE_URL = "https://tandem.example.com"
    body = json.dumps([deal_won(3, amount="10", currency="USD")])
    ts = str(int(time.time() * 1000))
    signed = hubspot_signature(
        method="POST", uri="https://tandem.example.com/webhooks/hubspot/acme/", body=body, timestamp=ts
    )
    response = client.post(
        "/webhooks/hubspot/acme/",
        data=body,
        content_type="application/json",
        HTTP_X_HUBSPOT_SIGNATURE_V3=signed,
        HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=ts,
    )
    assert response.status_code == 200
    assert InboundEvent.objects.count() == 1


def test_a_timestamp_far_ahead_is_refused():
    ts = str(int(time.time() * 1000) + 10 * 60 * 1000)
    signed = hubspot_signature(method="POST", uri="http://x/", body="[]", timestamp=ts)
    with pytest.raises(WebhookRejected) as caught:
        verify_signature(
            client_secret=HUBSPOT_SECRET, method="POST", uris=["http://x/"], body=b"[]", signature=signed, timestamp=ts
        )
    assert caught.value.code == "stale_request"


def test_the_uri_is_compared_with_the_characters_hubspot_decodes():
    assert (
        normalize_uri("https://x.test/webhooks/hubspot/acme/?a=b%3Ac%40d%20e")
        == "https://x.test/webhooks/hubspot/acme/?a=b:c@d%20e"
    )


def test_a_workspace_without_a_client_secret_refuses_events(client, workspace):
    response = post_hubspot(client, "acme", [deal_won()])
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_configured"


def test_an_unknown_workspace_is_a_404(client, hubspot_connected):
    assert post_hubspot(client, "nobody", [deal_won()]).status_code == 404
