"""The HubSpot card of the integrations page."""

from __future__ import annotations

import pytest

from attribution.integrations.models import IntegrationSettings

pytestmark = pytest.mark.django_db

SAVE = "/w/acme/settings/integrations/hubspot/"
SECRET = "a-hubspot-client-secret-0001"


def _form(**overrides):
    return {
        "app_id": "1234",
        "client_secret": SECRET,
        "closed_won_stages": "closedwon, 9876543",
        "default_currency": "usd",
        **overrides,
    }


def test_a_manager_saves_the_hubspot_app(manager_client, workspace):
    response = manager_client.post(SAVE, _form())
    assert response.status_code == 302
    row = IntegrationSettings.objects.get(workspace=workspace)
    assert (
        row.hubspot_app_id,
        row.hubspot_client_secret,
        row.hubspot_closed_won_stages,
        row.hubspot_default_currency,
    ) == ("1234", SECRET, ["closedwon", "9876543"], "USD")


def test_leaving_the_secret_empty_keeps_the_saved_one(manager_client, workspace):
    manager_client.post(SAVE, _form())
    manager_client.post(SAVE, _form(client_secret="", closed_won_stages="won"))
    row = IntegrationSettings.objects.get(workspace=workspace)
    assert (row.hubspot_client_secret, row.hubspot_closed_won_stages) == (SECRET, ["won"])


def test_the_page_shows_the_webhook_url_but_never_the_secret(manager_client, workspace):
    manager_client.post(SAVE, _form())
    body = manager_client.get("/w/acme/settings/integrations/").content.decode()
    assert "/webhooks/hubspot/acme/" in body
    assert SECRET not in body


@pytest.mark.parametrize(
    "overrides, field_message",
    [
        ({"default_currency": "ZZZ"}, "not an ISO 4217 currency"),
        ({"app_id": "abc"}, "app ids are numbers"),
        ({"closed_won_stages": " , "}, "at least one stage"),
    ],
)
def test_bad_settings_are_refused_next_to_their_field(manager_client, workspace, overrides, field_message):
    response = manager_client.post(SAVE, _form(**overrides))
    assert response.status_code == 422
    assert field_message in response.content.decode()
    assert not IntegrationSettings.objects.filter(workspace=workspace).exists()


def test_a_viewer_cannot_change_hubspot_settings(viewer_client, workspace):
    assert viewer_client.post(SAVE, _form()).status_code == 403
    assert not IntegrationSettings.objects.filter(workspace=workspace).exists()


def test_an_outsider_gets_404(outsider_client, workspace):
    assert outsider_client.post(SAVE, _form()).status_code == 404
    assert not IntegrationSettings.objects.filter(workspace=workspace).exists()
