"""Setting the Stripe signing secret: the integrations page and PUT/GET /api/v1/integrations/stripe."""

from __future__ import annotations

import pytest

from accounts.models import AuditLogEntry
from attribution.integrations.models import IntegrationSettings
from tests.attribution.integration_helpers import STRIPE_SECRET

pytestmark = pytest.mark.django_db

PAGE = "/w/acme/settings/integrations/"
SAVE = "/w/acme/settings/integrations/stripe/"


def test_a_manager_sees_the_webhook_url_to_give_stripe(manager_client):
    response = manager_client.get(PAGE)
    assert response.status_code == 200
    assert b"/webhooks/stripe/acme/" in response.content
    assert b"Not connected" in response.content


def test_a_manager_saves_the_signing_secret(manager_client, workspace, manager):
    response = manager_client.post(SAVE, {"signing_secret": STRIPE_SECRET})
    assert response.status_code == 302
    row = IntegrationSettings.objects.get(workspace=workspace)
    assert row.stripe_signing_secret == STRIPE_SECRET and row.updated_by == manager
    entry = AuditLogEntry.objects.get(workspace=workspace, action="integrations.stripe_secret_set")
    assert STRIPE_SECRET not in str(entry.changes)


def test_the_page_never_shows_a_saved_secret(manager_client, workspace):
    IntegrationSettings.objects.create(workspace=workspace, stripe_signing_secret=STRIPE_SECRET)
    response = manager_client.get(PAGE)
    assert b"Connected" in response.content
    assert STRIPE_SECRET.encode() not in response.content


def test_something_that_is_not_a_signing_secret_is_refused_next_to_the_field(manager_client, workspace):
    response = manager_client.post(SAVE, {"signing_secret": "sk_live_oops"})
    assert response.status_code == 422
    assert "starts with whsec_" in response.content.decode()
    assert not IntegrationSettings.objects.filter(workspace=workspace).exclude(stripe_signing_secret="").exists()


def test_an_htmx_save_answers_with_the_stripe_card_alone(manager_client):
    response = manager_client.post(SAVE, {"signing_secret": STRIPE_SECRET}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="stripe-card"' in body and "<html" not in body and "Connected" in body


def test_a_viewer_cannot_open_the_integrations_page(viewer_client):
    assert viewer_client.get(PAGE).status_code == 403


def test_a_viewer_cannot_set_the_secret(viewer_client, workspace):
    assert viewer_client.post(SAVE, {"signing_secret": STRIPE_SECRET}).status_code == 403
    assert not IntegrationSettings.objects.filter(workspace=workspace).exists()


def test_an_outsider_gets_404(outsider_client, workspace):
    assert outsider_client.get(PAGE).status_code == 404
    assert outsider_client.post(SAVE, {"signing_secret": STRIPE_SECRET}).status_code == 404
    assert not IntegrationSettings.objects.filter(workspace=workspace).exists()


def test_the_api_sets_the_secret(api_client, workspace):
    response = api_client.put(
        "/api/v1/integrations/stripe", {"signing_secret": STRIPE_SECRET}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["signing_secret_set"] is True
    assert IntegrationSettings.objects.get(workspace=workspace).stripe_signing_secret == STRIPE_SECRET


def test_the_api_says_whether_a_secret_is_set_but_never_returns_it(api_client, workspace):
    assert api_client.get("/api/v1/integrations/stripe").json()["signing_secret_set"] is False
    IntegrationSettings.objects.create(workspace=workspace, stripe_signing_secret=STRIPE_SECRET)
    response = api_client.get("/api/v1/integrations/stripe")
    assert response.json()["signing_secret_set"] is True
    assert response.json()["webhook_path"] == "/webhooks/stripe/acme/"
    assert STRIPE_SECRET not in response.content.decode()


def test_the_api_refuses_a_malformed_secret_naming_the_field(api_client):
    response = api_client.put(
        "/api/v1/integrations/stripe", {"signing_secret": "nope"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "signing_secret" in response.json()["error"]["fields"]


def test_the_api_needs_a_key(client):
    assert client.get("/api/v1/integrations/stripe").status_code == 401
